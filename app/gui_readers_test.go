package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/device/vpcd"
	"jpkipilot/device/vpcd/vpcdtest"
	"jpkipilot/screens"
)

// The readers screen's PC/SC side through the real pcscd + vpcd: a card
// served into the reader is seen through Watch (no polling), identified by
// selecting the JPKI AP, and gone again when it is pulled.
func TestPCSCReadersFollowACard(t *testing.T) {
	addr := vpcdtest.Addr(t)
	reader := vpcdtest.Reader(t, addr)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := newPCSCReaders(ctx)
	changed := make(chan struct{}, 64)
	p.OnChange(func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	// until waits for the reader to reach a state, woken by Watch's events;
	// the deadline only bounds a broken run.
	until := func(what string, ok func(screens.ReaderInfo) bool) screens.ReaderInfo {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			rs, err := p.Readers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				if r.Name == reader && ok(r) {
					return r
				}
			}
			select {
			case <-changed:
			case <-deadline:
				t.Fatalf("%s: %s never happened (%+v)", reader, what, rs)
			}
		}
	}
	until("empty", func(r screens.ReaderInfo) bool { return !r.CardPresent })

	cfg, err := vcard.NewDemo(vcard.Phone, "M-0001")
	if err != nil {
		t.Fatal(err)
	}
	card, err := vcard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cardCtx, pull := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- vpcd.Serve(cardCtx, addr, card) }()

	r := until("card identified", func(r screens.ReaderInfo) bool { return r.CardPresent && r.Identified })
	if r.Kind != device.PhoneToken {
		t.Errorf("kind = %v, want phone token", r.Kind)
	}
	if err := p.Signal(ctx, reader, true); !errors.Is(err, screens.ErrNoReaderFeedback) {
		t.Errorf("Signal on vpcd = %v, want ErrNoReaderFeedback (no beeper)", err)
	}
	pull()
	<-served
	until("card removed", func(r screens.ReaderInfo) bool { return !r.CardPresent })
}
