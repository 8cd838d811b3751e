package cli

import (
	"context"
	"os"
	"strings"
	"testing"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/pki"
	"jpkipilot/trial/store"
)

// The ticket commands end to end with a virtual My Number card the trial CA
// issued: apply with the PIN, buy without it, enter once, be refused twice.
func TestTicketCommands(t *testing.T) {
	c := newCACLI(t)
	pass := c.path("pass")
	c.ok("ca", "init", "--passphrase-file", pass)
	c.ok("ca", "crl", "--ca", "auth", "--out", c.path("auth.crl"), "--passphrase-file", pass)
	if out := c.ok("ticket", "events"); !strings.Contains(out, "yoyogi-basketball") || !strings.Contains(out, "第二体育館") {
		t.Fatalf("events: %s", out)
	}

	ctx := context.Background()
	db, err := store.Open(ctx, c.db)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.Open(ctx, db)
	if err == nil {
		err = ca.Unlock(ctx, []byte("trial passphrase 2016"))
	}
	if err != nil {
		t.Fatal(err)
	}
	auth, key, err := ca.IssueWithNewKey(ctx, pki.IssueRequest{Kind: pki.RoleAuth, Holder: "M0001"})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	vc, err := vcard.New(vcard.Config{Profile: vcard.Phone, AuthKey: key, AuthCert: auth.Cert.Raw, AuthCACert: ca.Certificate(pki.RoleAuth).Raw, AuthPIN: "1234"})
	if err != nil {
		t.Fatal(err)
	}
	r := &vcard.VirtualReader{}
	old := openCard
	openCard = func(context.Context, string) (*CardConn, error) {
		r.Insert(vc) // held anew for every step
		return &CardConn{Reader: "Test Reader 0", Card: &device.Card{T: r}, Close: func() error { return nil }}, nil
	}
	t.Cleanup(func() { openCard = old })
	os.WriteFile(c.path("pin"), []byte("1234\n"), 0o600)

	if out := c.ok("ticket", "apply", "--event", "yoyogi-basketball", "--pin-file", c.path("pin")); !strings.Contains(out, "applied with the phone") {
		t.Fatalf("apply: %s", out)
	}
	if code, _, errs := c.run("ticket", "buy", "--event", "yoyogi-basketball", "--card-number", "4111111111111112", "--expiry", "12/99"); code != 1 || !strings.Contains(errs, "Luhn") {
		t.Fatalf("bad card number: %d %s", code, errs)
	}
	if out := c.ok("ticket", "gate", "--event", "yoyogi-basketball", "--pin-file", c.path("pin")); !strings.HasPrefix(out, "ADMIT\tadmitted\tmethod=phone") {
		t.Fatalf("gate: %s", out)
	}
	code, out, errs := c.run("ticket", "gate", "--event", "yoyogi-basketball", "--pin-file", c.path("pin"))
	if code != 1 || !strings.HasPrefix(out, "DENY\talready_entered") || !strings.Contains(errs, "denied: already_entered") {
		t.Fatalf("second entry: %d %q %q", code, out, errs)
	}
	if code, _, errs := c.run("ticket", "gate"); code != 2 || !strings.Contains(errs, "--event") {
		t.Fatalf("usage: %d %s", code, errs)
	}
}
