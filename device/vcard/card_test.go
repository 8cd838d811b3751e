package vcard

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestSelectAP(t *testing.T) {
	c := newCard(t, MyNumber)
	// No EF is reachable before the AP is selected.
	want(t, c, selectTokenInfo, 0x6A82)
	if data := want(t, c, selectAP, 0x9000); len(data) != 0 {
		t.Fatalf("SELECT AP returned FCI %X, JPKI returns none", data)
	}
	want(t, c, selectTokenInfo, 0x9000)
	for _, aid := range []string{
		"D3 92 10 00 31 00 01 01 04 08",    // 券面事項入力補助AP
		"D3 92 10 00 31 00 01 01 04 02",    // 券面AP
		"A0 00 00 03 08 00 00 10 00 01 00", // PIV
		"D3 92 F0 00 26 01 00 00 00",       // JPKI AID truncated
		"D3 92 F0 00 26 01 00 00 00 01 00", // JPKI AID with a trailing byte
	} {
		n := len(mustHex(t, aid))
		want(t, c, fmt.Sprintf("00 A4 04 0C %02X %s", n, aid), 0x6A82)
	}
	want(t, c, "00 A4 04 00 0A D3 92 F0 00 26 01 00 00 00 01", 0x6A86)
	want(t, c, "00 A4 08 0C 02 00 06", 0x6A86)
	want(t, c, "00 A4 02 0C 02 00 99", 0x6A82)
	want(t, c, "00 A4 02 0C 03 00 00 06", 0x6700)
}

func TestTokenInfo(t *testing.T) {
	for _, tc := range []struct {
		p     Profile
		token string
	}{{MyNumber, "JPKIAPICCTOKEN2"}, {Phone, "JPKIAPGPSETOKEN"}} {
		t.Run(tc.p.String(), func(t *testing.T) {
			c := newCard(t, tc.p)
			want(t, c, selectAP, 0x9000)
			want(t, c, selectTokenInfo, 0x9000)
			got := want(t, c, "00 B0 00 00 00", 0x9000)
			exp := tc.token + strings.Repeat(" ", 32-len(tc.token))
			if string(got) != exp {
				t.Fatalf("token info %q, want %q", got, exp)
			}
			if got := want(t, c, "00 B0 00 00 04", 0x9000); string(got) != "JPKI" {
				t.Fatalf("4-byte read %q", got)
			}
			if got := want(t, c, "00 B0 00 1F 10", 0x9000); !bytes.Equal(got, []byte{0x20}) {
				t.Fatalf("short read at end %X, want 20", got)
			}
			want(t, c, "00 B0 00 20 01", 0x6B00)
		})
	}
}

func TestReadCertificates(t *testing.T) {
	cfg := demo(t, MyNumber)
	c := newCard(t, MyNumber)
	want(t, c, selectAP, 0x9000)
	for _, f := range []struct {
		sel  string
		want []byte
	}{{selectAuthCert, cfg.AuthCert}, {selectAuthCA, cfg.AuthCACert}, {selectSignCA, cfg.SignCACert}} {
		want(t, c, f.sel, 0x9000)
		if got := readAll(t, c); !bytes.Equal(got, f.want) {
			t.Fatalf("%s: read %d bytes, differ from the %d-byte certificate", f.sel, len(got), len(f.want))
		}
		// OpenSC reads 4 bytes to learn the size from the DER header.
		hdr := want(t, c, "00 B0 00 00 04", 0x9000)
		if n := int(hdr[2])<<8 | int(hdr[3]) + 4; hdr[0] != 0x30 || hdr[1] != 0x82 || n != len(f.want) {
			t.Fatalf("header %X gives %d bytes, certificate has %d", hdr, n, len(f.want))
		}
	}
	want(t, c, selectAuthCert, 0x9000)
	n := len(cfg.AuthCert)
	// Any offset; bit 8 of P1 is not part of it.
	got := want(t, c, fmt.Sprintf("00 B0 %02X %02X 10", 0x80|(300>>8), 300&0xFF), 0x9000)
	if !bytes.Equal(got, cfg.AuthCert[300:316]) {
		t.Fatalf("read at 300: %X", got)
	}
	got = want(t, c, fmt.Sprintf("00 B0 %02X %02X 00", byte((n-5)>>8), byte(n-5)), 0x9000)
	if !bytes.Equal(got, cfg.AuthCert[n-5:]) {
		t.Fatalf("short read at end: %X", got)
	}
	want(t, c, fmt.Sprintf("00 B0 %02X %02X 00", byte(n>>8), byte(n)), 0x6B00)
	want(t, c, "00 B0 7F FF 01", 0x6B00)
}

