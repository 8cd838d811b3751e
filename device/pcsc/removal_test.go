//go:build cgo

package pcsc

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ebfe/scard"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/device/vpcd"
)

// pullingCard is a virtual card that is pulled out of the reader while it
// handles its n-th APDU: the bridge's socket closes as the APDU arrives, so
// pcscd sees the card vanish in the middle of an exchange.
type pullingCard struct {
	*vcard.Card
	at   int32
	seen atomic.Int32
	pull func()
}

func (c *pullingCard) Process(apdu []byte) []byte {
	if c.seen.Add(1) == c.at {
		c.pull()
	}
	return c.Card.Process(apdu)
}

// TestRemovalMidFlow pulls the card at every APDU of a certificate read
// through pcscd: the flow must fail with device.ErrCardRemoved, never with
// an odd error or a short certificate.
func TestRemovalMidFlow(t *testing.T) {
	addr := vpcdAddr(t)
	reader := readerFor(t, addr)
	ctx := context.Background()
	cfg := demoConfig(t, vcard.MyNumber)
	flow := func(conn *Conn) ([]byte, error) {
		card := &device.Card{T: conn}
		if _, err := card.Do(ctx, device.Command{INS: 0xA4, P1: 4, P2: 0x0C, Data: vcard.AID, Le: device.NoLe}); err != nil {
			return nil, err
		}
		if _, err := card.Do(ctx, device.Command{INS: 0xA4, P1: 2, P2: 0x0C, Data: []byte{0, 0x0A}, Le: device.NoLe}); err != nil {
			return nil, err
		}
		var out []byte
		for {
			data, err := card.Do(ctx, device.Command{INS: 0xB0, P1: byte(len(out) >> 8), P2: byte(len(out)), Le: 256})
			if err != nil {
				return nil, err
			}
			out = append(out, data...)
			if len(data) < 256 {
				return out, nil
			}
		}
	}
	apdus := 2 + len(cfg.AuthCert)/256 + 1
	for at := 1; at <= apdus; at++ {
		bctx, cancel := context.WithCancel(ctx)
		card := &pullingCard{Card: newCard(t, vcard.MyNumber), at: int32(at), pull: cancel}
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := (&vpcd.Bridge{Addr: addr, Card: card}).Serve(bctx); err != nil {
				t.Errorf("bridge: %v", err)
			}
		})
		inserted := readerEvent(t, reader, func(s scard.StateFlag) bool { return s&scard.StatePresent != 0 })
		// pcscd's own APDUs (none for vpcd) would shift the count: start it now.
		card.seen.Store(0)
		conn, err := Connect(ctx, reader)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := flow(conn)
		switch {
		case errors.Is(err, device.ErrCardRemoved):
		case at == apdus && err == nil && bytes.Equal(cert, cfg.AuthCert):
			// Pulled while answering the last APDU: the answer may still
			// have left the card. Complete, so fine.
		default:
			t.Errorf("card pulled at APDU %d of %d: got %d bytes, err %v; want ErrCardRemoved", at, apdus, len(cert), err)
		}
		conn.Close()
		cancel()
		wg.Wait()
		// Resetting the vanished card on Close marks the reader empty at
		// once, before pcscd's poller has noticed the removal; a card
		// connecting to vpcd before that poll would never be announced.
		// pcscd counts card events in the high 16 bits: wait for its own
		// removal event.
		readerEvent(t, reader, func(s scard.StateFlag) bool {
			return s&scard.StateEmpty != 0 && s>>16 != inserted>>16
		})
	}
}

// readerEvent waits (10 s at most) until reader's state satisfies ok and
// returns that state.
func readerEvent(t *testing.T, reader string, ok func(scard.StateFlag) bool) scard.StateFlag {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sc, err := scard.EstablishContext()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Release()
	defer cancelOnDone(ctx, sc)()
	states := []scard.ReaderState{{Reader: reader, CurrentState: scard.StateUnaware}}
	for {
		if err := sc.GetStatusChange(states, -1); err != nil {
			t.Fatalf("waiting on %q (last state %08X): %v", reader, uint32(states[0].EventState), err)
		}
		if s := states[0].EventState; ok(s) {
			return s
		}
		states[0].CurrentState = states[0].EventState &^ scard.StateChanged
	}
}

// TestRemovalAfterAnswer: the card is pulled out between two APDUs and
// pcscd has noticed; the next APDU must say removed, and so must a new
// connection attempt (no card).
func TestRemovalBetweenAPDUs(t *testing.T) {
	addr := vpcdAddr(t)
	reader := readerFor(t, addr)
	ctx := context.Background()
	remove := insert(t, addr, newCard(t, vcard.MyNumber))
	conn, err := Connect(ctx, reader)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if kind, err := device.Identify(ctx, conn); err != nil || kind != device.MyNumberCard {
		t.Fatalf("Identify: %v %v", kind, err)
	}
	remove()
	if _, err := device.Identify(ctx, conn); !errors.Is(err, device.ErrCardRemoved) {
		t.Fatalf("Identify after removal: %v", err)
	}
	// While we hold the (now empty) reader exclusively, pcscd says busy.
	conn.Close()
	if _, err := Connect(ctx, reader); !errors.Is(err, device.ErrNoCard) {
		t.Fatalf("Connect after removal: %v", err)
	}
}
