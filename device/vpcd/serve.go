package vpcd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Card is what the bridge serves; *vcard.Card implements it.
type Card interface {
	ATR() []byte
	Process(apdu []byte) []byte
	Reset()
}

// ErrPeerClosed means vpcd (pcscd) closed the connection.
var ErrPeerClosed = errors.New("vpcd: pcscd closed the connection")

// Bridge connects a card to a vpcd port.
type Bridge struct {
	Addr string // host:port of the vpcd driver, e.g. 127.0.0.1:35963
	Card Card

	// Reconnect keeps the card "inserted" across pcscd restarts: when the
	// driver is not listening or closes the connection, Serve dials again
	// (backing off up to MaxBackoff) until its context ends.
	Reconnect  bool
	MaxBackoff time.Duration // default 2 s

	// Logf, if set, gets one line per connection event (never APDU data).
	Logf func(format string, args ...any)
	// Connected, if set, is called each time the socket is up.
	Connected func()
}

// Serve dials addr and answers vpcd until ctx ends (the socket is closed:
// the card is removed) or the peer closes the connection.
func Serve(ctx context.Context, addr string, card Card) error {
	return (&Bridge{Addr: addr, Card: card}).Serve(ctx)
}

// Serve runs the bridge. It returns nil when ctx is cancelled, and otherwise
// the error that ended the session: ErrPeerClosed, a dial error or a
// protocol error (all retried when Reconnect is set).
func (b *Bridge) Serve(ctx context.Context) error {
	maxBackoff := b.MaxBackoff
	if maxBackoff <= 0 {
		maxBackoff = 2 * time.Second
	}
	// The first retry waits longer than one pcscd poll (400 ms): vpcd
	// accepts a new connection silently, so a card that comes back before
	// pcscd has polled the empty slot is never announced.
	firstBackoff := min(500*time.Millisecond, maxBackoff)
	backoff := firstBackoff
	for {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", b.Addr)
		if err == nil {
			backoff = firstBackoff
			b.logf("vpcd: card connected to %s", b.Addr)
			if b.Connected != nil {
				b.Connected()
			}
			err = b.session(ctx, conn)
			b.Card.Reset() // the card lost power with the connection
			b.logf("vpcd: card disconnected from %s: %v", b.Addr, errOr(err, "cancelled"))
		}
		if ctx.Err() != nil {
			return nil
		}
		if !b.Reconnect {
			return err
		}
		b.logf("vpcd: %v; retrying in %v", err, backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

func errOr(err error, s string) string {
	if err == nil {
		return s
	}
	return err.Error()
}

func (b *Bridge) logf(format string, args ...any) {
	if b.Logf != nil {
		b.Logf(format, args...)
	}
}

// session serves one connection until it ends; it always closes conn.
func (b *Bridge) session(ctx context.Context, conn net.Conn) error {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer func() {
		if stop() {
			conn.Close()
		}
	}()
	err := b.answer(ctx, ackingConn{conn})
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// answer runs the request/response loop over rw until ctx ends.
func (b *Bridge) answer(ctx context.Context, rw io.ReadWriter) error {
	for {
		msg, err := ReadFrame(rw, MaxCommand)
		var long *FrameTooLongError
		switch {
		case errors.Is(err, io.EOF):
			return ErrPeerClosed
		case errors.As(err, &long):
			// An extended APDU: skip it and say so, as a card would.
			if _, err := io.CopyN(io.Discard, rw, int64(long.Len)); err != nil {
				return fmt.Errorf("vpcd: skipping a %d-byte frame: %w", long.Len, err)
			}
			if err := WriteFrame(rw, []byte{0x67, 0x00}); err != nil {
				return err
			}
			continue
		case err != nil:
			return err
		}
		if len(msg) == 1 {
			switch msg[0] {
			case CtrlPowerOff, CtrlPowerOn, CtrlReset:
				b.Card.Reset()
			case CtrlGetATR:
				if err := WriteFrame(rw, b.Card.ATR()); err != nil {
					return err
				}
			default:
				// vpcd sends no other codes; a newer one must not kill the card.
				b.logf("vpcd: ignoring unknown control code %d", msg[0])
			}
			continue
		}
		resp := b.Card.Process(msg)
		if ctx.Err() != nil {
			// The card left the field while working: no answer leaves it.
			return ctx.Err()
		}
		if err := WriteFrame(rw, resp); err != nil {
			return err
		}
	}
}

// ackingConn re-arms TCP quick ACKs after every read (Linux clears the
// flag by itself), so vpcd's second send of a frame is not held back.
type ackingConn struct{ net.Conn }

func (c ackingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	quickAck(c.Conn)
	return n, err
}
