// Package pki is the trial's public-key infrastructure: a three-CA
// hierarchy modelled on JPKI's (root, user-authentication CA, signature
// CA), certificate validation with typed failure reasons, CRLs — including
// a streaming index for million-entry CRLs — and OCSP. The card client is
// the subpackage jpki.
package pki

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/store"
)

// Role names one of the trial's CAs.
type Role string

const (
	RoleRoot Role = "root"
	RoleAuth Role = "auth" // issues user-authentication certificates
	RoleSign Role = "sign" // issues signature certificates
)

// ParseKind accepts "auth" or "sign": the kinds of certificate the CA issues.
func ParseKind(s string) (Role, error) {
	switch Role(s) {
	case RoleAuth, RoleSign:
		return Role(s), nil
	}
	return "", fmt.Errorf("certificate kind %q: want auth or sign", s)
}

var (
	// ErrNotInitialized: `ca init` has not been run on this store.
	ErrNotInitialized = errors.New("the trial CA is not initialised (run `jpkipilot ca init`)")
	// ErrAlreadyInitialized: `ca init` found existing CAs.
	ErrAlreadyInitialized = errors.New("the trial CA is already initialised in this store")
	// ErrLocked: an operation needs the CA keys; call Unlock first.
	ErrLocked = errors.New("the CA keys are locked (passphrase needed)")
)

// CA is the trial CA hierarchy in a store. Open loads the certificates;
// Unlock decrypts the issuing keys.
type CA struct {
	db  *store.DB
	Now func() time.Time
	// Actor is who works the CA, for the audit trail when the context
	// names no one (the GUI sets the logged-in login; see audit.Default).
	Actor string
	certs map[Role]*x509.Certificate
	keys  map[Role]crypto.Signer
	crl   map[Role]string
	ocsp  map[Role]string
	run   string // this value's run of virtual cards (virtualrun.go)
}

// InitOptions configure `ca init`.
type InitOptions struct {
	Organization string // subject O of the CA certificates
	// CRLBaseURL, when set, goes into issued certificates as the CRL
	// distribution point BASE/auth.crl or BASE/sign.crl.
	CRLBaseURL string
	// OCSPURL, when set, goes into issued certificates' AIA.
	OCSPURL string
	KDF     KDFParams // zero: DefaultKDF
	Now     func() time.Time
	// Actor is who initialises the CA, for the audit trail when ctx names
	// no one; the returned CA keeps it.
	Actor string
}

