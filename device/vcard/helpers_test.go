package vcard

import (
	"encoding/hex"
	"strings"
	"sync"
	"testing"
)

// Key generation is the slow part: one demo hierarchy per test binary.
var (
	demoOnce                sync.Once
	demoCA                  *DemoCA
	demoMyNumber, demoPhone Config
	demoErr                 error
)

func demo(t testing.TB, p Profile) Config {
	t.Helper()
	demoOnce.Do(func() {
		if demoCA, demoErr = NewDemoCA(); demoErr != nil {
			return
		}
		if demoMyNumber, demoErr = demoCA.Issue(MyNumber, "DEMO TARO"); demoErr != nil {
			return
		}
		demoPhone, demoErr = demoCA.Issue(Phone, "DEMO HANAKO")
	})
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	if p == Phone {
		return demoPhone
	}
	return demoMyNumber
}

func newCard(t testing.TB, p Profile) *Card {
	t.Helper()
	c, err := New(demo(t, p))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// apdu sends a hex APDU (spaces allowed) and splits the response.
func apdu(t testing.TB, c *Card, s string) ([]byte, uint16) {
	t.Helper()
	return send(t, c, mustHex(t, s))
}

func send(t testing.TB, c *Card, cmd []byte) ([]byte, uint16) {
	t.Helper()
	r := c.Process(cmd)
	if len(r) < 2 {
		t.Fatalf("%X: response %X has no status word", cmd, r)
	}
	n := len(r) - 2
	return r[:n], uint16(r[n])<<8 | uint16(r[n+1])
}

// want sends and checks the status word.
func want(t testing.TB, c *Card, s string, sw uint16) []byte {
	t.Helper()
	data, got := apdu(t, c, s)
	if got != sw {
		t.Fatalf("%s: SW %04X, want %04X", s, got, sw)
	}
	return data
}

const (
	selectAP        = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"
	selectSignCert  = "00 A4 02 0C 02 00 01"
	selectSignCA    = "00 A4 02 0C 02 00 02"
	selectTokenInfo = "00 A4 02 0C 02 00 06"
	selectAuthCert  = "00 A4 02 0C 02 00 0A"
	selectAuthCA    = "00 A4 02 0C 02 00 0B"
	selectAuthKey   = "00 A4 02 0C 02 00 17"
	selectAuthPIN   = "00 A4 02 0C 02 00 18"
	selectSignKey   = "00 A4 02 0C 02 00 1A"
	selectSignPIN   = "00 A4 02 0C 02 00 1B"
	pinQuery        = "00 20 00 80"
)

func verifyCmd(pin string) []byte {
	return append([]byte{0x00, 0x20, 0x00, 0x80, byte(len(pin))}, pin...)
}

func changeCmd(pin string) []byte {
	return append([]byte{0x00, 0x24, 0x01, 0x80, byte(len(pin))}, pin...)
}

// readAll reads the current EF the way a JPKI client does: 256-byte chunks
// until a short read.
func readAll(t testing.TB, c *Card) []byte {
	t.Helper()
	var out []byte
	for {
		off := len(out)
		data, sw := send(t, c, []byte{0x00, 0xB0, byte(off >> 8), byte(off), 0x00})
		if sw == 0x6B00 && off > 0 {
			return out
		}
		if sw != 0x9000 {
			t.Fatalf("READ BINARY at %d: SW %04X", off, sw)
		}
		out = append(out, data...)
		if len(data) < 256 {
			return out
		}
	}
}
