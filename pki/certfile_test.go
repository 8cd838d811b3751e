package pki

import (
	"bytes"
	"testing"
)

func TestParseCertificatesPEMAndDER(t *testing.T) {
	issuer, _ := testIssuer(t, false)
	ec, _ := testIssuer(t, true)
	pemBoth := append(PEMCertificate(issuer), PEMCertificate(ec)...)
	pemBoth = append([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), pemBoth...)
	certs, err := ParseCertificates(pemBoth)
	if err != nil || len(certs) != 2 || !certs[0].Equal(issuer) || !certs[1].Equal(ec) {
		t.Fatalf("PEM: %d certs, %v", len(certs), err)
	}
	certs, err = ParseCertificates(issuer.Raw)
	if err != nil || len(certs) != 1 || !certs[0].Equal(issuer) {
		t.Fatalf("DER: %v", err)
	}
	for name, b := range map[string][]byte{
		"empty":     nil,
		"no certs":  []byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"),
		"truncated": issuer.Raw[:100],
	} {
		if _, err := ParseCertificates(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseCertificates(f *testing.F) {
	issuer, _ := testIssuer(f, false)
	f.Add(issuer.Raw)
	f.Add(PEMCertificate(issuer))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		certs, err := ParseCertificates(b)
		if err == nil && len(certs) == 0 {
			t.Fatal("no error and no certificate")
		}
		for _, c := range certs {
			if !bytes.Contains(b, c.Raw) && !bytes.HasPrefix(bytes.TrimSpace(b), []byte("-----BEGIN")) {
				t.Fatal("DER certificate not taken from the input")
			}
		}
	})
}
