package jpki

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
)

// Key generation is the slow part: one demo hierarchy per test binary, a
// fresh card (fresh PIN counters) per test.
var demoConfigs = sync.OnceValues(func() (map[vcard.Profile]vcard.Config, error) {
	ca, err := vcard.NewDemoCA()
	if err != nil {
		return nil, err
	}
	m := map[vcard.Profile]vcard.Config{}
	if m[vcard.MyNumber], err = ca.Issue(vcard.MyNumber, "DEMO TARO"); err != nil {
		return nil, err
	}
	if m[vcard.Phone], err = ca.Issue(vcard.Phone, "DEMO HANAKO"); err != nil {
		return nil, err
	}
	return m, nil
})

// vsetup is a client on a fresh virtual card in the in-process reader.
type vsetup struct {
	cfg    vcard.Config
	vc     *vcard.Card
	reader *vcard.VirtualReader
	card   *device.Card
	c      *Client
}

func newVirtual(t testing.TB, p vcard.Profile) *vsetup {
	t.Helper()
	cfgs, err := demoConfigs()
	if err != nil {
		t.Fatal(err)
	}
	cfg := cfgs[p]
	vc, err := vcard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &vcard.VirtualReader{}
	r.Insert(vc)
	card := &device.Card{T: r}
	return &vsetup{cfg: cfg, vc: vc, reader: r, card: card, c: New(card)}
}

func pinOf(pin string) PINFunc {
	return func(context.Context, PINRequest) (string, error) { return pin, nil }
}

func certBytes(cfg vcard.Config, k CertKind) []byte {
	switch k {
	case CertAuth:
		return cfg.AuthCert
	case CertAuthCA:
		return cfg.AuthCACert
	case CertSign:
		return cfg.SignCert
	}
	return cfg.SignCACert
}

func chunks(n int) int { return (n + 255) / 256 }

// commands is the trace's commands from index from on.
func commands(card *device.Card, from int) []string {
	var out []string
	for _, e := range card.Trace()[from:] {
		out = append(out, e.Command)
	}
	return out
}

func TestVCardReadsAllFourCertificatesWithNoWastedAPDU(t *testing.T) {
	ctx := context.Background()
	for _, k := range CertKinds {
		t.Run(k.String(), func(t *testing.T) {
			v := newVirtual(t, vcard.MyNumber)
			want := certBytes(v.cfg, k)
			var pin PINFunc
			pinAPDUs := 0
			if k == CertSign {
				pin, pinAPDUs = pinOf(vcard.DemoSignPIN), 3 // SELECT PIN EF, query, VERIFY
			}
			cert, err := v.c.ReadCertificate(ctx, k, pin)
			if err != nil {
				t.Fatal(err)
			}
			if string(cert.Raw) != string(want) {
				t.Fatalf("read %d bytes that differ from the %d on the card", len(cert.Raw), len(want))
			}
			if got, n := v.card.APDUCount(), 2+pinAPDUs+chunks(len(want)); got != n {
				t.Errorf("%d APDUs for a %d-byte certificate, want %d: %q", got, len(want), n, commands(v.card, 0))
			}
			for _, e := range v.card.Trace() {
				if e.SW != device.SWOK && !(e.Command == "00 20 00 80" && e.SW == 0x63C5) {
					t.Errorf("%s answered %04X", e.Command, e.SW)
				}
			}
		})
	}
}