func (o *InitOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

var caNames = map[Role]string{
	RoleRoot: "jpkipilot Trial Root CA",
	RoleAuth: "jpkipilot Trial User Authentication CA",
	RoleSign: "jpkipilot Trial Signature CA",
}

// Init creates the three CAs (RSA-2048, SHA-256) and stores them with their
// keys sealed under passphrase; the root also becomes a trust anchor. It
// writes everything in one transaction: a failure leaves no CA behind.
func Init(ctx context.Context, db *store.DB, passphrase []byte, o InitOptions) (*CA, error) {
	if len(passphrase) < 8 {
		return nil, errors.New("the CA passphrase must be at least 8 characters")
	}
	if n, err := countCAs(ctx, db); err != nil {
		return nil, err
	} else if n > 0 {
		return nil, ErrAlreadyInitialized
	}
	kdf := o.KDF
	if kdf == (KDFParams{}) {
		kdf = DefaultKDF
	}
	org := o.Organization
	if org == "" {
		org = "jpkipilot trial"
	}
	now := o.now().UTC().Truncate(time.Second)
	ca := &CA{db: db, Now: time.Now, Actor: o.Actor, certs: map[Role]*x509.Certificate{}, keys: map[Role]crypto.Signer{},
		crl: map[Role]string{}, ocsp: map[Role]string{}, run: newRunID()}
	ctx = audit.Default(ctx, o.Actor)
	sealed := map[Role][]byte{}
	for _, role := range []Role{RoleRoot, RoleAuth, RoleSign} {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		tmpl := &x509.Certificate{
			Subject:               pkix.Name{Organization: []string{org}, CommonName: caNames[role]},
			NotBefore:             now.Add(-time.Hour),
			NotAfter:              now.AddDate(20, 0, 0),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
			BasicConstraintsValid: true,
			IsCA:                  true,
			SubjectKeyId:          keyID(&key.PublicKey),
		}
		if tmpl.SerialNumber, err = randomSerial(); err != nil {
			return nil, err
		}
		parent, signer := tmpl, crypto.Signer(key)
		if role == RoleRoot {
			tmpl.MaxPathLen = 1
		} else {
			tmpl.NotAfter = now.AddDate(10, 0, 0)
			tmpl.MaxPathLenZero = true
			parent, signer = ca.certs[RoleRoot], ca.keys[RoleRoot]
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
		if err != nil {
			return nil, fmt.Errorf("create %s CA certificate: %w", role, err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		ca.certs[role], ca.keys[role] = cert, key
		if sealed[role], err = sealKey(key, passphrase, kdf); err != nil {
			return nil, err
		}
		if role != RoleRoot {
			if o.CRLBaseURL != "" {
				ca.crl[role] = strings.TrimRight(o.CRLBaseURL, "/") + "/" + string(role) + ".crl"
			}
			ca.ocsp[role] = o.OCSPURL
		}
	}
	delete(ca.keys, RoleRoot) // only needed to sign the two issuing CAs
	err := db.Tx(ctx, func(tx txer) error {
		for _, role := range []Role{RoleRoot, RoleAuth, RoleSign} {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO pki_cas
				(role, cert_der, key_sealed, crl_url, ocsp_url, crl_number, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)`),
				string(role), ca.certs[role].Raw, sealed[role], ca.crl[role], ca.ocsp[role], now); err != nil {
				if store.IsUniqueViolation(err) {
					return ErrAlreadyInitialized
				}
				return err
			}
		}
		if err := insertAnchor(ctx, tx, ca.certs[RoleRoot], "trial root", now); err != nil {
			return err
		}
		root := ca.certs[RoleRoot]
		if err := audit.Record(ctx, tx, audit.CAKeyUse, string(RoleRoot), "root CA key signed the auth and sign CA certificates, then was sealed"); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.CAInit, SerialHex(root.SerialNumber),
			fmt.Sprintf("root, auth and sign CAs created; root sha256 %s", Fingerprint(root)))
	})
	if err != nil {
		return nil, fmt.Errorf("ca init: %w", err)
	}
	return ca, nil
}

// Open loads the CA certificates from the store; the keys stay sealed.
func Open(ctx context.Context, db *store.DB) (*CA, error) {
	var rows []struct {
		Role    string `db:"role"`
		Cert    []byte `db:"cert_der"`
		CRLURL  string `db:"crl_url"`
		OCSPURL string `db:"ocsp_url"`
	}
	if err := db.SelectContext(ctx, &rows, "SELECT role, cert_der, crl_url, ocsp_url FROM pki_cas"); err != nil {
		return nil, store.MapErr(err)
	}
	if len(rows) == 0 {
		return nil, ErrNotInitialized
	}
	ca := &CA{db: db, Now: time.Now, certs: map[Role]*x509.Certificate{}, keys: map[Role]crypto.Signer{},
		crl: map[Role]string{}, ocsp: map[Role]string{}, run: newRunID()}
	for _, r := range rows {
		c, err := x509.ParseCertificate(r.Cert)
		if err != nil {
			return nil, fmt.Errorf("stored %s CA certificate: %w", r.Role, err)
		}
		role := Role(r.Role)
		ca.certs[role], ca.crl[role], ca.ocsp[role] = c, r.CRLURL, r.OCSPURL
	}
	for _, role := range []Role{RoleRoot, RoleAuth, RoleSign} {
		if ca.certs[role] == nil {
			return nil, fmt.Errorf("the store lacks the %s CA", role)
		}
	}
	return ca, nil
}

// Unlock decrypts the two issuing CAs' keys. A wrong passphrase gives
// ErrWrongPassphrase and leaves the CA locked.
func (ca *CA) Unlock(ctx context.Context, passphrase []byte) error {
	keys := map[Role]crypto.Signer{}
	for _, role := range []Role{RoleAuth, RoleSign} {
		var blob []byte
		if err := ca.db.GetContext(ctx, &blob, ca.db.Rebind("SELECT key_sealed FROM pki_cas WHERE role = ?"), string(role)); err != nil {
			return store.MapErr(err)
		}
		k, err := openKey(blob, passphrase)
		if err != nil {
			return err
		}
		keys[role] = k
	}
	// Unsealing is a use of the keys: recorded before they are kept.
	ctx = audit.Default(ctx, ca.Actor)
	err := ca.db.Tx(ctx, func(tx txer) error {
		for _, role := range []Role{RoleAuth, RoleSign} {
			if err := audit.Record(ctx, tx, audit.CAKeyUse, string(role), fmt.Sprintf("%s CA key unsealed with the passphrase", role)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("unlock the CA: %w", err)
	}
	ca.keys = keys
	return nil
}

// Certificate is the certificate of the CA with the given role.
func (ca *CA) Certificate(role Role) *x509.Certificate { return ca.certs[role] }

// RoleOf returns the role of the trial CA that issued cert, if any.
func (ca *CA) RoleOf(cert *x509.Certificate) (Role, bool) {
	for _, role := range []Role{RoleAuth, RoleSign, RoleRoot} {
		if c := ca.certs[role]; c != nil && string(c.RawSubject) == string(cert.RawIssuer) {
			return role, true
		}
	}
	return "", false
}

func (ca *CA) signer(role Role) (crypto.Signer, error) {
	k := ca.keys[role]
	if k == nil {
		return nil, ErrLocked
	}
	return k, nil
}

func (ca *CA) now() time.Time {
	if ca.Now != nil {
		return ca.Now().UTC()
	}
	return time.Now().UTC()
}

// randomSerial is 128 random bits, positive and nonzero. Random serials
// leak nothing about how many certificates the trial issued and need no
// counter shared between laptops on one PostgreSQL; the primary key on
// pki_certs.serial catches the (2^-64 after 2^32 issues) collision, and
// Issue draws again.
func randomSerial() (*big.Int, error) {
	for {
		n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
		if err != nil {
			return nil, err
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// keyID is the RFC 5280 §4.2.1.2 method (1) key identifier.
func keyID(pub *rsa.PublicKey) []byte {
	h := sha1.Sum(x509.MarshalPKCS1PublicKey(pub))
	return h[:]
}

// SerialHex is the store's spelling of a serial: lowercase hex, no leading zeros.
func SerialHex(n *big.Int) string { return n.Text(16) }

// ParseSerial accepts hex (optionally 0x-prefixed, with colons as OpenSSL
// prints them) or, with a "d:" prefix, decimal.
func ParseSerial(s string) (*big.Int, error) {
	t := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	base := 16
	if strings.HasPrefix(t, "d:") {
		t, base = t[2:], 10
	}
	t = strings.TrimPrefix(t, "0x")
	n, ok := new(big.Int).SetString(t, base)
	if !ok || n.Sign() <= 0 {
		return nil, fmt.Errorf("serial %q: want a positive hex number", s)
	}
	return n, nil
}
