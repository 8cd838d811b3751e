//go:build cgo

package bank_test

import (
	"context"
	"testing"
	"time"

	"jpkipilot/device"
	"jpkipilot/device/pcsc"
	"jpkipilot/device/vcard"
	"jpkipilot/device/vpcd"
	"jpkipilot/device/vpcd/vpcdtest"
	"jpkipilot/pki"
	"jpkipilot/trial/bank"
	"jpkipilot/trial/store/storetest"
)

// TestRegisterAndLoginThroughPCSC registers a virtual My Number card served
// into the real pcscd (vpcd) and logs in with it through device/pcsc: a
// wrong PIN first (tries left), then the right one.
func TestRegisterAndLoginThroughPCSC(t *testing.T) {
	addr := vpcdtest.Addr(t)
	reader := vpcdtest.Reader(t, addr)
	e := newEnv(t, storetest.SQLite(t))
	m := e.monitors[0]
	_, _, vc := e.tokenCard(vcard.MyNumber)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := pcsc.WaitForRemoval(ctx, reader); err != nil {
		t.Fatal(err)
	}
	bctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- vpcd.Serve(bctx, addr, vc) }()
	defer func() {
		stop()
		<-served
		pcsc.WaitForRemoval(ctx, reader)
	}()
	if _, err := pcsc.WaitForCard(ctx, reader); err != nil {
		t.Fatal(err)
	}
	withCard := func(fn func(card *device.Card) error) error {
		conn, err := pcsc.Connect(ctx, reader)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return fn(&device.Card{T: conn})
	}

	if err := withCard(func(c *device.Card) error {
		_, err := e.bank.Register(ctx, m, c, (&pinPad{pin: cardPIN}).fn(), e.clock)
		return err
	}); err != nil {
		t.Fatalf("register through pcscd: %v", err)
	}
	err := withCard(func(c *device.Card) error {
		_, err := e.bank.Login(ctx, m, c, (&pinPad{pin: "0000"}).fn(), e.clock)
		return err
	})
	if be := wantReason(t, err, bank.ReasonWrongPIN); be.TriesLeft != 2 {
		t.Fatalf("tries left %d", be.TriesLeft)
	}
	var s *bank.Session
	if err := withCard(func(c *device.Card) error {
		var err error
		s, err = e.bank.Login(ctx, m, c, (&pinPad{pin: cardPIN}).fn(), e.clock)
		return err
	}); err != nil {
		t.Fatalf("login through pcscd: %v", err)
	}
	if s.Method != bank.MethodCard {
		t.Fatalf("session %+v", s)
	}
	if a := e.lastAttempt(); !a.OK || a.Tries != 2 {
		t.Fatalf("recorded %+v", a)
	}
}

// A virtual card as the GUI issues it (pki.CA.IssueVirtualCard: the trial
// CA's certificates, demo PINs), served through the real pcscd: it
// registers and logs in; once its certificate is revoked and a CRL
// published, the login is refused as revoked.
func TestTrialVirtualCardThroughPCSC(t *testing.T) {
	addr := vpcdtest.Addr(t)
	reader := vpcdtest.Reader(t, addr)
	e := newEnv(t, storetest.SQLite(t))
	m := e.monitors[0]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := e.ca.IssueVirtualCard(ctx, vcard.MyNumber, m)
	if err != nil {
		t.Fatal(err)
	}
	vc, err := vcard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := pcsc.WaitForRemoval(ctx, reader); err != nil {
		t.Fatal(err)
	}
	bctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- vpcd.Serve(bctx, addr, vc) }()
	defer func() {
		stop()
		<-served
		pcsc.WaitForRemoval(ctx, reader)
	}()
	if _, err := pcsc.WaitForCard(ctx, reader); err != nil {
		t.Fatal(err)
	}
	withCard := func(fn func(card *device.Card) error) error {
		conn, err := pcsc.Connect(ctx, reader)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return fn(&device.Card{T: conn})
	}
	pad := (&pinPad{pin: vcard.DemoAuthPIN}).fn()
	if err := withCard(func(c *device.Card) error {
		_, err := e.bank.Register(ctx, m, c, pad, e.clock)
		return err
	}); err != nil {
		t.Fatalf("register: %v", err)
	}
	if err := withCard(func(c *device.Card) error {
		_, err := e.bank.Login(ctx, m, c, pad, e.clock)
		return err
	}); err != nil {
		t.Fatalf("login: %v", err)
	}
	auth, err := x509Parse(cfg.AuthCert)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ca.Revoke(ctx, auth.SerialNumber, pki.KeyCompromise); err != nil {
		t.Fatal(err)
	}
	e.publishCRL()
	err = withCard(func(c *device.Card) error {
		_, err := e.bank.Login(ctx, m, c, pad, e.clock)
		return err
	})
	wantReason(t, err, bank.ReasonRevoked)
}
