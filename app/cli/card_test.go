package cli

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
)

var cardDemo = sync.OnceValues(func() (vcard.Config, error) { return vcard.NewDemo(vcard.MyNumber, "DEMO TARO") })

// withVirtualCard points the card commands at a fresh virtual My Number card
// in an in-process reader and returns that card's APDU log.
func withVirtualCard(t *testing.T) (vcard.Config, *device.Card) {
	t.Helper()
	cfg, err := cardDemo()
	if err != nil {
		t.Fatal(err)
	}
	vc, err := vcard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &vcard.VirtualReader{}
	r.Insert(vc)
	card := &device.Card{T: r}
	old := openCard
	openCard = func(_ context.Context, name string) (*CardConn, error) {
		if name != "" && name != "Test Reader 0" {
			return nil, device.ErrNoReader
		}
		return &CardConn{Reader: "Test Reader 0", Card: card, Close: func() error { return nil }}, nil
	}
	t.Cleanup(func() { openCard = old })
	return cfg, card
}

// run runs the command line and returns the exit code, stdout and stderr.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCardInfoAndPINStatus(t *testing.T) {
	withVirtualCard(t)
	code, out, stderr := run(t, "", "card", "info")
	if code != 0 || !strings.Contains(out, "reader: Test Reader 0") || !strings.Contains(out, "token:  JPKIAPICCTOKEN2") || !strings.Contains(out, "kind:   My Number card") {
		t.Fatalf("card info: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = run(t, "", "card", "pin-status", "--reader", "Test Reader 0")
	if code != 0 || out != "auth PIN: 3 of 3 tries left\nsign PIN: 5 of 5 tries left\n" {
		t.Fatalf("card pin-status: exit %d\n%s%s", code, out, stderr)
	}
	if code, _, stderr := run(t, "", "card", "info", "--reader", "Other"); code != 1 || !strings.Contains(stderr, "reader not found") {
		t.Fatalf("unknown reader: exit %d, %s", code, stderr)
	}
}

func TestCardCert(t *testing.T) {
	cfg, _ := withVirtualCard(t)
	dir := t.TempDir()

	// DER on standard output.
	code, out, stderr := run(t, "", "card", "cert", "authca")
	if code != 0 || out != string(cfg.AuthCACert) {
		t.Fatalf("cert authca: exit %d, %d bytes, %s", code, len(out), stderr)
	}
	// PEM to a file, flags after the certificate name.
	f := filepath.Join(dir, "auth.pem")
	if code, _, stderr := run(t, "", "card", "cert", "auth", "--pem", "--out", f); code != 0 {
		t.Fatalf("cert auth --pem: exit %d, %s", code, stderr)
	}
	b, _ := os.ReadFile(f)
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" || !bytes.Equal(blk.Bytes, cfg.AuthCert) {
		t.Fatalf("auth.pem does not hold the card's auth certificate:\n%s", b)
	}
	// The signature certificate with the PIN from a file and from a pipe.
	pinFile := filepath.Join(dir, "pin")
	os.WriteFile(pinFile, []byte(vcard.DemoSignPIN+"\n"), 0o600)
	code, out, stderr = run(t, "", "card", "cert", "--pin-file", pinFile, "sign")
	if code != 0 || out != string(cfg.SignCert) {
		t.Fatalf("cert sign --pin-file: exit %d, %s", code, stderr)
	}
	code, out, stderr = run(t, vcard.DemoSignPIN+"\r\n", "card", "cert", "sign", "--pem")
	if code != 0 || !strings.Contains(out, "BEGIN CERTIFICATE") {
		t.Fatalf("cert sign, PIN on stdin: exit %d, %s", code, stderr)
	}
	if !strings.Contains(stderr, "warning: no terminal") || strings.Contains(stderr, vcard.DemoSignPIN) {
		t.Errorf("stderr should warn and never show the PIN: %q", stderr)
	}
	// No PIN at all: a clean failure.
	if code, _, stderr := run(t, "", "card", "cert", "sign"); code != 1 || !strings.Contains(stderr, "cancelled") {
		t.Errorf("cert sign without a PIN: exit %d, %s", code, stderr)
	}
}

