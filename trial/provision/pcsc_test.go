//go:build cgo

package provision_test

import (
	"context"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"jpkipilot/device"
	"jpkipilot/device/pcsc"
	"jpkipilot/device/vcard"
	"jpkipilot/device/vcard/sim"
	"jpkipilot/device/vpcd"
	"jpkipilot/device/vpcd/vpcdtest"
	"jpkipilot/pki/jpki"
	"jpkipilot/trial/provision"
	"jpkipilot/trial/store/storetest"
)

// This package's pcscd tests use the second vpcd port so that they never
// fight the jpki and device tests, which use JPKIPILOT_TEST_VPCD's.
const (
	vpcdAddr   = "127.0.0.1:35964"
	vpcdReader = "Virtual PCD 00 01"
)

func needPCSCD(tb testing.TB) {
	tb.Helper()
	vpcdtest.Addr(tb) // pcscd with vpcd is there (these tests use the second port)
}

// slot is the counter's one reader, reached through the real pcscd: a
// token is "held to it" by serving it into vpcd.
type slot struct {
	tb     testing.TB
	held   vcard.Token
	conn   *pcsc.Conn
	stop   func()
	served chan error
}

// hold puts token on the reader (taking off whatever was there) and
// returns it connected through PC/SC. Holding the same token again
// returns the open connection.
func (s *slot) hold(ctx context.Context, token vcard.Token) (*device.Card, error) {
	if s.held == token && s.conn != nil {
		return &device.Card{T: s.conn}, nil
	}
	s.takeOff()
	if err := pcsc.WaitForRemoval(ctx, vpcdReader); err != nil {
		return nil, err
	}
	bctx, stop := context.WithCancel(context.Background())
	s.stop, s.served = stop, make(chan error, 1)
	go func() { s.served <- (&vpcd.Bridge{Addr: vpcdAddr, Card: token}).Serve(bctx) }()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	found := make(chan error, 1)
	go func() { _, err := pcsc.WaitForCard(wctx, vpcdReader); found <- err }()
	select {
	case err := <-found:
		if err != nil {
			return nil, err
		}
	case err := <-s.served:
		cancel()
		<-found
		s.stop = nil
		return nil, errors.Join(errors.New("the vpcd bridge ended before pcscd saw the card"), err)
	}
	conn, err := pcsc.Connect(ctx, vpcdReader)
	if err != nil {
		return nil, err
	}
	s.held, s.conn = token, conn
	return &device.Card{T: conn}, nil
}

func (s *slot) takeOff() {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
	if s.stop != nil {
		s.stop()
		if err := <-s.served; err != nil {
			s.tb.Errorf("vpcd bridge: %v", err)
		}
		s.stop = nil
	}
	s.held = nil
}

