//go:build cgo

package pcsc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ebfe/scard"
)

// EventKind says what changed.
type EventKind int

const (
	ReaderAdded EventKind = iota + 1
	ReaderRemoved
	CardInserted
	CardRemoved
	ServiceLost     // pcscd stopped (or is not running yet); readers are gone
	ServiceRestored // pcscd is back; ReaderAdded events follow
)

func (k EventKind) String() string {
	switch k {
	case ReaderAdded:
		return "reader added"
	case ReaderRemoved:
		return "reader removed"
	case CardInserted:
		return "card inserted"
	case CardRemoved:
		return "card removed"
	case ServiceLost:
		return "pcscd lost"
	case ServiceRestored:
		return "pcscd restored"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one change seen by Watch.
type Event struct {
	Kind   EventKind
	Reader string // empty for the service events
	ATR    []byte // CardInserted only
	Err    error  // ServiceLost only: why (wraps ErrNoService when pcscd is gone)
}

func (e Event) String() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Kind, e.Err)
	}
	if e.Reader == "" {
		return e.Kind.String()
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Reader)
}

// Watch reports reader and card changes to fn until ctx ends. It first
// reports what is there (ReaderAdded for each reader, CardInserted for each
// card), then every change as pcscd announces it through GetStatusChange,
// without polling. When pcscd stops it reports CardRemoved/ReaderRemoved for
// everything it knew, then ServiceLost, and re-establishes its PC/SC context
// when pcscd is back (retrying with a back-off of up to MaxBackoff). fn runs
// on Watch's goroutine and must return quickly.
func Watch(ctx context.Context, fn func(Event)) {
	w := &watcher{fn: fn, readers: map[string]*watched{}, maxBackoff: MaxBackoff}
	w.run(ctx)
}

// MaxBackoff bounds the wait between attempts to reach a stopped pcscd.
var MaxBackoff = 2 * time.Second

type watched struct {
	state   scard.StateFlag // last event state, fed back as the current state
	present bool
}

type watcher struct {
	fn         func(Event)
	readers    map[string]*watched
	down       bool // ServiceLost reported, ServiceRestored not yet
	maxBackoff time.Duration
}

func (w *watcher) run(ctx context.Context) {
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		sc, err := establish()
		if err == nil {
			backoff = 50 * time.Millisecond
			err = w.session(ctx, sc)
			sc.Release()
			if ctx.Err() != nil {
				return
			}
		}
		w.lost(err)
		// Wait before asking again: pcscd gives no event for its own start.
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, w.maxBackoff)
	}
}

// lost forgets every reader and reports the service gone (once).
func (w *watcher) lost(err error) {
	for _, name := range w.names() {
		w.drop(name)
	}
	if !w.down {
		w.down = true
		w.fn(Event{Kind: ServiceLost, Err: err})
	}
}

func (w *watcher) names() []string {
	names := make([]string, 0, len(w.readers))
	for n := range w.readers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (w *watcher) drop(name string) {
	if r := w.readers[name]; r != nil && r.present {
		w.fn(Event{Kind: CardRemoved, Reader: name})
	}
	delete(w.readers, name)
	w.fn(Event{Kind: ReaderRemoved, Reader: name})
}

// session watches through one PC/SC context until ctx ends (nil) or the
// context breaks (the error).
func (w *watcher) session(ctx context.Context, sc *scard.Context) error {
	defer cancelOnDone(ctx, sc)()

	if w.down {
		w.down = false
		w.fn(Event{Kind: ServiceRestored})
	}
	if err := w.sync(sc); err != nil {
		return err
	}
	pnp := scard.StateUnaware
	for {
		if ctx.Err() != nil {
			return nil
		}
		states := make([]scard.ReaderState, 0, len(w.readers)+1)
		states = append(states, scard.ReaderState{Reader: pnpReader, CurrentState: pnp})
		for _, n := range w.names() {
			states = append(states, scard.ReaderState{Reader: n, CurrentState: w.readers[n].state})
		}
		err := sc.GetStatusChange(states, -1)
		switch {
		case err == nil:
		case errors.Is(err, scard.ErrCancelled):
			if ctx.Err() != nil {
				return nil
			}
			continue
		case errors.Is(err, scard.ErrTimeout):
			continue
		case errors.Is(err, scard.ErrUnknownReader):
			// A reader vanished between listing and waiting.
			if err := w.sync(sc); err != nil {
				return err
			}
			continue
		default:
			return wrap("get status change", "", err)
		}
		relist := false
		if s := states[0]; s.EventState&scard.StateChanged != 0 {
			pnp = s.EventState &^ scard.StateChanged
			relist = true
		}
		for _, s := range states[1:] {
			if w.update(s) {
				relist = true
			}
		}
		if relist {
			if err := w.sync(sc); err != nil {
				return err
			}
		}
	}
}

// sync lists the readers and reports the ones added and removed.
func (w *watcher) sync(sc *scard.Context) error {
	names, err := listReaders(sc)
	if err != nil {
		return err
	}
	for _, n := range w.names() {
		if !slices.Contains(names, n) {
			w.drop(n)
		}
	}
	for _, n := range names {
		if _, ok := w.readers[n]; !ok {
			w.readers[n] = &watched{state: scard.StateUnaware}
			w.fn(Event{Kind: ReaderAdded, Reader: n})
		}
	}
	return nil
}

// update applies one reader's new state and reports card changes. It says
// whether the reader itself has gone (the list must be refreshed).
func (w *watcher) update(s scard.ReaderState) bool {
	r := w.readers[s.Reader]
	if r == nil || s.EventState&scard.StateChanged == 0 {
		return false
	}
	if s.EventState&(scard.StateUnknown|scard.StateUnavailable) != 0 {
		return true
	}
	now := s.EventState&scard.StatePresent != 0 && s.EventState&scard.StateMute == 0
	// pcsc-lite counts card events in the high 16 bits: a card swapped
	// between two waits shows as present both times with a new count.
	swapped := r.present && now && r.state != scard.StateUnaware && r.state>>16 != s.EventState>>16
	if r.present && (!now || swapped) {
		w.fn(Event{Kind: CardRemoved, Reader: s.Reader})
	}
	if now && (!r.present || swapped) {
		w.fn(Event{Kind: CardInserted, Reader: s.Reader, ATR: append([]byte(nil), s.Atr...)})
	}
	r.present = now
	r.state = s.EventState &^ scard.StateChanged
	return false
}
