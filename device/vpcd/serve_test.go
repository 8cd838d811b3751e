package vpcd

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"jpkipilot/device/vcard"
)

var (
	cardOnce sync.Once
	cardCfg  vcard.Config
	cardErr  error
)

func newCard(t testing.TB) *vcard.Card {
	t.Helper()
	cardOnce.Do(func() { cardCfg, cardErr = vcard.NewDemo(vcard.MyNumber, "DEMO TARO") })
	if cardErr != nil {
		t.Fatal(cardErr)
	}
	c, err := vcard.New(cardCfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fakeDriver is the pcscd side of the protocol, as vpcd speaks it, so the
// bridge's framing can be tested without pcscd (the pcsc package tests the
// real thing).
type fakeDriver struct {
	ln    net.Listener
	conns chan net.Conn
}

func newFakeDriver(t *testing.T) *fakeDriver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &fakeDriver{ln: ln, conns: make(chan net.Conn, 4)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(d.conns)
				return
			}
			d.conns <- c
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return d
}

func (d *fakeDriver) accept(t *testing.T) net.Conn {
	t.Helper()
	c, ok := <-d.conns
	if !ok {
		t.Fatal("listener closed")
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func roundTrip(t *testing.T, c net.Conn, payload []byte) []byte {
	t.Helper()
	if err := WriteFrame(c, payload); err != nil {
		t.Fatal(err)
	}
	resp, err := ReadFrame(c, 0xFFFF)
	if err != nil {
		t.Fatalf("reply to %X: %v", payload, err)
	}
	return resp
}

var selectAP = append([]byte{0x00, 0xA4, 0x04, 0x0C, 0x0A}, vcard.AID...)

func TestBridgeProtocol(t *testing.T) {
	d := newFakeDriver(t)
	card := newCard(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, d.ln.Addr().String(), card) }()
	c := d.accept(t)

	if atr := roundTrip(t, c, []byte{CtrlGetATR}); !bytes.Equal(atr, vcard.ATRMyNumber) {
		t.Fatalf("ATR %X", atr)
	}
	if err := WriteFrame(c, []byte{CtrlPowerOn}); err != nil { // no reply expected
		t.Fatal(err)
	}
	if r := roundTrip(t, c, selectAP); !bytes.Equal(r, []byte{0x90, 0x00}) {
		t.Fatalf("SELECT AP: %X", r)
	}
	if r := roundTrip(t, c, []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x06}); !bytes.Equal(r, []byte{0x90, 0x00}) {
		t.Fatalf("SELECT EF: %X", r)
	}
	if r := roundTrip(t, c, []byte{0x00, 0xB0, 0x00, 0x00, 0x00}); len(r) != 34 || string(r[:15]) != vcard.TokenMyNumber {
		t.Fatalf("READ token info: %X", r)
	}
	// A reset drops the AP selection.
	if err := WriteFrame(c, []byte{CtrlReset}); err != nil {
		t.Fatal(err)
	}
	if r := roundTrip(t, c, []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x06}); !bytes.Equal(r, []byte{0x6A, 0x82}) {
		t.Fatalf("SELECT EF after reset: %X", r)
	}
	// An extended APDU is skipped with 6700 and the session goes on.
	ext := append([]byte{0x00, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x00}, make([]byte, 300)...)
	if r := roundTrip(t, c, ext); !bytes.Equal(r, []byte{0x67, 0x00}) {
		t.Fatalf("extended APDU: %X", r)
	}
	if atr := roundTrip(t, c, []byte{CtrlGetATR}); !bytes.Equal(atr, vcard.ATRMyNumber) {
		t.Fatalf("ATR after skipping: %X", atr)
	}

	// Cancelling removes the card: the driver sees the socket close.
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after cancel: %v", err)
	}
	if _, err := ReadFrame(c, MaxCommand); err == nil {
		t.Fatal("socket still open after cancel")
	}
}

func TestBridgePeerClose(t *testing.T) {
	d := newFakeDriver(t)
	done := make(chan error, 1)
	go func() { done <- Serve(context.Background(), d.ln.Addr().String(), newCard(t)) }()
	c := d.accept(t)
	roundTrip(t, c, []byte{CtrlGetATR})
	c.Close()
	if err := <-done; !errors.Is(err, ErrPeerClosed) {
		t.Fatalf("Serve after peer close: %v", err)
	}
}

func TestBridgeProtocolErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		send []byte
		want string
	}{
		{"empty frame", []byte{0, 0}, "length 0"},
		{"cut frame", []byte{0, 5, 0, 0xA4}, "cut short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newFakeDriver(t)
			done := make(chan error, 1)
			go func() { done <- Serve(context.Background(), d.ln.Addr().String(), newCard(t)) }()
			c := d.accept(t)
			if _, err := c.Write(tc.send); err != nil {
				t.Fatal(err)
			}
			c.(*net.TCPConn).CloseWrite()
			err := <-done
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Fatalf("Serve: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestBridgeReconnect(t *testing.T) {
	d := newFakeDriver(t)
	connected := make(chan struct{}, 4)
	b := &Bridge{Addr: d.ln.Addr().String(), Card: newCard(t), Reconnect: true, MaxBackoff: 50 * time.Millisecond,
		Connected: func() { connected <- struct{}{} }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Serve(ctx) }()
	for i := range 3 {
		c := d.accept(t)
		<-connected
		if atr := roundTrip(t, c, []byte{CtrlGetATR}); !bytes.Equal(atr, vcard.ATRMyNumber) {
			t.Fatalf("connection %d: ATR %X", i, atr)
		}
		c.Close() // pcscd went away; the bridge must come back
	}
	<-d.conns // the fourth dial
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestBridgeDialFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	if err := Serve(context.Background(), addr, newCard(t)); err == nil {
		t.Fatal("Serve to a closed port succeeded")
	}
}
