// Package pii seals the personal fields of the trial (monitors' names, kana
// and contacts) at rest with AES-256-GCM under one data key, so that the
// store file alone reveals no name. The data key itself is never stored in
// the clear: package trial/staff keeps it wrapped for each staff account and
// hands an unwrapped *Key to a logged-in session.
//
// A sealed value is text: "pii1:" + base64(nonce || ciphertext || tag). The
// additional data binds it to its field and row, so a sealed name copied to
// another monitor's row, or into the contact column, does not open.
package pii

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jmoiron/sqlx"
)

// Prefix starts every sealed value.
const Prefix = "pii1:"

// KeySize is the data key's length: AES-256.
const KeySize = 32

// ErrLocked is returned when a sealed value is read, or a personal field
// written, without the data key (no login, or an account that holds none).
var ErrLocked = errors.New("personal data is locked: log in with an account that holds the data key")

// ErrTampered is returned for a sealed value that does not open under the
// key: edited, moved to another row or field, or sealed under another key.
var ErrTampered = errors.New("a sealed personal field does not open with this data key (altered, moved, or another key)")

// Key is an unwrapped data key. A nil *Key is "no key": Open passes
// plaintext through and refuses sealed values; Seal refuses.
//
// A Key can be suspended (the GUI's inactivity lock, logout): its bytes are
// zeroed and its cipher dropped, and until Resume it behaves as no key.
// Every holder of the pointer (services, pages, closures) sees that at once.
// Seal and Open hold a read lock for the whole operation, so one in flight
// when Suspend comes finishes with the key, and one that starts after gets
// ErrLocked: never a half-zeroed key. What is and is not wiped: the 32 key
// bytes in the Key are overwritten; the AES key schedule inside the dropped
// AEAD (and any copy the runtime or a caller made, e.g. the slice
// KeyFromBytes was given) is left to the garbage collector, which frees but
// does not clear memory. Go gives no way to wipe those; a suspended Key only
// guarantees that this object can no longer seal or open, and that its own
// bytes are gone.
type Key struct {
	mu    sync.RWMutex
	raw   [KeySize]byte
	aead  cipher.AEAD // nil while suspended
	check string      // fingerprint of raw, kept while suspended (not secret)
}

// ErrKeyMismatch is returned by Resume when the key offered is not the one
// that was suspended (their fingerprints differ: the data key was rotated
// meanwhile, or another store's key).
var ErrKeyMismatch = errors.New("pii: not the data key that was suspended (fingerprints differ)")

// NewKey makes a fresh random data key.
func NewKey() (*Key, error) {
	var b [KeySize]byte
	defer clear(b[:])
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	return KeyFromBytes(b[:])
}

// KeyFromBytes wraps raw key bytes (an unwrapped data key). The Key holds
// its own copy; the caller should clear b.
func KeyFromBytes(b []byte) (*Key, error) {
	if len(b) != KeySize {
		return nil, fmt.Errorf("data key: %d bytes, want %d", len(b), KeySize)
	}
	k := &Key{}
	copy(k.raw[:], b)
	aead, err := newAEAD(k.raw[:])
	if err != nil {
		return nil, err
	}
	k.aead, k.check = aead, fingerprint(k.raw[:])
	return k, nil
}

