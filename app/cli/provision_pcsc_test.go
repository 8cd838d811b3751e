//go:build cgo

package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"jpkipilot/device/pcsc"
	"jpkipilot/device/vpcd/vpcdtest"
)

// TestProvisionVirtualSIMThroughPCSC serves `provision vsim` into the real
// pcscd on the second vpcd port and reads the applet's state back with
// `provision status --read` through PC/SC and the SCP03 keys on file.
func TestProvisionVirtualSIMThroughPCSC(t *testing.T) {
	vpcdtest.Addr(t)                   // pcscd with vpcd is there (the test uses the second port)
	const reader = "Virtual PCD 00 01" // port 35964: the provisioning tests' reader
	c := newCounterDesk(t)
	openCard, awaitSwap = openPCSC, pcscAwaitSwap // the real adapter, not the test's virtual reader
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := pcsc.WaitForRemoval(ctx, reader); err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan int, 1)
	var serveOut, serveErr bytes.Buffer
	go func() {
		served <- Run(sctx, []string{"--db", c.db, "provision", "vsim", "--sim", "8981101000000000019", "--vpcd", "127.0.0.1:35964"},
			strings.NewReader(""), &serveOut, &serveErr)
	}()
	defer func() {
		stop()
		<-served
		pcsc.WaitForRemoval(ctx, reader)
	}()
	if _, err := pcsc.WaitForCard(ctx, reader); err != nil {
		t.Fatal(err)
	}
	out := c.ok("provision", "status", "--loan", "L-0001", "--read", "--phone-reader", reader)
	if !strings.Contains(out, "applet (read now): blank") {
		t.Errorf("status --read through pcscd: %q", out)
	}
	stop()
	if code := <-served; code != 0 {
		t.Errorf("vsim exit %d: %s", code, serveErr.String())
	}
	served <- 0 // for the deferred receive
	if strings.Contains(serveOut.String(), "0101010101") {
		t.Error("vsim printed key bytes")
	}
}
