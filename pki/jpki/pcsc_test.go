//go:build cgo

package jpki

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"jpkipilot/device"
	"jpkipilot/device/pcsc"
	"jpkipilot/device/vcard"
	"jpkipilot/device/vpcd"
	"jpkipilot/device/vpcd/vpcdtest"
)

func vpcdAddr(tb testing.TB) string { return vpcdtest.Addr(tb) }

func vpcdReader(tb testing.TB, addr string) string { return vpcdtest.Reader(tb, addr) }

// pcscSetup serves a fresh virtual card into pcscd and connects to it
// through PC/SC, the way the application reaches a real card.
type pcscSetup struct {
	cfg    vcard.Config
	reader string
	conn   *pcsc.Conn
	card   *device.Card
	c      *Client
	pull   func() // removes the card and waits until pcscd has seen it go
}

func newPCSC(tb testing.TB, p vcard.Profile) *pcscSetup {
	tb.Helper()
	addr := vpcdAddr(tb)
	reader := vpcdReader(tb, addr)
	cfgs, err := demoConfigs()
	if err != nil {
		tb.Fatal(err)
	}
	vc, err := vcard.New(cfgs[p])
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	// A card left over from an earlier test must be gone before ours goes in.
	if err := pcsc.WaitForRemoval(ctx, reader); err != nil {
		cancel()
		tb.Fatalf("waiting for %s to be empty: %v", reader, err)
	}
	bridgeCtx, stopBridge := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- (&vpcd.Bridge{Addr: addr, Card: vc}).Serve(bridgeCtx) }()
	pulled := false
	pull := func() {
		if pulled {
			return
		}
		pulled = true
		stopBridge()
		if err := <-served; err != nil {
			tb.Errorf("bridge: %v", err)
		}
		if err := pcsc.WaitForRemoval(ctx, reader); err != nil {
			tb.Errorf("waiting for the removal: %v", err)
		}
	}
	// Wait for pcscd to see the card, unless the bridge gives up first
	// (pcscd not listening, or it dropped us).
	waitCtx, stopWait := context.WithCancel(ctx)
	found := make(chan error, 1)
	go func() { _, err := pcsc.WaitForCard(waitCtx, reader); found <- err }()
	select {
	case err := <-found:
		stopWait()
		if err != nil {
			pull()
			cancel()
			tb.Fatalf("waiting for the virtual card in %s: %v", reader, err)
		}
	case err := <-served:
		stopWait()
		<-found
		stopBridge()
		cancel()
		tb.Fatalf("the vpcd bridge to %s ended before pcscd saw the card: %v", addr, err)
	}
	conn, err := pcsc.Connect(ctx, reader)
	if err != nil {
		pull()
		cancel()
		tb.Fatalf("connect %s: %v", reader, err)
	}
	tb.Cleanup(func() {
		conn.Close()
		pull()
		cancel()
	})
	card := &device.Card{T: conn}
	return &pcscSetup{cfg: cfgs[p], reader: reader, conn: conn, card: card, c: New(card), pull: pull}
}

func TestPCSCReadCertificatesAndSign(t *testing.T) {
	s := newPCSC(t, vcard.MyNumber)
	ctx := context.Background()
	if kind, err := Detect(ctx, s.card); err != nil || kind != MyNumberCard {
		t.Fatalf("Detect through pcscd = %v, %v", kind, err)
	}
	for _, k := range CertKinds {
		s.c.Reset()
		before := s.card.APDUCount()
		var pin PINFunc
		extra := 0
		if k == CertSign {
			pin, extra = pinOf(vcard.DemoSignPIN), 3
		}
		cert, err := s.c.ReadCertificate(ctx, k, pin)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		want := certBytes(s.cfg, k)
		if string(cert.Raw) != string(want) {
			t.Fatalf("%s: certificate differs from the card's", k)
		}
		if n, w := s.card.APDUCount()-before, 2+extra+chunks(len(want)); n != w {
			t.Errorf("%s: %d APDUs, want %d", k, n, w)
		}
	}
	for _, kind := range []Kind{Auth, Sign} {
		pin := vcard.DemoAuthPIN
		if kind == Sign {
			pin = vcard.DemoSignPIN
		}
		signer, err := s.c.Signer(ctx, kind, pinOf(pin))
		if err != nil {
			t.Fatal(err)
		}
		digest := sha256.Sum256([]byte("through pcscd"))
		sig, err := signer.SignContext(ctx, digest[:], crypto.SHA256)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if err := rsa.VerifyPKCS1v15(signer.Public().(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
			t.Fatalf("%s: signature does not verify: %v", kind, err)
		}
	}
	for _, e := range s.card.Trace() {
		if verifyCommand(e.Command) && e.Command != "00 20 00 80 04 ********" && e.Command != "00 20 00 80 0A ********************" {
			t.Errorf("trace entry %q is not redacted", e.Command)
		}
	}
}

func TestPCSCCardPulledOut(t *testing.T) {
	s := newPCSC(t, vcard.MyNumber)
	ctx := context.Background()
	if _, err := s.c.ReadCertificate(ctx, CertAuth, nil); err != nil {
		t.Fatal(err)
	}
	s.pull()
	before := s.card.APDUCount()
	_, err := s.c.ReadCertificate(ctx, CertAuthCA, nil)
	if !errors.Is(err, device.ErrCardRemoved) {
		t.Fatalf("after the card left %s: %v, want ErrCardRemoved", s.reader, err)
	}
	if n := s.card.APDUCount() - before; n != 1 {
		t.Errorf("%d APDUs attempted on a removed card, want 1", n)
	}
}

// BenchmarkReadAuthCertPCSC is the full read of the auth certificate (SELECT
// AP, SELECT EF, READ BINARY chunks) through pcscd and vpcd.
func BenchmarkReadAuthCertPCSC(b *testing.B) {
	s := newPCSC(b, vcard.MyNumber)
	ctx := context.Background()
	before := s.card.APDUCount()
	for b.Loop() {
		s.c.Reset()
		if _, err := s.c.ReadCertificate(ctx, CertAuth, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(s.card.APDUCount()-before)/float64(b.N), "APDUs/op")
}
