package cli

import (
	"context"
	"encoding/base32"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/pki"
	"jpkipilot/trial"
	"jpkipilot/trial/bank"
	"jpkipilot/trial/qr"
	"jpkipilot/trial/store"
)

// bankDesk is a store with the trial CA, a loan trial with one monitor,
// and that monitor's My Number card (trial CA issued) in a virtual reader.
func bankDesk(t *testing.T) (*caCLI, string, int64) {
	c := newCACLI(t)
	ctx := context.Background()
	db, err := store.Open(ctx, c.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := trial.New(db)
	tr, err := svc.CreateTrial(ctx, trial.Trial{Name: "貸出", Kind: trial.KindLoan})
	if err != nil {
		t.Fatal(err)
	}
	m, err := svc.Enrol(ctx, trial.Monitor{TrialID: tr.ID, Name: "山田 太郎", Kana: "ヤマダ タロウ", Contact: "090"})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.Init(ctx, db, []byte("trial passphrase 2016"), pki.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.PublishCRL(ctx, pki.RoleAuth, 0); err != nil {
		t.Fatal(err)
	}
	auth, key, err := ca.IssueWithNewKey(ctx, pki.IssueRequest{Kind: pki.RoleAuth, Holder: "CARD"})
	if err != nil {
		t.Fatal(err)
	}
	sign, signKey, err := ca.IssueWithNewKey(ctx, pki.IssueRequest{Kind: pki.RoleSign, Holder: m.ID, Name: "山田 太郎"})
	if err != nil {
		t.Fatal(err)
	}
	card, err := vcard.New(vcard.Config{Profile: vcard.MyNumber, AuthKey: key, AuthCert: auth.Cert.Raw,
		AuthCACert: ca.Certificate(pki.RoleAuth).Raw, AuthPIN: "1234", SignKey: signKey, SignCert: sign.Cert.Raw,
		SignCACert: ca.Certificate(pki.RoleSign).Raw, SignPIN: "ABCDEF1234"})
	if err != nil {
		t.Fatal(err)
	}
	r := &vcard.VirtualReader{}
	r.Insert(card)
	old := openCard
	openCard = func(_ context.Context, name string) (*CardConn, error) {
		if name != "" && name != "Test Reader 0" {
			return nil, device.ErrNoReader
		}
		return &CardConn{Reader: "Test Reader 0", Card: &device.Card{T: r}, Close: func() error { return nil }}, nil
	}
	t.Cleanup(func() { openCard = old })
	for name, pin := range map[string]string{"good.pin": "1234", "bad.pin": "9999"} {
		if err := os.WriteFile(c.path(name), []byte(pin+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return c, m.ID, tr.ID
}

func TestBankCommands(t *testing.T) {
	c, m, tr := bankDesk(t)
	trialArg := func() string { return strconv.FormatInt(tr, 10) }

	if code, _, errs := c.run("bank", "login", "--monitor", m, "--pin-file", c.path("good.pin")); code != 1 || !strings.Contains(errs, "not registered") {
		t.Fatalf("login before registering: exit %d, %s", code, errs)
	}
	out := c.ok("bank", "register", "--monitor", m, "--reader", "Test Reader 0", "--pin-file", c.path("good.pin"))
	if !strings.Contains(out, "registered the card with "+m) || !strings.Contains(out, "serial ") {
		t.Fatalf("register: %s", out)
	}
	code, _, errs := c.run("bank", "login", "--monitor", m, "--pin-file", c.path("bad.pin"))
	if code != 1 || !strings.Contains(errs, "wrong PIN (2 tries left)") {
		t.Fatalf("wrong PIN: exit %d, %s", code, errs)
	}
	out = c.ok("bank", "login", "--monitor", m, "--pin-file", c.path("good.pin"))
	if !regexp.MustCompile(`(?m)^logged in to ` + m + `'s account with the card in \d+ ms\nbalance: [\d,]+ yen$`).MatchString(out) {
		t.Fatalf("login: %s", out)
	}

	qrPath := c.path("totp.png")
	out = c.ok("bank", "totp-enrol", "--monitor", m, "--qr", qrPath)
	uri := strings.SplitN(out, "\n", 2)[0]
	png, err := os.ReadFile(qrPath)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := qr.Read(png); err != nil || string(got) != uri || !strings.HasPrefix(uri, "otpauth://totp/") {
		t.Fatalf("QR code holds %q (%v), printed %q", got, err, uri)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(regexp.MustCompile(`secret: (\S+)`).FindStringSubmatch(out)[1])
	if err != nil {
		t.Fatal(err)
	}
	code1 := bank.TOTPCode(secret, bank.TOTPStep(time.Now()))
	out = c.ok("bank", "login", "--monitor", m, "--totp", code1)
	if !strings.Contains(out, "with the totp") {
		t.Fatalf("totp login: %s", out)
	}
	if code, _, errs := c.run("bank", "login", "--monitor", m, "--totp", code1); code != 1 || !strings.Contains(errs, "totp_reused") {
		t.Fatalf("reused code: exit %d, %s", code, errs)
	}

	out = c.ok("bank", "summary", "--trial", trialArg())
	if !regexp.MustCompile(`(?m)^card\s+3\s+1\s+33\.3%`).MatchString(out) || !regexp.MustCompile(`(?m)^totp\s+2\s+1\s+50\.0%`).MatchString(out) {
		t.Fatalf("summary:\n%s", out)
	}

	today := time.Now().Format(time.DateOnly)
	c.ok("bank", "schedule-update", "--trial", trialArg(), "--on", today)
	out = c.ok("bank", "apply-updates")
	if !strings.Contains(out, "to 1 accounts") {
		t.Fatalf("apply-updates: %s", out)
	}
	if out = c.ok("bank", "apply-updates"); out != "no update due\n" {
		t.Fatalf("second apply-updates: %s", out)
	}

	for _, args := range [][]string{
		{"bank"}, {"bank", "frobnicate"}, {"bank", "login"}, {"bank", "schedule-update", "--trial", "1", "--on", "2026-02-30"},
		{"bank", "login", "--monitor", m, "--totp", "123456", "--reader", "X"}, {"bank", "summary", "extra"},
	} {
		if code, _, _ := c.run(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)", args, code)
		}
	}
}
