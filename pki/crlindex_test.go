package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// testIssuer is a CRL-signing CA certificate and key made in Go.
func testIssuer(t testing.TB, ec bool) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	c, k, err := makeIssuer(ec)
	if err != nil {
		t.Fatal(err)
	}
	return c, k
}

func makeIssuer(ec bool) (*x509.Certificate, crypto.Signer, error) {
	var key crypto.Signer
	var err error
	if ec {
		key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	} else {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CRL test CA", Organization: []string{"jpkipilot"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageCRLSign | x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	c, err := x509.ParseCertificate(der)
	return c, key, err
}

// makeCRL signs a CRL with n entries in random order: serials of 1 to 20
// bytes, dates before and after 2050 (UTCTime and GeneralizedTime), every
// reason, some entries without one.
func makeCRL(t testing.TB, n int, issuer *x509.Certificate, key crypto.Signer, seed uint64) []byte {
	t.Helper()
	r := mrand.New(mrand.NewPCG(seed, 7))
	entries := make([]x509.RevocationListEntry, n)
	reasons := []int{0, 1, 2, 3, 4, 5, 6, 9, 10}
	seen := map[string]bool{}
	for i := range entries {
		b := make([]byte, 1+r.IntN(20))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		b[0] &= 0x7f // x509 refuses serials over 20 octets
		s := new(big.Int).SetBytes(b)
		if s.Sign() == 0 || seen[s.String()] {
			s.SetInt64(int64(i) + 1000)
		}
		seen[s.String()] = true
		at := time.Date(1990+r.IntN(80), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), 0, time.UTC)
		entries[i] = x509.RevocationListEntry{SerialNumber: s, RevocationTime: at, ReasonCode: reasons[r.IntN(len(reasons))]}
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(42), ThisUpdate: time.Now().Add(-time.Minute).UTC().Truncate(time.Second),
		NextUpdate: time.Now().Add(time.Hour).UTC().Truncate(time.Second), RevokedCertificateEntries: entries,
	}, issuer, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestCRLIndexMatchesX509(t *testing.T) {
	for _, ec := range []bool{false, true} {
		issuer, key := testIssuer(t, ec)
		der := makeCRL(t, 3000, issuer, key, 1)
		idx, err := ParseCRL(der, issuer)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Fatal(err)
		}
		if idx.Len() != len(ref.RevokedCertificateEntries) {
			t.Fatalf("index has %d entries, x509 %d", idx.Len(), len(ref.RevokedCertificateEntries))
		}
		if !idx.ThisUpdate.Equal(ref.ThisUpdate) || !idx.NextUpdate.Equal(ref.NextUpdate) || idx.Number.Cmp(ref.Number) != 0 {
			t.Errorf("header: %v %v %v, x509 %v %v %v", idx.ThisUpdate, idx.NextUpdate, idx.Number, ref.ThisUpdate, ref.NextUpdate, ref.Number)
		}
		if string(idx.RawIssuer) != string(ref.RawIssuer) || string(idx.AuthorityKeyID) != string(ref.AuthorityKeyId) {
			t.Error("issuer or authority key id differ")
		}
		for _, e := range ref.RevokedCertificateEntries {
			got, ok := idx.Lookup(e.SerialNumber)
			if !ok {
				t.Fatalf("serial %x not found", e.SerialNumber)
			}
			if !got.RevokedAt.Equal(e.RevocationTime) || int(got.Reason) != e.ReasonCode {
				t.Fatalf("serial %x: %v %v, x509 %v %d", e.SerialNumber, got.RevokedAt, got.Reason, e.RevocationTime, e.ReasonCode)
			}
			// Neighbours that are not on the CRL are not found.
			for _, d := range []int64{-1, 1} {
				n := new(big.Int).Add(e.SerialNumber, big.NewInt(d))
				if _, on := idx.Lookup(n); on != onList(ref, n) {
					t.Fatalf("serial %x: found=%v", n, on)
				}
			}
		}
		var prev []byte
		count := 0
		idx.Each(func(serial []byte, _ Entry) bool {
			if prev != nil && compareSerial(prev, serial) > 0 {
				t.Fatal("Each is not in serial order")
			}
			prev = serial
			count++
			return true
		})
		if count != idx.Len() {
			t.Errorf("Each visited %d of %d", count, idx.Len())
		}
	}
}

func onList(l *x509.RevocationList, n *big.Int) bool {
	for _, e := range l.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(n) == 0 {
			return true
		}
	}
	return false
}

