package sim

import (
	"bytes"
	"testing"

	"jpkipilot/device"
)

func FuzzParseStatus(f *testing.F) {
	f.Add(EncodeStatus(Status{State: CertStored, Parts: PartKey | PartCert}))
	f.Add([]byte{0xE3, 0x00})
	f.Add([]byte{0xE3, 0x82, 0xFF})
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := ParseStatus(b)
		if err != nil {
			return
		}
		if !bytes.Equal(EncodeStatus(st), b) {
			t.Fatalf("accepted %X but encodes as %X", b, EncodeStatus(st))
		}
	})
}

func FuzzParsePublicKey(f *testing.F) {
	f.Add(EncodePublicKey(&pool(f)[0].PublicKey))
	f.Add([]byte{0x7F, 0x49, 0x81, 0x05, 0x81, 0x01, 0x01, 0x82, 0x00})
	f.Add([]byte{0x7F, 0x49, 0x82, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, b []byte) {
		if n, err := PublicKeyLength(b); err == nil && n < 5 {
			t.Fatalf("length %d from %X", n, b)
		}
		pub, err := ParsePublicKey(b)
		if err != nil {
			return
		}
		if pub.N.BitLen() != 2048 || pub.E < 3 {
			t.Fatalf("accepted a bad key: %d bits, e=%d", pub.N.BitLen(), pub.E)
		}
	})
}

func FuzzDecodeDGI(f *testing.F) {
	f.Add(EncodeDGI(DGIAuthCert, bytes.Repeat([]byte{1}, 300)))
	f.Add(EncodeDGI(DGIAuthCACert, []byte{1, 2}))
	f.Add([]byte{0x00, 0x0A, 0xFF, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		tag, data, err := DecodeDGI(b)
		if err != nil {
			return
		}
		// Only a long-form length for short data encodes differently.
		if !bytes.Equal(EncodeDGI(tag, data), b) && !(b[2] == 0xFF && len(data) < 255) {
			t.Fatalf("round trip of %X", b)
		}
	})
}

// FuzzAppletProcess: any bytes get a well-formed answer and never a
// provisioned applet, with or without a channel open first.
func FuzzAppletProcess(f *testing.F) {
	f.Add(SelectAIDBytes(), []byte{0x84, 0xE2, 0x88, 0x00, 0x01, 0x00})
	f.Add([]byte{0x80, 0x50, 0x00, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00}, []byte{0x84, 0xF0, 0x40, 0x0F})
	f.Add([]byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A}, []byte{0x00, 0xB0, 0x00, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, a1, a2 []byte) {
		a := newApplet(t)
		for _, apdu := range [][]byte{SelectAIDBytes(), a1, a2} {
			if _, err := device.ParseResponse(a.Process(apdu)); err != nil {
				t.Fatal(err)
			}
		}
		if st := a.Status(); st.State != Blank {
			t.Fatalf("state %v without a channel", st)
		}
	})
}
