package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"jpkipilot/device/vcard"
	"jpkipilot/device/vpcd"
)

func TestVCardUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"vcard", "--profile", "sim"}, "--profile"},
		{[]string{"vcard", "--auth-pin", "98765"}, "--auth-pin must be exactly 4 digits"},
		{[]string{"vcard", "--sign-pin", "abc"}, "--sign-pin must be"},
		{[]string{"vcard", "--vpcd", "35963"}, "--vpcd"},
		{[]string{"vcard", "--holder", ""}, "--holder"},
		{[]string{"vcard", "extra"}, "unexpected argument"},
	} {
		code, _, stderr := run(t, "", tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
		if strings.Contains(stderr, "98765") {
			t.Errorf("%q: the rejected PIN is echoed: %q", tc.args, stderr)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the command's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestVCardServes runs "jpkipilot vcard" against a listener that speaks
// vpcd's side of the protocol, and checks the card it serves.
func TestVCardServes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- Run(ctx, []string{"vcard", "--vpcd", ln.Addr().String(), "--profile", "phone", "--holder", "M-0042",
			"--auth-pin", "4321", "--sign-pin", "ZZZ999"}, strings.NewReader(""), &stdout, &stderr)
	}()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	send := func(payload []byte) []byte {
		t.Helper()
		if err := vpcd.WriteFrame(conn, payload); err != nil {
			t.Fatal(err)
		}
		resp, err := vpcd.ReadFrame(conn, 0xFFFF)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	ok := func(payload []byte) []byte {
		t.Helper()
		r := send(payload)
		if len(r) < 2 || r[len(r)-2] != 0x90 || r[len(r)-1] != 0x00 {
			t.Fatalf("%X: %X", payload, r)
		}
		return r[:len(r)-2]
	}
	if atr := send([]byte{vpcd.CtrlGetATR}); !bytes.Equal(atr, vcard.ATRPhone) {
		t.Fatalf("ATR %X", atr)
	}
	ok(append([]byte{0x00, 0xA4, 0x04, 0x0C, 0x0A}, vcard.AID...))
	ok([]byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x06})
	if info := ok([]byte{0x00, 0xB0, 0x00, 0x00, 0x00}); !strings.HasPrefix(string(info), vcard.TokenPhone) {
		t.Fatalf("token info %q", info)
	}
	// The PIN given on the command line is the card's; the phone's auth
	// certificate opens with it.
	ok([]byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x18})
	ok(append([]byte{0x00, 0x20, 0x00, 0x80, 0x04}, "4321"...))
	ok([]byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A})
	var der []byte
	for {
		chunk := ok([]byte{0x00, 0xB0, byte(len(der) >> 8), byte(len(der)), 0x00})
		der = append(der, chunk...)
		if len(chunk) < 256 {
			break
		}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if code := <-exit; code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"phone profile", `"M-0042"`, fmt.Sprintf("auth certificate serial: %X", cert.SerialNumber), "as given on the command line"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"4321", "ZZZ999"} {
		if strings.Contains(out+stderr.String(), secret) {
			t.Errorf("a PIN is printed:\n%s%s", out, stderr.String())
		}
	}
}