// TestAndroidFlowThroughPCSCD runs the counter with one reader through the
// real pcscd: the monitor holds their My Number card, then the phone.
func TestAndroidFlowThroughPCSCD(t *testing.T) {
	needPCSCD(t)
	c := newCounter(t, storetest.SQLite(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	card, _ := vcard.New(c.cardCfg)
	s := &slot{tb: t}
	t.Cleanup(s.takeOff)
	var phone *device.Card
	req := c.request()
	req.Connect = func(ctx context.Context, h provision.Hold) (*device.Card, error) {
		if h == provision.HoldMyNumberCard {
			return s.hold(ctx, card)
		}
		var err error
		phone, err = s.hold(ctx, c.applet)
		return phone, err
	}
	res, err := c.desk.Provision(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	provisioned := phone
	// The phone answers as a JPKI phone token through pcscd.
	s.takeOff()
	phone, err = s.hold(ctx, c.applet)
	if err != nil {
		t.Fatal(err)
	}
	if kind, err := jpki.Detect(ctx, phone); err != nil || kind != jpki.PhoneToken {
		t.Fatalf("Detect through pcscd: %v, %v", kind, err)
	}
	got, err := jpki.New(phone).ReadCertificate(ctx, jpki.CertAuth, pinOf(phonePIN))
	if err != nil || string(got.Raw) != string(res.Cert.Cert.Raw) {
		t.Fatalf("auth certificate through pcscd: %v", err)
	}
	setPIN := 0
	for _, e := range append(provisioned.Trace(), phone.Trace()...) {
		if strings.HasPrefix(e.Command, "84 24") {
			setPIN++
		}
		// VERIFY and the wrapped SET PIN carry PINs: only stars may show.
		if p := e.Command[:5]; (p == "00 20" || p == "84 24") && len(e.Command) > 15 && strings.Trim(e.Command[15:], "*") != "" {
			t.Errorf("trace shows a PIN command unredacted: %q", e.Command)
		}
	}
	if setPIN != 1 {
		t.Errorf("%d SET PIN commands in the trace, want 1", setPIN)
	}
	// Returned: revoked and wiped through pcscd, loan closed.
	rr, err := c.desk.Return(ctx, provision.ReturnRequest{LoanID: c.loan.ID, Passphrase: []byte(passphrase),
		Connect: req.Connect, Return: trialReturn()})
	if err != nil || !rr.Revoked || !rr.Wiped || rr.Loan.Open() {
		t.Fatalf("return through pcscd: %+v, %v", rr, err)
	}
}

// BenchmarkProvision is one complete provisioning (proofing, channel,
// key generation, issue, STORE DATA, PIN, commit, read-back, link) on
// SQLite, then an untimed rollback to start over. "inprocess" uses virtual readers;
// "pcscd" serves the phone through pcscd and vpcd (the My Number card stays
// in-process: the counter has a card reader and a contactless one).
func BenchmarkProvision(b *testing.B) {
	b.Run("inprocess", func(b *testing.B) {
		benchProvision(b, nil, false)
	})
	b.Run("inprocess-keygen", func(b *testing.B) {
		benchProvision(b, nil, true)
	})
	b.Run("pcscd", func(b *testing.B) {
		needPCSCD(b)
		s := &slot{tb: b}
		b.Cleanup(s.takeOff)
		benchProvision(b, s, false)
	})
}

// keygen makes the applet generate a fresh RSA-2048 key each time, as a
// SIM does; otherwise it takes keys made ahead, to time the flow alone.
func benchProvision(b *testing.B, s *slot, keygen bool) {
	c := newCounter(b, storetest.SQLite(b))
	if keygen {
		a, err := sim.New(sim.Config{Keys: scpKeys(simKeys)})
		if err != nil {
			b.Fatal(err)
		}
		c.applet = a
		c.phoneR.Insert(a)
	}
	ctx := context.Background()
	req := c.request()
	if s != nil {
		if _, err := s.hold(ctx, c.applet); err != nil {
			b.Fatal(err)
		}
		req.Connect = func(ctx context.Context, h provision.Hold) (*device.Card, error) {
			if h == provision.HoldPhone {
				return s.hold(ctx, c.applet)
			}
			return c.connect(ctx, h)
		}
	}
	var phoneAPDUs, cardAPDUs int
	for b.Loop() {
		var phone, card *device.Card
		r := req
		r.Connect = func(ctx context.Context, h provision.Hold) (*device.Card, error) {
			d, err := req.Connect(ctx, h)
			if h == provision.HoldPhone {
				phone = d
			} else {
				card = d
			}
			return d, err
		}
		if _, err := c.desk.Provision(ctx, r); err != nil {
			b.Fatal(err)
		}
		phoneAPDUs += phone.APDUCount()
		cardAPDUs += card.APDUCount()
		b.StopTimer()
		if _, err := c.desk.Rollback(ctx, provision.RollbackRequest{LoanID: c.loan.ID, Connect: req.Connect}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(phoneAPDUs)/float64(b.N), "phone-APDUs/op")
	b.ReportMetric(float64(cardAPDUs)/float64(b.N), "card-APDUs/op")
}

// TestIOSFlowThroughPCSCD: the monitor's identity is proven with the My
// Number card through the real pcscd, then the phone's request is issued.
func TestIOSFlowThroughPCSCD(t *testing.T) {
	needPCSCD(t)
	c := newCounter(t, storetest.SQLite(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	card, err := vcard.New(c.cardCfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &slot{tb: t}
	t.Cleanup(s.takeOff)
	held, err := s.hold(ctx, card)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.desk.ProveIdentity(ctx, c.monitor, "田中", held, pinOf(cardPIN)); err != nil {
		t.Fatalf("identity proofing through pcscd: %v", err)
	}
	key := appletKeys(t)[1]
	csr := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrFor(t, key)})
	issued, err := c.desk.IssueIOS(ctx, provision.IOSRequest{MonitorID: c.monitor, Staff: "田中", CSR: csr, Passphrase: []byte(passphrase)})
	if err != nil {
		t.Fatal(err)
	}
	if issued.Cert.Subject.CommonName != c.monitor || !issued.Cert.PublicKey.(*rsa.PublicKey).Equal(&key.PublicKey) {
		t.Fatalf("certificate for %q, not for the request's key and the monitor", issued.Cert.Subject.CommonName)
	}
}
