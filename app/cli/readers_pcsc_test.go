//go:build cgo

package cli

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"jpkipilot/device/pcsc"
	"jpkipilot/device/vcard"
	"jpkipilot/device/vpcd"
	"jpkipilot/device/vpcd/vpcdtest"
)

// TestReadersThroughPCSC lists the vpcd readers with a virtual My Number
// card in one of them (JPKIPILOT_TEST_VPCD).
func TestReadersThroughPCSC(t *testing.T) {
	addr := vpcdtest.Addr(t)
	reader := vpcdtest.Reader(t, addr)
	other := vpcdtest.Reader(t, vpcdtest.Other(t, addr))
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
	code, out, stderr := run(t, "", "readers")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, re := range []string{
		`(?m)^` + regexp.QuoteMeta(reader) + ` +present +My Number card \(JPKI\)$`,
		`(?m)^` + regexp.QuoteMeta(other) + ` +absent +-$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output does not match %s:\n%s", re, out)
		}
	}
}

// TestReadersWithoutPCSCD runs "readers" in a child process whose PC/SC
// client looks for pcscd on a socket that does not exist.
func TestReadersWithoutPCSCD(t *testing.T) {
	if os.Getenv("JPKIPILOT_READERS_CHILD") == "1" {
		os.Exit(Run(context.Background(), []string{"readers"}, strings.NewReader(""), os.Stdout, os.Stderr))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestReadersWithoutPCSCD$")
	cmd.Env = append(os.Environ(), "JPKIPILOT_READERS_CHILD=1", "PCSCLITE_CSOCK_NAME="+t.TempDir()+"/no-pcscd.comm")
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "jpkipilot readers: pcscd is not running") {
		t.Fatalf("exit %v:\n%s", err, out)
	}
}

// TestVCardIntoPCSCD serves a phone token with "jpkipilot vcard" into the
// real pcscd and finds it with "jpkipilot readers".
func TestVCardIntoPCSCD(t *testing.T) {
	addr := vpcdtest.Addr(t)
	reader := vpcdtest.Reader(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	vctx, stop := context.WithCancel(ctx)
	var stdout, stderr syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- Run(vctx, []string{"vcard", "--vpcd", addr, "--profile", "phone", "--holder", "M-0007"}, strings.NewReader(""), &stdout, &stderr)
	}()
	if _, err := pcsc.WaitForCard(ctx, reader); err != nil {
		stop()
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	code, out, errOut := run(t, "", "readers")
	if code != 0 || !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(reader)+` +present +Phone token \(JPKI\)$`).MatchString(out) {
		t.Errorf("readers: exit %d\n%s%s", code, out, errOut)
	}
	stop()
	if code := <-exit; code != 0 {
		t.Fatalf("vcard exit %d: %s", code, stderr.String())
	}
	if err := pcsc.WaitForRemoval(ctx, reader); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), `reader "`+reader+`"`) || !strings.Contains(stdout.String(), "PINs: the demo defaults") {
		t.Errorf("vcard output:\n%s", stdout.String())
	}
}
