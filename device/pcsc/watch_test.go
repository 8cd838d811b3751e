//go:build cgo

package pcsc

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/device/vpcd"
)

// eventLog runs Watch and hands its events to the test.
type eventLog struct {
	t      *testing.T
	ch     chan Event
	cancel context.CancelFunc
	done   chan struct{}
}

func startWatch(t *testing.T) *eventLog {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &eventLog{t: t, ch: make(chan Event, 256), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		Watch(ctx, func(e Event) { l.ch <- e })
	}()
	t.Cleanup(l.stop)
	return l
}

func (l *eventLog) stop() {
	l.cancel()
	<-l.done
}

// expect reads the next events, which must be exactly want (in order).
func (l *eventLog) expect(want ...Event) []Event {
	l.t.Helper()
	var got []Event
	for range want {
		select {
		case e := <-l.ch:
			got = append(got, e)
		case <-time.After(15 * time.Second): // a hang guard, not a timing assertion
			l.t.Fatalf("events %v, then nothing; want %v", got, want)
		}
	}
	for i := range want {
		if got[i].Kind != want[i].Kind || got[i].Reader != want[i].Reader {
			l.t.Fatalf("events %v, want %v", got, want)
		}
	}
	return got
}

func TestWatch(t *testing.T) {
	addr := vpcdAddr(t)
	reader := readerFor(t, addr)
	readers, err := ListReaders(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w := startWatch(t)
	var snapshot []Event
	for _, r := range readers {
		snapshot = append(snapshot, Event{Kind: ReaderAdded, Reader: r})
	}
	w.expect(snapshot...)

	remove := insert(t, addr, newCard(t, vcard.Phone))
	got := w.expect(Event{Kind: CardInserted, Reader: reader})
	if !bytes.Equal(got[0].ATR, vcard.ATRPhone) {
		t.Fatalf("inserted card's ATR %X", got[0].ATR)
	}
	// Our own exclusive connection is not a card event.
	conn, err := Connect(context.Background(), reader)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	remove()
	w.expect(Event{Kind: CardRemoved, Reader: reader})

	// A second watcher sees the card already there in its snapshot.
	insert(t, addr, newCard(t, vcard.MyNumber))
	w.expect(Event{Kind: CardInserted, Reader: reader})
	w2 := startWatch(t)
	var snap2 []Event
	for _, r := range readers {
		snap2 = append(snap2, Event{Kind: ReaderAdded, Reader: r})
	}
	w2.expect(snap2...)
	w2.expect(Event{Kind: CardInserted, Reader: reader})
	w2.stop()
	w.stop()
	select {
	case e := <-w.ch:
		t.Fatalf("event %v after the watcher stopped", e)
	default:
	}
}

// TestWatchCancel stops watchers at once and after their first event: Watch
// must return each time (SCardCancel landing before GetStatusChange waits
// is the race this covers).
func TestWatchCancel(t *testing.T) {
	vpcdAddr(t)
	for i := range 20 {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		first := make(chan struct{}, 1)
		go func() {
			defer close(done)
			Watch(ctx, func(Event) {
				select {
				case first <- struct{}{}:
				default:
				}
			})
		}()
		if i%2 == 1 {
			<-first
		}
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Fatalf("round %d: Watch did not return after cancel", i)
		}
	}
}

// TestPCSCDRestart restarts pcscd under a watcher, an open connection and
// a reconnecting vpcd bridge. It needs root and scripts/pcsc-harness.sh.
func TestPCSCDRestart(t *testing.T) {
	addr := vpcdAddr(t)
	reader := readerFor(t, addr)
	harness, err := filepath.Abs("../../scripts/pcsc-harness.sh")
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		t.Skip("restarting pcscd needs root")
	}
	if _, err := os.Stat(harness); err != nil {
		t.Skipf("no harness: %v", err)
	}
	ctx := context.Background()
	readers, err := ListReaders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := startWatch(t)
	var added, removed []Event
	for _, r := range readers {
		added = append(added, Event{Kind: ReaderAdded, Reader: r})
	}
	w.expect(added...)
	// When pcscd goes, the watcher drops readers in name order, each
	// reader's card first.
	for _, r := range slices.Sorted(slices.Values(readers)) {
		if r == reader {
			removed = append(removed, Event{Kind: CardRemoved, Reader: r})
		}
		removed = append(removed, Event{Kind: ReaderRemoved, Reader: r})
	}

	bctx, stopBridge := context.WithCancel(ctx)
	bridgeDone := make(chan error, 1)
	b := &vpcd.Bridge{Addr: addr, Card: newCard(t, vcard.MyNumber), Reconnect: true, MaxBackoff: 200 * time.Millisecond}
	go func() { bridgeDone <- b.Serve(bctx) }()
	defer func() {
		stopBridge()
		<-bridgeDone
	}()
	w.expect(Event{Kind: CardInserted, Reader: reader})
	conn, err := Connect(ctx, reader)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if kind, err := device.Identify(ctx, conn); err != nil || kind != device.MyNumberCard {
		t.Fatalf("Identify: %v %v", kind, err)
	}

	out, err := exec.Command(harness, "start").CombinedOutput()
	if err != nil {
		t.Fatalf("restarting pcscd: %v\n%s", err, out)
	}

	w.expect(append(removed, Event{Kind: ServiceLost})...)
	w.expect(append(append([]Event{{Kind: ServiceRestored}}, added...), Event{Kind: CardInserted, Reader: reader})...)

	// The old connection died with pcscd; a new one works.
	if _, err := conn.Transmit(ctx, append([]byte{0x00, 0xA4, 0x04, 0x0C, 0x0A}, vcard.AID...)); !errors.Is(err, device.ErrCardRemoved) {
		t.Fatalf("old connection after restart: %v", err)
	}
	conn2, err := Connect(ctx, reader)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	if kind, err := device.Identify(ctx, conn2); err != nil || kind != device.MyNumberCard {
		t.Fatalf("Identify after restart: %v %v", kind, err)
	}
}

func TestSignal(t *testing.T) {
	ctx := context.Background()
	for _, r := range []string{"Virtual PCD 00 00", "SCM Microsystems Inc. SCR 3310 [CCID Interface] 00 00", ""} {
		if err := Signal(ctx, r, FeedbackDone); !errors.Is(err, ErrFeedbackUnsupported) {
			t.Errorf("Signal(%q): %v, want ErrFeedbackUnsupported", r, err)
		}
	}
	if !isACS("ACS ACR122U PICC Interface 00 00") || !isACS("ACS ACR1252 1S CL Reader [ACR1252 Reader PICC] 00 00") {
		t.Error("ACS contactless readers not recognised")
	}
	if err := Signal(ctx, "ACS ACR122U PICC Interface 00 00", Feedback(9)); err == nil {
		t.Error("unknown feedback accepted")
	}
}