func TestCRLSignature(t *testing.T) {
	issuer, key := testIssuer(t, false)
	der := makeCRL(t, 10, issuer, key, 2)
	other, _ := testIssuer(t, false) // same name, other key
	if _, err := ParseCRL(der, other); !errors.Is(err, ErrCRLSignature) {
		t.Fatalf("CRL checked with the wrong key: %v", err)
	}
	bad := append([]byte(nil), der...)
	bad[len(bad)-1] ^= 1
	if _, err := ParseCRL(bad, issuer); !errors.Is(err, ErrCRLSignature) {
		t.Fatalf("tampered signature: %v", err)
	}
	idx, err := ParseCRL(der, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.CheckSignatureFrom(other); !errors.Is(err, ErrCRLSignature) {
		t.Fatalf("CheckSignatureFrom wrong key: %v", err)
	}
	if err := idx.CheckSignatureFrom(issuer); err != nil {
		t.Fatal(err)
	}
}

func TestCRLMalformed(t *testing.T) {
	issuer, key := testIssuer(t, false)
	der := makeCRL(t, 20, issuer, key, 3)
	cases := map[string][]byte{
		"PEM text":  []byte("-----BEGIN X509 CRL-----\n"),
		"truncated": der[:len(der)/2],
		"trailing":  append(append([]byte(nil), der...), 0),
	}
	// Break the first entry's revocation date: find "Z" of a time after the
	// header and replace it.
	broken := append([]byte(nil), der...)
	idx, _ := ParseCRL(der, nil)
	off := idx.offs[0]
	s := idx.der[off:]
	for i := 0; i < 60; i++ {
		if s[i] == 0x17 && s[i+1] == 13 { // UTCTime
			broken[int(off)+i+2] = 'X'
			break
		}
		if s[i] == 0x18 && s[i+1] == 15 {
			broken[int(off)+i+2] = 'X'
			break
		}
	}
	cases["bad entry date"] = broken
	for name, b := range cases {
		_, err := ParseCRL(b, nil)
		var ce *CRLError
		if !errors.As(err, &ce) {
			t.Errorf("%s: %v, want a CRLError", name, err)
			continue
		}
		t.Logf("%s: %v", name, err)
	}
	if _, err := ParseCRL(der[:len(der)/2], nil); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("a truncated CRL is not called truncated: %v", err)
	}
	_, err := ParseCRL(broken, nil)
	var ce *CRLError
	if errors.As(err, &ce) && ce.Offset < int(off) {
		t.Errorf("bad entry date reported at byte %d, before the entry at %d", ce.Offset, off)
	}
}

func FuzzParseCRL(f *testing.F) {
	issuer, key := testIssuer(f, false)
	f.Add(makeCRL(f, 0, issuer, key, 4))
	f.Add(makeCRL(f, 3, issuer, key, 5))
	f.Add(makeCRL(f, 40, issuer, key, 6))
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		idx, err := ParseCRL(b, nil)
		if err != nil {
			var ce *CRLError
			if !errors.As(err, &ce) || ce.Offset < 0 || ce.Offset > len(b) {
				t.Fatalf("error %v has no offset within the input", err)
			}
			return
		}
		// Where x509 also accepts the CRL, both agree entry by entry.
		if ref, err := x509.ParseRevocationList(b); err == nil {
			if len(ref.RevokedCertificateEntries) != idx.Len() {
				t.Fatalf("index has %d entries, x509 %d", idx.Len(), len(ref.RevokedCertificateEntries))
			}
			for _, e := range ref.RevokedCertificateEntries {
				got, ok := idx.Lookup(e.SerialNumber)
				if !ok || !got.RevokedAt.Equal(e.RevocationTime) {
					t.Fatalf("serial %x: %v %v, x509 %v", e.SerialNumber, ok, got.RevokedAt, e.RevocationTime)
				}
			}
		}
		// Every entry the index holds is found by its serial.
		idx.Each(func(serial []byte, e Entry) bool {
			n := new(big.Int).SetBytes(serial)
			if len(serial) > 0 && serial[0]&0x80 != 0 {
				n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(serial))))
			}
			if _, ok := idx.Lookup(n); !ok {
				t.Fatalf("serial % x listed but not found", serial)
			}
			return true
		})
	})
}

func TestReadTime(t *testing.T) {
	for _, c := range []struct {
		der  []byte
		want time.Time
		ok   bool
	}{
		{append([]byte{0x17, 13}, "491231235959Z"...), time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), true},
		{append([]byte{0x17, 13}, "500101000000Z"...), time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{append([]byte{0x18, 15}, "20240229120000Z"...), time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC), true},
		{append([]byte{0x18, 15}, "21000229120000Z"...), time.Time{}, false},
		{append([]byte{0x17, 13}, "491231235959+"...), time.Time{}, false},
		{append([]byte{0x17, 11}, "4912312359Z"...), time.Time{}, false},
	} {
		s := cryptobyte.String(c.der)
		got, ok := readTime(&s)
		if ok != c.ok || ok && !time.Unix(got, 0).UTC().Equal(c.want) {
			t.Errorf("%q: %v %v, want %v %v", c.der[2:], time.Unix(got, 0).UTC(), ok, c.want, c.ok)
		}
	}
}

func TestCRLIndexConcurrentUse(t *testing.T) {
	issuer, key := testIssuer(t, false)
	der := makeCRL(t, 500, issuer, key, 8)
	idx, err := ParseCRL(der, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := x509.ParseRevocationList(der)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			if err := idx.CheckSignatureFrom(issuer); err != nil {
				t.Error(err)
			}
			for _, e := range ref.RevokedCertificateEntries[g*100 : g*100+100] {
				if _, ok := idx.Lookup(e.SerialNumber); !ok {
					t.Errorf("%x not found", e.SerialNumber)
				}
			}
		})
	}
	wg.Wait()
}
