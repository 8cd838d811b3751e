package pki

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"math/big"
	"slices"
	"testing"
	"time"

	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

func TestCAIssueRevokeCRL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := Init(ctx, db, []byte(testPass), InitOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := Init(ctx, db, []byte(testPass), InitOptions{}); !errors.Is(err, ErrAlreadyInitialized) {
			t.Fatalf("second init: %v, want ErrAlreadyInitialized", err)
		}
		ca, err := Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ca.Issue(ctx, IssueRequest{Kind: RoleAuth, Holder: "M0001", PublicKey: &rsaKey(t).PublicKey}); !errors.Is(err, ErrLocked) {
			t.Fatalf("issue while locked: %v, want ErrLocked", err)
		}
		if err := ca.Unlock(ctx, []byte("not the passphrase")); !errors.Is(err, ErrWrongPassphrase) {
			t.Fatalf("wrong passphrase: %v", err)
		}
		if err := ca.Unlock(ctx, []byte(testPass)); err != nil {
			t.Fatal(err)
		}

		if _, err := ca.Issue(ctx, IssueRequest{Kind: RoleAuth, Holder: "M0001", Name: "山田太郎", PublicKey: &rsaKey(t).PublicKey}); err == nil {
			t.Fatal("auth certificate with a name was issued")
		}
		if _, err := ca.Issue(ctx, IssueRequest{Kind: RoleSign, Holder: "M0001", PublicKey: &rsaKey(t).PublicKey}); err == nil {
			t.Fatal("sign certificate without a name was issued")
		}
		auth := issue(t, ca, RoleAuth, "M0001", "")
		sign := issue(t, ca, RoleSign, "M0001", "山田太郎")
		other := issue(t, ca, RoleAuth, "M0002", "")

		// The auth certificate's subject is the pseudonymous id and nothing else.
		if n := auth.Cert.Subject; n.CommonName != "M0001" || len(n.Names) != 1 {
			t.Errorf("auth subject %v carries more than the holder id", n.Names)
		}
		if auth.Cert.KeyUsage != x509.KeyUsageDigitalSignature || !slices.Equal(auth.Cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
			t.Errorf("auth key usage %v / %v", auth.Cert.KeyUsage, auth.Cert.ExtKeyUsage)
		}
		if sign.Cert.Subject.CommonName != "山田太郎" || sign.Cert.KeyUsage&x509.KeyUsageContentCommitment == 0 {
			t.Errorf("sign cert subject %v usage %v", sign.Cert.Subject, sign.Cert.KeyUsage)
		}
		if auth.Serial.BitLen() < 64 || auth.Serial.Cmp(other.Serial) == 0 {
			t.Errorf("serials %x and %x are not random 128-bit", auth.Serial, other.Serial)
		}
		if err := auth.Cert.CheckSignatureFrom(ca.Certificate(RoleAuth)); err != nil {
			t.Error(err)
		}
		if err := sign.Cert.CheckSignatureFrom(ca.Certificate(RoleSign)); err != nil {
			t.Error(err)
		}

		if err := ca.Revoke(ctx, auth.Serial, KeyCompromise); err != nil {
			t.Fatal(err)
		}
		if err := ca.Revoke(ctx, auth.Serial, Superseded); !errors.Is(err, ErrAlreadyRevoked) {
			t.Fatalf("revoke twice: %v", err)
		}
		if err := ca.Revoke(ctx, big.NewInt(12345), Superseded); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoke unknown: %v", err)
		}

		list, err := ca.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 3 {
			t.Fatalf("List: %d certificates, want 3", len(list))
		}
		for _, c := range list {
			if want := c.Serial.Cmp(auth.Serial) == 0; c.Revoked() != want {
				t.Errorf("%x revoked=%v", c.Serial, c.Revoked())
			}
		}

		der1, err := ca.PublishCRL(ctx, RoleAuth, 0)
		if err != nil {
			t.Fatal(err)
		}
		der2, err := ca.PublishCRL(ctx, RoleAuth, 0)
		if err != nil {
			t.Fatal(err)
		}
		c1, _ := x509.ParseRevocationList(der1)
		c2, _ := x509.ParseRevocationList(der2)
		if c1.Number.Int64() != 1 || c2.Number.Int64() != 2 {
			t.Errorf("CRL numbers %v, %v; want 1, 2", c1.Number, c2.Number)
		}
		latest, err := LatestCRL(ctx, db, RoleAuth)
		if err != nil || !bytes.Equal(latest, der2) {
			t.Fatalf("LatestCRL: %v", err)
		}
		if _, err := LatestCRL(ctx, db, RoleSign); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("LatestCRL of an unpublished CA: %v", err)
		}
		idx, err := ParseCRL(latest, ca.Certificate(RoleAuth))
		if err != nil {
			t.Fatal(err)
		}
		e, ok := idx.Lookup(auth.Serial)
		if !ok || e.Reason != KeyCompromise {
			t.Fatalf("revoked serial on CRL: %v %+v", ok, e)
		}
		if _, ok := idx.Lookup(other.Serial); ok {
			t.Error("unrevoked serial on the CRL")
		}

		opts := trust(t, ca, db)
		opts.CRLs = []*CRLIndex{idx}
		opts.Purpose = PurposeAuth
		if _, err := Verify(other.Cert, opts); err != nil {
			t.Errorf("good auth cert: %v", err)
		}
		_, err = Verify(auth.Cert, opts)
		var f *Failure
		if !errors.As(err, &f) || f.Reason != Revoked || f.RevocationReason != KeyCompromise {
			t.Fatalf("revoked cert: %v", err)
		}
	})
}

