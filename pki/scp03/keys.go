// Package scp03 is GlobalPlatform Secure Channel Protocol '03' (Card
// Specification v2.3, Amendment D) with AES, both sides: Session is the
// host (jpkipilot at the counter), CardSession the card (the virtual SIM
// applet). It opens the channel with INITIALIZE UPDATE and EXTERNAL
// AUTHENTICATE, derives the session keys with the NIST SP 800-108
// counter-mode KDF over AES-CMAC, and protects commands with C-MAC and
// C-DECRYPTION and responses with R-MAC. R-ENCRYPTION is not implemented.
package scp03

import (
	"crypto/aes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Keys is a static SCP03 key set as a SIM holds it.
type Keys struct {
	// KVN is the key version number (1..0x7F); INITIALIZE UPDATE names it.
	KVN byte
	// ENC, MAC and DEK are AES keys of one length: 16, 24 or 32 bytes.
	ENC, MAC, DEK []byte
}

// Validate checks the key lengths and the version number.
func (k Keys) Validate() error {
	if k.KVN == 0 || k.KVN > 0x7F {
		return fmt.Errorf("scp03: key version number %d is not 1..127", k.KVN)
	}
	n := len(k.ENC)
	if n != 16 && n != 24 && n != 32 {
		return fmt.Errorf("scp03: ENC key is %d bytes, want 16, 24 or 32", n)
	}
	if len(k.MAC) != n || len(k.DEK) != n {
		return fmt.Errorf("scp03: ENC, MAC and DEK keys differ in length (%d, %d, %d bytes)", n, len(k.MAC), len(k.DEK))
	}
	return nil
}

// String never shows key bytes: a key set printed by mistake in a log or a
// list tells only its version and size.
func (k Keys) String() string {
	return fmt.Sprintf("SCP03 key set KVN %02X (AES-%d, keys redacted)", k.KVN, 8*len(k.ENC))
}

// GoString keeps %#v from printing the keys too.
func (k Keys) GoString() string { return k.String() }

// Security levels (P1 of EXTERNAL AUTHENTICATE).
const (
	LevelCMAC = 0x01 // C-MAC
	LevelCDEC = 0x02 // C-DECRYPTION; always together with C-MAC
	LevelRMAC = 0x10 // R-MAC
	LevelRENC = 0x20 // R-ENCRYPTION (not supported here)
)

// Derivation constants of Amendment D §6.2.2.
const (
	ddCardCryptogram = 0x00
	ddHostCryptogram = 0x01
	ddSENC           = 0x04
	ddSMAC           = 0x06
	ddSRMAC          = 0x07
)

// kdf is the NIST SP 800-108 KDF in counter mode with AES-CMAC as the PRF,
// with GP's fixed input: a 12-byte label (11 zero bytes and the derivation
// constant), a zero separator, L in bits (2 bytes), the counter i (1 byte)
// and the context. It returns bits/8 bytes.
func kdf(key []byte, constant byte, bits int, context []byte) ([]byte, error) {
	m, err := newCMAC(key)
	if err != nil {
		return nil, err
	}
	in := make([]byte, 16, 16+len(context))
	in[11] = constant
	binary.BigEndian.PutUint16(in[13:15], uint16(bits))
	in = append(in, context...)
	out := make([]byte, 0, (bits/8+aes.BlockSize-1)/aes.BlockSize*aes.BlockSize)
	for i := byte(1); len(out) < bits/8; i++ {
		in[15] = i
		s := m.Sum(in)
		out = append(out, s[:]...)
	}
	return out[:bits/8], nil
}

// sessionKeys are one session's keys.
type sessionKeys struct {
	enc, mac, rmac []byte
}

func deriveSessionKeys(k Keys, context []byte) (sessionKeys, error) {
	bits := 8 * len(k.ENC)
	var s sessionKeys
	var err error
	if s.enc, err = kdf(k.ENC, ddSENC, bits, context); err != nil {
		return s, err
	}
	if s.mac, err = kdf(k.MAC, ddSMAC, bits, context); err != nil {
		return s, err
	}
	s.rmac, err = kdf(k.MAC, ddSRMAC, bits, context)
	return s, err
}

// cryptogram is the 8-byte card (constant 0x00) or host (0x01) cryptogram.
func cryptogram(smac []byte, constant byte, context []byte) ([]byte, error) {
	return kdf(smac, constant, 64, context)
}

// ErrAuth is the host cryptogram or card cryptogram not matching: the two
// sides hold different keys (or someone in between changed the exchange).
var ErrAuth = errors.New("scp03: authentication cryptogram mismatch (wrong keys?)")

// ErrMAC is a MAC that does not verify: a tampered, replayed or out of
// order message. The session is closed.
var ErrMAC = errors.New("scp03: MAC verification failed (tampered, replayed or out of order)")

// ErrClosed is a Wrap or Unwrap on a session that is not open.
var ErrClosed = errors.New("scp03: the secure channel is not open")