func TestReadErrors(t *testing.T) {
	c := newCard(t, MyNumber)
	want(t, c, "00 B0 00 00 00", 0x6986) // nothing selected
	want(t, c, selectAP, 0x9000)
	want(t, c, "00 B0 00 00 00", 0x6986) // AP but no EF
	for _, sel := range []string{selectAuthKey, selectAuthPIN, selectSignKey, selectSignPIN} {
		want(t, c, sel, 0x9000)
		want(t, c, "00 B0 00 00 00", 0x6981)
	}
	want(t, c, selectTokenInfo, 0x9000)
	want(t, c, "00 B0 00 00", 0x6700)       // no Le
	want(t, c, "00 B0 00 00 01 00", 0x6700) // data instead of Le
	want(t, c, "00 B0 00 00 01 00 00", 0x6700)
	// A failed SELECT leaves the current EF as it was.
	want(t, c, "00 A4 02 0C 02 12 34", 0x6A82)
	want(t, c, "00 B0 00 00 04", 0x9000)
}

func TestSignCertNeedsSignPIN(t *testing.T) {
	cfg := demo(t, MyNumber)
	c := newCard(t, MyNumber)
	want(t, c, selectAP, 0x9000)
	want(t, c, selectSignCert, 0x9000)
	want(t, c, "00 B0 00 00 00", 0x6982)
	// The auth PIN does not open the signature certificate.
	want(t, c, selectAuthPIN, 0x9000)
	send1(t, c, verifyCmd(DemoAuthPIN), 0x9000)
	want(t, c, selectSignCert, 0x9000)
	want(t, c, "00 B0 00 00 00", 0x6982)
	want(t, c, selectSignPIN, 0x9000)
	send1(t, c, verifyCmd(DemoSignPIN), 0x9000)
	want(t, c, selectSignCert, 0x9000)
	if got := readAll(t, c); !bytes.Equal(got, cfg.SignCert) {
		t.Fatal("signature certificate differs")
	}
}

func TestAuthCertAccessByProfile(t *testing.T) {
	mn := newCard(t, MyNumber)
	want(t, mn, selectAP, 0x9000)
	want(t, mn, selectAuthCert, 0x9000)
	want(t, mn, "00 B0 00 00 00", 0x9000)

	cfg := demo(t, Phone)
	ph := newCard(t, Phone)
	want(t, ph, selectAP, 0x9000)
	want(t, ph, selectAuthCert, 0x9000)
	want(t, ph, "00 B0 00 00 00", 0x6982)
	want(t, ph, selectAuthPIN, 0x9000)
	send1(t, ph, verifyCmd(DemoAuthPIN), 0x9000)
	want(t, ph, selectAuthCert, 0x9000)
	if got := readAll(t, ph); !bytes.Equal(got, cfg.AuthCert) {
		t.Fatal("phone auth certificate differs")
	}
	// The CA certificate stays free on the phone.
	want(t, ph, selectAP, 0x9000)
	want(t, ph, selectAuthCA, 0x9000)
	want(t, ph, "00 B0 00 00 00", 0x9000)
}

func send1(t testing.TB, c *Card, cmd []byte, sw uint16) []byte {
	t.Helper()
	data, got := send(t, c, cmd)
	if got != sw {
		t.Fatalf("%X: SW %04X, want %04X", cmd, got, sw)
	}
	return data
}

