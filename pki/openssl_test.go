package pki

import (
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jpkipilot/trial/store/storetest"
)

func needOpenSSL(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		if storetest.Required() {
			t.Fatal("openssl not installed but JPKIPILOT_REQUIRE_SERVICES=1")
		}
		t.Skip("openssl not installed")
	}
	return p
}

// TestOpenSSLVerifiesIssuedCertificates: what the trial CA issues and the
// CRLs it publishes are accepted by OpenSSL, which knows nothing of us.
func TestOpenSSLVerifiesIssuedCertificates(t *testing.T) {
	openssl := needOpenSSL(t)
	ctx := context.Background()
	ca := newCA(t, storetest.SQLite(t))
	good := issue(t, ca, RoleAuth, "M1", "")
	bad := issue(t, ca, RoleAuth, "M2", "")
	sign := issue(t, ca, RoleSign, "M3", "伊藤四郎")
	if err := ca.Revoke(ctx, bad.Serial, KeyCompromise); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, blocks ...[]byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, joinBytes(blocks), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	chain := write("chain.pem", PEMCertificate(ca.Certificate(RoleRoot)), PEMCertificate(ca.Certificate(RoleAuth)), PEMCertificate(ca.Certificate(RoleSign)))
	var crls [][]byte
	for _, role := range []Role{RoleAuth, RoleSign} {
		der, err := ca.PublishCRL(ctx, role, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		crls = append(crls, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}))
	}
	crlFile := write("crls.pem", crls...)
	run := func(cert *Issued, purpose string) (string, error) {
		p := write(fmt.Sprintf("%x.pem", cert.Serial), PEMCertificate(cert.Cert))
		args := []string{"verify", "-crl_check", "-CAfile", chain, "-CRLfile", crlFile}
		if purpose != "" {
			args = append(args, "-purpose", purpose)
		}
		out, err := exec.Command(openssl, append(args, p)...).CombinedOutput()
		return string(out), err
	}
	if out, err := run(good, "sslclient"); err != nil || !strings.Contains(out, ": OK") {
		t.Errorf("auth certificate: %v\n%s", err, out)
	}
	if out, err := run(sign, ""); err != nil || !strings.Contains(out, ": OK") {
		t.Errorf("sign certificate: %v\n%s", err, out)
	}
	if out, err := run(bad, ""); err == nil || !strings.Contains(out, "certificate revoked") {
		t.Errorf("revoked certificate: %v\n%s", err, out)
	}
}

// TestIndexReadsOpenSSLCRL: a CRL made by `openssl ca -gencrl` (sorted by
// OpenSSL, reasons, its own encoding choices) indexes like x509 parses it.
func TestIndexReadsOpenSSLCRL(t *testing.T) {
	openssl := needOpenSSL(t)
	dir := t.TempDir()
	issuer, key := testIssuer(t, false)
	if err := writeOpenSSLCA(dir, issuer, key); err != nil {
		t.Fatal(err)
	}
	var idx strings.Builder
	reasons := []string{"", ",keyCompromise", ",superseded", ",cessationOfOperation"}
	seen := map[string]bool{}
	for i := range 500 {
		w := 1 + i%8 // serials of 1 to 8 bytes (OpenSSL wants even hex digits)
		v := (uint64(i) + 1) * 0x9E3779B97F4A7C15
		if w < 8 {
			v &= 1<<(8*w) - 1
		}
		serial := fmt.Sprintf("%0*X", 2*w, v)
		if seen[serial] {
			continue
		}
		seen[serial] = true
		fmt.Fprintf(&idx, "R\t351231235959Z\t2%d0101000000Z%s\t%s\tunknown\t/CN=x\n", i%5, reasons[i%4], serial)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.txt"), []byte(idx.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	crl := filepath.Join(dir, "crl.der")
	if err := openSSLGenCRL(openssl, dir, crl); err != nil {
		t.Fatal(err)
	}
	compareWithX509(t, crl, issuer)
}

func joinBytes(bs [][]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}
