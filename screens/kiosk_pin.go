package screens

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// SettingKioskPIN is the settings key of the kiosk PIN's argon2id hash.
//
// The kiosk PIN stands in for staff accounts, which arrive in a later
// issue: until then one PIN per store lets staff leave the kiosk and reset
// it for the next monitor. The PIN itself is never stored or logged.
const SettingKioskPIN = "kiosk_pin_hash"

// argon2id parameters (RFC 9106's second recommendation, lighter memory
// so a laptop checks a PIN in well under a second).
const (
	pinTime    = 3
	pinMemory  = 64 * 1024 // KiB
	pinThreads = 2
	pinKeyLen  = 32
)

// ErrWrongPIN is a PIN that does not match the stored hash.
var ErrWrongPIN = errors.New("wrong kiosk PIN")

// validKioskPIN reports a PIN of 4 to 12 ASCII digits.
func validKioskPIN(pin string) bool {
	if len(pin) < 4 || len(pin) > 12 {
		return false
	}
	for _, c := range pin {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// HashKioskPIN returns pin's argon2id hash in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash) with a fresh random salt.
func HashKioskPIN(pin string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pin), salt, pinTime, pinMemory, pinThreads, pinKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, pinMemory, pinTime, pinThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// CheckKioskPIN compares pin with a hash made by HashKioskPIN, in constant
// time. It returns ErrWrongPIN on a mismatch and another error when the
// stored hash is damaged.
func CheckKioskPIN(hash, pin string) error {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("the stored kiosk PIN hash is not an argon2id hash")
	}
	var version int
	var memory, time uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return fmt.Errorf("the stored kiosk PIN hash has an unknown version %q", parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &time, &threads); err != nil || time == 0 || time > 10 || threads == 0 || memory < 8 || memory > 256<<10 {
		// Bounded, so a tampered setting cannot make a PIN check take
		// minutes or gigabytes.
		return fmt.Errorf("the stored kiosk PIN hash has bad parameters %q", parts[3])
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return errors.New("the stored kiosk PIN hash is damaged")
	}
	got := argon2.IDKey([]byte(pin), salt, time, memory, threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrWrongPIN
	}
	return nil
}
