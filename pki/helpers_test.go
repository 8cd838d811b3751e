package pki

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"testing"

	"jpkipilot/trial/store"
)

func init() {
	// Argon2id at 64 MiB per unseal makes -race tests slow; the format
	// carries its parameters, so the production default is untouched.
	DefaultKDF = KDFParams{Time: 1, Memory: 1024, Threads: 1}
}

const testPass = "correct horse battery"

// newCA initialises and unlocks a trial CA on db.
func newCA(t testing.TB, db *store.DB) *CA {
	t.Helper()
	ca, err := Init(context.Background(), db, []byte(testPass), InitOptions{
		CRLBaseURL: "http://crl.example.test/jpkipilot/", OCSPURL: "http://ocsp.example.test/"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.Unlock(context.Background(), []byte(testPass)); err != nil {
		t.Fatal(err)
	}
	return ca
}

// rsaKey is an RSA-2048 key as a card would generate it.
func rsaKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func issue(t testing.TB, ca *CA, kind Role, holder, name string) *Issued {
	t.Helper()
	rec, err := ca.Issue(context.Background(), IssueRequest{Kind: kind, Holder: holder, Name: name, PublicKey: &rsaKey(t).PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// trust is the store's trust configuration for Verify.
func trust(t testing.TB, ca *CA, db *store.DB) Options {
	t.Helper()
	anchors, err := Anchors(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return Options{Roots: anchors, Intermediates: []*x509.Certificate{ca.Certificate(RoleAuth), ca.Certificate(RoleSign)}}
}
