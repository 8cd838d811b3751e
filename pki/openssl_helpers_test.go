package pki

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// writeOpenSSLCA lays out dir as a minimal `openssl ca` directory for issuer.
func writeOpenSSLCA(dir string, issuer *x509.Certificate, key crypto.Signer) error {
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"ca.pem":    PEMCertificate(issuer),
		"ca.key":    pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
		"crlnumber": []byte("1000\n"),
		"ca.cnf": []byte(`[ ca ]
default_ca = test
[ test ]
database = ./index.txt
certificate = ./ca.pem
private_key = ./ca.key
default_md = sha256
default_crl_days = 7
crlnumber = ./crlnumber
crl_extensions = crl_ext
[ crl_ext ]
authorityKeyIdentifier = keyid:always
`),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// openSSLGenCRL runs `openssl ca -gencrl` in dir and writes DER to out.
func openSSLGenCRL(openssl, dir, out string) error {
	cmd := exec.Command(openssl, "ca", "-config", "ca.cnf", "-gencrl", "-out", "crl.pem")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("openssl ca -gencrl: %v\n%s", err, b)
	}
	cmd = exec.Command(openssl, "crl", "-in", "crl.pem", "-outform", "DER", "-out", out)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("openssl crl: %v\n%s", err, b)
	}
	return nil
}

func compareWithX509(t *testing.T, path string, issuer *x509.Certificate) {
	t.Helper()
	idx, err := LoadCRL(path, issuer)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := os.ReadFile(path)
	ref, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if idx.Len() != len(ref.RevokedCertificateEntries) || idx.Number.Cmp(ref.Number) != 0 || len(idx.AuthorityKeyID) == 0 {
		t.Fatalf("index: %d entries, number %v, AKI %x; x509: %d, %v", idx.Len(), idx.Number, idx.AuthorityKeyID, len(ref.RevokedCertificateEntries), ref.Number)
	}
	for _, e := range ref.RevokedCertificateEntries {
		got, ok := idx.Lookup(e.SerialNumber)
		if !ok || !got.RevokedAt.Equal(e.RevocationTime) || int(got.Reason) != e.ReasonCode {
			t.Fatalf("serial %x: %v %+v; x509 %v %d", e.SerialNumber, ok, got, e.RevocationTime, e.ReasonCode)
		}
	}
}