func TestPINCountersToBlocked(t *testing.T) {
	for _, tc := range []struct {
		name, sel, good, bad string
		max                  int
	}{
		{"auth", selectAuthPIN, DemoAuthPIN, "9999", AuthPINTries},
		{"sign", selectSignPIN, DemoSignPIN, "WRONG1", SignPINTries},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCard(t, MyNumber)
			want(t, c, selectAP, 0x9000)
			want(t, c, tc.sel, 0x9000)
			query := func(n int) {
				t.Helper()
				want(t, c, pinQuery, 0x63C0|uint16(n))
			}
			query(tc.max)
			query(tc.max) // the query spends nothing
			send1(t, c, verifyCmd(tc.bad), 0x63C0|uint16(tc.max-1))
			query(tc.max - 1)
			// A correct PIN restores the counter.
			send1(t, c, verifyCmd(tc.good), 0x9000)
			query(tc.max)
			for n := tc.max - 1; n >= 0; n-- {
				send1(t, c, verifyCmd(tc.bad), 0x63C0|uint16(n))
			}
			query(0)
			// Blocked: even the right PIN is refused, and nothing is spent.
			send1(t, c, verifyCmd(tc.good), 0x6984)
			send1(t, c, verifyCmd(tc.bad), 0x6984)
			query(0)
			// Blocking survives a reset (it is card state, not session state).
			c.Reset()
			want(t, c, selectAP, 0x9000)
			want(t, c, tc.sel, 0x9000)
			query(0)
		})
	}
}

func TestPINCountersAreIndependent(t *testing.T) {
	c := newCard(t, MyNumber)
	want(t, c, selectAP, 0x9000)
	want(t, c, selectAuthPIN, 0x9000)
	send1(t, c, verifyCmd("0000"), 0x63C2)
	want(t, c, selectSignPIN, 0x9000)
	want(t, c, pinQuery, 0x63C5)
}

func TestPINStateCleared(t *testing.T) {
	c := newCard(t, MyNumber)
	unlocked := func() bool {
		t.Helper()
		want(t, c, selectSignCert, 0x9000)
		_, sw := apdu(t, c, "00 B0 00 00 04")
		return sw == 0x9000
	}
	login := func() {
		t.Helper()
		want(t, c, selectAP, 0x9000)
		want(t, c, selectSignPIN, 0x9000)
		send1(t, c, verifyCmd(DemoSignPIN), 0x9000)
		if !unlocked() {
			t.Fatal("sign certificate locked right after VERIFY")
		}
	}
	login()
	want(t, c, selectAP, 0x9000) // reselecting the AP
	if unlocked() {
		t.Fatal("PIN state survived SELECT AP")
	}
	login()
	c.Reset()
	want(t, c, selectAP, 0x9000)
	if unlocked() {
		t.Fatal("PIN state survived reset")
	}
	login()
	want(t, c, selectSignPIN, 0x9000)
	send1(t, c, verifyCmd("WRONG1"), 0x63C4)
	if unlocked() {
		t.Fatal("PIN state survived a wrong VERIFY")
	}
}

func TestVerifyErrors(t *testing.T) {
	c := newCard(t, MyNumber)
	want(t, c, pinQuery, 0x6986) // nothing selected
	want(t, c, selectAP, 0x9000)
	want(t, c, selectTokenInfo, 0x9000)
	want(t, c, pinQuery, 0x6986) // not a PIN EF
	want(t, c, selectAuthPIN, 0x9000)
	want(t, c, "00 20 00 81", 0x6A86)
	want(t, c, "00 20 01 80 04 31 32 33 34", 0x6A86)
	want(t, c, "00 20 00 80 00", 0x6700) // case 2 VERIFY
	want(t, c, "80 20 00 80", 0x6E00)
	want(t, c, pinQuery, 0x63C3) // none of the above spent a try
}

func TestChangePIN(t *testing.T) {
	for _, tc := range []struct {
		name, sel, old, fresh string
		max                   int
		bad                   []string
	}{
		{"auth", selectAuthPIN, DemoAuthPIN, "4321", AuthPINTries,
			[]string{"123", "12345", "12a4", "１２３"}},
		{"sign", selectSignPIN, DemoSignPIN, "NEWPIN2026", SignPINTries,
			[]string{"ABC12", "abcdef", "ABCDEF12345678901", "ABC-12", "ABC 12"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCard(t, MyNumber)
			want(t, c, selectAP, 0x9000)
			want(t, c, tc.sel, 0x9000)
			send1(t, c, changeCmd(tc.fresh), 0x6982) // not verified
			send1(t, c, verifyCmd(tc.old), 0x9000)
			for _, b := range tc.bad {
				send1(t, c, changeCmd(b), 0x6A80)
			}
			want(t, c, "00 24 00 80 04 31 32 33 34", 0x6A86)
			want(t, c, "00 24 01 80", 0x6700)
			send1(t, c, changeCmd(tc.fresh), 0x9000)
			// The old PIN is now wrong, the new one right.
			want(t, c, selectAP, 0x9000)
			want(t, c, tc.sel, 0x9000)
			send1(t, c, verifyCmd(tc.old), 0x63C0|uint16(tc.max-1))
			send1(t, c, verifyCmd(tc.fresh), 0x9000)
			want(t, c, pinQuery, 0x63C0|uint16(tc.max))
		})
	}
	c := newCard(t, MyNumber)
	want(t, c, selectAP, 0x9000)
	want(t, c, selectTokenInfo, 0x9000)
	send1(t, c, changeCmd("4321"), 0x6986)
}

