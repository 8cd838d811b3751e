package sim

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/pki/jpki"
	"jpkipilot/pki/scp03"
)

var (
	keysOnce sync.Once
	testKeys []*rsa.PrivateKey
	caKey    *rsa.PrivateKey
	caCert   *x509.Certificate
)

// pool makes RSA keys once per test binary: generating 2048-bit keys is
// the slow part, not what these tests are about.
func pool(t testing.TB) []*rsa.PrivateKey {
	t.Helper()
	keysOnce.Do(func() {
		for range 3 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			testKeys = append(testKeys, k)
		}
		caKey = testKeys[2]
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Auth CA"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
			BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caKey.PublicKey, caKey)
		if err != nil {
			panic(err)
		}
		caCert, _ = x509.ParseCertificate(der)
	})
	return testKeys
}

func leafFor(t testing.TB, pub *rsa.PublicKey) []byte {
	t.Helper()
	pool(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "M-0001"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, pub, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

var simKeys = scp03.Keys{KVN: 0x30, ENC: bytes.Repeat([]byte{0x40}, 16), MAC: bytes.Repeat([]byte{0x41}, 16), DEK: bytes.Repeat([]byte{0x42}, 16)}

// newApplet is a blank applet whose key generation hands out key i of the pool.
func newApplet(t testing.TB) *Applet {
	t.Helper()
	keys := pool(t)
	n := 0
	a, err := New(Config{Keys: simKeys, GenerateKey: func() (*rsa.PrivateKey, error) {
		k := keys[n%2]
		n++
		return k, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// host is the terminal side: an SCP03 session over the applet.
type host struct {
	t *testing.T
	a *Applet
	s *scp03.Session
}

func (h *host) raw(cmd []byte) device.Response {
	h.t.Helper()
	r, err := device.ParseResponse(h.a.Process(cmd))
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func open(t *testing.T, a *Applet, keys scp03.Keys, level byte) (*host, error) {
	t.Helper()
	h := &host{t: t, a: a}
	if r := h.raw(SelectAIDBytes()); r.SW != device.SWOK {
		t.Fatalf("SELECT: %04X", r.SW)
	}
	s, err := scp03.NewSession(keys, level, nil)
	if err != nil {
		t.Fatal(err)
	}
	ea, err := s.ExternalAuthenticate(a.Process(s.InitializeUpdate()))
	if err != nil {
		return nil, err
	}
	if err := s.Authenticated(a.Process(ea)); err != nil {
		return nil, err
	}
	h.s = s
	return h, nil
}

func mustOpen(t *testing.T, a *Applet) *host {
	t.Helper()
	h, err := open(t, a, simKeys, scp03.LevelCMAC|scp03.LevelCDEC|scp03.LevelRMAC)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// do sends one command through the channel and returns data and SW.
func (h *host) do(c device.Command) ([]byte, uint16) {
	h.t.Helper()
	raw, err := c.Bytes()
	if err != nil {
		h.t.Fatal(err)
	}
	w, err := h.s.Wrap(raw)
	if err != nil {
		h.t.Fatal(err)
	}
	out, err := h.s.Unwrap(h.a.Process(w))
	if err != nil {
		h.t.Fatalf("unwrap answer to %02X: %v", c.INS, err)
	}
	r, _ := device.ParseResponse(out)
	return r.Data, r.SW
}

func (h *host) ok(c device.Command) []byte {
	h.t.Helper()
	d, sw := h.do(c)
	if sw != device.SWOK {
		h.t.Fatalf("%02X %02X %02X %02X: SW %04X", c.CLA, c.INS, c.P1, c.P2, sw)
	}
	return d
}

func (h *host) status() Status {
	h.t.Helper()
	st, err := ParseStatus(h.ok(GetStatus()))
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

func (h *host) publicKey(generate bool) *rsa.PublicKey {
	h.t.Helper()
	c := ReadPublicKey(0)
	if generate {
		c = GenerateKeyPair()
	}
	b := h.ok(c)
	n, err := PublicKeyLength(b)
	if err != nil {
		h.t.Fatal(err)
	}
	for i := 1; len(b) < n; i++ {
		b = append(b, h.ok(ReadPublicKey(i))...)
	}
	pub, err := ParsePublicKey(b)
	if err != nil {
		h.t.Fatal(err)
	}
	return pub
}

func (h *host) store(dgi uint16, data []byte) uint16 {
	h.t.Helper()
	cmds, err := StoreData(dgi, data)
	if err != nil {
		h.t.Fatal(err)
	}
	for i, c := range cmds {
		if _, sw := h.do(c); sw != device.SWOK || i == len(cmds)-1 {
			return sw
		}
	}
	return 0
}

// personalise runs the whole provisioning on a and returns the auth cert.
func personalise(t *testing.T, a *Applet, pin string) []byte {
	t.Helper()
	h := mustOpen(t, a)
	pub := h.publicKey(true)
	cert := leafFor(t, pub)
	if sw := h.store(DGIAuthCert, cert); sw != device.SWOK {
		t.Fatalf("STORE DATA cert: %04X", sw)
	}
	if sw := h.store(DGIAuthCACert, caCert.Raw); sw != device.SWOK {
		t.Fatalf("STORE DATA CA cert: %04X", sw)
	}
	h.ok(SetPIN(pin))
	h.ok(Personalize())
	return cert
}

func TestProvisionedAppletIsAPhoneToken(t *testing.T) {
	a := newApplet(t)
	cert := personalise(t, a, "4321")
	if st := a.Status(); !st.Provisioned() || !st.Has(PartKey|PartCert|PartCACert|PartPIN) {
		t.Fatalf("status %v", st)
	}
	ctx := context.Background()
	r := &vcard.VirtualReader{}
	r.Insert(a)
	card := &device.Card{T: r}
	if kind, err := jpki.Detect(ctx, card); err != nil || kind != jpki.PhoneToken {
		t.Fatalf("Detect = %v, %v; want a phone token", kind, err)
	}
	c := jpki.New(card)
	if _, err := c.ReadCertificate(ctx, jpki.CertAuth, nil); !errors.Is(err, device.ErrSecurityStatus) {
		t.Fatalf("auth cert without PIN: %v, want 6982", err)
	}
	got, err := c.ReadCertificate(ctx, jpki.CertAuth, func(context.Context, jpki.PINRequest) (string, error) { return "4321", nil })
	if err != nil || !bytes.Equal(got.Raw, cert) {
		t.Fatalf("auth cert after PIN: %v", err)
	}
	// The key the applet generated signs, and never left it.
	signer, err := c.Signer(ctx, jpki.Auth, func(context.Context, jpki.PINRequest) (string, error) { return "4321", nil })
	if err != nil {
		t.Fatal(err)
	}
	if !signer.Public().(*rsa.PublicKey).Equal(&pool(t)[0].PublicKey) {
		t.Fatal("signer key is not the generated one")
	}
}

func TestBlankAppletIsNotAJPKIToken(t *testing.T) {
	a := newApplet(t)
	r := &vcard.VirtualReader{}
	r.Insert(a)
	_, err := jpki.Detect(context.Background(), &device.Card{T: r})
	var swe *device.SWError
	if !errors.As(err, &swe) || swe.SW != device.SWConditionsOfUse {
		t.Fatalf("Detect on a blank applet: %v, want 6985", err)
	}
}

func TestStateMachineRefusesOutOfOrder(t *testing.T) {
	a := newApplet(t)
	h := mustOpen(t, a)
	pool(t)
	caDER := caCert.Raw
	// blank: nothing but GENERATE, GET STATUS and WIPE.
	if _, sw := h.do(ReadPublicKey(0)); sw != device.SWConditionsOfUse {
		t.Errorf("read public key when blank: %04X", sw)
	}
	if sw := h.store(DGIAuthCACert, caDER); sw != device.SWConditionsOfUse {
		t.Errorf("STORE DATA when blank: %04X", sw)
	}
	if _, sw := h.do(SetPIN("1234")); sw != device.SWConditionsOfUse {
		t.Errorf("SET PIN when blank: %04X", sw)
	}
	if _, sw := h.do(Personalize()); sw != device.SWConditionsOfUse {
		t.Errorf("PERSONALIZE when blank: %04X", sw)
	}
	pub := h.publicKey(true)
	if _, sw := h.do(GenerateKeyPair()); sw != device.SWConditionsOfUse {
		t.Errorf("second GENERATE: %04X", sw)
	}
	if sw := h.store(DGIAuthCACert, caDER); sw != device.SWConditionsOfUse {
		t.Errorf("CA cert before the cert: %04X", sw)
	}
	// A certificate for another key is refused and changes nothing.
	if sw := h.store(DGIAuthCert, leafFor(t, &pool(t)[1].PublicKey)); sw != device.SWWrongData {
		t.Errorf("cert for another key: %04X, want 6A80", sw)
	}
	if st := h.status(); st.State != KeyGenerated || st.Parts != PartKey {
		t.Errorf("after a refused cert: %v", st)
	}
	if sw := h.store(DGIAuthCert, leafFor(t, pub)); sw != device.SWOK {
		t.Fatalf("cert: %04X", sw)
	}
	// Half-written: reported as such, never provisioned.
	if st := h.status(); st.State != CertStored || st.Provisioned() || st.Has(PartCACert) {
		t.Errorf("after the cert: %v", st)
	}
	if _, sw := h.do(Personalize()); sw != device.SWConditionsOfUse {
		t.Errorf("PERSONALIZE without CA cert and PIN: %04X", sw)
	}
	if sw := h.store(DGIAuthCACert, leafFor(t, pub)); sw != device.SWWrongData {
		t.Errorf("a non-CA as CA cert: %04X", sw)
	}
	if sw := h.store(DGIAuthCACert, caDER); sw != device.SWOK {
		t.Fatalf("CA cert: %04X", sw)
	}
	if _, sw := h.do(SetPIN("12a4")); sw != device.SWWrongData {
		t.Errorf("malformed PIN: %04X", sw)
	}
	if _, sw := h.do(Personalize()); sw != device.SWConditionsOfUse {
		t.Errorf("PERSONALIZE without PIN: %04X", sw)
	}
	h.ok(SetPIN("1234"))
	h.ok(Personalize())
	if _, sw := h.do(SetPIN("9999")); sw != device.SWConditionsOfUse {
		t.Errorf("SET PIN after PERSONALIZE: %04X", sw)
	}
	if got := h.publicKey(false); !got.Equal(pub) {
		t.Error("public key read back differs")
	}
	h.ok(Wipe())
	if st := h.status(); st.State != Blank || st.Parts != 0 {
		t.Errorf("after WIPE: %v", st)
	}
}

func TestSetPINNeedsEncryption(t *testing.T) {
	a := newApplet(t)
	h, err := open(t, a, simKeys, scp03.LevelCMAC|scp03.LevelRMAC)
	if err != nil {
		t.Fatal(err)
	}
	pub := h.publicKey(true)
	h.store(DGIAuthCert, leafFor(t, pub))
	if _, sw := h.do(SetPIN("1234")); sw != device.SWSecurityStatus {
		t.Fatalf("SET PIN under C-MAC only: %04X, want 6982", sw)
	}
}

func TestPersonalisationOnlyInsideTheChannel(t *testing.T) {
	a := newApplet(t)
	h := &host{t: t, a: a}
	h.raw(SelectAIDBytes())
	for _, c := range []device.Command{GenerateKeyPair(), GetStatus(), Wipe(), Personalize()} {
		b, _ := c.Bytes()
		if r := h.raw(b); r.SW != device.SWSecurityStatus {
			t.Errorf("%02X %02X in clear: %04X, want 6982", c.CLA, c.INS, r.SW)
		}
	}
	if st := a.Status(); st.State != Blank {
		t.Fatalf("state changed by clear commands: %v", st)
	}
}

func TestWrongKeysTamperAndReplay(t *testing.T) {
	a := newApplet(t)
	wrong := simKeys
	wrong.MAC = bytes.Repeat([]byte{0x99}, 16)
	if _, err := open(t, a, wrong, scp03.LevelCMAC|scp03.LevelCDEC|scp03.LevelRMAC); !errors.Is(err, scp03.ErrAuth) {
		t.Fatalf("wrong keys: %v, want ErrAuth", err)
	}

	h := mustOpen(t, a)
	raw, _ := GenerateKeyPair().Bytes()
	w, _ := h.s.Wrap(raw)
	bad := append([]byte(nil), w...)
	bad[len(bad)-2] ^= 0x01 // last C-MAC byte (before Le)
	if r := h.raw(bad); r.SW != device.SWSecurityStatus {
		t.Fatalf("tampered MAC: %04X, want 6982", r.SW)
	}
	if st := a.Status(); st.State != Blank {
		t.Fatalf("tampered command acted: %v", st)
	}
	// The channel is closed now: even the genuine command is refused.
	if r := h.raw(w); r.SW != device.SWSecurityStatus {
		t.Fatalf("command after a MAC failure: %04X, want 6982", r.SW)
	}

	h = mustOpen(t, a)
	raw, _ = GetStatus().Bytes()
	w, _ = h.s.Wrap(raw)
	if r := h.raw(w); r.SW != device.SWOK {
		t.Fatalf("GET STATUS: %04X", r.SW)
	}
	if r := h.raw(w); r.SW != device.SWSecurityStatus {
		t.Fatalf("replayed GET STATUS: %04X, want 6982", r.SW)
	}
}

func TestResetDropsHalfReceivedStoreData(t *testing.T) {
	a := newApplet(t)
	h := mustOpen(t, a)
	pub := h.publicKey(true)
	cmds, _ := StoreData(DGIAuthCert, leafFor(t, pub))
	if len(cmds) < 2 {
		t.Fatal("certificate fits one block; the test needs two")
	}
	h.ok(cmds[0])
	a.Reset() // phone taken off the reader
	h = mustOpen(t, a)
	if st := h.status(); st.State != KeyGenerated || st.Has(PartCert) {
		t.Fatalf("after a removal mid STORE DATA: %v", st)
	}
	// The rest of the old sequence does not complete anything.
	for _, c := range cmds[1:] {
		if _, sw := h.do(c); sw == device.SWOK {
			t.Fatal("a continuation block was accepted without its start")
		}
	}
	if st := h.status(); st.State != KeyGenerated {
		t.Fatalf("state %v", st)
	}
}

func TestStatusTLVRoundTrip(t *testing.T) {
	for _, st := range []Status{{Blank, 0}, {KeyGenerated, PartKey}, {CertStored, PartKey | PartCert | PartPIN}, {Provisioned, 0x0F}} {
		got, err := ParseStatus(EncodeStatus(st))
		if err != nil || got != st {
			t.Errorf("%v: got %v, %v", st, got, err)
		}
	}
	if _, err := ParseStatus(EncodeStatus(Status{State: 0x55})); err == nil {
		t.Error("unknown state accepted")
	}
}