func TestCardSign(t *testing.T) {
	cfg, _ := withVirtualCard(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "ticket.txt")
	msg := []byte("入場券 No. 0042\n")
	os.WriteFile(in, msg, 0o600)
	authPIN := filepath.Join(dir, "auth.pin")
	os.WriteFile(authPIN, []byte(vcard.DemoAuthPIN), 0o600)
	signPIN := filepath.Join(dir, "sign.pin")
	os.WriteFile(signPIN, []byte(vcard.DemoSignPIN), 0o600)

	sig := filepath.Join(dir, "auth.sig")
	code, _, stderr := run(t, "", "card", "sign", "--key", "auth", "--in", in, "--out", sig, "--pin-file", authPIN)
	if code != 0 {
		t.Fatalf("sign --key auth: exit %d, %s", code, stderr)
	}
	s, _ := os.ReadFile(sig)
	d256 := sha256.Sum256(msg)
	if err := rsa.VerifyPKCS1v15(&cfg.AuthKey.PublicKey, crypto.SHA256, d256[:], s); err != nil {
		t.Fatalf("auth signature does not verify: %v", err)
	}

	sig = filepath.Join(dir, "sign.sig")
	code, _, stderr = run(t, "", "card", "sign", "--key", "sign", "--hash", "sha512", "--in", in, "--out", sig, "--pin-file", signPIN)
	if code != 0 {
		t.Fatalf("sign --key sign: exit %d, %s", code, stderr)
	}
	s, _ = os.ReadFile(sig)
	cert, _ := x509.ParseCertificate(cfg.SignCert)
	d512 := sha512.Sum512(msg)
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA512, d512[:], s); err != nil {
		t.Fatalf("sign signature does not verify: %v", err)
	}
}

func TestCardSignWrongPINWritesNothing(t *testing.T) {
	withVirtualCard(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.WriteFile(in, []byte("x"), 0o600)
	sig := filepath.Join(dir, "out.sig")
	code, _, stderr := run(t, "9999\n", "card", "sign", "--key", "auth", "--in", in, "--out", sig)
	if code != 1 || !strings.Contains(stderr, "2 tries left") || strings.Count(stderr, "\n") != 2 {
		t.Fatalf("wrong PIN: exit %d, stderr %q; want one warning and a one-line error showing 2 tries left", code, stderr)
	}
	if strings.Contains(stderr, "9999") {
		t.Errorf("stderr shows the PIN: %q", stderr)
	}
	if _, err := os.Stat(sig); !os.IsNotExist(err) {
		t.Errorf("signature file written after a failure: %v", err)
	}
	if code, out, _ := run(t, "", "card", "pin-status"); !strings.Contains(out, "auth PIN: 2 of 3 tries left") {
		t.Errorf("pin-status after one wrong PIN: exit %d, %q", code, out)
	}
}

func TestCardUsageErrorsTouchNoCard(t *testing.T) {
	_, card := withVirtualCard(t)
	for _, args := range [][]string{
		{"card"},
		{"card", "eject"},
		{"card", "cert"},
		{"card", "cert", "root"},
		{"card", "cert", "auth", "authca"},
		{"card", "info", "extra"},
		{"card", "sign", "--key", "auth"},
		{"card", "sign", "--key", "admin", "--in", "a", "--out", "b"},
		{"card", "sign", "--key", "auth", "--in", "a", "--out", "b", "--hash", "md5"},
		{"card", "info", "--bogus"},
	} {
		if code, _, stderr := run(t, "", args...); code != 2 || !strings.Contains(stderr, "usage: jpkipilot card") {
			t.Errorf("%q: exit %d, %q; want usage (2)", args, code, stderr)
		}
	}
	if n := card.APDUCount(); n != 0 {
		t.Errorf("%d APDUs sent for usage errors", n)
	}
}
