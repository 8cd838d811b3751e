package jpki

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"

	"jpkipilot/device"
)

// The JPKI application's name and elementary files (DESIGN.md).
var aid = device.JPKIAID

const (
	efSignCert   uint16 = 0x0001
	efSignCACert uint16 = 0x0002
	efTokenInfo  uint16 = 0x0006
	efAuthCert   uint16 = 0x000A
	efAuthCACert uint16 = 0x000B
	efAuthKey    uint16 = 0x0017
	efAuthPIN    uint16 = 0x0018
	efSignKey    uint16 = 0x001A
	efSignPIN    uint16 = 0x001B
)

// tokenInfoLen is the size of EF 0006.
const tokenInfoLen = 32

// Token labels in EF 0006, space-padded to 32 bytes on the card.
const (
	labelCard  = "JPKIAPICCTOKEN2"
	labelPhone = "JPKIAPGPSETOKEN"
)

// TokenInfo is the content of EF 0006.
type TokenInfo struct {
	Label string // trimmed, e.g. "JPKIAPICCTOKEN2"
	Kind  TokenKind
}

// ParseTokenInfo decodes EF 0006: a label padded with spaces (some
// implementations pad with NUL bytes; both are trimmed).
func ParseTokenInfo(b []byte) (TokenInfo, error) {
	if len(b) == 0 || len(b) > tokenInfoLen {
		return TokenInfo{}, fmt.Errorf("jpki: token info is %d bytes, want 1 to %d", len(b), tokenInfoLen)
	}
	label := string(bytes.TrimRight(b, " \x00"))
	for i := 0; i < len(label); i++ {
		if label[i] < 0x21 || label[i] > 0x7E {
			return TokenInfo{}, fmt.Errorf("jpki: token info holds a non-printable byte %02X at offset %d", label[i], i)
		}
	}
	switch device.ClassifyTokenInfo(b) {
	case device.MyNumberCard:
		return TokenInfo{Label: label, Kind: MyNumberCard}, nil
	case device.PhoneToken:
		return TokenInfo{Label: label, Kind: PhoneToken}, nil
	}
	return TokenInfo{}, fmt.Errorf("jpki: unrecognised token info %q (want %s or %s)", label, labelCard, labelPhone)
}

// READ BINARY addresses offsets 0..7FFF (P1 bit 8 would mean a short EF id),
// so a file we read in 256-byte chunks ends at 0x8000 at most.
const (
	maxOffset  = 0x7FFF
	maxCertLen = maxOffset + 1
	chunkLen   = 256
	minCertLen = 256
)

// ErrBadCertificate is wrapped by every error about malformed certificate bytes.
var ErrBadCertificate = errors.New("malformed certificate on the card")

// certLength reads the DER header 30 82 LL LL at the start of a certificate
// file and returns the certificate's total length, header included.
func certLength(head []byte) (int, error) {
	if len(head) < 4 {
		return 0, fmt.Errorf("jpki: %w: %d bytes are too short for a DER header", ErrBadCertificate, len(head))
	}
	if head[0] != 0x30 {
		return 0, fmt.Errorf("jpki: %w: tag %02X, want 30 (SEQUENCE)", ErrBadCertificate, head[0])
	}
	if head[1] != 0x82 {
		return 0, fmt.Errorf("jpki: %w: length byte %02X, want 82 (two length bytes)", ErrBadCertificate, head[1])
	}
	n := int(head[2])<<8 | int(head[3])
	total := 4 + n
	if total < minCertLen {
		return 0, fmt.Errorf("jpki: %w: DER length %d is below %d", ErrBadCertificate, n, minCertLen-4)
	}
	if total > maxCertLen {
		return 0, fmt.Errorf("jpki: %w: %d bytes exceed the %d that READ BINARY can address", ErrBadCertificate, total, maxCertLen)
	}
	return total, nil
}

// ErrPINFormat is wrapped when a PIN is malformed; nothing was sent to the card.
var ErrPINFormat = errors.New("PIN format")

// CheckPIN checks a PIN against the card's rules without sending it: auth is
// exactly 4 digits; sign is 6 to 16 of A–Z and 0–9. The error never holds the PIN.
func CheckPIN(kind Kind, pin string) error {
	switch kind {
	case Auth:
		if len(pin) != 4 || !allOf(pin, false) {
			return fmt.Errorf("jpki: %w: the auth PIN is exactly 4 digits", ErrPINFormat)
		}
	case Sign:
		if len(pin) < 6 || len(pin) > 16 || !allOf(pin, true) {
			return fmt.Errorf("jpki: %w: the sign PIN is 6 to 16 capital letters A-Z or digits", ErrPINFormat)
		}
	default:
		return fmt.Errorf("jpki: unknown PIN kind %d", int(kind))
	}
	return nil
}

func allOf(s string, letters bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' || letters && c >= 'A' && c <= 'Z' {
			continue
		}
		return false
	}
	return true
}

// DigestInfo prefixes (RFC 8017 section 9.2, note 1).
var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA1:   {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14},
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// digestInfo wraps a digest for the card, which applies PKCS#1 v1.5 padding itself.
func digestInfo(h crypto.Hash, digest []byte) ([]byte, error) {
	prefix, ok := digestInfoPrefix[h]
	if !ok {
		return nil, fmt.Errorf("jpki: hash %v is not supported (use SHA-256, SHA-384, SHA-512 or SHA-1)", h)
	}
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("jpki: digest is %d bytes, %v wants %d", len(digest), h, h.Size())
	}
	return append(append(make([]byte, 0, len(prefix)+len(digest)), prefix...), digest...), nil
}
