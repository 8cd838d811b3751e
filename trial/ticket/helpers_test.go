package ticket_test

import (
	"context"
	"testing"
	"time"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/pki"
	"jpkipilot/pki/jpki"
	"jpkipilot/trial/store"
	"jpkipilot/trial/ticket"
)

const (
	event      = "yoyogi-basketball"
	otherEvent = "yoyogi-basketball-2"
	cardPIN    = "1234"
	phonePIN   = "5678"
	goodCard   = "4111 1111 1111 1111" // Luhn-valid, approved
	declined   = "4000000000000002"    // Luhn-valid, declined by the demo rule
)

// venue is one laptop's setup: a store with the trial CA and its CRL, the
// demo events, the staff service and a gate for the game.
type venue struct {
	t    testing.TB
	db   *store.DB
	ca   *pki.CA
	svc  *ticket.Service
	gate *ticket.Gate
	now  time.Time
}

func newVenue(t testing.TB, db *store.DB) *venue {
	t.Helper()
	pki.DefaultKDF = pki.KDFParams{Time: 1, Memory: 1024, Threads: 1}
	ctx := context.Background()
	ca, err := pki.Init(ctx, db, []byte("venue passphrase"), pki.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.PublishCRL(ctx, pki.RoleAuth, 0); err != nil {
		t.Fatal(err)
	}
	v := &venue{t: t, db: db, ca: ca, now: time.Now().UTC()}
	v.svc = &ticket.Service{DB: db, Now: v.clock, Rand: zeroReader{}}
	if err := v.svc.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	v.reloadTrust()
	v.gate = &ticket.Gate{DB: db, EventID: event, Name: "gate-1", Trust: v.svc.Trust, Now: v.clock, Rand: zeroReader{}}
	return v
}

func (v *venue) clock() time.Time { return v.now }

// reloadTrust is what a gate does when staff fetch the CA's newest CRL.
func (v *venue) reloadTrust() {
	v.t.Helper()
	tr, err := ticket.LoadTrust(context.Background(), v.db, 0)
	if err != nil {
		v.t.Fatal(err)
	}
	v.svc.Trust = tr
	if v.gate != nil {
		v.gate.Trust = tr
	}
}

// zeroReader is a deterministic challenge source; freshness is not what
// these tests are about (jpki's tests check the signature itself).
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// holder is a monitor's card or phone in an in-process reader.
type holder struct {
	cfg    vcard.Config
	reader *vcard.VirtualReader
	serial string
}

func (h *holder) card() *device.Card { return &device.Card{T: h.reader} }

// reinsert is the person taking the card away and holding it again.
func (h *holder) reinsert() {
	c, err := vcard.New(h.cfg)
	if err != nil {
		panic(err)
	}
	h.reader.Insert(c)
}

// issue makes a card (or phone token) whose auth certificate the trial CA issued.
func (v *venue) issue(p vcard.Profile, name string, validity time.Duration) *holder {
	v.t.Helper()
	auth, key, err := v.ca.IssueWithNewKey(context.Background(), pki.IssueRequest{Kind: pki.RoleAuth, Holder: name, Validity: validity})
	if err != nil {
		v.t.Fatal(err)
	}
	cfg := vcard.Config{Profile: p, AuthKey: key, AuthCert: auth.Cert.Raw, AuthCACert: v.ca.Certificate(pki.RoleAuth).Raw, AuthPIN: cardPIN}
	if p == vcard.Phone {
		cfg.AuthPIN = phonePIN
	} else {
		sign, skey, err := v.ca.IssueWithNewKey(context.Background(), pki.IssueRequest{Kind: pki.RoleSign, Holder: name, Name: "山田 太郎"})
		if err != nil {
			v.t.Fatal(err)
		}
		cfg.SignKey, cfg.SignCert, cfg.SignCACert, cfg.SignPIN = skey, sign.Cert.Raw, v.ca.Certificate(pki.RoleSign).Raw, "ABCDEF1234"
	}
	h := &holder{cfg: cfg, reader: &vcard.VirtualReader{}, serial: pki.SerialHex(auth.Serial)}
	h.reinsert()
	return h
}

func pinOf(pin string) jpki.PINFunc {
	return func(context.Context, jpki.PINRequest) (string, error) { return pin, nil }
}

func (v *venue) apply(h *holder, eventID, pin string) ticket.Ticket {
	v.t.Helper()
	t, err := v.svc.Apply(context.Background(), eventID, h.card(), pinOf(pin))
	if err != nil {
		v.t.Fatalf("apply: %v", err)
	}
	h.reinsert()
	return t
}

func (v *venue) check(h *holder, pin jpki.PINFunc) ticket.Decision {
	v.t.Helper()
	d, err := v.gate.Check(context.Background(), h.card(), time.Time{}, pin)
	if err != nil {
		v.t.Fatalf("gate: %v", err)
	}
	h.reinsert()
	return d
}
