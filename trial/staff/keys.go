package staff

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"jpkipilot/trial/pii"
)

// How the data key is kept (see the package comment in roles.go and
// docs/SECURITY.md): every account has an X25519 key pair. Its private key is
// sealed with AES-256-GCM under a key derived from the account's password
// with argon2id (salt of its own, stored in the PHC-style string). The data
// key is wrapped to the public key (an ephemeral key pair, ECDH, HKDF-SHA256,
// AES-256-GCM, the account id in the additional data), so a coordinator can
// wrap it for a new account, after a password reset, or after a rotation
// without knowing anyone's password.

const (
	algSealedKey  = "argon2id-aesgcm"
	wrapPrefix    = "wk1:"
	tokenPrefix   = "tk1:"
	nonceLen      = 12
	tagLen        = 16
	x25519Len     = 32
	sealedPrivLen = nonceLen + x25519Len + tagLen
	wrappedLen    = x25519Len + nonceLen + pii.KeySize + tagLen
	tokenWrapLen  = nonceLen + pii.KeySize + tagLen
)

// errUnwrap means a wrapped or sealed key did not open: a wrong password or
// token, or an altered row.
var errUnwrap = errors.New("key does not open")

func gcm(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // key is always 32 bytes
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return a
}

func newKeyPair() *ecdh.PrivateKey {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func encodePublic(k *ecdh.PrivateKey) string {
	return base64.RawStdEncoding.EncodeToString(k.PublicKey().Bytes())
}

func decodePublic(s string) (*ecdh.PublicKey, error) {
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != x25519Len {
		return nil, errors.New("malformed public key")
	}
	return ecdh.X25519().NewPublicKey(b)
}

func privateAAD(pub []byte) []byte {
	return append([]byte("jpkipilot staff private key v1\x00"), pub...)
}

// sealPrivate seals priv under a key derived from password.
func sealPrivate(priv *ecdh.PrivateKey, password string, p KDFParams) string {
	salt := randomBytes(saltLen)
	kek := p.derive([]byte(password), salt, 32)
	nonce := randomBytes(nonceLen)
	box := gcm(kek).Seal(nonce, nonce, priv.Bytes(), privateAAD(priv.PublicKey().Bytes()))
	return phc{Alg: algSealedKey, Params: p, Salt: salt, Payload: box}.String()
}

// openPrivate opens a sealed private key with password and checks it is the
// private half of pub.
func openPrivate(stored, password, pub string) (*ecdh.PrivateKey, error) {
	h, err := parsePHC(stored, algSealedKey)
	if err != nil {
		return nil, err
	}
	if len(h.Payload) != sealedPrivLen {
		return nil, fmt.Errorf("%w: sealed key of %d bytes", errPHC, len(h.Payload))
	}
	pk, err := decodePublic(pub)
	if err != nil {
		return nil, err
	}
	kek := h.Params.derive([]byte(password), h.Salt, 32)
	raw, err := gcm(kek).Open(nil, h.Payload[:nonceLen], h.Payload[nonceLen:], privateAAD(pk.Bytes()))
	if err != nil {
		return nil, errUnwrap
	}
	priv, err := ecdh.X25519().NewPrivateKey(raw)
	if err != nil || !bytes.Equal(priv.PublicKey().Bytes(), pk.Bytes()) {
		return nil, errUnwrap
	}
	return priv, nil
}

func wrapKEK(shared, eph, recipient []byte) []byte {
	info := append(append([]byte("jpkipilot data key wrap v1\x00"), eph...), recipient...)
	k, err := hkdf.Key(sha256.New, shared, nil, string(info), 32)
	if err != nil {
		panic(err)
	}
	return k
}

func wrapAAD(accountID int64) []byte {
	return []byte("jpkipilot data key v1\x00account " + strconv.FormatInt(accountID, 10))
}

// wrapTo wraps the data key to an account's public key. A key suspended
// meanwhile (the window locked) gives pii.ErrLocked, never a wrapped zero key.
func wrapTo(pub string, accountID int64, key *pii.Key) (string, error) {
	raw := key.Bytes()
	if raw == nil {
		return "", pii.ErrLocked
	}
	recipient, err := decodePublic(pub)
	if err != nil {
		return "", err
	}
	eph := newKeyPair()
	shared, err := eph.ECDH(recipient)
	if err != nil {
		return "", err
	}
	out := append([]byte{}, eph.PublicKey().Bytes()...)
	nonce := randomBytes(nonceLen)
	out = append(out, nonce...)
	out = gcm(wrapKEK(shared, eph.PublicKey().Bytes(), recipient.Bytes())).Seal(out, nonce, raw, wrapAAD(accountID))
	return wrapPrefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// decodeWrapped checks a stored wrapped key's framing and returns its bytes.
func decodeWrapped(stored, prefix string, n int) ([]byte, error) {
	rest, ok := strings.CutPrefix(stored, prefix)
	if !ok {
		return nil, fmt.Errorf("wrapped key: not a %q value", prefix)
	}
	b, err := base64.RawStdEncoding.Strict().DecodeString(rest)
	if err != nil || len(b) != n {
		return nil, fmt.Errorf("wrapped key: malformed %q value", prefix)
	}
	return b, nil
}

// unwrapWith opens a wrapped data key with the account's private key.
func unwrapWith(priv *ecdh.PrivateKey, accountID int64, stored string) (*pii.Key, error) {
	b, err := decodeWrapped(stored, wrapPrefix, wrappedLen)
	if err != nil {
		return nil, err
	}
	eph, err := ecdh.X25519().NewPublicKey(b[:x25519Len])
	if err != nil {
		return nil, err
	}
	shared, err := priv.ECDH(eph)
	if err != nil {
		return nil, errUnwrap
	}
	kek := wrapKEK(shared, eph.Bytes(), priv.PublicKey().Bytes())
	raw, err := gcm(kek).Open(nil, b[x25519Len:x25519Len+nonceLen], b[x25519Len+nonceLen:], wrapAAD(accountID))
	if err != nil {
		return nil, errUnwrap
	}
	return pii.KeyFromBytes(raw)
}

func tokenKEK(token []byte) []byte {
	k, err := hkdf.Key(sha256.New, token, nil, "jpkipilot cli token wrap v1", 32)
	if err != nil {
		panic(err)
	}
	return k
}

func tokenAAD(tokenHash string, accountID int64) []byte {
	return []byte("jpkipilot token key v1\x00" + tokenHash + "\x00account " + strconv.FormatInt(accountID, 10))
}

// wrapForToken wraps the data key under a key derived from a CLI token. A
// key suspended meanwhile gives pii.ErrLocked.
func wrapForToken(token []byte, tokenHash string, accountID int64, key *pii.Key) (string, error) {
	raw := key.Bytes()
	if raw == nil {
		return "", pii.ErrLocked
	}
	nonce := randomBytes(nonceLen)
	out := gcm(tokenKEK(token)).Seal(nonce, nonce, raw, tokenAAD(tokenHash, accountID))
	return tokenPrefix + base64.RawStdEncoding.EncodeToString(out), nil
}

func unwrapForToken(token []byte, tokenHash string, accountID int64, stored string) (*pii.Key, error) {
	b, err := decodeWrapped(stored, tokenPrefix, tokenWrapLen)
	if err != nil {
		return nil, err
	}
	raw, err := gcm(tokenKEK(token)).Open(nil, b[:nonceLen], b[nonceLen:], tokenAAD(tokenHash, accountID))
	if err != nil {
		return nil, errUnwrap
	}
	return pii.KeyFromBytes(raw)
}
