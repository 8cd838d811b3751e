package jpki

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"jpkipilot/device"
)

func TestReadCertificateSendsExactlyTheNeededAPDUs(t *testing.T) {
	der, _ := testCert()
	steps := []step{{cmd: cmdSelectAP, resp: ok}, {cmd: cmdSelectEF(efAuthCert), resp: ok}}
	steps = append(steps, readSteps(der)...)
	// A second read in the same session skips SELECT AP.
	steps = append(steps, step{cmd: cmdSelectEF(efAuthCACert), resp: ok})
	steps = append(steps, readSteps(der)...)
	c, s := newScripted(t, steps...)
	ctx := context.Background()
	for _, k := range []CertKind{CertAuth, CertAuthCA} {
		cert, err := c.ReadCertificate(ctx, k, nil)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if string(cert.Raw) != string(der) {
			t.Fatalf("%s: read %d bytes that differ from the %d on the card", k, len(cert.Raw), len(der))
		}
	}
	s.done()
}

func TestReadCertificateRejectsMalformedFiles(t *testing.T) {
	der, _ := testCert()
	hexDER := hex.EncodeToString(der)
	body := func(n int) string { return strings.Repeat("00", n) }
	cases := []struct {
		name  string
		reads []step
		want  string
	}{
		{"header too short", []step{{cmd: cmdRead(0, 256), resp: "3082" + ok}}, "too short for a DER header"},
		{"empty file", []step{{cmd: cmdRead(0, 256), resp: ok}}, "0 bytes are too short"},
		{"bad tag", []step{{cmd: cmdRead(0, 256), resp: "31820400" + body(252) + ok}}, "tag 31"},
		{"one length byte", []step{{cmd: cmdRead(0, 256), resp: "3081FC" + body(253) + ok}}, "length byte 81"},
		{"four length bytes", []step{{cmd: cmdRead(0, 256), resp: "308400000400" + body(250) + ok}}, "length byte 84"},
		{"length below 252", []step{{cmd: cmdRead(0, 256), resp: "308200FB" + body(252) + ok}}, "DER length 251"},
		{"length beyond READ BINARY", []step{{cmd: cmdRead(0, 256), resp: "3082FFFF" + body(252) + ok}}, "exceed the 32768"},
		{"short first chunk", []step{{cmd: cmdRead(0, 256), resp: hexDER[:200] + ok}}, "truncated: the file ended after 100 of"},
		{"short later chunk", []step{
			{cmd: cmdRead(0, 256), resp: hexDER[:512] + ok},
			{cmd: cmdRead(256, 256), resp: hexDER[512:1000] + ok},
		}, "truncated: the file ended after 500 of"},
		{"more bytes than asked", []step{
			{cmd: cmdRead(0, 256), resp: "30820104" + body(252) + ok},
			{cmd: cmdRead(256, 8), resp: body(9) + ok},
		}, "card returned 9 bytes, more than the 8 asked for"},
		{"garbage inside the DER", []step{
			{cmd: cmdRead(0, 256), resp: "30820104" + body(252) + ok},
			{cmd: cmdRead(256, 8), resp: body(8) + ok},
		}, "malformed certificate"},
		{"read refused", []step{{cmd: cmdRead(0, 256), resp: "6B00"}}, "READ BINARY at offset 0: card returned status 6B00"},
		{"end of file warning", []step{{cmd: cmdRead(0, 256), resp: "6282"}}, "6282"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			steps := append([]step{{cmd: cmdSelectAP, resp: ok}, {cmd: cmdSelectEF(efAuthCACert), resp: ok}}, tc.reads...)
			c, s := newScripted(t, steps...)
			_, err := c.ReadCertificate(context.Background(), CertAuthCA, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "jpki: read authca certificate: ") {
				t.Errorf("error %q does not name the operation", err)
			}
			s.done()
		})
	}
}

func TestReadCertificateNotJPKI(t *testing.T) {
	c, s := newScripted(t, step{cmd: cmdSelectAP, resp: "6A82"})
	_, err := c.ReadCertificate(context.Background(), CertAuth, nil)
	if !errors.Is(err, ErrNotJPKI) || !errors.Is(err, device.ErrNotFound) {
		t.Fatalf("error = %v, want ErrNotJPKI and device.ErrNotFound", err)
	}
	s.done()
}

