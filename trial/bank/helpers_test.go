package bank_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"sync"
	"testing"
	"time"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/pki"
	"jpkipilot/pki/jpki"
	"jpkipilot/trial"
	"jpkipilot/trial/bank"
	"jpkipilot/trial/store"
)

const cardPIN = "4321"

var (
	keysOnce sync.Once
	keys     []*rsa.PrivateKey
)

// testKeys are generated once per run: RSA-2048 generation dominates
// otherwise, and the bank links cards by certificate, not by key.
func testKeys(tb testing.TB) []*rsa.PrivateKey {
	keysOnce.Do(func() {
		for range 3 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keys = append(keys, k)
		}
	})
	return keys
}

// env is one laptop: a store with the trial CA (its auth CRL published),
// a loan trial with two monitors, and the bank.
type env struct {
	t        testing.TB
	db       *store.DB
	bank     *bank.Bank
	ca       *pki.CA
	trialID  int64
	monitors []string
	clock    time.Time
	nKey     int
}

func newEnv(t testing.TB, db *store.DB) *env {
	t.Helper()
	pki.DefaultKDF = pki.KDFParams{Time: 1, Memory: 1024, Threads: 1}
	ctx := context.Background()
	e := &env{t: t, db: db, clock: time.Now().UTC().Truncate(time.Second)}
	e.bank = bank.New(db)
	e.bank.Now = func() time.Time { return e.clock }
	svc := trial.New(db)
	tr, err := svc.CreateTrial(ctx, trial.Trial{Name: "貸出実証", Kind: trial.KindLoan})
	if err != nil {
		t.Fatal(err)
	}
	e.trialID = tr.ID
	for _, name := range []string{"山田 太郎", "佐藤 花子"} {
		m, err := svc.Enrol(ctx, trial.Monitor{TrialID: tr.ID, Name: name, Kana: "ヤマダ タロウ", Contact: "090-0000-0001"})
		if err != nil {
			t.Fatal(err)
		}
		e.monitors = append(e.monitors, m.ID)
	}
	if e.ca, err = pki.Init(ctx, db, []byte("correct horse"), pki.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	e.publishCRL()
	return e
}

func (e *env) publishCRL() {
	e.t.Helper()
	if _, err := e.ca.PublishCRL(context.Background(), pki.RoleAuth, 0); err != nil {
		e.t.Fatal(err)
	}
}

// token makes a virtual My Number card or phone token whose auth
// certificate the trial CA issued, in a reader of its own.
func (e *env) token(p vcard.Profile) (*vcard.VirtualReader, *pki.Issued) {
	e.t.Helper()
	r, iss, _ := e.tokenCard(p)
	return r, iss
}

func (e *env) tokenCard(p vcard.Profile) (*vcard.VirtualReader, *pki.Issued, *vcard.Card) {
	e.t.Helper()
	ctx := context.Background()
	ks := testKeys(e.t)
	authKey, signKey := ks[e.nKey%len(ks)], ks[(e.nKey+1)%len(ks)]
	e.nKey++
	auth, err := e.ca.Issue(ctx, pki.IssueRequest{Kind: pki.RoleAuth, Holder: "CARD", PublicKey: &authKey.PublicKey})
	if err != nil {
		e.t.Fatal(err)
	}
	cfg := vcard.Config{Profile: p, AuthKey: authKey, AuthCert: auth.Cert.Raw,
		AuthCACert: e.ca.Certificate(pki.RoleAuth).Raw, AuthPIN: cardPIN}
	if p == vcard.MyNumber {
		sign, err := e.ca.Issue(ctx, pki.IssueRequest{Kind: pki.RoleSign, Holder: "H", Name: "山田 太郎", PublicKey: &signKey.PublicKey})
		if err != nil {
			e.t.Fatal(err)
		}
		cfg.SignKey, cfg.SignCert, cfg.SignCACert, cfg.SignPIN = signKey, sign.Cert.Raw, e.ca.Certificate(pki.RoleSign).Raw, "ABCDEF1234"
	}
	c, err := vcard.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	r := &vcard.VirtualReader{}
	r.Insert(c)
	return r, auth, c
}

// pinPad answers with pin and remembers what the card said.
type pinPad struct {
	pin   string
	asked []jpki.PINRequest
}

func (p *pinPad) fn() jpki.PINFunc {
	return func(_ context.Context, req jpki.PINRequest) (string, error) {
		p.asked = append(p.asked, req)
		return p.pin, nil
	}
}

func (e *env) register(monitor string, r *vcard.VirtualReader) (*bank.Credential, error) {
	pad := &pinPad{pin: cardPIN}
	return e.bank.Register(context.Background(), monitor, &device.Card{T: r}, pad.fn(), e.clock)
}

func (e *env) mustRegister(monitor string, r *vcard.VirtualReader) {
	e.t.Helper()
	if _, err := e.register(monitor, r); err != nil {
		e.t.Fatalf("register %s: %v", monitor, err)
	}
}

func (e *env) login(monitor string, r *vcard.VirtualReader, pad *pinPad) (*bank.Session, error) {
	return e.bank.Login(context.Background(), monitor, &device.Card{T: r}, pad.fn(), e.clock.Add(-1500*time.Millisecond))
}

func (e *env) attempts() []bank.Attempt {
	e.t.Helper()
	as, err := e.bank.Attempts(context.Background(), e.trialID)
	if err != nil {
		e.t.Fatal(err)
	}
	return as
}

func (e *env) lastAttempt() bank.Attempt {
	e.t.Helper()
	as := e.attempts()
	if len(as) == 0 {
		e.t.Fatal("no attempt recorded")
	}
	return as[len(as)-1]
}

func wantReason(t testing.TB, err error, want bank.Reason) *bank.Error {
	t.Helper()
	var be *bank.Error
	if !errors.As(err, &be) {
		t.Fatalf("error %v (%T): want a *bank.Error with reason %s", err, err, want)
	}
	if be.Reason != want {
		t.Fatalf("reason %s (%v): want %s", be.Reason, err, want)
	}
	return be
}

func x509Parse(der []byte) (*x509.Certificate, error) { return x509.ParseCertificate(der) }
