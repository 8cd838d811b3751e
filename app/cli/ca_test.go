package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"jpkipilot/pki"
)

// caCLI runs the command line against one SQLite store.
type caCLI struct {
	t   *testing.T
	db  string
	dir string
}

func newCACLI(t *testing.T) *caCLI {
	old := pki.DefaultKDF
	pki.DefaultKDF = pki.KDFParams{Time: 1, Memory: 1024, Threads: 1} // the format records it
	t.Cleanup(func() { pki.DefaultKDF = old })
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pass"), []byte("trial passphrase 2016\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &caCLI{t: t, db: filepath.Join(dir, "store.db"), dir: dir}
}

func (c *caCLI) path(name string) string { return filepath.Join(c.dir, name) }

func (c *caCLI) run(args ...string) (int, string, string) {
	c.t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"--db", c.db}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func (c *caCLI) ok(args ...string) string {
	c.t.Helper()
	code, out, errs := c.run(args...)
	if code != 0 {
		c.t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
	}
	return out
}

func TestCACommandsEndToEnd(t *testing.T) {
	c := newCACLI(t)
	pass := c.path("pass")
	out := c.ok("ca", "init", "--passphrase-file", pass, "--ocsp-url", "http://127.0.0.1:1/ocsp")
	if strings.Contains(out, "trial passphrase") {
		t.Fatal("init printed the passphrase")
	}
	if code, _, errs := c.run("ca", "init", "--passphrase-file", pass); code != 1 || !strings.Contains(errs, "already initialised") {
		t.Errorf("second init: %d %s", code, errs)
	}

	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	os.WriteFile(c.path("pub.pem"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600)
	out = c.ok("ca", "issue", "--kind", "auth", "--holder", "M0001", "--pubkey", c.path("pub.pem"), "--out", c.path("auth.pem"), "--passphrase-file", pass)
	serial := regexp.MustCompile(`serial ([0-9a-f]+)`).FindStringSubmatch(out)
	if serial == nil {
		t.Fatalf("issue printed no serial: %s", out)
	}
	authCert, err := pki.LoadCertificate(c.path("auth.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if !authCert.PublicKey.(*rsa.PublicKey).Equal(&key.PublicKey) || authCert.Subject.CommonName != "M0001" {
		t.Fatal("issued certificate is not for the given key and holder")
	}

	// No CRL published yet: revocation cannot be checked.
	if code, _, errs := c.run("verify", c.path("auth.pem")); code != 1 || !strings.Contains(errs, "CRLMissing") {
		t.Errorf("verify without CRL: %d %s", code, errs)
	}
	c.ok("ca", "crl", "--ca", "auth", "--out", c.path("auth1.crl"), "--passphrase-file", pass)
	if out := c.ok("verify", c.path("auth.pem")); !strings.HasPrefix(out, "OK (auth)") {
		t.Errorf("verify with the stored CRL: %s", out)
	}
	if code, _, errs := c.run("verify", "--purpose", "sign", c.path("auth.pem")); code != 1 || !strings.Contains(errs, "WrongKeyUsage") {
		t.Errorf("auth cert as sign: %d %s", code, errs)
	}

	c.ok("ca", "issue", "--kind", "sign", "--holder", "M0002", "--name", "山田太郎", "--new-key", c.path("sign.key"),
		"--out", c.path("sign.pem"), "--passphrase-file", pass)
	if st, err := os.Stat(c.path("sign.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("demo key file: %v %v", st, err)
	}
	if code, _, errs := c.run("ca", "issue", "--kind", "auth", "--holder", "M3", "--name", "名前", "--new-key", c.path("x.key"), "--out", c.path("x.pem"), "--passphrase-file", pass); code != 1 || !strings.Contains(errs, "no personal data") {
		t.Errorf("auth cert with a name: %d %s", code, errs)
	}
	if _, err := os.Stat(c.path("x.pem")); !os.IsNotExist(err) {
		t.Error("a refused issue left a certificate file")
	}

	os.WriteFile(c.path("wrong"), []byte("not it\n"), 0o600)
	if code, _, errs := c.run("ca", "revoke", serial[1], "--passphrase-file", c.path("wrong")); code != 1 || !strings.Contains(errs, "wrong CA passphrase") {
		t.Errorf("revoke with a wrong passphrase: %d %s", code, errs)
	}
	c.ok("ca", "revoke", serial[1], "--reason", "keyCompromise", "--passphrase-file", pass)
	list := c.ok("ca", "list")
	if !regexp.MustCompile(serial[1]+`\s+auth\s+M0001\s+\S+\s+revoked \S+ \(keyCompromise\)`).MatchString(list) || !strings.Contains(list, "M0002") {
		t.Errorf("ca list:\n%s", list)
	}
	// The old CRL does not know; a new one does, and so does the stored latest.
	if out := c.ok("verify", "--crl", c.path("auth1.crl"), c.path("auth.pem")); !strings.HasPrefix(out, "OK") {
		t.Errorf("verify with the old CRL: %s", out)
	}
	c.ok("ca", "crl", "--ca", "auth", "--out", c.path("auth2.crl"), "--pem", "--passphrase-file", pass)
	for _, args := range [][]string{{"verify", "--crl", c.path("auth2.crl"), c.path("auth.pem")}, {"verify", c.path("auth.pem")}} {
		if code, _, errs := c.run(args...); code != 1 || !strings.Contains(errs, "Revoked (keyCompromise)") {
			t.Errorf("%v: %d %s", args, code, errs)
		}
	}
	// OCSP responder unreachable.
	if code, _, errs := c.run("verify", "--ocsp", "aia", c.path("auth.pem")); code != 1 || !strings.Contains(errs, "OCSPFailed") {
		t.Errorf("verify --ocsp aia: %d %s", code, errs)
	}

	if code, _, errs := c.run("ca", "import-anchor", c.path("sign.pem")); code != 1 || !strings.Contains(errs, "not a CA certificate") {
		t.Errorf("import-anchor of a leaf: %d %s", code, errs)
	}
}

func TestCAUsageErrors(t *testing.T) {
	c := newCACLI(t)
	for _, args := range [][]string{
		{"ca"},
		{"ca", "frobnicate"},
		{"ca", "issue", "--kind", "both", "--holder", "x", "--out", "y"},
		{"ca", "issue", "--kind", "auth", "--out", "y"},
		{"ca", "revoke"},
		{"ca", "revoke", "zz-not-hex"},
		{"ca", "revoke", "01", "--reason", "boredom"},
		{"ca", "crl", "--ca", "root", "--out", "x"},
		{"verify"},
		{"verify", "a", "b"},
		{"verify", "--purpose", "login", "a"},
	} {
		if code, _, errs := c.run(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errs)
		}
	}
	if _, err := os.Stat(c.db); err == nil {
		t.Error("a usage error created the store")
	}
}

func TestVerifyRejectsGarbageCertificateFile(t *testing.T) {
	c := newCACLI(t)
	os.WriteFile(c.path("junk.pem"), []byte("hello"), 0o600)
	if code, _, errs := c.run("verify", c.path("junk.pem")); code != 1 || !strings.Contains(errs, "junk.pem") {
		t.Errorf("%d %s", code, errs)
	}
}

func FuzzParsePublicKey(f *testing.F) {
	key, _ := rsa.GenerateKey(rand.Reader, 1024)
	pkix, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	f.Add(pkix)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)}))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := parsePublicKey(b)
		if (k == nil) != (err != nil) {
			t.Fatalf("key %v with error %v", k, err)
		}
	})
}

func TestParsePublicKeyForms(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 1024)
	pkix, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pkcs1 := x509.MarshalPKCS1PublicKey(&key.PublicKey)
	for name, b := range map[string][]byte{
		"PKIX DER":  pkix,
		"PKIX PEM":  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}),
		"PKCS1 DER": pkcs1,
		"PKCS1 PEM": pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1}),
	} {
		k, err := parsePublicKey(b)
		if err != nil || !key.PublicKey.Equal(k) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := parsePublicKey(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pkix})); err == nil {
		t.Error("a CERTIFICATE block was taken for a public key")
	}
}