func TestVCardSecondReadSkipsSelectAP(t *testing.T) {
	v := newVirtual(t, vcard.MyNumber)
	ctx := context.Background()
	if _, err := v.c.ReadCertificate(ctx, CertAuth, nil); err != nil {
		t.Fatal(err)
	}
	before := v.card.APDUCount()
	if _, err := v.c.ReadCertificate(ctx, CertAuthCA, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := v.card.APDUCount()-before, 1+chunks(len(v.cfg.AuthCACert)); got != want {
		t.Errorf("second read sent %d APDUs, want %d: %q", got, want, commands(v.card, before))
	}
	if first := commands(v.card, before)[0]; first != "00 A4 02 0C 02 000B" {
		t.Errorf("second read starts with %q, want SELECT EF 000B", first)
	}
}

func TestVCardTokenInfoAndDetect(t *testing.T) {
	ctx := context.Background()
	for p, want := range map[vcard.Profile]TokenKind{vcard.MyNumber: MyNumberCard, vcard.Phone: PhoneToken} {
		v := newVirtual(t, p)
		ti, err := v.c.TokenInfo(ctx)
		if err != nil || ti.Kind != want {
			t.Errorf("%v: token info %+v, %v; want %v", p, ti, err, want)
		}
		if got, err := Detect(ctx, v.card); err != nil || got != want {
			t.Errorf("%v: Detect = %v, %v; want %v", p, got, err, want)
		}
	}
}

func TestVCardPINStatus(t *testing.T) {
	v := newVirtual(t, vcard.MyNumber)
	for _, want := range []PINStatus{{Kind: Auth, TriesLeft: 3, Max: 3}, {Kind: Sign, TriesLeft: 5, Max: 5}} {
		st, err := v.c.PINStatus(context.Background(), want.Kind)
		if err != nil || st != want {
			t.Errorf("%s: %+v, %v; want %+v", want.Kind, st, err, want)
		}
	}
}

func TestVCardSignAndVerify(t *testing.T) {
	ctx := context.Background()
	msg := []byte("入場券 No. 0042")
	hashes := []struct {
		h   crypto.Hash
		sum func([]byte) []byte
	}{
		{crypto.SHA256, func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }},
		{crypto.SHA384, func(b []byte) []byte { s := sha512.Sum384(b); return s[:] }},
		{crypto.SHA512, func(b []byte) []byte { s := sha512.Sum512(b); return s[:] }},
		{crypto.SHA1, func(b []byte) []byte { s := sha1.Sum(b); return s[:] }},
	}
	for _, p := range []vcard.Profile{vcard.MyNumber, vcard.Phone} {
		for _, kind := range []Kind{Auth, Sign} {
			v := newVirtual(t, p)
			pin := vcard.DemoAuthPIN
			if kind == Sign {
				pin = vcard.DemoSignPIN
			}
			var asked []PINRequest
			signer, err := v.c.Signer(ctx, kind, func(_ context.Context, r PINRequest) (string, error) {
				asked = append(asked, r)
				return pin, nil
			})
			if err != nil {
				t.Fatalf("%v %s: %v", p, kind, err)
			}
			certPub := signer.Certificate().PublicKey.(*rsa.PublicKey)
			if !certPub.Equal(signer.Public()) {
				t.Fatalf("%v %s: Public() is not the certificate's key", p, kind)
			}
			for _, h := range hashes {
				digest := h.sum(msg)
				before := v.card.APDUCount()
				sig, err := signer.Sign(nil, digest, h.h)
				if err != nil {
					t.Fatalf("%v %s %v: %v", p, kind, h.h, err)
				}
				if len(sig) != 256 {
					t.Errorf("%v %s %v: %d-byte signature", p, kind, h.h, len(sig))
				}
				if err := rsa.VerifyPKCS1v15(certPub, h.h, digest, sig); err != nil {
					t.Errorf("%v %s %v: signature does not verify: %v", p, kind, h.h, err)
				}
				// SELECT PIN EF, query, VERIFY, SELECT key EF, COMPUTE DIGITAL SIGNATURE.
				if n := v.card.APDUCount() - before; n != 5 {
					t.Errorf("%v %s %v: %d APDUs, want 5: %q", p, kind, h.h, n, commands(v.card, before))
				}
			}
			for _, r := range asked {
				if r.Kind != kind || r.TriesLeft != kind.MaxTries() {
					t.Errorf("%v %s: PIN request %+v", p, kind, r)
				}
			}
		}
	}
}

// verifyCommand reports whether a trace entry is a VERIFY carrying a PIN.
func verifyCommand(cmd string) bool { return strings.HasPrefix(cmd, "00 20 00 80 ") }

