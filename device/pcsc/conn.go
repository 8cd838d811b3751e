//go:build cgo

package pcsc

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ebfe/scard"

	"jpkipilot/device"
)

// ErrClosed is returned by Transmit after Close.
var ErrClosed = errors.New("pcsc: connection closed")

// Conn is an exclusive connection to the card in one reader. Exclusive
// because a JPKI flow (select, verify, sign) must not be interleaved with
// another application's APDUs, which would also clear the verified PIN.
// Conn implements device.Transport and is safe for concurrent use.
type Conn struct {
	reader string
	atr    []byte

	mu   sync.Mutex
	sc   *scard.Context
	card *scard.Card
}

var _ device.Transport = (*Conn)(nil)

// Connect opens an exclusive connection to the card in reader. It fails
// with device.ErrNoCard when the reader is empty, device.ErrNoReader when
// it is unknown, ErrBusy when another application holds the card and
// ErrNoService when pcscd is not running.
func Connect(ctx context.Context, reader string) (*Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sc, err := establish()
	if err != nil {
		return nil, err
	}
	card, err := sc.Connect(reader, scard.ShareExclusive, scard.ProtocolAny)
	if err != nil {
		sc.Release()
		return nil, wrap("connect", reader, err)
	}
	st, err := card.Status()
	if err != nil {
		card.Disconnect(scard.LeaveCard)
		sc.Release()
		return nil, wrap("status", reader, err)
	}
	return &Conn{reader: reader, atr: append([]byte(nil), st.Atr...), sc: sc, card: card}, nil
}

// Reader is the reader's name.
func (c *Conn) Reader() string { return c.reader }

// ATR is the card's answer to reset (never use it to recognise JPKI).
func (c *Conn) ATR() []byte { return append([]byte(nil), c.atr...) }

// Transmit sends one APDU. A card pulled out, reset by someone else or lost
// with a pcscd restart gives an error wrapping device.ErrCardRemoved; there
// is no retry. PC/SC cannot abort an APDU in flight, so ctx is only checked
// before sending.
func (c *Conn) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.card == nil {
		return nil, ErrClosed
	}
	resp, err := c.card.Transmit(apdu)
	if err != nil {
		return nil, wrap("transmit", c.reader, err)
	}
	if len(resp) < 2 {
		// vpcd answers an APDU cut off by removal with an empty response;
		// no card answers without a status word.
		return nil, fmt.Errorf("pcsc: transmit %q: %d-byte answer without a status word: %w", c.reader, len(resp), device.ErrCardRemoved)
	}
	return resp, nil
}

// Close resets the card (so no PIN stays verified after us) and releases
// the connection. It is safe to call more than once.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.card == nil {
		return nil
	}
	err := c.card.Disconnect(scard.ResetCard)
	c.sc.Release()
	c.card, c.sc = nil, nil
	if err != nil && !errors.Is(err, scard.ErrRemovedCard) && !errors.Is(err, scard.ErrNoSmartcard) && !serviceGone(err) {
		return wrap("disconnect", c.reader, err)
	}
	return nil
}
