package device

import (
	"context"
	"sync"
	"time"
)

// Transport sends one raw command APDU and returns the raw response. The
// PC/SC adapter (device/pcsc) and the in-process virtual reader implement it.
// An implementation returns an error wrapping ErrCardRemoved when the card
// has gone, and must not retry on its own.
type Transport interface {
	Transmit(ctx context.Context, apdu []byte) ([]byte, error)
}

// Card is a connected card: typed APDUs over a Transport, with a trace.
// It is safe for use by one goroutine at a time; the mutex only guards the
// trace, which the UI reads from another goroutine.
type Card struct {
	T Transport

	mu    sync.Mutex
	trace []TraceEntry
	sent  int
}

// TraceEntry is one exchanged APDU, PIN bytes redacted.
type TraceEntry struct {
	At       time.Time
	Command  string // Command.Redacted()
	SW       uint16
	RespLen  int
	Duration time.Duration
	Err      string
}

// MaxTrace bounds the trace kept per card.
const MaxTrace = 200

// Send transmits one command. It returns the response and a transport error;
// it does not map the status word (call Response.Err for that).
func (c *Card) Send(ctx context.Context, cmd Command) (Response, error) {
	raw, err := cmd.Bytes()
	if err != nil {
		return Response{}, err
	}
	start := time.Now()
	out, err := c.T.Transmit(ctx, raw)
	e := TraceEntry{At: start, Command: cmd.Redacted(), Duration: time.Since(start)}
	var resp Response
	if err == nil {
		resp, err = ParseResponse(out)
	}
	if err != nil {
		e.Err = err.Error()
	} else {
		e.SW, e.RespLen = resp.SW, len(resp.Data)
	}
	c.mu.Lock()
	c.sent++
	c.trace = append(c.trace, e)
	if len(c.trace) > MaxTrace {
		c.trace = append(c.trace[:0], c.trace[len(c.trace)-MaxTrace:]...)
	}
	c.mu.Unlock()
	return resp, err
}

// Do sends a command and maps a non-9000 status word to its error.
func (c *Card) Do(ctx context.Context, cmd Command) ([]byte, error) {
	resp, err := c.Send(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if err := resp.Err(); err != nil {
		return nil, err
	}
	return resp.Data, nil
}

// Trace returns a copy of the recent APDU trace.
func (c *Card) Trace() []TraceEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]TraceEntry(nil), c.trace...)
}

// APDUCount is how many commands were sent since the card was connected.
func (c *Card) APDUCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent
}
