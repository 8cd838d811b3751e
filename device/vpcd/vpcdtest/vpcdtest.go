// Package vpcdtest finds the test pcscd with vsmartcard's vpcd driver that
// scripts/pcsc-harness.sh starts, for tests that go through the real PC/SC
// stack.
package vpcdtest

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"testing"
)

// FirstPort is vpcd's first port; the reader behind it is "Virtual PCD 00 00"
// and the one behind FirstPort+1 is "Virtual PCD 00 01".
const FirstPort = 35963

// Addr returns JPKIPILOT_TEST_VPCD, the vpcd address of the test pcscd, or
// skips the test when there is none; under JPKIPILOT_REQUIRE_SERVICES=1 it
// fails the test instead, so nothing skips silently in CI.
func Addr(tb testing.TB) string {
	tb.Helper()
	addr := os.Getenv("JPKIPILOT_TEST_VPCD")
	if addr == "" {
		if os.Getenv("JPKIPILOT_REQUIRE_SERVICES") == "1" {
			tb.Fatal("JPKIPILOT_TEST_VPCD is not set but JPKIPILOT_REQUIRE_SERVICES=1: start scripts/pcsc-harness.sh")
		}
		tb.Skip("JPKIPILOT_TEST_VPCD not set: no pcscd with the vpcd driver (run `make test`)")
	}
	return addr
}

// Reader names the PC/SC reader pcscd shows for the vpcd port of addr.
func Reader(tb testing.TB, addr string) string {
	tb.Helper()
	name, err := ReaderName(addr)
	if err != nil {
		tb.Fatal(err)
	}
	return name
}

// ReaderName is Reader without a test.
func ReaderName(addr string) (string, error) {
	_, p, err := net.SplitHostPort(addr)
	n, err2 := strconv.Atoi(p)
	if err != nil || err2 != nil || n < FirstPort || n > FirstPort+1 {
		return "", fmt.Errorf("vpcd address %q: want 127.0.0.1:%d or :%d", addr, FirstPort, FirstPort+1)
	}
	return fmt.Sprintf("Virtual PCD 00 %02d", n-FirstPort), nil
}

// Other returns the address of the other vpcd port than addr's.
func Other(tb testing.TB, addr string) string {
	tb.Helper()
	host, p, err := net.SplitHostPort(addr)
	n, err2 := strconv.Atoi(p)
	if err != nil || err2 != nil || n < FirstPort || n > FirstPort+1 {
		tb.Fatalf("vpcd address %q: want 127.0.0.1:%d or :%d", addr, FirstPort, FirstPort+1)
	}
	return net.JoinHostPort(host, strconv.Itoa(2*FirstPort+1-n))
}
