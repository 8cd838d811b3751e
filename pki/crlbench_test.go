package pki

import (
	"bufio"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// The million-entry CRL of the benchmarks is made once by `openssl ca
// -gencrl` (about 35 s here) and kept in the user cache directory.
const benchEntries = 1_000_000

type benchCRL struct {
	path   string
	issuer *x509.Certificate
	key    crypto.Signer
	serial []*big.Int // a sample of revoked serials
}

var benchOnce = sync.OnceValues(func() (*benchCRL, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cache, "jpkipilot-bench", "crl1m")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	b := &benchCRL{path: filepath.Join(dir, "crl.der")}
	if _, err := os.Stat(b.path); err != nil {
		if err := makeBenchCRL(dir); err != nil {
			return nil, err
		}
	}
	if b.issuer, err = LoadCertificate(filepath.Join(dir, "ca.pem")); err != nil {
		return nil, err
	}
	kb, err := os.ReadFile(filepath.Join(dir, "ca.key"))
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(kb)
	if blk == nil {
		return nil, fmt.Errorf("%s/ca.key: no PEM", dir)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	b.key = k.(crypto.Signer)
	idx, err := LoadCRL(b.path, b.issuer)
	if err != nil {
		return nil, err
	}
	step := idx.Len() / 1024
	i := 0
	idx.Each(func(serial []byte, _ Entry) bool {
		if i%step == 0 {
			b.serial = append(b.serial, new(big.Int).SetBytes(serial))
		}
		i++
		return true
	})
	return b, nil
})

func makeBenchCRL(dir string) error {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		return fmt.Errorf("the 1M-entry CRL is made with openssl, which is missing: %w", err)
	}
	issuer, key, err := makeIssuer(false)
	if err != nil {
		return err
	}
	if err := writeOpenSSLCA(dir, issuer, key); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "index.txt"))
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := mrand.New(mrand.NewPCG(2016, 2017))
	seen := make(map[uint64]bool, benchEntries)
	base := time.Date(2016, 10, 1, 0, 0, 0, 0, time.UTC)
	for len(seen) < benchEntries {
		s := r.Uint64() >> 1 // 8-byte serials, like many CAs'
		if s == 0 || seen[s] {
			continue
		}
		seen[s] = true
		reason := ""
		if len(seen)%10 == 0 {
			reason = ",keyCompromise"
		}
		at := base.Add(time.Duration(r.IntN(8*365*24*3600)) * time.Second)
		fmt.Fprintf(w, "R\t301231235959Z\t%s%s\t%016X\tunknown\t/CN=x\n", at.Format("060102150405Z"), reason, s)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return openSSLGenCRL(openssl, dir, filepath.Join(dir, "crl.der"))
}

func loadBench(b *testing.B) *benchCRL {
	b.Helper()
	needOpenSSL(b)
	bc, err := benchOnce()
	if err != nil {
		b.Fatal(err)
	}
	return bc
}

// BenchmarkLoadCRL1M: read, signature check and index of the 1M CRL.
func BenchmarkLoadCRL1M(b *testing.B) {
	bc := loadBench(b)
	st, _ := os.Stat(bc.path)
	b.SetBytes(st.Size())
	b.ReportAllocs()
	runtime.GC()
	var idx *CRLIndex
	for b.Loop() {
		var err error
		if idx, err = LoadCRL(bc.path, bc.issuer); err != nil {
			b.Fatal(err)
		}
	}
	if idx.Len() != benchEntries {
		b.Fatalf("%d entries", idx.Len())
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-inuse-MiB")
	if rss, ok := peakRSS(); ok {
		b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
	}
	runtime.KeepAlive(idx)
}

func BenchmarkLookup(b *testing.B) {
	bc := loadBench(b)
	idx, err := LoadCRL(bc.path, bc.issuer)
	if err != nil {
		b.Fatal(err)
	}
	absent := new(big.Int).Lsh(big.NewInt(1), 70)
	i := 0
	for b.Loop() {
		s := bc.serial[i%len(bc.serial)]
		if _, ok := idx.Lookup(s); !ok {
			b.Fatalf("%x not found", s)
		}
		if _, ok := idx.Lookup(absent); ok {
			b.Fatal("absent serial found")
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/lookup")
}

// BenchmarkVerifyCertificate: full validation of one certificate (chain,
// validity, key usage, revocation) against the 1M-entry CRL index.
func BenchmarkVerifyCertificate(b *testing.B) {
	bc := loadBench(b)
	idx, err := LoadCRL(bc.path, bc.issuer)
	if err != nil {
		b.Fatal(err)
	}
	leafKey := rsaKey(b)
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).Lsh(big.NewInt(1), 100), Subject: pkix.Name{CommonName: "M0001"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, bc.issuer, &leafKey.PublicKey, bc.key)
	if err != nil {
		b.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	opts := Options{Roots: []*x509.Certificate{bc.issuer}, Purpose: PurposeAuth, CRLs: []*CRLIndex{idx}}
	for b.Loop() {
		if _, err := Verify(leaf, opts); err != nil {
			b.Fatal(err)
		}
	}
}
