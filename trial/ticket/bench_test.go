package ticket_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/pki"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
	"jpkipilot/trial/ticket"
)

// The benchmarks validate against pki's cached million-entry CRL
// (~/.cache/jpkipilot-bench/crl1m, made by pki's BenchmarkLoadCRL1M with
// openssl), using its CA as the auth CA that issues the benchmark's cards.
type bigCRL struct {
	trust  *ticket.Trust
	issuer *x509.Certificate
	key    crypto.Signer
	leaf   *rsa.PrivateKey
	now    time.Time
}

var bigOnce = sync.OnceValues(func() (*bigCRL, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cache, "jpkipilot-bench", "crl1m")
	issuer, err := pki.LoadCertificate(filepath.Join(dir, "ca.pem"))
	if err != nil {
		return nil, err
	}
	kb, err := os.ReadFile(filepath.Join(dir, "ca.key"))
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(kb)
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	idx, err := pki.LoadCRL(filepath.Join(dir, "crl.der"), issuer)
	if err != nil {
		return nil, err
	}
	leaf, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return &bigCRL{trust: &ticket.Trust{Roots: []*x509.Certificate{issuer}, CRL: idx, MaxCRLAge: 7 * 24 * time.Hour},
		issuer: issuer, key: k.(crypto.Signer), leaf: leaf, now: idx.ThisUpdate.Add(time.Hour)}, nil
})

func loadBigCRL(b *testing.B) *bigCRL {
	b.Helper()
	bc, err := bigOnce()
	if err != nil {
		b.Skipf("no cached 1M-entry CRL (run `go test -run - -bench LoadCRL1M ./pki` once to make it): %v", err)
	}
	return bc
}

// card is a My Number card with a fresh certificate (serial n) from the big CRL's CA.
func (bc *bigCRL) card(b *testing.B, n int64) (vcard.Config, *x509.Certificate) {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1<<62 + n), Subject: pkix.Name{CommonName: "bench"},
		NotBefore: bc.now.Add(-24 * time.Hour), NotAfter: bc.now.Add(365 * 24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, bc.issuer, &bc.leaf.PublicKey, bc.key)
	if err != nil {
		b.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return vcard.Config{Profile: vcard.MyNumber, AuthKey: bc.leaf, AuthCert: der, AuthCACert: bc.issuer.Raw, AuthPIN: cardPIN,
		SignKey: bc.leaf, SignCert: der, SignCACert: bc.issuer.Raw, SignPIN: "ABCDEF1234"}, cert
}

func addTicket(b *testing.B, db *store.DB, cert *x509.Certificate) {
	if _, err := db.ExecContext(context.Background(), db.Rebind(`INSERT INTO tickets (event_id, cert_issuer, cert_serial, applied_at, applied_with)
		VALUES (?, ?, ?, ?, 'card')`), event, cert.Issuer.String(), pki.SerialHex(cert.SerialNumber), time.Now().UTC()); err != nil {
		b.Fatal(err)
	}
}

func seed(b *testing.B, db *store.DB) {
	if err := (&ticket.Service{DB: db}).SeedDemo(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkGateDecision is one PIN-less admission, host side: the card's
// APDUs answered in process, chain and validity checks, the lookup in the
// 1M-entry CRL, the conditional UPDATE and the decision log. p99 is per
// decision; resetting the ticket between decisions is not timed.
func BenchmarkGateDecision(b *testing.B) {
	bc := loadBigCRL(b)
	storetest.EachB(b, func(b *testing.B, db *store.DB) {
		ctx := context.Background()
		seed(b, db)
		cfg, cert := bc.card(b, 1)
		addTicket(b, db, cert)
		vc, err := vcard.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		r := &vcard.VirtualReader{}
		r.Insert(vc)
		g := &ticket.Gate{DB: db, EventID: event, Name: "bench", Trust: bc.trust, Now: func() time.Time { return bc.now }}
		var lat []time.Duration
		for b.Loop() {
			b.StopTimer()
			if _, err := db.ExecContext(ctx, "UPDATE tickets SET entered_at = NULL"); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			t0 := time.Now()
			d, err := g.Check(ctx, &device.Card{T: r}, time.Time{}, nil)
			lat = append(lat, time.Since(t0))
			if err != nil || !d.Admit {
				b.Fatalf("%+v, %v", d, err)
			}
		}
		reportPercentiles(b, lat)
	})
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	at := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkTwoGatesPostgres: decisions per second with two gate laptops
// (two connection pools) on one PostgreSQL, each admitting its own stream
// of holders; every decision writes the admission and the log.
func BenchmarkTwoGatesPostgres(b *testing.B) {
	bc := loadBigCRL(b)
	ctx := context.Background()
	dbs := storetest.Laptops(b, 2)
	seed(b, dbs[0])
	const holders = 64
	var readers [holders]*vcard.VirtualReader
	for i := range readers {
		cfg, cert := bc.card(b, int64(i))
		addTicket(b, dbs[0], cert)
		vc, err := vcard.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		readers[i] = &vcard.VirtualReader{}
		readers[i].Insert(vc)
	}
	n := 0
	for b.Loop() {
		b.StopTimer()
		if _, err := dbs[0].ExecContext(ctx, "UPDATE tickets SET entered_at = NULL"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		var wg sync.WaitGroup
		for gi := range dbs {
			g := &ticket.Gate{DB: dbs[gi], EventID: event, Name: "gate", Trust: bc.trust, Now: func() time.Time { return bc.now }}
			wg.Go(func() {
				for i := gi; i < holders; i += 2 {
					if d, err := g.Check(ctx, &device.Card{T: readers[i]}, time.Time{}, nil); err != nil || !d.Admit {
						b.Errorf("%+v, %v", d, err)
						return
					}
				}
			})
		}
		wg.Wait()
		n += holders
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "decisions/s")
}
