//go:build cgo

package pcsc

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ebfe/scard"

	"jpkipilot/device"
)

// Errors a caller tests with errors.Is, beside device.ErrCardRemoved,
// device.ErrNoCard and device.ErrNoReader.
var (
	ErrNoService = errors.New("pcscd is not running")
	ErrBusy      = errors.New("the card is in use by another application")
)

// pnpReader is the pseudo reader whose state changes when a reader is
// plugged in or out (supported by pcsc-lite and Windows).
const pnpReader = `\\?PnP?\Notification`

// wrap turns a PC/SC error into one that names the operation and reader and
// wraps the sentinel a caller can act on.
func wrap(op, reader string, err error) error {
	where := op
	if reader != "" {
		where = fmt.Sprintf("%s %q", op, reader)
	}
	var code scard.Error
	if !errors.As(err, &code) {
		return fmt.Errorf("pcsc: %s: %w", where, err)
	}
	detail := fmt.Sprintf("%s, 0x%08X", strings.TrimPrefix(code.Error(), "scard: "), uint32(code))
	switch kinds := classify(op, code); len(kinds) {
	case 0:
		return fmt.Errorf("pcsc: %s: %s", where, detail)
	case 1:
		return fmt.Errorf("pcsc: %s: %w (%s)", where, kinds[0], detail)
	default:
		return fmt.Errorf("pcsc: %s: %w: %w (%s)", where, kinds[0], kinds[1], detail)
	}
}

func classify(op string, code scard.Error) []error {
	onCard := op == "transmit" || op == "status"
	switch code {
	case scard.ErrNotTransacted:
		// The exchange broke off half-way: with a card held to a reader
		// that is the card leaving (vpcd reports its socket closing so).
		if onCard {
			return []error{device.ErrCardRemoved}
		}
	case scard.ErrRemovedCard, scard.ErrResetCard, scard.ErrUnpoweredCard, scard.ErrNoSmartcard:
		if op == "connect" {
			return []error{device.ErrNoCard}
		}
		return []error{device.ErrCardRemoved}
	case scard.ErrNoService, scard.ErrServiceStopped, scard.ErrCommError:
		if onCard {
			// The connection died with pcscd: the card session is gone too.
			return []error{device.ErrCardRemoved, ErrNoService}
		}
		return []error{ErrNoService}
	case scard.ErrInvalidHandle:
		if onCard {
			return []error{device.ErrCardRemoved}
		}
		return []error{ErrNoService}
	case scard.ErrUnknownReader, scard.ErrReaderUnavailable, scard.ErrNoReadersAvailable:
		return []error{device.ErrNoReader}
	case scard.ErrSharingViolation:
		return []error{ErrBusy}
	}
	return nil
}

// serviceGone reports whether err means the PC/SC context is no longer
// usable and must be established again (pcscd stopped or restarted).
func serviceGone(err error) bool {
	var code scard.Error
	if !errors.As(err, &code) {
		return false
	}
	switch code {
	case scard.ErrNoService, scard.ErrServiceStopped, scard.ErrInvalidHandle, scard.ErrCommError:
		return true
	}
	return false
}

func establish() (*scard.Context, error) {
	sc, err := scard.EstablishContext()
	if err != nil {
		return nil, wrap("establish context", "", err)
	}
	return sc, nil
}

// ListReaders returns the reader names pcscd knows, in its order. No
// readers is an empty list, not an error.
func ListReaders(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sc, err := establish()
	if err != nil {
		return nil, err
	}
	defer sc.Release()
	return listReaders(sc)
}

func listReaders(sc *scard.Context) ([]string, error) {
	names, err := sc.ListReaders()
	if errors.Is(err, scard.ErrNoReadersAvailable) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("list readers", "", err)
	}
	return names, nil
}

// ReaderStatus is one reader and what is in it.
type ReaderStatus struct {
	Name    string
	Present bool   // a card is in the reader (or on its antenna)
	Mute    bool   // a card is there but does not answer
	InUse   bool   // another application holds a connection
	ATR     []byte // when Present
}

// Readers returns every reader with its card state, without connecting.
func Readers(ctx context.Context) ([]ReaderStatus, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sc, err := establish()
	if err != nil {
		return nil, err
	}
	defer sc.Release()
	names, err := listReaders(sc)
	if err != nil || len(names) == 0 {
		return nil, err
	}
	states := make([]scard.ReaderState, len(names))
	for i, n := range names {
		states[i] = scard.ReaderState{Reader: n, CurrentState: scard.StateUnaware}
	}
	// With every state "unaware" this returns at once with the current state.
	if err := sc.GetStatusChange(states, 0); err != nil && !errors.Is(err, scard.ErrTimeout) {
		return nil, wrap("get status", "", err)
	}
	out := make([]ReaderStatus, len(names))
	for i, s := range states {
		out[i] = ReaderStatus{
			Name:    names[i],
			Present: s.EventState&scard.StatePresent != 0,
			Mute:    s.EventState&scard.StateMute != 0,
			InUse:   s.EventState&(scard.StateInuse|scard.StateExclusive) != 0,
		}
		if out[i].Present {
			out[i].ATR = append([]byte(nil), s.Atr...)
		}
	}
	return out, nil
}