func TestCAEndpointsInCertificates(t *testing.T) {
	db := storetest.SQLite(t)
	ca := newCA(t, db)
	rec := issue(t, ca, RoleSign, "M0009", "鈴木花子")
	if !slices.Equal(rec.Cert.CRLDistributionPoints, []string{"http://crl.example.test/jpkipilot/sign.crl"}) {
		t.Errorf("CRL DP %v", rec.Cert.CRLDistributionPoints)
	}
	if !slices.Equal(rec.Cert.OCSPServer, []string{"http://ocsp.example.test/"}) {
		t.Errorf("OCSP %v", rec.Cert.OCSPServer)
	}
	var holder string
	for _, n := range rec.Cert.Subject.Names {
		if n.Type.Equal(asn1.ObjectIdentifier{2, 5, 4, 5}) {
			holder, _ = n.Value.(string)
		}
	}
	if holder != "M0009" {
		t.Errorf("sign cert subject serialNumber %q, want the holder id", holder)
	}
}

func TestAnchors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ca := newCA(t, db)
		anchors, err := Anchors(ctx, db)
		if err != nil || len(anchors) != 1 || !anchors[0].Equal(ca.Certificate(RoleRoot)) {
			t.Fatalf("after init the anchors are %v (%v), want the trial root", anchors, err)
		}
		// Another CA stands in for a real JPKI CA a coordinator imports.
		other := newCA(t, storetest.SQLite(t)).Certificate(RoleRoot)
		if added, err := ImportAnchor(ctx, db, other, "jpki.pem"); err != nil || !added {
			t.Fatalf("import: %v %v", added, err)
		}
		if added, err := ImportAnchor(ctx, db, other, "jpki.pem"); err != nil || added {
			t.Fatalf("re-import: %v %v", added, err)
		}
		leaf := issue(t, ca, RoleAuth, "M1", "").Cert
		if _, err := ImportAnchor(ctx, db, leaf, "x"); err == nil {
			t.Error("an end-entity certificate became a trust anchor")
		}
		if anchors, _ := Anchors(ctx, db); len(anchors) != 2 {
			t.Errorf("%d anchors, want 2", len(anchors))
		}
	})
}

func TestRevokeLeavesNoPartialStateOnUnknownSerial(t *testing.T) {
	db := storetest.SQLite(t)
	ca := newCA(t, db)
	ctx := context.Background()
	issue(t, ca, RoleAuth, "M1", "")
	_ = ca.Revoke(ctx, big.NewInt(7), KeyCompromise)
	der, err := ca.PublishCRL(ctx, RoleAuth, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := ParseCRL(der, ca.Certificate(RoleAuth))
	if err != nil || idx.Len() != 0 {
		t.Fatalf("CRL after a failed revoke has %d entries (%v)", idx.Len(), err)
	}
}

func TestLatestCRLIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if idx, err := LatestCRLIndex(ctx, db, RoleAuth); idx != nil || err != nil {
			t.Fatalf("before ca init: %v, %v; want nothing", idx, err)
		}
		ca := newCA(t, db)
		if idx, err := LatestCRLIndex(ctx, db, RoleAuth); idx != nil || err != nil {
			t.Fatalf("before any CRL: %v, %v; want nothing", idx, err)
		}
		auth := issue(t, ca, RoleAuth, "M-0001", "")
		if err := ca.Revoke(ctx, auth.Serial, KeyCompromise); err != nil {
			t.Fatal(err)
		}
		if _, err := ca.PublishCRL(ctx, RoleAuth, 0); err != nil {
			t.Fatal(err)
		}
		idx, err := LatestCRLIndex(ctx, db, RoleAuth)
		if err != nil || idx == nil {
			t.Fatalf("after publishing: %v, %v", idx, err)
		}
		if _, revoked := idx.Lookup(auth.Serial); !revoked {
			t.Fatal("the revoked certificate is not in the latest CRL's index")
		}
	})
}