// digestInfoSHA256 is the DER DigestInfo prefix a JPKI client sends.
var digestInfoSHA256 = []byte{0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}

func signCmd(data []byte) []byte {
	cmd := append([]byte{0x80, 0x2A, 0x00, 0x80, byte(len(data))}, data...)
	return append(cmd, 0x00)
}

func TestComputeSignature(t *testing.T) {
	for _, p := range []Profile{MyNumber, Phone} {
		cfg := demo(t, p)
		for _, k := range []struct {
			name, pinSel, keySel, pin, otherSel, otherPIN string
			cert                                          []byte
		}{
			{"auth", selectAuthPIN, selectAuthKey, DemoAuthPIN, selectSignPIN, DemoSignPIN, cfg.AuthCert},
			{"sign", selectSignPIN, selectSignKey, DemoSignPIN, selectAuthPIN, DemoAuthPIN, cfg.SignCert},
		} {
			t.Run(p.String()+"/"+k.name, func(t *testing.T) {
				c := newCard(t, p)
				msg := []byte("ticket 0042 for DEMO TARO")
				h := sha256.Sum256(msg)
				di := append(append([]byte(nil), digestInfoSHA256...), h[:]...)

				want(t, c, selectAP, 0x9000)
				want(t, c, k.keySel, 0x9000)
				send1(t, c, signCmd(di), 0x6982)
				// The other PIN does not unlock this key.
				want(t, c, k.otherSel, 0x9000)
				send1(t, c, verifyCmd(k.otherPIN), 0x9000)
				want(t, c, k.keySel, 0x9000)
				send1(t, c, signCmd(di), 0x6982)

				want(t, c, k.pinSel, 0x9000)
				send1(t, c, verifyCmd(k.pin), 0x9000)
				send1(t, c, signCmd(di), 0x6986) // a PIN EF is not a key
				want(t, c, k.keySel, 0x9000)
				sig := send1(t, c, signCmd(di), 0x9000)
				if len(sig) != 256 {
					t.Fatalf("signature of %d bytes, want 256", len(sig))
				}
				cert, err := x509.ParseCertificate(k.cert)
				if err != nil {
					t.Fatal(err)
				}
				if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, h[:], sig); err != nil {
					t.Fatalf("signature does not verify with the certificate's key: %v", err)
				}
				// Case 3 (no Le) is accepted too; a DigestInfo longer than
				// the key allows is a length error.
				send1(t, c, signCmd(di)[:5+len(di)], 0x9000)
				send1(t, c, signCmd(bytes.Repeat([]byte{1}, 246)), 0x6700)
				want(t, c, "00 2A 00 80 01 00 00", 0x6E00)
				want(t, c, "80 2A 9E 9A 01 00 00", 0x6A86)
			})
		}
	}
}

func TestClassAndInstruction(t *testing.T) {
	c := newCard(t, MyNumber)
	want(t, c, "10 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01", 0x6E00)
	want(t, c, "0C A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01", 0x6E00)
	want(t, c, "80 B0 00 00 00", 0x6E00)
	want(t, c, "FF CA 00 00 00", 0x6E00)
	want(t, c, "00 CA 01 00 00", 0x6D00)
	want(t, c, "00 84 00 00 08", 0x6D00)
	want(t, c, "00", 0x6700)
	want(t, c, "", 0x6700)
	want(t, c, "00 A4 04 0C 0A D3 92", 0x6700) // Lc longer than the data
	want(t, c, "00 A4 04 0C 00 D3 92", 0x6700) // extended length
}

func TestPhoneWithoutSignaturePair(t *testing.T) {
	cfg := demo(t, Phone)
	cfg.SignKey, cfg.SignCert, cfg.SignCACert, cfg.SignPIN = nil, nil, nil, ""
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want(t, c, selectAP, 0x9000)
	for _, sel := range []string{selectSignCert, selectSignCA, selectSignKey, selectSignPIN} {
		want(t, c, sel, 0x6A82)
	}
	want(t, c, selectAuthPIN, 0x9000)
}

