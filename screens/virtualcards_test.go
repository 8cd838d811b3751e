package screens

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2/lang"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/pki"
	"jpkipilot/pki/jpki"
	"jpkipilot/trial"
	"jpkipilot/trial/bank"
	"jpkipilot/trial/store/storetest"
	"jpkipilot/trial/ticket"
)

const venuePassphrase = "venue passphrase"

// A virtual card held the GUI's way (the Readers panel's VirtualReaders
// with the app's TrialCardIssuer) on a store with a trial CA: the gate
// admits it, the bank registers it and logs in with it; once its
// certificate is revoked and a CRL published, the gate denies it as
// revoked and the bank refuses it. The passphrase is asked once per run.
func TestTrialVirtualCardEndToEnd(t *testing.T) {
	w := newWindow(t)
	pki.DefaultKDF = pki.KDFParams{Time: 1, Memory: 1024, Threads: 1}
	ctx := context.Background()
	db := storetest.SQLite(t)
	if _, err := pki.Init(ctx, db, []byte(venuePassphrase), pki.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := trial.New(db)
	tr, err := svc.CreateTrial(ctx, trial.Trial{Name: "会場実証", Kind: trial.KindVenue})
	if err != nil {
		t.Fatal(err)
	}
	m, err := svc.Enrol(ctx, trial.Monitor{TrialID: tr.ID, Name: "山田 太郎", Kana: "ヤマダ タロウ", Contact: "090-0000-0001"})
	if err != nil {
		t.Fatal(err)
	}
	desk := ticket.NewService(db, nil)
	if err := desk.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}

	var asked atomic.Int32
	answers := []string{"wrong passphrase", venuePassphrase}
	virt := NewVirtualReaders("仮想リーダー")
	virt.SetIssuer(TrialCardIssuer(db, func(context.Context) ([]byte, error) {
		n := asked.Add(1)
		return []byte(answers[min(int(n), len(answers))-1]), nil
	}))
	if err := virt.Hold(ctx, "仮想リーダー", m.ID, vcard.MyNumber); !errors.Is(err, pki.ErrWrongPassphrase) {
		t.Fatalf("hold with a wrong passphrase: %v", err)
	}
	if err := virt.Hold(ctx, "仮想リーダー", m.ID, vcard.MyNumber); err != nil {
		t.Fatalf("hold: %v", err)
	}
	withCard := func(fn func(*device.Card) error) error {
		t.Helper()
		tp, done, err := virt.Open(ctx, "仮想リーダー")
		if err != nil {
			t.Fatal(err)
		}
		defer done()
		return fn(&device.Card{T: tp})
	}
	pin := func(context.Context, jpki.PINRequest) (string, error) { return vcard.DemoAuthPIN, nil }

	var cert *x509.Certificate
	if err := withCard(func(c *device.Card) error {
		tk, err := desk.Apply(ctx, gateEvent().ID, c, pin)
		if err == nil {
			cert, err = jpki.New(c).ReadCertificate(ctx, jpki.CertAuth, nil)
			t.Logf("ticket %d for %s", tk.ID, tk.CertSerial)
		}
		return err
	}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if !strings.Contains(cert.Issuer.CommonName, "Trial") {
		t.Fatalf("issued by %q, not the trial CA", cert.Issuer)
	}

	// The gate, as the kiosk runs it.
	trust, err := ticket.LoadTrust(ctx, db, 0)
	if err != nil {
		t.Fatal(err)
	}
	g := NewGateKiosk(w, GateDeps{Event: gateEvent(), Gate: ticket.NewGate(db, gateEvent().ID, "gate-test", trust),
		Readers: virt, MaxCRLAge: ticket.DefaultMaxCRLAge, CRLAge: func() time.Duration { return trust.CRLAge(time.Now()) }})
	show(w, g.Object())
	g.readersChanged()
	waitIdle()
	if g.verdict.Text != lang.L("gate.admit") || g.reason.Text != ReasonText(ticket.Admitted) {
		t.Fatalf("gate: verdict %q, reason %q", g.verdict.Text, g.reason.Text)
	}

	// The bank.
	b := bank.New(db)
	if err := withCard(func(c *device.Card) error {
		_, err := b.Register(ctx, m.ID, c, pin, time.Now())
		return err
	}); err != nil {
		t.Fatalf("bank register: %v", err)
	}
	if err := withCard(func(c *device.Card) error {
		_, err := b.Login(ctx, m.ID, c, pin, time.Now())
		return err
	}); err != nil {
		t.Fatalf("bank login: %v", err)
	}
	if n := asked.Load(); n != 2 {
		t.Fatalf("passphrase asked %d times, want 2 (a wrong one, then once for the run)", n)
	}

	// Revoked, as `jpkipilot ca revoke` + `ca crl` do.
	ca, err := pki.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.Unlock(ctx, []byte(venuePassphrase)); err != nil {
		t.Fatal(err)
	}
	if err := ca.Revoke(ctx, cert.SerialNumber, pki.KeyCompromise); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.PublishCRL(ctx, pki.RoleAuth, 0); err != nil {
		t.Fatal(err)
	}
	// The running kiosk takes up the new CRL: taken away, held again, denied.
	virt.Remove("仮想リーダー")
	g.readersChanged()
	waitIdle()
	if err := virt.Hold(ctx, "仮想リーダー", m.ID, vcard.MyNumber); err != nil {
		t.Fatal(err)
	}
	g.readersChanged()
	waitIdle()
	if g.verdict.Text != lang.L("gate.deny") || g.reason.Text != ReasonText(ticket.Revoked) {
		t.Fatalf("revoked card at the gate: verdict %q, reason %q", g.verdict.Text, g.reason.Text)
	}
	err = withCard(func(c *device.Card) error {
		_, err := b.Login(ctx, m.ID, c, pin, time.Now())
		return err
	})
	if r := bank.ReasonOf(err); r != bank.ReasonRevoked {
		t.Fatalf("revoked card at the bank: %s (%v)", r, err)
	}
}

// The signature certificate of a trial-CA virtual card says it is one;
// without a trial CA the cards come from the demo CA, whose name says so
// and which no gate trusts.
func TestVirtualCardsSayWhatTheyAre(t *testing.T) {
	pki.DefaultKDF = pki.KDFParams{Time: 1, Memory: 1024, Threads: 1}
	ctx := context.Background()
	db := storetest.SQLite(t)
	noAsk := func(context.Context) ([]byte, error) {
		t.Error("asked for a passphrase without a trial CA")
		return nil, ErrPassphraseCancelled
	}
	cfg, err := TrialCardIssuer(db, noAsk)(ctx, vcard.MyNumber, "M001")
	if err != nil {
		t.Fatal(err)
	}
	auth, _ := x509.ParseCertificate(cfg.AuthCert)
	if !strings.Contains(auth.Issuer.CommonName, "Demo") {
		t.Fatalf("without a trial CA: issuer %q does not say demo", auth.Issuer)
	}

	db = storetest.SQLite(t)
	if _, err := pki.Init(ctx, db, []byte(venuePassphrase), pki.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	cancelled := TrialCardIssuer(db, func(context.Context) ([]byte, error) { return nil, ErrPassphraseCancelled })
	if _, err := cancelled(ctx, vcard.MyNumber, "M001"); !errors.Is(err, ErrPassphraseCancelled) {
		t.Fatalf("cancelled prompt: %v", err)
	}
	cfg, err = TrialCardIssuer(db, func(context.Context) ([]byte, error) { return []byte(venuePassphrase), nil })(ctx, vcard.MyNumber, "M001")
	if err != nil {
		t.Fatal(err)
	}
	sign, _ := x509.ParseCertificate(cfg.SignCert)
	if !strings.HasSuffix(sign.Subject.CommonName, pki.VirtualCardMark) {
		t.Fatalf("sign certificate subject %q lacks the virtual card mark", sign.Subject)
	}
	if crl, err := pki.LatestCRL(ctx, db, pki.RoleAuth); err != nil || len(crl) == 0 {
		t.Fatalf("issuing did not publish the auth CRL a gate needs: %v", err)
	}
}

// When the window closes, the GUI ends its run of virtual cards: the next
// run on the store revokes the closed run's certificates at once (their
// keys are gone) instead of after pki.VirtualRunIdle, and keeps its own.
func TestClosedWindowsVirtualCardsAreRevokedByTheNextRun(t *testing.T) {
	pki.DefaultKDF = pki.KDFParams{Time: 1, Memory: 1024, Threads: 1}
	ctx := context.Background()
	db := storetest.SQLite(t)
	if _, err := pki.Init(ctx, db, []byte(venuePassphrase), pki.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	pass := func(context.Context) ([]byte, error) { return []byte(venuePassphrase), nil }
	serial := func(cfg vcard.Config) string {
		c, err := x509.ParseCertificate(cfg.AuthCert)
		if err != nil {
			t.Fatal(err)
		}
		return pki.SerialHex(c.SerialNumber)
	}
	revoked := func() map[string]bool {
		ca, err := pki.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		list, err := ca.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, c := range list {
			m[pki.SerialHex(c.Serial)] = c.Revoked()
		}
		return m
	}

	closed := NewTrialIssuer(db, pass)
	cfg, err := closed.Issue(ctx, vcard.Phone, "M001")
	if err != nil {
		t.Fatal(err)
	}
	gone := serial(cfg)
	if err := closed.End(ctx); err != nil {
		t.Fatal(err)
	}

	next := NewTrialIssuer(db, pass)
	defer next.End(ctx)
	if cfg, err = next.Issue(ctx, vcard.Phone, "M002"); err != nil {
		t.Fatal(err)
	}
	live := serial(cfg)
	if r := revoked(); !r[gone] || r[live] {
		t.Fatalf("closed run's card revoked %v (want true), the new run's %v (want false)", r[gone], r[live])
	}

	// Without a trial-CA card served there is nothing to end.
	if err := NewTrialIssuer(db, pass).End(ctx); err != nil {
		t.Fatal(err)
	}
}
