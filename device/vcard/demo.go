package vcard

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Default PINs of demo cards (documented in the README, never printed).
const (
	DemoAuthPIN = "1234"
	DemoSignPIN = "ABCDEF1234"
)

// DemoCA is a throwaway certificate hierarchy shaped like JPKI's: a root,
// an auth CA and a sign CA under it. It issues demo cards so that demos and
// tests work without the trial CA. Everything is RSA-2048.
type DemoCA struct {
	RootCert, AuthCACert, SignCACert []byte // DER

	root, authCA, signCA          *x509.Certificate
	rootKey, authCAKey, signCAKey *rsa.PrivateKey
	now                           func() time.Time
}

var demoOrg = []string{"jpkipilot demo (not JPKI)"}

// NewDemoCA generates the three CA keys and certificates.
func NewDemoCA() (*DemoCA, error) {
	ca := &DemoCA{now: time.Now}
	var err error
	if ca.rootKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	rootTmpl := caTemplate("Demo JPKI Root CA", ca.now(), 20)
	if ca.RootCert, ca.root, err = create(rootTmpl, rootTmpl, &ca.rootKey.PublicKey, ca.rootKey); err != nil {
		return nil, err
	}
	if ca.authCAKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	authTmpl := caTemplate("Demo JPKI User Authentication CA", ca.now(), 10)
	authTmpl.MaxPathLenZero = true
	if ca.AuthCACert, ca.authCA, err = create(authTmpl, ca.root, &ca.authCAKey.PublicKey, ca.rootKey); err != nil {
		return nil, err
	}
	if ca.signCAKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	signTmpl := caTemplate("Demo JPKI Digital Signature CA", ca.now(), 10)
	signTmpl.MaxPathLenZero = true
	if ca.SignCACert, ca.signCA, err = create(signTmpl, ca.root, &ca.signCAKey.PublicKey, ca.rootKey); err != nil {
		return nil, err
	}
	return ca, nil
}

// Issue makes a card config with fresh auth and sign keys. The auth
// certificate carries no personal data (as in JPKI); the sign certificate
// names the holder. PINs are the demo defaults.
func (ca *DemoCA) Issue(p Profile, holder string) (Config, error) {
	if holder == "" {
		return Config{}, errors.New("vcard: demo holder name is empty")
	}
	cfg := Config{Profile: p, AuthCACert: clone(ca.AuthCACert), SignCACert: clone(ca.SignCACert),
		AuthPIN: DemoAuthPIN, SignPIN: DemoSignPIN}
	var err error
	if cfg.AuthKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return Config{}, err
	}
	if cfg.SignKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return Config{}, err
	}
	now := ca.now()
	serial, err := randomSerial()
	if err != nil {
		return Config{}, err
	}
	auth := &x509.Certificate{
		SerialNumber: serial,
		// A JPKI auth certificate identifies the card, not the person.
		Subject:     pkix.Name{Country: []string{"JP"}, Organization: demoOrg, CommonName: fmt.Sprintf("%X", serial)},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.AddDate(5, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if cfg.AuthCert, _, err = create(auth, ca.authCA, &cfg.AuthKey.PublicKey, ca.authCAKey); err != nil {
		return Config{}, err
	}
	if serial, err = randomSerial(); err != nil {
		return Config{}, err
	}
	sign := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Country: []string{"JP"}, Organization: demoOrg, CommonName: holder},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(5, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	if cfg.SignCert, _, err = create(sign, ca.signCA, &cfg.SignKey.PublicKey, ca.signCAKey); err != nil {
		return Config{}, err
	}
	return cfg, cfg.Validate()
}

// NewDemo makes a fresh demo hierarchy and one card config from it.
func NewDemo(p Profile, holder string) (Config, error) {
	ca, err := NewDemoCA()
	if err != nil {
		return Config{}, err
	}
	return ca.Issue(p, holder)
}

func caTemplate(cn string, now time.Time, years int) *x509.Certificate {
	serial, _ := randomSerial()
	return &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Country: []string{"JP"}, Organization: demoOrg, CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(years, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
}

func create(tmpl, parent *x509.Certificate, pub *rsa.PublicKey, signer *rsa.PrivateKey) ([]byte, *x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, nil, fmt.Errorf("vcard: demo certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	c, err := x509.ParseCertificate(der)
	return der, c, err
}

func randomSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	return n.Add(n, big.NewInt(1)), nil // positive, never zero
}
