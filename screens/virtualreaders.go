package screens

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
)

// ErrNoReaderFeedback means a reader has no beeper or light we can drive:
// the screen then signals with its own picture only.
var ErrNoReaderFeedback = errors.New("the reader has no beeper or light we can drive")

// ErrPCSCNotRunning is wrapped by a ReaderSource when pcscd is not running
// (or has stopped): the screen says so, and virtual readers still work.
var ErrPCSCNotRunning = errors.New("pcscd is not running")

// VirtualReaders are in-process reader slots into which staff "hold" a
// monitor's virtual card, so a demo station works without hardware. Cards
// are issued by a demo CA made once per session (on first use); a holder's
// card is kept for the session, so its PIN counters behave like a real
// card's when it is held again. It is safe for concurrent use.
type VirtualReaders struct {
	mu    sync.Mutex
	ca    *vcard.DemoCA
	slots []*virtualSlot
	cards map[string]*vcard.Card // holder + profile
}

type virtualSlot struct {
	name    string
	reader  vcard.VirtualReader
	card    *vcard.Card
	holder  string
	profile vcard.Profile
	kind    device.CardKind
}

// NewVirtualReaders makes one empty virtual reader per name.
func NewVirtualReaders(names ...string) *VirtualReaders {
	v := &VirtualReaders{cards: map[string]*vcard.Card{}}
	for _, n := range names {
		v.slots = append(v.slots, &virtualSlot{name: n})
	}
	return v
}

// Names are the virtual readers' names, in order.
func (v *VirtualReaders) Names() []string {
	var out []string
	for _, s := range v.slots {
		out = append(out, s.name)
	}
	return out
}

func (v *VirtualReaders) slot(name string) *virtualSlot {
	for _, s := range v.slots {
		if s.name == name {
			return s
		}
	}
	return nil
}

// Hold puts holder's virtual card of profile p into reader, issuing it
// first if this session has not yet (RSA key generation: call it on a
// worker), then identifies it as any card is.
func (v *VirtualReaders) Hold(ctx context.Context, reader, holder string, p vcard.Profile) error {
	s := v.slot(reader)
	if s == nil {
		return fmt.Errorf("%w: %s", device.ErrNoReader, reader)
	}
	card, err := v.card(holder, p)
	if err != nil {
		return err
	}
	s.reader.Insert(card)
	kind, err := device.Identify(ctx, &s.reader)
	card.Reset() // identification selected the AP; start every session clean
	v.mu.Lock()
	s.card, s.holder, s.profile, s.kind = card, holder, p, kind
	v.mu.Unlock()
	return err
}

func (v *VirtualReaders) card(holder string, p vcard.Profile) (*vcard.Card, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	key := p.String() + "\x00" + holder
	if c := v.cards[key]; c != nil {
		return c, nil
	}
	if v.ca == nil {
		ca, err := vcard.NewDemoCA()
		if err != nil {
			return nil, err
		}
		v.ca = ca
	}
	cfg, err := v.ca.Issue(p, holder)
	if err != nil {
		return nil, err
	}
	c, err := vcard.New(cfg)
	if err != nil {
		return nil, err
	}
	v.cards[key] = c
	return c, nil
}

// Remove takes the card out of reader.
func (v *VirtualReaders) Remove(reader string) {
	s := v.slot(reader)
	if s == nil {
		return
	}
	s.reader.Remove()
	v.mu.Lock()
	s.card, s.holder, s.kind = nil, "", device.UnknownCard
	v.mu.Unlock()
}

// Readers lists the virtual readers; it never fails.
func (v *VirtualReaders) Readers(context.Context) ([]ReaderInfo, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []ReaderInfo
	for _, s := range v.slots {
		r := ReaderInfo{Name: s.name, Virtual: true, CardPresent: s.reader.Present()}
		if r.CardPresent {
			r.Kind, r.Identified, r.Holder = s.kind, true, s.holder
		}
		out = append(out, r)
	}
	return out, nil
}

// Open gives the card in reader; closing resets it, so no PIN stays
// verified after the work, as closing a PC/SC connection does.
func (v *VirtualReaders) Open(_ context.Context, reader string) (device.Transport, func(), error) {
	s := v.slot(reader)
	if s == nil {
		return nil, nil, fmt.Errorf("%w: %s", device.ErrNoReader, reader)
	}
	if !s.reader.Present() {
		return nil, nil, device.ErrNoCard
	}
	v.mu.Lock()
	card := s.card
	v.mu.Unlock()
	return &s.reader, func() {
		if card != nil {
			card.Reset()
		}
	}, nil
}

// Signal: a virtual reader has no beeper or light.
func (v *VirtualReaders) Signal(context.Context, string, bool) error { return ErrNoReaderFeedback }

// OnChange does nothing: virtual cards move only through Hold and Remove,
// whose callers refresh what they show.
func (v *VirtualReaders) OnChange(func()) {}

// JoinReaders shows the readers of hw (PC/SC) followed by the virtual
// ones. hw's error (pcscd not running) is returned with the list, which
// still holds the virtual readers.
func JoinReaders(hw ReaderSource, virt *VirtualReaders) ReaderSource {
	return joined{hw, virt}
}

type joined struct {
	hw   ReaderSource
	virt *VirtualReaders
}

func (j joined) Readers(ctx context.Context) ([]ReaderInfo, error) {
	var out []ReaderInfo
	var err error
	if j.hw != nil {
		out, err = j.hw.Readers(ctx)
	}
	vs, _ := j.virt.Readers(ctx)
	return append(out, vs...), err
}

func (j joined) Open(ctx context.Context, reader string) (device.Transport, func(), error) {
	if j.virt.slot(reader) != nil || j.hw == nil {
		return j.virt.Open(ctx, reader)
	}
	return j.hw.Open(ctx, reader)
}

func (j joined) Signal(ctx context.Context, reader string, ok bool) error {
	if j.virt.slot(reader) != nil || j.hw == nil {
		return j.virt.Signal(ctx, reader, ok)
	}
	return j.hw.Signal(ctx, reader, ok)
}

func (j joined) OnChange(fn func()) {
	if j.hw != nil {
		j.hw.OnChange(fn)
	}
}
