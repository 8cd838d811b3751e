//go:build cgo

package ticket_test

import (
	"context"
	"crypto/x509"
	"testing"
	"time"

	"jpkipilot/device"
	"jpkipilot/device/pcsc"
	"jpkipilot/device/vcard"
	"jpkipilot/device/vpcd"
	"jpkipilot/device/vpcd/vpcdtest"
	"jpkipilot/pki"
	"jpkipilot/trial/store/storetest"
	"jpkipilot/trial/ticket"
)

// The gate through the real pcscd: a My Number card served into vpcd is
// admitted without PIN with SELECT AP + SELECT EF + the certificate's READ
// BINARYs, then refused as already entered.
func TestGateThroughPCSCD(t *testing.T) {
	addr := vpcdtest.Addr(t)
	reader := vpcdtest.Reader(t, addr)
	v := newVenue(t, storetest.SQLite(t))
	v.gate.Now = func() time.Time { return time.Now().UTC() } // real timings
	h := v.issue(vcard.MyNumber, "M060", 0)
	v.apply(h, event, cardPIN)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := pcsc.WaitForRemoval(ctx, reader); err != nil {
		t.Fatal(err)
	}
	vc, err := vcard.New(h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	bctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- (&vpcd.Bridge{Addr: addr, Card: vc}).Serve(bctx) }()
	t.Cleanup(func() {
		stop()
		<-served
		_ = pcsc.WaitForRemoval(context.Background(), reader)
	})
	if _, err := pcsc.WaitForCard(ctx, reader); err != nil {
		t.Fatal(err)
	}
	detected := time.Now()
	conn, err := pcsc.Connect(ctx, reader)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	card := &device.Card{T: conn}
	d, err := v.gate.Check(ctx, card, detected, nil)
	if err != nil || !d.Admit {
		t.Fatalf("%+v, %v", d, err)
	}
	if want := 2 + (len(h.cfg.AuthCert)+255)/256; d.APDUs != want {
		t.Fatalf("%d APDUs through pcscd, want %d", d.APDUs, want)
	}
	if d.Elapsed <= 0 {
		t.Errorf("decision time %s not logged", d.Elapsed)
	}
	t.Logf("PIN-less decision through pcscd: %s, %d APDUs", d.Elapsed, d.APDUs)
	if d, err := v.gate.Check(ctx, card, time.Now(), nil); err != nil || d.Reason != ticket.AlreadyEntered {
		t.Fatalf("second check: %+v, %v", d, err)
	}
}

// A virtual card as the GUI issues it (pki.CA.IssueVirtualCard, the trial
// CA's, demo PINs), served through the real pcscd: admitted without PIN;
// after its certificate is revoked and the CRL republished, denied as
// revoked.
func TestTrialVirtualCardThroughPCSCD(t *testing.T) {
	addr := vpcdtest.Addr(t)
	reader := vpcdtest.Reader(t, addr)
	v := newVenue(t, storetest.SQLite(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := v.ca.IssueVirtualCard(ctx, vcard.MyNumber, "M061")
	if err != nil {
		t.Fatal(err)
	}
	h := &holder{cfg: cfg, reader: &vcard.VirtualReader{}}
	h.reinsert()
	v.apply(h, event, vcard.DemoAuthPIN)

	if err := pcsc.WaitForRemoval(ctx, reader); err != nil {
		t.Fatal(err)
	}
	check := func() ticket.Decision {
		t.Helper()
		vc, err := vcard.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		bctx, stop := context.WithCancel(ctx)
		served := make(chan error, 1)
		go func() { served <- (&vpcd.Bridge{Addr: addr, Card: vc}).Serve(bctx) }()
		defer func() {
			stop()
			<-served
			_ = pcsc.WaitForRemoval(context.Background(), reader)
		}()
		if _, err := pcsc.WaitForCard(ctx, reader); err != nil {
			t.Fatal(err)
		}
		conn, err := pcsc.Connect(ctx, reader)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		d, err := v.gate.Check(ctx, &device.Card{T: conn}, time.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := check(); !d.Admit || d.Reason != ticket.Admitted {
		t.Fatalf("virtual card from the trial CA: %+v", d)
	}
	authCert, err := x509.ParseCertificate(cfg.AuthCert)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.ca.Revoke(ctx, authCert.SerialNumber, pki.KeyCompromise); err != nil {
		t.Fatal(err)
	}
	if _, err := v.ca.PublishCRL(ctx, pki.RoleAuth, 0); err != nil {
		t.Fatal(err)
	}
	v.reloadTrust()
	if d := check(); d.Admit || d.Reason != ticket.Revoked {
		t.Fatalf("revoked virtual card: %+v", d)
	}
}