func TestConfigValidate(t *testing.T) {
	good := demo(t, MyNumber)
	other := demo(t, Phone)
	for _, tc := range []struct {
		name   string
		change func(*Config)
		msg    string
	}{
		{"profile", func(c *Config) { c.Profile = 7 }, "profile"},
		{"auth key", func(c *Config) { c.AuthKey = nil }, "auth key missing"},
		{"auth PIN", func(c *Config) { c.AuthPIN = "12345" }, "auth PIN"},
		{"sign PIN", func(c *Config) { c.SignPIN = "abcdef" }, "sign PIN"},
		{"sign missing", func(c *Config) { c.SignKey = nil }, "sign key missing"},
		{"cert not DER", func(c *Config) { c.AuthCert = []byte("hello") }, "auth certificate must be DER"},
		{"CA not DER", func(c *Config) { c.SignCACert = bytes.Repeat([]byte{0x30}, 300) }, "sign CA certificate must be DER"},
		{"key mismatch", func(c *Config) { c.AuthKey = other.AuthKey }, "does not hold the auth key"},
		{"swapped", func(c *Config) { c.AuthCert, c.SignCert = c.SignCert, c.AuthCert }, "does not hold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.change(&cfg)
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("New: %v, want an error containing %q", err, tc.msg)
			}
		})
	}
}

func TestProfileNames(t *testing.T) {
	for _, p := range []Profile{MyNumber, Phone} {
		got, err := ParseProfile(p.String())
		if err != nil || got != p {
			t.Fatalf("ParseProfile(%q) = %v, %v", p.String(), got, err)
		}
	}
	if _, err := ParseProfile("sim"); err == nil {
		t.Fatal("ParseProfile accepted sim")
	}
	if !bytes.Equal(newCard(t, MyNumber).ATR(), ATRMyNumber) || !bytes.Equal(newCard(t, Phone).ATR(), ATRPhone) {
		t.Fatal("ATR does not follow the profile")
	}
}

func TestDemoCertificates(t *testing.T) {
	cfg := demo(t, MyNumber)
	roots := x509.NewCertPool()
	root, err := x509.ParseCertificate(demoCA.RootCert)
	if err != nil {
		t.Fatal(err)
	}
	roots.AddCert(root)
	for _, tc := range []struct {
		name         string
		leaf, ca     []byte
		usage        x509.ExtKeyUsage
		holderInLeaf bool
	}{
		{"auth", cfg.AuthCert, cfg.AuthCACert, x509.ExtKeyUsageClientAuth, false},
		{"sign", cfg.SignCert, cfg.SignCACert, x509.ExtKeyUsageAny, true},
	} {
		leaf, err := x509.ParseCertificate(tc.leaf)
		if err != nil {
			t.Fatal(err)
		}
		ca, err := x509.ParseCertificate(tc.ca)
		if err != nil {
			t.Fatal(err)
		}
		inter := x509.NewCertPool()
		inter.AddCert(ca)
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{tc.usage}}); err != nil {
			t.Fatalf("%s chain: %v", tc.name, err)
		}
		if got := strings.Contains(leaf.Subject.String(), "DEMO TARO"); got != tc.holderInLeaf {
			t.Fatalf("%s subject %q: holder name present = %v", tc.name, leaf.Subject, got)
		}
	}
	if _, err := demoCA.Issue(MyNumber, ""); err == nil {
		t.Fatal("Issue accepted an empty holder")
	}
}

// TestConcurrentProcess interleaves commands and resets from several
// goroutines on one card: -race checks the locking, and every response must
// stay well-formed.
func TestConcurrentProcess(t *testing.T) {
	shared := newCard(t, MyNumber)
	var cmds [][]byte
	for _, s := range []string{selectAP, selectTokenInfo, "00 B0 00 00 00", selectAuthPIN, pinQuery} {
		cmds = append(cmds, mustHex(t, s))
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				for _, cmd := range cmds {
					if r := shared.Process(cmd); len(r) < 2 {
						t.Errorf("%X: malformed response %X", cmd, r)
					}
				}
				shared.Reset()
			}
		})
	}
	wg.Wait()
}
