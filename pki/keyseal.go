package pki

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
)

// ErrWrongPassphrase is returned when a sealed CA key does not open.
var ErrWrongPassphrase = errors.New("wrong CA passphrase")

// KDFParams are the Argon2id parameters for sealing CA keys. They travel in
// every sealed blob, so changing them never breaks existing stores.
type KDFParams struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultKDF follows RFC 9106's second recommended option (64 MiB, t=3).
// Tests lower it with a package variable of their own.
var DefaultKDF = KDFParams{Time: 3, Memory: 64 * 1024, Threads: 2}

// A sealed key is: magic "JPKS1" | time u32 | memory u32 | threads u8 |
// salt 16 | nonce 12 | AES-256-GCM(PKCS#8 DER), the header as additional data.
const (
	sealMagic  = "JPKS1"
	sealHeader = len(sealMagic) + 4 + 4 + 1 + 16 + 12
)

// sealKey encrypts key under passphrase.
func sealKey(key crypto.Signer, passphrase []byte, p KDFParams) ([]byte, error) {
	if len(passphrase) == 0 {
		return nil, errors.New("empty CA passphrase")
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	hdr := make([]byte, sealHeader)
	copy(hdr, sealMagic)
	o := len(sealMagic)
	binary.BigEndian.PutUint32(hdr[o:], p.Time)
	binary.BigEndian.PutUint32(hdr[o+4:], p.Memory)
	hdr[o+8] = p.Threads
	if _, err := rand.Read(hdr[o+9:]); err != nil { // salt and nonce
		return nil, err
	}
	aead, err := sealAEAD(passphrase, p, hdr[o+9:o+25])
	if err != nil {
		return nil, err
	}
	return aead.Seal(hdr, hdr[o+25:], der, hdr), nil
}

// openKey decrypts a sealed key; a wrong passphrase gives ErrWrongPassphrase.
func openKey(blob, passphrase []byte) (crypto.Signer, error) {
	if len(blob) < sealHeader+16 || string(blob[:len(sealMagic)]) != sealMagic {
		return nil, errors.New("sealed CA key: not a JPKS1 blob")
	}
	o := len(sealMagic)
	p := KDFParams{
		Time:    binary.BigEndian.Uint32(blob[o:]),
		Memory:  binary.BigEndian.Uint32(blob[o+4:]),
		Threads: blob[o+8],
	}
	if p.Time == 0 || p.Time > 100 || p.Memory < 8 || p.Memory > 4<<20 || p.Threads == 0 {
		return nil, fmt.Errorf("sealed CA key: implausible KDF parameters %+v", p)
	}
	aead, err := sealAEAD(passphrase, p, blob[o+9:o+25])
	if err != nil {
		return nil, err
	}
	der, err := aead.Open(nil, blob[o+25:sealHeader], blob[sealHeader:], blob[:sealHeader])
	if err != nil {
		return nil, ErrWrongPassphrase
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("sealed CA key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("sealed CA key: %T is not a signer", k)
	}
	return s, nil
}

func sealAEAD(passphrase []byte, p KDFParams, salt []byte) (cipher.AEAD, error) {
	k := argon2.IDKey(passphrase, salt, p.Time, p.Memory, p.Threads, 32)
	b, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}