func newAEAD(raw []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func fingerprint(raw []byte) string {
	h := sha256.New() // written in two parts: no third copy of the key
	h.Write([]byte("jpkipilot pii key check\x00"))
	h.Write(raw)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Bytes returns a copy of the raw key, for wrapping. Callers must not keep
// it. A suspended or nil key returns nil.
func (k *Key) Bytes() []byte {
	if k == nil {
		return nil
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.aead == nil {
		return nil
	}
	b := k.raw
	return b[:]
}

// Check is a short, non-secret fingerprint of the key (first 8 bytes of a
// domain-separated SHA-256), stored beside the wrapped copies so a wrong
// unwrap is caught before anything is sealed with it. A suspended key (and
// a nil one) has none: "" matches no store, so nothing compares a
// suspended key as current and wraps it for someone else.
func (k *Key) Check() string {
	if k == nil {
		return ""
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.aead == nil {
		return ""
	}
	return k.check
}

// Suspend zeroes the key's bytes and drops its cipher: until Resume, Seal
// and Open give ErrLocked as for a nil key. It waits for a Seal or Open in
// flight to finish. Suspending twice, or a nil key, does nothing.
func (k *Key) Suspend() {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	clear(k.raw[:])
	k.aead = nil
}

// Suspended reports whether the key is suspended (a nil key is not: it is
// no key at all).
func (k *Key) Suspended() bool {
	if k == nil {
		return false
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.aead == nil
}

// Resume refills a suspended key from a freshly unwrapped copy of the same
// key (the unlocking login's), so every holder of k can seal and open
// again. A key with another fingerprint is refused with ErrKeyMismatch and
// k stays as it was; from must not itself be suspended (ErrLocked). The
// caller should Suspend from afterwards: it is a second copy.
func (k *Key) Resume(from *Key) error {
	if k == nil {
		return errors.New("pii: resume of no key")
	}
	if from == nil {
		return ErrLocked
	}
	from.mu.RLock()
	b, live := from.raw, from.aead != nil
	from.mu.RUnlock()
	defer clear(b[:])
	if !live {
		return ErrLocked
	}
	if fingerprint(b[:]) != k.check {
		return ErrKeyMismatch
	}
	aead, err := newAEAD(b[:])
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.raw, k.aead = b, aead
	return nil
}

func aad(field, rowID string) []byte {
	return []byte("jpkipilot pii1\x00" + field + "\x00" + rowID)
}

// IsSealed reports whether a stored value is sealed.
func IsSealed(stored string) bool { return strings.HasPrefix(stored, Prefix) }

// Seal seals plaintext for field ("monitors.name") of row rowID ("M-0001").
// The empty string stays empty: an erased field carries nothing.
func (k *Key) Seal(field, rowID, plaintext string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	if k == nil {
		return "", ErrLocked
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.aead == nil {
		return "", ErrLocked // suspended
	}
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal %s: %w", field, err)
	}
	out := k.aead.Seal(nonce, nonce, []byte(plaintext), aad(field, rowID))
	return Prefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open returns the plaintext of a stored value. A value that is not sealed
// (a store from before the first staff account) is returned as it is.
func (k *Key) Open(field, rowID, stored string) (string, error) {
	if !IsSealed(stored) {
		return stored, nil
	}
	if k == nil {
		return "", ErrLocked
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.aead == nil {
		return "", ErrLocked // suspended
	}
	raw, err := base64.RawStdEncoding.DecodeString(stored[len(Prefix):])
	if err != nil || len(raw) < k.aead.NonceSize()+k.aead.Overhead() {
		return "", fmt.Errorf("%s of %s: %w", field, rowID, ErrTampered)
	}
	n := k.aead.NonceSize()
	pt, err := k.aead.Open(nil, raw[:n], raw[n:], aad(field, rowID))
	if err != nil {
		return "", fmt.Errorf("%s of %s: %w", field, rowID, ErrTampered)
	}
	return string(pt), nil
}

// Column is one personal field kept sealed: Table.Name, keyed by IDColumn.
type Column struct{ Table, IDColumn, Name string }

// Field is the name the column's values are sealed under ("monitors.name").
func (c Column) Field() string { return c.Table + "." + c.Name }

// Columns lists every personal field in the store. Rotation and the first
// sealing walk this list; a new personal column must be added here.
var Columns = []Column{
	{"monitors", "id", "name"},
	{"monitors", "id", "kana"},
	{"monitors", "id", "contact"},
	// Signature certificates naming a person, from before the store was
	// sealed (pki.SealNamedCertificates); '' for every other certificate.
	{"pki_certs", "serial", "cert_sealed"},
}

// SettingSealed is the settings key set to "1" once the store's personal
// fields are sealed: from then on a personal field is never written in the
// clear (writers without a key get ErrLocked).
const SettingSealed = "pii.sealed"

// Required reports whether the store's personal fields are sealed.
func Required(ctx context.Context, q sqlx.ExtContext) (bool, error) {
	var v []string
	if err := sqlx.SelectContext(ctx, q, &v, q.Rebind("SELECT value FROM settings WHERE key = ?"), SettingSealed); err != nil {
		return false, fmt.Errorf("pii: read %s: %w", SettingSealed, err)
	}
	return len(v) == 1 && v[0] == "1", nil
}

// Reseal re-encrypts every personal field under next, in tx: values sealed
// under prev (or still in the clear) are opened and sealed again, and the
// store is marked sealed. It returns how many values it rewrote. With the
// caller's transaction, a failure leaves every row as it was.
func Reseal(ctx context.Context, tx *sqlx.Tx, prev, next *Key) (int, error) {
	if next == nil {
		return 0, errors.New("pii: reseal needs the new key")
	}
	n := 0
	for _, c := range Columns {
		type row struct {
			ID    string `db:"id"`
			Value string `db:"value"`
		}
		var rows []row
		q := fmt.Sprintf("SELECT %s AS id, %s AS value FROM %s WHERE %s <> ''", c.IDColumn, c.Name, c.Table, c.Name)
		if err := tx.SelectContext(ctx, &rows, q); err != nil {
			return 0, fmt.Errorf("pii: read %s: %w", c.Field(), err)
		}
		up := tx.Rebind(fmt.Sprintf("UPDATE %s SET %s = ? WHERE %s = ?", c.Table, c.Name, c.IDColumn))
		for _, r := range rows {
			pt, err := prev.Open(c.Field(), r.ID, r.Value)
			if err != nil {
				return 0, err
			}
			sealed, err := next.Seal(c.Field(), r.ID, pt)
			if err != nil {
				return 0, err
			}
			if _, err := tx.ExecContext(ctx, up, sealed, r.ID); err != nil {
				return 0, fmt.Errorf("pii: rewrite %s of %s: %w", c.Field(), r.ID, err)
			}
			n++
		}
	}
	if err := markSealed(ctx, tx); err != nil {
		return 0, err
	}
	return n, nil
}

func markSealed(ctx context.Context, tx *sqlx.Tx) error {
	res, err := tx.ExecContext(ctx, tx.Rebind("UPDATE settings SET value = '1' WHERE key = ?"), SettingSealed)
	if err != nil {
		return fmt.Errorf("pii: mark sealed: %w", err)
	}
	if k, _ := res.RowsAffected(); k == 1 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO settings (key, value) VALUES (?, '1')"), SettingSealed); err != nil {
		return fmt.Errorf("pii: mark sealed: %w", err)
	}
	return nil
}
