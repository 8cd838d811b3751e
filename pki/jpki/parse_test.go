package jpki

import (
	"bytes"
	"context"
	"crypto"
	"strings"
	"testing"
	"unicode/utf8"

	"jpkipilot/device"
)

func TestCertLength(t *testing.T) {
	for _, tc := range []struct {
		head string
		want int
	}{
		{"308200FC", 256},
		{"30820404", 1032},
		{"30827FFC", 32768},
	} {
		got, err := certLength(unhex(t, tc.head))
		if err != nil || got != tc.want {
			t.Errorf("certLength(%s) = %d, %v; want %d", tc.head, got, err, tc.want)
		}
	}
}

func FuzzCertLength(f *testing.F) {
	for _, s := range []string{"", "30", "3082", "308200FC", "30820404", "30827FFD", "3082FFFF", "3081FF", "31820404", "308400000404"} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		n, err := certLength(head)
		if err != nil {
			if n != 0 || !strings.Contains(err.Error(), "malformed certificate") {
				t.Fatalf("certLength(%X) = %d, %v", head, n, err)
			}
			return
		}
		if head[0] != 0x30 || head[1] != 0x82 || n != 4+int(head[2])<<8+int(head[3]) || n < 256 || n > 32768 {
			t.Fatalf("certLength(%X) = %d accepted a bad header", head, n)
		}
	})
}

func FuzzParseTokenInfo(f *testing.F) {
	pad := func(s string) []byte { return []byte(s + strings.Repeat(" ", 32-len(s))) }
	f.Add(pad(labelCard))
	f.Add(pad(labelPhone))
	f.Add([]byte(labelCard))
	f.Add(append([]byte(labelPhone), make([]byte, 17)...))
	f.Add(pad("JPKIAPICCTOKEN3"))
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xFF}, 40))
	f.Fuzz(func(t *testing.T, b []byte) {
		ti, err := ParseTokenInfo(b)
		if err != nil {
			if ti != (TokenInfo{}) {
				t.Fatalf("error %v with a result %+v", err, ti)
			}
			if !utf8.ValidString(err.Error()) {
				t.Fatalf("error message is not valid UTF-8: %q", err)
			}
			return
		}
		switch {
		case ti.Kind == MyNumberCard && strings.HasPrefix(ti.Label, "JPKIAPICCTOKEN"):
		case ti.Kind == PhoneToken && ti.Label == labelPhone:
		default:
			t.Fatalf("ParseTokenInfo(%q) = %+v", b, ti)
		}
		if len(b) > 32 || !bytes.HasPrefix(b, []byte(ti.Label)) || len(bytes.Trim(b[len(ti.Label):], " \x00")) != 0 {
			t.Fatalf("ParseTokenInfo(%q) accepted bytes beyond the padded label", b)
		}
	})
}

// fileCard answers SELECT with 9000 and READ BINARY from file with the
// usual semantics (short read at the end, 6B00 past it), so that the fuzzer
// drives the whole chunked read over arbitrary file contents.
type fileCard struct{ file []byte }

func (f *fileCard) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	cmd, err := device.ParseCommand(apdu)
	if err != nil {
		return nil, err
	}
	switch cmd.INS {
	case 0xA4:
		return []byte{0x90, 0x00}, nil
	case 0xB0:
		off := int(cmd.P1&0x7F)<<8 | int(cmd.P2)
		if off > len(f.file) {
			return []byte{0x6B, 0x00}, nil
		}
		end := min(off+cmd.Le, len(f.file))
		return device.Response{Data: f.file[off:end], SW: device.SWOK}.Bytes(), nil
	}
	return []byte{0x6D, 0x00}, nil
}

func FuzzReadCertEF(f *testing.F) {
	der, _ := testCert()
	f.Add(der)
	f.Add(append(append([]byte(nil), der...), 0, 0, 0)) // padded EF
	f.Add(der[:len(der)-1])
	f.Add(der[:300])
	f.Add([]byte{0x30, 0x82, 0x01, 0x00})
	f.Add([]byte{0x30, 0x82, 0x7F, 0xFC})
	f.Fuzz(func(t *testing.T, file []byte) {
		card := &device.Card{T: &fileCard{file: file}}
		c := New(card)
		got, err := c.readCertEF(context.Background(), efAuthCert)
		n := card.APDUCount()
		if err != nil {
			if got != nil {
				t.Fatalf("error %v with %d bytes", err, len(got))
			}
			if n > 2+128 {
				t.Fatalf("%d APDUs for a failed read", n)
			}
			return
		}
		total, herr := certLength(file)
		if herr != nil || len(got) != total || !bytes.Equal(got, file[:total]) {
			t.Fatalf("read %d bytes from a %d-byte file (header %v)", len(got), len(file), herr)
		}
		if want := 2 + (total+255)/256; n != want {
			t.Fatalf("%d APDUs, want %d for %d bytes", n, want, total)
		}
	})
}

func FuzzCheckPIN(f *testing.F) {
	for _, s := range []string{"1234", "123", "ABC123", "abc123", "0123456789ABCDEFG", "１２３４"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pin string) {
		authOK := CheckPIN(Auth, pin) == nil
		signOK := CheckPIN(Sign, pin) == nil
		digits := strings.Trim(pin, "0123456789") == ""
		alnum := strings.Trim(pin, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
		if authOK != (len(pin) == 4 && digits) {
			t.Fatalf("CheckPIN(Auth, %q) ok=%v", pin, authOK)
		}
		if signOK != (len(pin) >= 6 && len(pin) <= 16 && alnum) {
			t.Fatalf("CheckPIN(Sign, %q) ok=%v", pin, signOK)
		}
	})
}

func TestDigestInfo(t *testing.T) {
	for h, size := range map[crypto.Hash]int{crypto.SHA1: 35, crypto.SHA256: 51, crypto.SHA384: 67, crypto.SHA512: 83} {
		d := bytes.Repeat([]byte{0xAB}, h.Size())
		di, err := digestInfo(h, d)
		if err != nil || len(di) != size || !bytes.HasSuffix(di, d) || int(di[1]) != size-2 {
			t.Errorf("%v: DigestInfo %X, %v", h, di, err)
		}
	}
}

// answerCard answers SELECT with 9000 and anything else with resp.
type answerCard struct{ resp []byte }

func (a answerCard) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	if apdu[1] == 0xA4 {
		return []byte{0x90, 0x00}, nil
	}
	return a.resp, nil
}

func FuzzPINStatusResponse(f *testing.F) {
	for _, s := range []string{"63C3", "63C0", "63CF", "9000", "6984", "6983", "6A82", "", "63", "0163C2", "6F00"} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, resp []byte) {
		for _, kind := range []Kind{Auth, Sign} {
			st, err := New(&device.Card{T: answerCard{resp}}).PINStatus(context.Background(), kind)
			if err != nil {
				if st != (PINStatus{}) {
					t.Fatalf("%X: error %v with status %+v", resp, err, st)
				}
				continue
			}
			sw := uint16(resp[len(resp)-2])<<8 | uint16(resp[len(resp)-1])
			if st.Kind != kind || st.Max != kind.MaxTries() || st.TriesLeft < 0 || st.TriesLeft > 15 ||
				st.Blocked != (st.TriesLeft == 0 && !st.Verified) || st.Verified != (sw == 0x9000) {
				t.Fatalf("%X: status %+v", resp, st)
			}
		}
	})
}
