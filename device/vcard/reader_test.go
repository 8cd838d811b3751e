package vcard

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"jpkipilot/device"
)

func TestVirtualReader(t *testing.T) {
	ctx := context.Background()
	var r VirtualReader
	if _, err := r.Transmit(ctx, mustHex(t, selectAP)); !errors.Is(err, device.ErrCardRemoved) {
		t.Fatalf("empty reader: %v, want ErrCardRemoved", err)
	}
	if _, err := r.ATR(); !errors.Is(err, device.ErrNoCard) {
		t.Fatalf("empty reader ATR: %v", err)
	}
	c := newCard(t, Phone)
	r.Insert(c)
	if !r.Present() {
		t.Fatal("card not present after Insert")
	}
	if atr, _ := r.ATR(); !bytes.Equal(atr, ATRPhone) {
		t.Fatalf("ATR %X", atr)
	}
	card := &device.Card{T: &r}
	if _, err := card.Do(ctx, device.Command{CLA: 0, INS: 0xA4, P1: 4, P2: 0x0C, Data: AID, Le: device.NoLe}); err != nil {
		t.Fatal(err)
	}
	if _, err := card.Do(ctx, device.Command{INS: 0xA4, P1: 2, P2: 0x0C, Data: []byte{0, 0x18}, Le: device.NoLe}); err != nil {
		t.Fatal(err)
	}
	if _, err := card.Do(ctx, device.Command{INS: 0x20, P2: 0x80, Data: []byte(DemoAuthPIN), Le: device.NoLe, Secret: true}); err != nil {
		t.Fatal(err)
	}
	// Pulling the card out powers it off: reinserted, it has forgotten the PIN.
	r.Remove()
	if _, err := card.Do(ctx, device.Command{INS: 0xB0, Le: 256}); !errors.Is(err, device.ErrCardRemoved) {
		t.Fatalf("after Remove: %v", err)
	}
	r.Insert(c)
	want(t, c, selectAP, 0x9000)
	want(t, c, selectAuthCert, 0x9000)
	want(t, c, "00 B0 00 00 00", 0x6982)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.Transmit(cctx, mustHex(t, selectAP)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}

func TestVirtualReaderRemoveAfter(t *testing.T) {
	ctx := context.Background()
	flow := [][]byte{mustHex(t, selectAP), mustHex(t, selectTokenInfo), mustHex(t, "00 B0 00 00 00")}
	for n := 0; n <= len(flow); n++ {
		var r VirtualReader
		r.Insert(newCard(t, MyNumber))
		r.RemoveAfter(n)
		var err error
		done := 0
		for _, cmd := range flow {
			if _, err = r.Transmit(ctx, cmd); err != nil {
				break
			}
			done++
		}
		if n < len(flow) {
			if !errors.Is(err, device.ErrCardRemoved) || done != n {
				t.Fatalf("RemoveAfter(%d): %d APDUs answered, err %v", n, done, err)
			}
			if r.Present() {
				t.Fatalf("RemoveAfter(%d): card still present", n)
			}
		} else if err != nil || !r.Present() {
			t.Fatalf("RemoveAfter(%d) with a %d-APDU flow: %v", n, len(flow), err)
		}
		if r.Transmitted() != done {
			t.Fatalf("Transmitted %d, want %d", r.Transmitted(), done)
		}
	}
}
