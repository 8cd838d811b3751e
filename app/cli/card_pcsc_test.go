//go:build cgo

package cli

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jpkipilot/device/pcsc"
	"jpkipilot/device/vcard"
	"jpkipilot/device/vpcd"
	"jpkipilot/device/vpcd/vpcdtest"
)

// TestCardCommandsThroughPCSC runs the card commands against a virtual card
// served into the real pcscd (JPKIPILOT_TEST_VPCD), through device/pcsc.
func TestCardCommandsThroughPCSC(t *testing.T) {
	addr := vpcdtest.Addr(t)
	reader := vpcdtest.Reader(t, addr)
	cfg, err := cardDemo()
	if err != nil {
		t.Fatal(err)
	}
	vc, err := vcard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := pcsc.WaitForRemoval(ctx, reader); err != nil {
		t.Fatal(err)
	}
	bctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- vpcd.Serve(bctx, addr, vc) }()
	defer func() {
		stop()
		<-served
		pcsc.WaitForRemoval(ctx, reader)
	}()
	if _, err := pcsc.WaitForCard(ctx, reader); err != nil {
		t.Fatal(err)
	}

	code, out, stderr := run(t, "", "card", "info", "--reader", reader)
	if code != 0 || !strings.Contains(out, "reader: "+reader) || !strings.Contains(out, "My Number card") {
		t.Fatalf("card info: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = run(t, "", "card", "cert", "auth", "--reader", reader)
	if code != 0 || out != string(cfg.AuthCert) {
		t.Fatalf("card cert auth: exit %d, %s", code, stderr)
	}
	dir := t.TempDir()
	in, sig, pin := filepath.Join(dir, "in"), filepath.Join(dir, "sig"), filepath.Join(dir, "pin")
	os.WriteFile(in, []byte("through pcscd"), 0o600)
	os.WriteFile(pin, []byte(vcard.DemoAuthPIN+"\n"), 0o600)
	if code, _, stderr := run(t, "", "card", "sign", "--reader", reader, "--key", "auth", "--in", in, "--out", sig, "--pin-file", pin); code != 0 {
		t.Fatalf("card sign: exit %d, %s", code, stderr)
	}
	s, _ := os.ReadFile(sig)
	d := sha256.Sum256([]byte("through pcscd"))
	if err := rsa.VerifyPKCS1v15(&cfg.AuthKey.PublicKey, crypto.SHA256, d[:], s); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
}
