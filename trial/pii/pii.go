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
type Key struct {
	raw  [KeySize]byte
	aead cipher.AEAD
}

// NewKey makes a fresh random data key.
func NewKey() (*Key, error) {
	var b [KeySize]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	return KeyFromBytes(b[:])
}

// KeyFromBytes wraps raw key bytes (an unwrapped data key).
func KeyFromBytes(b []byte) (*Key, error) {
	if len(b) != KeySize {
		return nil, fmt.Errorf("data key: %d bytes, want %d", len(b), KeySize)
	}
	k := &Key{}
	copy(k.raw[:], b)
	block, err := aes.NewCipher(k.raw[:])
	if err != nil {
		return nil, err
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	return k, nil
}

// Bytes returns a copy of the raw key, for wrapping. Callers must not keep it.
func (k *Key) Bytes() []byte { b := k.raw; return b[:] }

// Check is a short, non-secret fingerprint of the key (first 8 bytes of a
// domain-separated SHA-256), stored beside the wrapped copies so a wrong
// unwrap is caught before anything is sealed with it.
func (k *Key) Check() string {
	h := sha256.Sum256(append([]byte("jpkipilot pii key check\x00"), k.raw[:]...))
	return hex.EncodeToString(h[:8])
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
