package vcard

import (
	"context"
	"fmt"
	"sync"

	"jpkipilot/device"
)

// VirtualReader is an in-process reader slot: a device.Transport that talks
// to the inserted virtual card directly, without pcscd. The zero value is an
// empty reader. It is safe for concurrent use.
type VirtualReader struct {
	mu          sync.Mutex
	card        Token
	removeAfter int // APDUs still answered before the card is pulled; <0: never
	armed       bool
	sent        int
}

var _ device.Transport = (*VirtualReader)(nil)

// Token is what a virtual reader holds: a JPKI card (*Card) or another
// virtual token such as the SIM applet (*SIM). device/vpcd serves the same
// interface into pcscd.
type Token interface {
	ATR() []byte
	Process(apdu []byte) []byte
	Reset()
}

// Insert powers the card up in the reader, replacing any card present.
func (r *VirtualReader) Insert(c Token) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.card != nil {
		r.card.Reset()
	}
	c.Reset()
	r.card = c
	r.armed = false
}

// Remove pulls the card out (it loses its security state, as on power-off).
func (r *VirtualReader) Remove() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removeLocked()
}

func (r *VirtualReader) removeLocked() {
	if r.card != nil {
		r.card.Reset()
	}
	r.card = nil
	r.armed = false
}

// Present reports whether a card is in the reader.
func (r *VirtualReader) Present() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.card != nil
}

// RemoveAfter arranges for the card to be pulled out after n more APDUs have
// been answered: the (n+1)th Transmit fails with device.ErrCardRemoved. A
// client test runs its flow once for every n to cover removal at every step.
func (r *VirtualReader) RemoveAfter(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removeAfter, r.armed = n, true
}

// Transmitted is how many APDUs the card has answered since the reader was made.
func (r *VirtualReader) Transmitted() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sent
}

// ATR returns the inserted card's ATR.
func (r *VirtualReader) ATR() ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.card == nil {
		return nil, fmt.Errorf("vcard: virtual reader: %w", device.ErrNoCard)
	}
	return r.card.ATR(), nil
}

// Transmit sends one APDU to the inserted card.
func (r *VirtualReader) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.armed {
		if r.removeAfter <= 0 {
			r.removeLocked()
		} else {
			r.removeAfter--
		}
	}
	if r.card == nil {
		return nil, fmt.Errorf("vcard: virtual reader: %w", device.ErrCardRemoved)
	}
	r.sent++
	return r.card.Process(apdu), nil
}
