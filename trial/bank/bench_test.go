package bank_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/pki"
	"jpkipilot/trial/bank"
	"jpkipilot/trial/store/storetest"
)

// BenchmarkLoginVerification is the bank's host-side check of a login:
// the card's signature of the challenge, the certificate chain to the
// anchors, validity and revocation against the trial CA's CRL (with a few
// thousand revoked serials on it). Target: p99 under 2 ms.
func BenchmarkLoginVerification(b *testing.B) {
	db := storetest.SQLite(b)
	e := newEnv(b, db)
	ctx := context.Background()
	r, _ := e.token(vcard.MyNumber)
	ch, err := e.bank.NewChallenge(ctx, e.monitors[0], bank.PurposeLogin)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := bank.SignChallenge(ctx, &device.Card{T: r}, (&pinPad{pin: cardPIN}).fn(), ch)
	if err != nil {
		b.Fatal(err)
	}
	// Fill the CRL: other certificates the CA revoked.
	key := testKeys(b)[0]
	for range 2000 {
		iss, err := e.ca.Issue(ctx, pki.IssueRequest{Kind: pki.RoleAuth, Holder: "OTHER", PublicKey: &key.PublicKey})
		if err != nil {
			b.Fatal(err)
		}
		if err := e.ca.Revoke(ctx, iss.Serial, pki.KeyCompromise); err != nil {
			b.Fatal(err)
		}
	}
	der, err := e.ca.PublishCRL(ctx, pki.RoleAuth, 0)
	if err != nil {
		b.Fatal(err)
	}
	crl, err := pki.ParseCRL(der, e.ca.Certificate(pki.RoleAuth))
	if err != nil {
		b.Fatal(err)
	}
	anchors, err := pki.Anchors(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	v := &bank.Verifier{Roots: anchors, CRLs: []*pki.CRLIndex{crl}, At: time.Now()}
	digest := ch.Digest()
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if err := v.Check(ctx, digest, resp.Signature, resp.Cert, resp.CACert); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(times)
	p99 := times[(len(times)*99)/100]
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(crl.Len()), "crl-entries")
}
