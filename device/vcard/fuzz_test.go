package vcard

import (
	"testing"
)

// script packs APDUs as length-prefixed records so that one fuzz input can
// drive a stateful session (select, verify, read, sign).
func script(cmds ...[]byte) []byte {
	var b []byte
	for _, c := range cmds {
		b = append(b, byte(len(c)))
		b = append(b, c...)
	}
	return b
}

func FuzzProcess(f *testing.F) {
	h := func(s string) []byte { return mustHex(f, s) }
	f.Add(script(h(selectAP), h(selectTokenInfo), h("00 B0 00 00 00")))
	f.Add(script(h(selectAP), h(selectAuthCert), h("00 B0 01 00 00"), h("00 B0 7F FF 00")))
	f.Add(script(h(selectAP), h(selectSignPIN), verifyCmd(DemoSignPIN), changeCmd("NEWPIN1"), h(pinQuery)))
	f.Add(script(h(selectAP), h(selectAuthPIN), verifyCmd(DemoAuthPIN), h(selectAuthKey), signCmd(make([]byte, 51))))
	f.Add(script(h(selectAP), h(selectAuthPIN), verifyCmd("0000"), verifyCmd("0000"), verifyCmd("0000"), verifyCmd(DemoAuthPIN)))
	f.Add(script(h("00 A4 04 0C 00"), h("00"), h("FF FF FF FF FF")))
	f.Add([]byte{})
	cfg := demo(f, Phone)
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for len(in) > 0 {
			n := min(int(in[0]), len(in)-1)
			cmd := in[1 : 1+n]
			in = in[1+n:]
			r := c.Process(cmd)
			if len(r) < 2 || len(r) > 258 {
				t.Fatalf("%X: response of %d bytes", cmd, len(r))
			}
			sw := uint16(r[len(r)-2])<<8 | uint16(r[len(r)-1])
			if sw != 0x9000 && len(r) != 2 {
				t.Fatalf("%X: error %04X carries data %X", cmd, sw, r[:len(r)-2])
			}
			if sw>>8 != 0x90 && sw>>8 != 0x63 && sw>>8 != 0x67 && sw>>8 != 0x69 && sw>>8 != 0x6A &&
				sw>>8 != 0x6B && sw>>8 != 0x6D && sw>>8 != 0x6E && sw>>8 != 0x6F {
				t.Fatalf("%X: unexpected status %04X", cmd, sw)
			}
		}
	})
}