func TestUnexpectedStatusResetsTheSession(t *testing.T) {
	der, _ := testCert()
	steps := []step{
		{cmd: cmdSelectAP, resp: ok},
		{cmd: cmdSelectEF(efAuthCert), resp: "6A82"},
		// After the failure the client does not trust its selection any more.
		{cmd: cmdSelectAP, resp: ok},
		{cmd: cmdSelectEF(efAuthCert), resp: ok},
	}
	c, s := newScripted(t, append(steps, readSteps(der)...)...)
	ctx := context.Background()
	if _, err := c.ReadCertificate(ctx, CertAuth, nil); !errors.Is(err, device.ErrNotFound) || !strings.Contains(err.Error(), "SELECT EF 000A") {
		t.Fatalf("error = %v, want a 6A82 naming SELECT EF 000A", err)
	}
	if _, err := c.ReadCertificate(ctx, CertAuth, nil); err != nil {
		t.Fatal(err)
	}
	s.done()
}

func TestSignCertificateNeedsTheSignPIN(t *testing.T) {
	c, s := newScripted(t)
	_, err := c.ReadCertificate(context.Background(), CertSign, nil)
	if !errors.Is(err, device.ErrSecurityStatus) {
		t.Fatalf("error = %v, want device.ErrSecurityStatus", err)
	}
	s.done()

	der, _ := testCert()
	var asked []PINRequest
	steps := []step{
		{cmd: cmdSelectAP, resp: ok},
		{cmd: cmdSelectEF(efSignPIN), resp: ok},
		{cmd: cmdQueryPIN, resp: "63C4"},
		{cmd: cmdVerify("ABC123"), resp: ok},
		{cmd: cmdSelectEF(efSignCert), resp: ok},
	}
	c, s = newScripted(t, append(steps, readSteps(der)...)...)
	_, err = c.ReadCertificate(context.Background(), CertSign, func(_ context.Context, r PINRequest) (string, error) {
		asked = append(asked, r)
		return "ABC123", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || asked[0] != (PINRequest{Kind: Sign, TriesLeft: 4, Max: 5, Purpose: "read the signature certificate"}) {
		t.Errorf("PIN requests = %+v, want one for the sign PIN with 4 of 5 tries", asked)
	}
	s.done()
}

func TestPhoneAuthCertificateAsksForTheAuthPINWhenRefused(t *testing.T) {
	der, _ := testCert()
	steps := []step{
		{cmd: cmdSelectAP, resp: ok},
		{cmd: cmdSelectEF(efAuthCert), resp: ok},
		{cmd: cmdRead(0, 256), resp: "6982"},
		{cmd: cmdSelectEF(efAuthPIN), resp: ok},
		{cmd: cmdQueryPIN, resp: "63C3"},
		{cmd: cmdVerify("1234"), resp: ok},
		{cmd: cmdSelectEF(efAuthCert), resp: ok},
	}
	c, s := newScripted(t, append(steps, readSteps(der)...)...)
	_, err := c.ReadCertificate(context.Background(), CertAuth, func(context.Context, PINRequest) (string, error) { return "1234", nil })
	if err != nil {
		t.Fatal(err)
	}
	s.done()

	// Without a PIN callback the refusal is the answer.
	c, s = newScripted(t, step{cmd: cmdSelectAP, resp: ok}, step{cmd: cmdSelectEF(efAuthCert), resp: ok}, step{cmd: cmdRead(0, 256), resp: "6982"})
	if _, err := c.ReadCertificate(context.Background(), CertAuth, nil); !errors.Is(err, device.ErrSecurityStatus) {
		t.Fatalf("error = %v, want device.ErrSecurityStatus", err)
	}
	s.done()
}

func TestPINStatusAnswers(t *testing.T) {
	cases := []struct {
		kind Kind
		sw   string
		want PINStatus
		err  string
	}{
		{Auth, "63C3", PINStatus{Kind: Auth, TriesLeft: 3, Max: 3}, ""},
		{Auth, "63C1", PINStatus{Kind: Auth, TriesLeft: 1, Max: 3}, ""},
		{Sign, "63C5", PINStatus{Kind: Sign, TriesLeft: 5, Max: 5}, ""},
		{Sign, "63C0", PINStatus{Kind: Sign, Max: 5, Blocked: true}, ""},
		{Auth, "6984", PINStatus{Kind: Auth, Max: 3, Blocked: true}, ""},
		{Auth, "6983", PINStatus{Kind: Auth, Max: 3, Blocked: true}, ""},
		{Auth, "9000", PINStatus{Kind: Auth, TriesLeft: 3, Max: 3, Verified: true}, ""},
		{Auth, "6F00", PINStatus{}, "auth PIN status: VERIFY (query auth PIN): card returned status 6F00"},
		{Sign, "6A86", PINStatus{}, "6A86"},
		{Sign, "63", PINStatus{}, ""}, // a one-byte response has no status word
	}
	for _, tc := range cases {
		t.Run(tc.kind.String()+"/"+tc.sw, func(t *testing.T) {
			c, s := newScripted(t,
				step{cmd: cmdSelectAP, resp: ok},
				step{cmd: cmdSelectEF(tc.kind.pinEF()), resp: ok},
				step{cmd: cmdQueryPIN, resp: tc.sw})
			st, err := c.PINStatus(context.Background(), tc.kind)
			s.done()
			if len(tc.sw) < 4 {
				if err == nil || !strings.Contains(err.Error(), "no status word") {
					t.Fatalf("error = %v, want a missing status word", err)
				}
				return
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st != tc.want {
				t.Errorf("status = %+v, want %+v", st, tc.want)
			}
		})
	}
}

func TestVerifyMalformedPINSendsNothing(t *testing.T) {
	bad := map[Kind][]string{
		Auth: {"", "123", "12345", "12a4", "１２３４", "12 4"},
		Sign: {"", "ABC12", "abc123", "ABC-123", "ABCDEFGHIJ1234567", "ÄBC123"},
	}
	for kind, pins := range bad {
		for _, pin := range pins {
			c, s := newScripted(t) // any APDU fails the test
			err := c.Verify(context.Background(), kind, pin)
			if !errors.Is(err, ErrPINFormat) {
				t.Errorf("%s PIN %q: error = %v, want ErrPINFormat", kind, pin, err)
			}
			if pin != "" && err != nil && strings.Contains(err.Error(), pin) {
				t.Errorf("%s PIN: error %q repeats the PIN", kind, err)
			}
			if err := c.ChangePIN(context.Background(), kind, pin, pin); !errors.Is(err, ErrPINFormat) {
				t.Errorf("change %s PIN %q: error = %v, want ErrPINFormat", kind, pin, err)
			}
			s.done()
		}
	}
	for _, good := range []struct {
		kind Kind
		pin  string
	}{{Auth, "0000"}, {Auth, "9876"}, {Sign, "ABC123"}, {Sign, "0123456789ABCDEF"}, {Sign, "ZZZZZZ"}} {
		if err := CheckPIN(good.kind, good.pin); err != nil {
			t.Errorf("CheckPIN(%s, %q) = %v, want nil", good.kind, good.pin, err)
		}
	}
}

func TestVerifyBlockedSendsNoPIN(t *testing.T) {
	for _, sw := range []string{"63C0", "6984"} {
		c, s := newScripted(t,
			step{cmd: cmdSelectAP, resp: ok},
			step{cmd: cmdSelectEF(efSignPIN), resp: ok},
			step{cmd: cmdQueryPIN, resp: sw})
		err := c.Verify(context.Background(), Sign, "ABC123")
		if !errors.Is(err, device.ErrBlocked) || !strings.Contains(err.Error(), "no PIN was sent") {
			t.Errorf("query %s: error = %v, want ErrBlocked saying no PIN was sent", sw, err)
		}
		s.done()
	}
}

func TestVerifyWrongPINReportsTriesLeftAndDoesNotRetry(t *testing.T) {
	c, s := newScripted(t,
		step{cmd: cmdSelectAP, resp: ok},
		step{cmd: cmdSelectEF(efAuthPIN), resp: ok},
		step{cmd: cmdQueryPIN, resp: "63C3"},
		step{cmd: cmdVerify("1111"), resp: "63C2"})
	err := c.Verify(context.Background(), Auth, "1111")
	var wrong *device.WrongPINError
	if !errors.As(err, &wrong) || wrong.TriesLeft != 2 {
		t.Fatalf("error = %v, want WrongPINError with 2 tries left", err)
	}
	if errors.Is(err, device.ErrBlocked) {
		t.Errorf("2 tries left must not read as blocked")
	}
	s.done()

	// The last try: 63C0 after a wrong PIN means blocked now.
	c, s = newScripted(t,
		step{cmd: cmdSelectAP, resp: ok},
		step{cmd: cmdSelectEF(efAuthPIN), resp: ok},
		step{cmd: cmdQueryPIN, resp: "63C1"},
		step{cmd: cmdVerify("1111"), resp: "63C0"})
	err = c.Verify(context.Background(), Auth, "1111")
	if !errors.As(err, &wrong) || wrong.TriesLeft != 0 || !errors.Is(err, device.ErrBlocked) {
		t.Fatalf("error = %v, want WrongPINError 0 that is ErrBlocked", err)
	}
	s.done()
}

func TestChangePIN(t *testing.T) {
	c, s := newScripted(t,
		step{cmd: cmdSelectAP, resp: ok},
		step{cmd: cmdSelectEF(efSignPIN), resp: ok},
		step{cmd: cmdQueryPIN, resp: "63C5"},
		step{cmd: cmdVerify("OLD123"), resp: ok},
		step{cmd: "00 24 01 80 06 " + hex.EncodeToString([]byte("NEW456")), resp: ok})
	if err := c.ChangePIN(context.Background(), Sign, "OLD123", "NEW456"); err != nil {
		t.Fatal(err)
	}
	s.done()

	// A wrong old PIN stops before the change is sent.
	c, s = newScripted(t,
		step{cmd: cmdSelectAP, resp: ok},
		step{cmd: cmdSelectEF(efSignPIN), resp: ok},
		step{cmd: cmdQueryPIN, resp: "63C5"},
		step{cmd: cmdVerify("OLD123"), resp: "63C4"})
	var wrong *device.WrongPINError
	if err := c.ChangePIN(context.Background(), Sign, "OLD123", "NEW456"); !errors.As(err, &wrong) || wrong.TriesLeft != 4 {
		t.Fatalf("error = %v, want WrongPINError with 4 tries left", err)
	}
	s.done()
}

func TestCardRemovedResetsTheSession(t *testing.T) {
	der, _ := testCert()
	steps := []step{
		{cmd: cmdSelectAP, resp: ok},
		{cmd: cmdSelectEF(efAuthCert), resp: ok},
		{cmd: cmdRead(0, 256), err: removed},
		{cmd: cmdSelectAP, resp: ok},
		{cmd: cmdSelectEF(efAuthCert), resp: ok},
	}
	c, s := newScripted(t, append(steps, readSteps(der)...)...)
	ctx := context.Background()
	_, err := c.ReadCertificate(ctx, CertAuth, nil)
	if !errors.Is(err, device.ErrCardRemoved) {
		t.Fatalf("error = %v, want device.ErrCardRemoved", err)
	}
	if _, err := c.ReadCertificate(ctx, CertAuth, nil); err != nil {
		t.Fatalf("after re-insertion: %v", err)
	}
	s.done()
}

func TestDetect(t *testing.T) {
	tokenInfo := func(label string) string {
		b := []byte(label + strings.Repeat(" ", 32-len(label)))
		return hex.EncodeToString(b) + ok
	}
	cases := []struct {
		name  string
		steps []step
		want  TokenKind
		err   string
	}{
		{"foreign card", []step{{cmd: cmdSelectAP, resp: "6A82"}}, NotJPKI, ""},
		{"my number card", []step{{cmd: cmdSelectAP, resp: ok}, {cmd: cmdSelectEF(efTokenInfo), resp: ok}, {cmd: cmdRead(0, 32), resp: tokenInfo("JPKIAPICCTOKEN2")}}, MyNumberCard, ""},
		{"phone", []step{{cmd: cmdSelectAP, resp: ok}, {cmd: cmdSelectEF(efTokenInfo), resp: ok}, {cmd: cmdRead(0, 32), resp: tokenInfo("JPKIAPGPSETOKEN")}}, PhoneToken, ""},
		{"later card generation", []step{{cmd: cmdSelectAP, resp: ok}, {cmd: cmdSelectEF(efTokenInfo), resp: ok}, {cmd: cmdRead(0, 32), resp: tokenInfo("JPKIAPICCTOKEN3")}}, MyNumberCard, ""},
		{"unknown label", []step{{cmd: cmdSelectAP, resp: ok}, {cmd: cmdSelectEF(efTokenInfo), resp: ok}, {cmd: cmdRead(0, 32), resp: tokenInfo("SOMETHINGELSE")}}, NotJPKI, `unrecognised token info "SOMETHINGELSE"`},
		{"select refused", []step{{cmd: cmdSelectAP, resp: "6E00"}}, NotJPKI, "SELECT JPKI AP: card returned status 6E00"},
		{"removed", []step{{cmd: cmdSelectAP, err: removed}}, NotJPKI, removedMessage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &scripted{t: t, steps: tc.steps}
			got, err := Detect(context.Background(), &device.Card{T: s})
			s.done()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Detect = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestSignBuildsTheDigestInfoAndChecksTheLength(t *testing.T) {
	der, key := testCert()
	digest := sha256.Sum256([]byte("ticket 42"))
	di := "3031300D060960864801650304020105000420" + hex.EncodeToString(digest[:])
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	steps := []step{{cmd: cmdSelectAP, resp: ok}, {cmd: cmdSelectEF(efAuthCert), resp: ok}}
	steps = append(steps, readSteps(der)...)
	steps = append(steps,
		step{cmd: cmdSelectEF(efAuthPIN), resp: ok},
		step{cmd: cmdQueryPIN, resp: "63C3"},
		step{cmd: cmdVerify("4321"), resp: ok},
		step{cmd: cmdSelectEF(efAuthKey), resp: ok},
		step{cmd: "80 2A 00 80 33" + di + "00", resp: hex.EncodeToString(sig) + ok},
		// A second signature whose answer is one byte short.
		step{cmd: cmdSelectEF(efAuthPIN), resp: ok},
		step{cmd: cmdQueryPIN, resp: "9000"},
		step{cmd: cmdVerify("4321"), resp: ok},
		step{cmd: cmdSelectEF(efAuthKey), resp: ok},
		step{cmd: "80 2A 00 80 33" + di + "00", resp: hex.EncodeToString(sig[1:]) + ok},
	)
	c, s := newScripted(t, steps...)
	signer, err := c.Signer(context.Background(), Auth, func(context.Context, PINRequest) (string, error) { return "4321", nil })
	if err != nil {
		t.Fatal(err)
	}
	got, err := signer.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(signer.Public().(*rsa.PublicKey), crypto.SHA256, digest[:], got); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	if _, err := signer.Sign(nil, digest[:], crypto.SHA256); err == nil || !strings.Contains(err.Error(), "255 bytes, want 256") {
		t.Fatalf("short signature: error = %v", err)
	}
	// Refused before any APDU: PSS, other hashes, a digest of the wrong size.
	for _, bad := range []struct {
		opts   crypto.SignerOpts
		digest []byte
		want   string
	}{
		{&rsa.PSSOptions{Hash: crypto.SHA256}, digest[:], "not PSS"},
		{crypto.MD5, digest[:16], "not supported"},
		{crypto.SHA3_256, digest[:], "not supported"},
		{crypto.Hash(0), digest[:], "not supported"},
		{crypto.SHA384, digest[:], "digest is 32 bytes, SHA-384 wants 48"},
		{nil, digest[:], "no hash given"},
	} {
		if _, err := signer.Sign(nil, bad.digest, bad.opts); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: error = %v, want %q", bad.opts, err, bad.want)
		}
	}
	s.done()
}

func TestSignPINCancelSendsNoPIN(t *testing.T) {
	der, _ := testCert()
	steps := []step{{cmd: cmdSelectAP, resp: ok}, {cmd: cmdSelectEF(efAuthCert), resp: ok}}
	steps = append(steps, readSteps(der)...)
	steps = append(steps,
		step{cmd: cmdSelectEF(efAuthPIN), resp: ok},
		step{cmd: cmdQueryPIN, resp: "63C2"})
	c, s := newScripted(t, steps...)
	var asked PINRequest
	signer, err := c.Signer(context.Background(), Auth, func(_ context.Context, r PINRequest) (string, error) {
		asked = r
		return "", ErrPINCancelled
	})
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(nil)
	_, err = signer.Sign(nil, digest[:], crypto.SHA256)
	if !errors.Is(err, ErrPINCancelled) || !strings.Contains(err.Error(), "PIN entry cancelled") {
		t.Fatalf("error = %v, want ErrPINCancelled", err)
	}
	if asked != (PINRequest{Kind: Auth, TriesLeft: 2, Max: 3, Purpose: "sign with the auth key"}) {
		t.Errorf("PIN request = %+v, want auth with 2 of 3 tries", asked)
	}
	s.done()
}
