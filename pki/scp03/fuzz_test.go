package scp03

import (
	"bytes"
	"testing"
)

// FuzzCardSession feeds arbitrary APDUs to the card side, in and out of an
// open channel: it must answer with a status word or an unwrapped command,
// never panic, and a command that was not wrapped by the host never gets
// through.
func FuzzCardSession(f *testing.F) {
	k := gpKeys(f, 0x30)
	f.Add([]byte{0x80, 0x50, 0x30, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00}, true)
	f.Add([]byte{0x84, 0x82, 0x03, 0x00, 0x10, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, false)
	f.Add([]byte{0x84, 0xE2, 0x00, 0x00, 0x18, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 1, 2, 3, 4, 5, 6, 7, 8}, true)
	f.Add([]byte{0x84, 0xCA, 0x00, 0x66, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0x00}, true)
	f.Add([]byte{0x84}, true)
	f.Add([]byte{0x84, 0xE2, 0x00, 0x00, 0x00, 0x01, 0x00}, true)
	f.Fuzz(func(t *testing.T, apdu []byte, opened bool) {
		c, err := NewCardSession(k, kdd, bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
		if err != nil {
			t.Fatal(err)
		}
		if opened {
			h, _ := NewSession(k, LevelCMAC|LevelCDEC|LevelRMAC, bytes.NewReader(make([]byte, 8)))
			ea, err := h.ExternalAuthenticate(c.Handshake(h.InitializeUpdate()))
			if err != nil {
				t.Fatal(err)
			}
			if err := h.Authenticated(c.Handshake(ea)); err != nil {
				t.Fatal(err)
			}
		}
		if IsHandshake(apdu) {
			r := c.Handshake(apdu)
			if len(r) < 2 {
				t.Fatalf("handshake answer % X has no status word", r)
			}
			return
		}
		if _, err := c.Unwrap(apdu); err == nil {
			t.Fatalf("an APDU the host never wrapped got through: % X", apdu)
		} else if c.Open() {
			t.Fatal("channel still open after a refused command")
		}
		_ = c.Respond(apdu, 0x9000)
	})
}

// FuzzParseInitResponse: any bytes give a response or an error, and a
// parsed response encodes back to the same bytes.
func FuzzParseInitResponse(f *testing.F) {
	f.Add(make([]byte, 29))
	seed := make([]byte, 29)
	seed[11] = 0x03
	f.Add(seed)
	seed32 := append(append([]byte(nil), seed...), 0, 0, 1)
	seed32[12] = ParamPseudoRandom
	f.Add(seed32)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseInitResponse(b)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Bytes(), b) {
			t.Fatalf("% X parsed and encoded to % X", b, r.Bytes())
		}
	})
}