func TestVCardWrongPINCountsDownThenSendsNothing(t *testing.T) {
	ctx := context.Background()
	v := newVirtual(t, vcard.MyNumber)
	var wrong *device.WrongPINError
	for left := 2; left >= 0; left-- {
		err := v.c.Verify(ctx, Auth, "0000")
		if !errors.As(err, &wrong) || wrong.TriesLeft != left {
			t.Fatalf("error = %v, want %d tries left", err, left)
		}
		if !strings.Contains(err.Error(), fmt.Sprint(left)) {
			t.Errorf("error %q does not show the tries left", err)
		}
		st, err := v.c.PINStatus(ctx, Auth)
		if err != nil || st.TriesLeft != left || st.Blocked != (left == 0) {
			t.Fatalf("status %+v, %v after a wrong PIN; want %d left", st, err, left)
		}
	}
	// Blocked: neither the right PIN nor a signature sends a PIN any more.
	before := v.card.APDUCount()
	if err := v.c.Verify(ctx, Auth, vcard.DemoAuthPIN); !errors.Is(err, device.ErrBlocked) {
		t.Fatalf("error = %v, want ErrBlocked", err)
	}
	called := false
	v.c.Reset()
	signer := &KeySigner{c: v.c, kind: Auth, pin: func(context.Context, PINRequest) (string, error) {
		called = true
		return vcard.DemoAuthPIN, nil
	}, pub: &v.cfg.AuthKey.PublicKey}
	digest := sha256.Sum256(nil)
	if _, err := signer.Sign(nil, digest[:], crypto.SHA256); !errors.Is(err, device.ErrBlocked) {
		t.Fatalf("sign: error = %v, want ErrBlocked", err)
	}
	if called {
		t.Error("the PIN callback was asked for a blocked PIN")
	}
	for _, cmd := range commands(v.card, before) {
		if verifyCommand(cmd) || strings.HasPrefix(cmd, "80 2A") {
			t.Errorf("%q sent while the PIN is blocked", cmd)
		}
	}
	// The sign PIN is a separate counter.
	if err := v.c.Verify(ctx, Sign, vcard.DemoSignPIN); err != nil {
		t.Errorf("sign PIN: %v", err)
	}
}

func TestVCardMalformedPINSendsNothing(t *testing.T) {
	v := newVirtual(t, vcard.MyNumber)
	ctx := context.Background()
	for _, tc := range []struct {
		kind Kind
		pin  string
	}{{Auth, "123"}, {Auth, "12345"}, {Sign, "abcdef"}, {Sign, "ABC"}} {
		if err := v.c.Verify(ctx, tc.kind, tc.pin); !errors.Is(err, ErrPINFormat) {
			t.Errorf("%s %q: %v, want ErrPINFormat", tc.kind, tc.pin, err)
		}
	}
	if err := v.c.ChangePIN(ctx, Auth, vcard.DemoAuthPIN, "12"); !errors.Is(err, ErrPINFormat) {
		t.Errorf("change to a short PIN: %v, want ErrPINFormat", err)
	}
	if n := v.card.APDUCount(); n != 0 {
		t.Errorf("%d APDUs sent for malformed PINs: %q", n, commands(v.card, 0))
	}
	// A malformed PIN from a callback stops after the counter query, before VERIFY.
	signer := &KeySigner{c: v.c, kind: Auth, pin: pinOf("12a4"), pub: &v.cfg.AuthKey.PublicKey}
	digest := sha256.Sum256(nil)
	if _, err := signer.Sign(nil, digest[:], crypto.SHA256); !errors.Is(err, ErrPINFormat) {
		t.Fatalf("sign: %v, want ErrPINFormat", err)
	}
	for _, cmd := range commands(v.card, 0) {
		if verifyCommand(cmd) {
			t.Errorf("%q sent for a malformed PIN", cmd)
		}
	}
	if st, _ := v.c.PINStatus(ctx, Auth); st.TriesLeft != 3 {
		t.Errorf("a malformed PIN cost a try: %+v", st)
	}
}

