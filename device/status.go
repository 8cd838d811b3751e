package device

import (
	"errors"
	"fmt"
)

// SW values the JPKI application uses.
const (
	SWOK                uint16 = 0x9000
	SWWrongLength       uint16 = 0x6700
	SWSecurityStatus    uint16 = 0x6982
	SWAuthBlocked       uint16 = 0x6983
	SWRefDataBlocked    uint16 = 0x6984
	SWConditionsOfUse   uint16 = 0x6985
	SWWrongData         uint16 = 0x6A80
	SWFuncNotSupported  uint16 = 0x6A81
	SWFileNotFound      uint16 = 0x6A82
	SWIncorrectP1P2     uint16 = 0x6A86
	SWWrongP1P2         uint16 = 0x6B00
	SWINSNotSupported   uint16 = 0x6D00
	SWCLANotSupported   uint16 = 0x6E00
	SWNoPreciseDiagnose uint16 = 0x6F00
)

// Sentinel errors a caller tests with errors.Is.
var (
	ErrNotFound       = errors.New("file or application not found (6A82)")
	ErrBlocked        = errors.New("PIN is blocked")
	ErrSecurityStatus = errors.New("security status not satisfied (6982)")
	ErrCardRemoved    = errors.New("card removed")
	ErrNoCard         = errors.New("no card in the reader")
	ErrNoReader       = errors.New("reader not found")
)

// StatusError returns the error for a status word: nil for 9000, a
// *WrongPINError for 63Cx, errors wrapping ErrBlocked, ErrNotFound and
// ErrSecurityStatus for those words, and a *SWError otherwise.
func StatusError(sw uint16) error {
	switch {
	case sw == SWOK:
		return nil
	case sw&0xFFF0 == 0x63C0:
		n := int(sw & 0x0F)
		return &WrongPINError{TriesLeft: n}
	case sw == SWAuthBlocked || sw == SWRefDataBlocked:
		return &SWError{SW: sw, err: ErrBlocked}
	case sw == SWFileNotFound:
		return &SWError{SW: sw, err: ErrNotFound}
	case sw == SWSecurityStatus:
		return &SWError{SW: sw, err: ErrSecurityStatus}
	}
	return &SWError{SW: sw}
}

// SWError is a status word other than 9000 and 63Cx.
type SWError struct {
	SW  uint16
	err error
}

func (e *SWError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("card returned %04X: %v", e.SW, e.err)
	}
	return fmt.Sprintf("card returned status %04X", e.SW)
}

func (e *SWError) Unwrap() error { return e.err }

// WrongPINError is 63Cx: the PIN was wrong (or, for a query without data,
// the tries left). TriesLeft 0 means the PIN is now blocked.
type WrongPINError struct{ TriesLeft int }

func (e *WrongPINError) Error() string {
	if e.TriesLeft == 0 {
		return "wrong PIN: the PIN is now blocked (63C0)"
	}
	return fmt.Sprintf("wrong PIN: %d tries left (63C%X)", e.TriesLeft, e.TriesLeft)
}

// Is lets errors.Is(err, ErrBlocked) hold when no tries are left.
func (e *WrongPINError) Is(target error) bool { return target == ErrBlocked && e.TriesLeft == 0 }
