package pki

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"jpkipilot/trial/store/storetest"
)

// TestVerifyReasons makes each failure happen for real and checks the
// reason the UI will show.
func TestVerifyReasons(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	ca := newCA(t, db)
	good := issue(t, ca, RoleAuth, "M1", "")
	revoked := issue(t, ca, RoleAuth, "M2", "")
	sign := issue(t, ca, RoleSign, "M3", "高橋三郎")
	if err := ca.Revoke(ctx, revoked.Serial, Superseded); err != nil {
		t.Fatal(err)
	}
	crlDER, err := ca.PublishCRL(ctx, RoleAuth, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := ParseCRL(crlDER, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := trust(t, ca, db)
	base.CRLs = []*CRLIndex{crl}
	base.Purpose = PurposeAuth

	// An impostor CA with the same names but other keys.
	imp := newCA(t, storetest.SQLite(t))
	impCRL, err := imp.PublishCRL(ctx, RoleAuth, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	impIdx, _ := ParseCRL(impCRL, nil)
	tampered := tamper(t, good.Cert)

	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	unknownSrv := httptest.NewServer(&Responder{CA: ca})
	defer unknownSrv.Close()
	notIssued := issue(t, imp, RoleAuth, "M9", "").Cert // same issuer name, unknown to ca's store
	_ = notIssued

	cases := []struct {
		name string
		cert *x509.Certificate
		edit func(o *Options)
		want Reason
	}{
		{"ok", good.Cert, nil, 0},
		{"unknown issuer", good.Cert, func(o *Options) { o.Roots = nil }, UnknownIssuer},
		{"expired", good.Cert, func(o *Options) { o.At = good.NotAfter.Add(time.Second) }, Expired},
		{"not yet valid", good.Cert, func(o *Options) { o.At = good.NotBefore.Add(-time.Second) }, NotYetValid},
		{"revoked", revoked.Cert, nil, Revoked},
		{"auth cert for signing", good.Cert, func(o *Options) { o.Purpose = PurposeSign }, WrongKeyUsage},
		{"sign cert for auth", sign.Cert, func(o *Options) { o.CRLs = nil; o.SkipRevocation = true }, WrongKeyUsage},
		{"bad signature", tampered, nil, BadSignature},
		{"stale CRL", good.Cert, func(o *Options) { o.At = crl.NextUpdate.Add(time.Minute) }, CRLStale},
		{"no CRL", good.Cert, func(o *Options) { o.CRLs = nil }, CRLMissing},
		{"CRL of an impostor", good.Cert, func(o *Options) { o.CRLs = []*CRLIndex{impIdx} }, CRLInvalid},
		{"OCSP down", good.Cert, func(o *Options) { o.CRLs = nil; o.OCSP = OCSPClient(failing.URL, nil) }, OCSPFailed},
		{"no revocation check wanted", good.Cert, func(o *Options) { o.CRLs = nil; o.SkipRevocation = true }, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := base
			if c.edit != nil {
				c.edit(&o)
			}
			chain, err := Verify(c.cert, o)
			if got := ReasonOf(err); got != c.want || (c.want != 0) != (err != nil) {
				t.Fatalf("Verify: %v (reason %v), want %v", err, got, c.want)
			}
			if err == nil && (len(chain) != 3 || !chain[2].Equal(ca.Certificate(RoleRoot))) {
				t.Errorf("chain of %d ending in %v", len(chain), chain[len(chain)-1].Subject)
			}
		})
	}

	t.Run("revoked carries reason and date", func(t *testing.T) {
		_, err := Verify(revoked.Cert, base)
		var f *Failure
		if !errors.As(err, &f) || f.RevocationReason != Superseded || f.RevokedAt.IsZero() {
			t.Fatalf("%+v", err)
		}
	})
	t.Run("revoked after the time asked about", func(t *testing.T) {
		o := base
		o.At = revoked.NotBefore.Add(time.Second) // signed before the (superseded) revocation
		e, _ := crl.Lookup(revoked.Serial)
		if !o.At.Before(e.RevokedAt) {
			t.Skip("clock did not advance between issue and revoke")
		}
		if _, err := Verify(revoked.Cert, o); err != nil {
			t.Fatalf("a use before a superseded revocation: %v", err)
		}
	})
	t.Run("OCSP unknown", func(t *testing.T) {
		// A serial ca never issued, asked about under ca's issuer.
		forged := *good.Cert
		forged.SerialNumber = notIssued.SerialNumber
		o := base
		o.CRLs, o.SkipRevocation = nil, false
		o.OCSP = OCSPClient(unknownSrv.URL, nil)
		err := checkRevocation(ctx, &forged, ca.Certificate(RoleAuth), o, time.Now(), true)
		if ReasonOf(err) != OCSPUnknown {
			t.Fatalf("%v", err)
		}
	})
	t.Run("expired CA", func(t *testing.T) {
		o := base
		o.SkipRevocation, o.CRLs = true, nil
		o.At = ca.Certificate(RoleAuth).NotAfter.Add(time.Hour)
		leafPastCA := issueValidity(t, ca, 30*365*24*time.Hour)
		_, err := Verify(leafPastCA, o)
		var f *Failure
		if !errors.As(err, &f) || f.Reason != Expired || f.Subject != ca.Certificate(RoleAuth).Subject.String() {
			t.Fatalf("%v", err)
		}
	})
}

func issueValidity(t *testing.T, ca *CA, d time.Duration) *x509.Certificate {
	rec, err := ca.Issue(context.Background(), IssueRequest{Kind: RoleAuth, Holder: "long", PublicKey: &rsaKey(t).PublicKey, Validity: d})
	if err != nil {
		t.Fatal(err)
	}
	return rec.Cert
}

// tamper flips a bit of the certificate's signature.
func tamper(t *testing.T, c *x509.Certificate) *x509.Certificate {
	t.Helper()
	raw := append([]byte(nil), c.Raw...)
	raw[len(raw)-10] ^= 0x01
	out, err := x509.ParseCertificate(raw)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