func TestVCardChangePIN(t *testing.T) {
	ctx := context.Background()
	v := newVirtual(t, vcard.MyNumber)
	for _, tc := range []struct {
		kind     Kind
		old, new string
	}{{Auth, vcard.DemoAuthPIN, "9876"}, {Sign, vcard.DemoSignPIN, "NEWPIN2026"}} {
		if err := v.c.ChangePIN(ctx, tc.kind, tc.old, tc.new); err != nil {
			t.Fatalf("%s: %v", tc.kind, err)
		}
		var wrong *device.WrongPINError
		if err := v.c.Verify(ctx, tc.kind, tc.old); !errors.As(err, &wrong) || wrong.TriesLeft != tc.kind.MaxTries()-1 {
			t.Errorf("%s: old PIN after the change: %v", tc.kind, err)
		}
		if err := v.c.Verify(ctx, tc.kind, tc.new); err != nil {
			t.Errorf("%s: new PIN: %v", tc.kind, err)
		}
	}
}

func TestVCardPhoneAuthCertificateNeedsTheAuthPIN(t *testing.T) {
	ctx := context.Background()
	v := newVirtual(t, vcard.Phone)
	if _, err := v.c.ReadCertificate(ctx, CertAuth, nil); !errors.Is(err, device.ErrSecurityStatus) {
		t.Fatalf("without a PIN: %v, want ErrSecurityStatus", err)
	}
	var asked []PINRequest
	cert, err := v.c.ReadCertificate(ctx, CertAuth, func(_ context.Context, r PINRequest) (string, error) {
		asked = append(asked, r)
		return vcard.DemoAuthPIN, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(cert.Raw) != string(v.cfg.AuthCert) {
		t.Error("auth certificate differs from the token's")
	}
	if len(asked) != 1 || asked[0].Kind != Auth {
		t.Errorf("PIN requests %+v, want one for the auth PIN", asked)
	}
	// The CA certificate stays free on a phone.
	if _, err := v.c.ReadCertificate(ctx, CertAuthCA, nil); err != nil {
		t.Error(err)
	}
}

func TestVCardTraceNeverHoldsAPIN(t *testing.T) {
	ctx := context.Background()
	v := newVirtual(t, vcard.MyNumber)
	pins := []string{vcard.DemoAuthPIN, vcard.DemoSignPIN, "7777", "SECRET99"}
	if err := v.c.Verify(ctx, Auth, vcard.DemoAuthPIN); err != nil {
		t.Fatal(err)
	}
	if err := v.c.Verify(ctx, Auth, "7777"); err == nil {
		t.Fatal("a wrong PIN verified")
	}
	if err := v.c.ChangePIN(ctx, Sign, vcard.DemoSignPIN, "SECRET99"); err != nil {
		t.Fatal(err)
	}
	signer, err := v.c.Signer(ctx, Sign, pinOf("SECRET99"))
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("x"))
	if _, err := signer.Sign(nil, digest[:], crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	verifies := 0
	for _, e := range v.card.Trace() {
		if verifyCommand(e.Command) || strings.HasPrefix(e.Command, "00 24") {
			verifies++
		}
		for _, p := range pins {
			if strings.Contains(e.Command, p) || strings.Contains(strings.ToUpper(e.Command), strings.ToUpper(hex.EncodeToString([]byte(p)))) {
				t.Errorf("trace entry %q holds PIN %q", e.Command, p)
			}
		}
	}
	if verifies < 5 {
		t.Errorf("only %d PIN commands in the trace; the check looked at too little", verifies)
	}
}

// flow is one client operation from a clean session on a fresh card.
type flow struct {
	name    string
	profile vcard.Profile
	prepare func(t *testing.T, v *vsetup) // before the removal is armed
	run     func(ctx context.Context, v *vsetup) error
}

var digest256 = sha256.Sum256([]byte("removal"))

func removalFlows() []flow {
	var signer *KeySigner
	return []flow{
		{name: "read auth cert", run: func(ctx context.Context, v *vsetup) error {
			_, err := v.c.ReadCertificate(ctx, CertAuth, nil)
			return err
		}},
		{name: "read sign cert", run: func(ctx context.Context, v *vsetup) error {
			_, err := v.c.ReadCertificate(ctx, CertSign, pinOf(vcard.DemoSignPIN))
			return err
		}},
		{name: "read phone auth cert", profile: vcard.Phone, run: func(ctx context.Context, v *vsetup) error {
			_, err := v.c.ReadCertificate(ctx, CertAuth, pinOf(vcard.DemoAuthPIN))
			return err
		}},
		{name: "token info", run: func(ctx context.Context, v *vsetup) error {
			_, err := v.c.TokenInfo(ctx)
			return err
		}},
		{name: "pin status", run: func(ctx context.Context, v *vsetup) error {
			_, err := v.c.PINStatus(ctx, Sign)
			return err
		}},
		{name: "verify", run: func(ctx context.Context, v *vsetup) error {
			return v.c.Verify(ctx, Auth, vcard.DemoAuthPIN)
		}},
		{name: "change pin", run: func(ctx context.Context, v *vsetup) error {
			return v.c.ChangePIN(ctx, Auth, vcard.DemoAuthPIN, vcard.DemoAuthPIN)
		}},
		{name: "sign", prepare: func(t *testing.T, v *vsetup) {
			var err error
			if signer, err = v.c.Signer(context.Background(), Auth, pinOf(vcard.DemoAuthPIN)); err != nil {
				t.Fatal(err)
			}
			v.c.Reset() // the removal case starts from a clean session too
		}, run: func(ctx context.Context, v *vsetup) error {
			sig, err := signer.Sign(nil, digest256[:], crypto.SHA256)
			if err == nil {
				err = rsa.VerifyPKCS1v15(signer.Public().(*rsa.PublicKey), crypto.SHA256, digest256[:], sig)
			}
			return err
		}},
	}
}

func TestVCardCardRemovedAtEveryAPDU(t *testing.T) {
	ctx := context.Background()
	for _, f := range removalFlows() {
		t.Run(f.name, func(t *testing.T) {
			// The undisturbed flow tells how many APDUs it takes.
			v := newVirtual(t, f.profile)
			if f.prepare != nil {
				f.prepare(t, v)
			}
			start := v.card.APDUCount()
			if err := f.run(ctx, v); err != nil {
				t.Fatal(err)
			}
			total := v.card.APDUCount() - start
			clean := commands(v.card, start)
			if total < 2 {
				t.Fatalf("flow took %d APDUs", total)
			}
			for i := 0; i < total; i++ {
				v := newVirtual(t, f.profile)
				if f.prepare != nil {
					f.prepare(t, v)
				}
				start := v.card.APDUCount()
				v.reader.RemoveAfter(i)
				err := f.run(ctx, v)
				if !errors.Is(err, device.ErrCardRemoved) {
					t.Fatalf("removed at APDU %d: error = %v, want ErrCardRemoved", i+1, err)
				}
				if !strings.HasPrefix(err.Error(), "jpki: ") {
					t.Errorf("removed at APDU %d: error %q does not say what failed", i+1, err)
				}
				// Exactly one attempt at the failing position, no retries.
				if n := v.card.APDUCount() - start; n != i+1 {
					t.Fatalf("removed at APDU %d: %d APDUs attempted: %q", i+1, n, commands(v.card, start))
				}
				// Re-inserted, the next operation starts cleanly from SELECT AP
				// and runs exactly as the undisturbed flow did.
				v.reader.Insert(v.vc)
				start = v.card.APDUCount()
				if err := f.run(ctx, v); err != nil {
					t.Fatalf("removed at APDU %d, then re-inserted: %v", i+1, err)
				}
				if got := commands(v.card, start); strings.Join(got, "|") != strings.Join(clean, "|") {
					t.Fatalf("removed at APDU %d, then re-inserted: sent %q, want %q", i+1, got, clean)
				}
			}
		})
	}
}

// BenchmarkReadAuthCertVirtual is the same flow as BenchmarkReadAuthCertPCSC
// against the in-process virtual card: the client's own cost.
func BenchmarkReadAuthCertVirtual(b *testing.B) {
	v := newVirtual(b, vcard.MyNumber)
	ctx := context.Background()
	for b.Loop() {
		v.c.Reset()
		if _, err := v.c.ReadCertificate(ctx, CertAuth, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(v.card.APDUCount())/float64(b.N), "APDUs/op")
}
