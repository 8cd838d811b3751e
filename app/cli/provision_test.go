package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"strings"
	"testing"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/device/vcard/sim"
	"jpkipilot/pki"
	"jpkipilot/pki/scp03"
	"jpkipilot/trial"
	"jpkipilot/trial/qr"
	"jpkipilot/trial/store"
)

// counterDesk is a store with the trial CA and a monitor who has an
// Android phone out, one virtual reader, and the monitor's My Number card
// and the phone's SIM applet to hold to it in turn.
type counterDesk struct {
	*caCLI
	monitor string
	reader  *vcard.VirtualReader
	card    *vcard.Card
	applet  *sim.Applet
}

func newCounterDesk(t *testing.T) *counterDesk {
	c := &counterDesk{caCLI: newCACLI(t), reader: &vcard.VirtualReader{}}
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
	c.monitor = m.ID
	keys := trial.SIMKeys{KVN: 1, ENC: bytes.Repeat([]byte{1}, 16), MAC: bytes.Repeat([]byte{2}, 16), DEK: bytes.Repeat([]byte{3}, 16)}
	l := trial.NewLoans(db)
	if _, err := l.AddDevice(ctx, trial.Device{Kind: trial.KindPhone, Serial: "352099001761481", Carrier: trial.CarrierKDDI, OS: trial.OSAndroid}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AddDevice(ctx, trial.Device{Kind: trial.KindSIM, Serial: "8981101000000000019", Carrier: trial.CarrierKDDI, AppletState: trial.AppletBlank}, &keys); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Checkout(ctx, trial.Checkout{MonitorID: m.ID, Phone: "352099001761481", SIM: "8981101000000000019", Staff: "田中"}); err != nil {
		t.Fatal(err)
	}
	pass, _ := os.ReadFile(c.path("pass"))
	ca, err := pki.Init(ctx, db, bytes.TrimSpace(pass), pki.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.PublishCRL(ctx, pki.RoleAuth, 0); err != nil {
		t.Fatal(err)
	}
	auth, authKey, err := ca.IssueWithNewKey(ctx, pki.IssueRequest{Kind: pki.RoleAuth, Holder: "CARD-1"})
	if err != nil {
		t.Fatal(err)
	}
	sign, signKey, err := ca.IssueWithNewKey(ctx, pki.IssueRequest{Kind: pki.RoleSign, Holder: m.ID, Name: "山田 太郎"})
	if err != nil {
		t.Fatal(err)
	}
	if c.card, err = vcard.New(vcard.Config{Profile: vcard.MyNumber, AuthKey: authKey, AuthCert: auth.Cert.Raw,
		AuthCACert: ca.Certificate(pki.RoleAuth).Raw, AuthPIN: "1234", SignKey: signKey, SignCert: sign.Cert.Raw,
		SignCACert: ca.Certificate(pki.RoleSign).Raw, SignPIN: "ABCDEF1234"}); err != nil {
		t.Fatal(err)
	}
	if c.applet, err = sim.New(sim.Config{Keys: scp03.Keys{KVN: 1, ENC: keys.ENC, MAC: keys.MAC, DEK: keys.DEK}}); err != nil {
		t.Fatal(err)
	}
	for name, pin := range map[string]string{"card.pin": "1234", "phone.pin": "2468"} {
		if err := os.WriteFile(c.path(name), []byte(pin+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c.reader.Insert(c.card)
	oldOpen, oldSwap := openCard, awaitSwap
	openCard = func(_ context.Context, name string) (*CardConn, error) {
		if !c.reader.Present() {
			return nil, device.ErrNoCard
		}
		return &CardConn{Reader: "Test Reader 0", Card: &device.Card{T: c.reader}, Close: func() error { return nil }}, nil
	}
	// The monitor takes the card off and holds the phone.
	awaitSwap = func(context.Context, string) error { c.reader.Insert(c.applet); return nil }
	t.Cleanup(func() { openCard, awaitSwap = oldOpen, oldSwap })
	return c
}

func TestProvisionCommands(t *testing.T) {
	c := newCounterDesk(t)
	pass := c.path("pass")
	if code, _, _ := c.run("provision", "android"); code != 2 {
		t.Errorf("android without --loan: exit %d, want 2", code)
	}
	out := c.ok("provision", "status", "--loan", "L-0001")
	if !strings.Contains(out, "never provisioned") {
		t.Errorf("status before: %q", out)
	}
	code, out, errs := c.run("provision", "android", "--loan", "L-0001", "--pin-file", c.path("card.pin"),
		"--new-pin-file", c.path("phone.pin"), "--passphrase-file", pass, "--staff", "田中")
	if code != 0 || !strings.Contains(out, "L-0001 provisioned") {
		t.Fatalf("android: exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(errs, "hold the phone") {
		t.Errorf("the swap was not asked for: %q", errs)
	}
	if strings.Contains(out+errs, "2468") || strings.Contains(out+errs, "1234") {
		t.Error("a PIN was printed")
	}
	if st := c.applet.Status(); !st.Provisioned() {
		t.Fatalf("applet %v", st)
	}
	out = c.ok("provision", "status", "--loan", "L-0001", "--read")
	for _, want := range []string{"applet (read now): provisioned", "android: provisioned", "linked"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	out = c.ok("provision", "return", "--loan", "L-0001", "--staff", "佐藤", "--passphrase-file", pass)
	if !strings.Contains(out, "revoked: true, applet wiped: true") {
		t.Errorf("return: %q", out)
	}
	if st := c.applet.Status(); st.State != sim.Blank {
		t.Errorf("applet after return %v", st)
	}

	// iOS: proofing first, then the CSR.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}, key)
	if err := os.WriteFile(c.path("req.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), der...)
	bad[len(bad)-1] ^= 1
	if err := os.WriteFile(c.path("bad.der"), bad, 0o600); err != nil {
		t.Fatal(err)
	}
	c.reader.Insert(c.card)
	c.ok("provision", "proof", "--monitor", c.monitor, "--pin-file", c.path("card.pin"))
	if code, _, errs := c.run("provision", "ios", "--monitor", c.monitor, "--csr", c.path("bad.der"), "--out", c.path("bad.pem"), "--passphrase-file", pass); code != 1 || !strings.Contains(errs, "proof of possession") {
		t.Errorf("bad CSR: exit %d, %q", code, errs)
	}
	c.ok("provision", "ios", "--monitor", c.monitor, "--csr", c.path("req.pem"), "--out", c.path("cert.pem"), "--passphrase-file", pass)
	cert, err := pki.LoadCertificate(c.path("cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != c.monitor || !cert.PublicKey.(*rsa.PublicKey).Equal(&key.PublicKey) {
		t.Errorf("iOS certificate: subject %q", cert.Subject.CommonName)
	}
	if _, err := os.Stat(c.path("bad.pem")); !os.IsNotExist(err) {
		t.Error("a certificate file was written for a bad CSR")
	}

	// The same by QR code: the phone's request as a picture in, the
	// certificate as a picture out.
	reqPNG, err := qr.PNG(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), 600)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.path("req.png"), reqPNG, 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("provision", "ios", "--monitor", c.monitor, "--csr", c.path("req.png"), "--out", c.path("cert2.pem"), "--qr", c.path("cert2.png"), "--passphrase-file", pass)
	certPEM, err := os.ReadFile(c.path("cert2.pem"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := os.ReadFile(c.path("cert2.png"))
	if err != nil {
		t.Fatal(err)
	}
	fromQR, err := qr.Read(img)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fromQR, certPEM) {
		t.Errorf("the certificate's QR code holds %d bytes, not the %d of the certificate", len(fromQR), len(certPEM))
	}
}
