package app

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"jpkipilot/device"
	"jpkipilot/device/pcsc"
	"jpkipilot/screens"
)

// pcscReaders is the PC/SC side of the readers screen. pcsc.Watch (on its
// own goroutine, woken by pcscd's GetStatusChange, never polling) tells it
// when readers or cards change; each new card is identified on a worker.
// The screen is told through OnChange and reads the state with Readers.
type pcscReaders struct {
	mu       sync.Mutex
	kinds    map[string]device.CardKind // reader → identified card
	lost     error                      // set after ServiceLost, cleared on ServiceRestored
	onChange func()
	// session serialises card connections (identification, card checks):
	// connections are exclusive.
	session sync.Mutex
}

// newPCSCReaders starts watching until ctx ends.
func newPCSCReaders(ctx context.Context) *pcscReaders {
	p := &pcscReaders{kinds: map[string]device.CardKind{}}
	go pcsc.Watch(ctx, func(e pcsc.Event) { p.event(ctx, e) })
	return p
}

func (p *pcscReaders) event(ctx context.Context, e pcsc.Event) {
	p.mu.Lock()
	switch e.Kind {
	case pcsc.ServiceLost:
		p.lost = e.Err
		clear(p.kinds)
	case pcsc.ServiceRestored:
		p.lost = nil
	case pcsc.CardInserted:
		delete(p.kinds, e.Reader)
		go p.identify(ctx, e.Reader)
	case pcsc.CardRemoved, pcsc.ReaderRemoved:
		delete(p.kinds, e.Reader)
	}
	fn := p.onChange
	p.mu.Unlock()
	if fn != nil {
		fn()
	}
}

// identify finds out what card is in reader (by selecting the JPKI AP,
// never by the ATR).
func (p *pcscReaders) identify(ctx context.Context, reader string) {
	t, done, err := p.Open(ctx, reader)
	kind := device.UnknownCard
	if err == nil {
		kind, err = device.Identify(ctx, t)
		done()
	}
	if err != nil {
		return // removed again, or busy: shown as "identifying" until the next insert
	}
	p.mu.Lock()
	p.kinds[reader] = kind
	fn := p.onChange
	p.mu.Unlock()
	if fn != nil {
		fn()
	}
}

func (p *pcscReaders) Readers(ctx context.Context) ([]screens.ReaderInfo, error) {
	rs, err := pcsc.Readers(ctx)
	if err != nil {
		return nil, noService(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]screens.ReaderInfo, len(rs))
	for i, r := range rs {
		out[i] = screens.ReaderInfo{Name: r.Name, CardPresent: r.Present}
		if k, ok := p.kinds[r.Name]; ok && r.Present {
			out[i].Kind, out[i].Identified = k, true
		}
	}
	return out, nil
}

func (p *pcscReaders) Open(ctx context.Context, reader string) (device.Transport, func(), error) {
	p.session.Lock()
	c, err := pcsc.Connect(ctx, reader)
	if err != nil {
		p.session.Unlock()
		return nil, nil, noService(err)
	}
	return c, func() { c.Close(); p.session.Unlock() }, nil
}

func (p *pcscReaders) Signal(ctx context.Context, reader string, ok bool) error {
	f := pcsc.FeedbackDone
	if !ok {
		f = pcsc.FeedbackError
	}
	err := pcsc.Signal(ctx, reader, f)
	if errors.Is(err, pcsc.ErrFeedbackUnsupported) {
		return fmt.Errorf("%w: %v", screens.ErrNoReaderFeedback, err)
	}
	return err
}

func (p *pcscReaders) OnChange(fn func()) {
	p.mu.Lock()
	p.onChange = fn
	p.mu.Unlock()
}

// noService says plainly that pcscd is not running.
func noService(err error) error {
	if errors.Is(err, pcsc.ErrNoService) {
		return fmt.Errorf("%w (%v)", screens.ErrPCSCNotRunning, err)
	}
	return err
}
