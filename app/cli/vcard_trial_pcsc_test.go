//go:build cgo

package cli

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"jpkipilot/device/pcsc"
	"jpkipilot/device/vpcd/vpcdtest"
)

// serveVCard runs "jpkipilot vcard" with args into the real pcscd until the
// test ends and returns its output so far when the card is in the reader.
func serveVCard(t *testing.T, c *caCLI, reader string, args ...string) (stop func() string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	var stdout, stderr syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- Run(ctx, append([]string{"--db", c.db, "vcard"}, args...), strings.NewReader(""), &stdout, &stderr)
	}()
	if _, err := pcsc.WaitForCard(ctx, reader); err != nil {
		cancel()
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	return func() string {
		cancel()
		if code := <-exit; code != 0 {
			t.Fatalf("vcard exit %d: %s", code, stderr.String())
		}
		if err := pcsc.WaitForRemoval(context.Background(), reader); err != nil {
			t.Fatal(err)
		}
		return stdout.String()
	}
}

// A virtual card served by `jpkipilot vcard --trial-ca` is issued by the
// trial's CA: through pcscd and vpcd, a ticket applied with it is admitted
// at the gate (a second process on the same laptop, as `--kiosk gate` is),
// and once its certificate is revoked and a CRL published, the gate
// denies it. A card from the demo CA is refused at the gate.
func TestVCardTrialCAAdmittedAtTheGate(t *testing.T) {
	addr := vpcdtest.Addr(t)
	reader := vpcdtest.Reader(t, addr)
	c := newCACLI(t)
	pass := c.path("pass")
	c.ok("ca", "init", "--passphrase-file", pass)
	if err := os.WriteFile(c.path("pin"), []byte("1234\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := c.run("vcard", "--vpcd", addr, "--passphrase-file", pass); code != 2 || !strings.Contains(errs, "--passphrase-file goes with --trial-ca") {
		t.Fatalf("passphrase without --trial-ca: %d %s", code, errs)
	}

	stop := serveVCard(t, c, reader, "--vpcd", addr, "--profile", "phone", "--holder", "M-0001", "--trial-ca", "--passphrase-file", pass)
	if out := c.ok("ticket", "apply", "--event", "yoyogi-basketball", "--reader", reader, "--pin-file", c.path("pin")); !strings.Contains(out, "applied with the phone") {
		t.Fatalf("apply: %s", out)
	}
	if out := c.ok("ticket", "gate", "--event", "yoyogi-basketball", "--reader", reader, "--gate", "east", "--pin-file", c.path("pin")); !strings.HasPrefix(out, "ADMIT\tadmitted\tmethod=phone") {
		t.Fatalf("gate with the trial CA's card: %s", out)
	}
	// Revoked, with a new CRL: the same card is now denied as revoked.
	var serial string
	for _, line := range strings.Split(c.ok("ca", "list"), "\n") {
		if strings.Contains(line, "M-0001") && strings.Contains(line, "auth") {
			serial = strings.Fields(line)[0]
		}
	}
	if serial == "" {
		t.Fatalf("no auth certificate for M-0001 in ca list:\n%s", c.ok("ca", "list"))
	}
	c.ok("ca", "revoke", serial, "--passphrase-file", pass)
	c.ok("ca", "crl", "--ca", "auth", "--out", c.path("auth.crl"), "--passphrase-file", pass)
	if code, gout, _ := c.run("ticket", "gate", "--event", "yoyogi-basketball", "--reader", reader, "--pin-file", c.path("pin")); code != 1 || !strings.HasPrefix(gout, "DENY\trevoked") {
		t.Fatalf("gate with the revoked card: %d %q", code, gout)
	}
	out := stop()
	if m := regexp.MustCompile(`auth certificate serial: ([0-9A-F]+), from the trial CA`).FindStringSubmatch(out); m == nil || !strings.EqualFold(m[1], strings.TrimLeft(serial, "0")) && !strings.EqualFold(m[1], serial) {
		t.Errorf("vcard output names serial %v, ca list %s:\n%s", m, serial, out)
	}

	// The demo CA's card is not the trial's.
	stop = serveVCard(t, c, reader, "--vpcd", addr, "--profile", "phone", "--holder", "M-0002")
	code, gout, _ := c.run("ticket", "gate", "--event", "yoyogi-basketball", "--reader", reader, "--pin-file", c.path("pin"))
	if code != 1 || !strings.HasPrefix(gout, "DENY\t") || strings.Contains(gout, "ADMIT") {
		t.Fatalf("gate with a demo-CA card: %d %q", code, gout)
	}
	if out := stop(); !strings.Contains(out, "from the demo CA") {
		t.Errorf("demo vcard output:\n%s", out)
	}
}
