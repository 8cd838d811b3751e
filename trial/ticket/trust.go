package ticket

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"jpkipilot/pki"
	"jpkipilot/trial/store"
)

// DefaultMaxCRLAge is how old a held CRL may be before the gate refuses:
// JPKI publishes its CRLs daily.
const DefaultMaxCRLAge = 48 * time.Hour

// Trust is what the gate validates certificates against, held locally so
// that it works offline from the CA: the trust anchors, the auth CA
// certificate (the card's intermediate, so the card is not asked for it)
// and the newest CRL it holds, indexed once.
type Trust struct {
	Roots         []*x509.Certificate
	Intermediates []*x509.Certificate
	CRL           *pki.CRLIndex
	MaxCRLAge     time.Duration // zero: DefaultMaxCRLAge
}

// ErrCRLTooOld: the held CRL is older than the limit (or there is none).
var ErrCRLTooOld = errors.New("the held CRL is too old: fetch a new one from the CA")

// LoadTrust reads the trial CA's certificates, the store's trust anchors
// and the newest published auth CRL.
func LoadTrust(ctx context.Context, db *store.DB, maxAge time.Duration) (*Trust, error) {
	ca, err := pki.Open(ctx, db)
	if err != nil {
		return nil, err
	}
	roots, err := pki.Anchors(ctx, db)
	if err != nil {
		return nil, err
	}
	authCA := ca.Certificate(pki.RoleAuth)
	t := &Trust{Roots: roots, Intermediates: []*x509.Certificate{authCA}, MaxCRLAge: maxAge}
	der, err := pki.LatestCRL(ctx, db, pki.RoleAuth)
	if errors.Is(err, store.ErrNotFound) {
		return t, nil // Fresh refuses: no CRL held
	}
	if err != nil {
		return nil, err
	}
	if t.CRL, err = pki.ParseCRL(der, authCA); err != nil {
		return nil, err
	}
	return t, nil
}

// CRLAge is how old the held CRL is at now (zero without one).
func (t *Trust) CRLAge(now time.Time) time.Duration {
	if t.CRL == nil {
		return 0
	}
	return now.Sub(t.CRL.ThisUpdate)
}

// Fresh says whether the held CRL is young enough to decide on.
func (t *Trust) Fresh(now time.Time) error {
	if t.CRL == nil {
		return fmt.Errorf("%w (none is held)", ErrCRLTooOld)
	}
	limit := t.MaxCRLAge
	if limit <= 0 {
		limit = DefaultMaxCRLAge
	}
	if age := t.CRLAge(now); age > limit {
		return fmt.Errorf("%w (issued %s ago; the limit is %s)", ErrCRLTooOld, age.Round(time.Minute), limit)
	}
	return nil
}

// Validate checks chain, validity at now, key usage and revocation by the
// held CRL only (never OCSP: the gate works offline).
func (t *Trust) Validate(cert *x509.Certificate, now time.Time) error {
	var crls []*pki.CRLIndex
	if t.CRL != nil {
		crls = []*pki.CRLIndex{t.CRL}
	}
	_, err := pki.Verify(cert, pki.Options{Roots: t.Roots, Intermediates: t.Intermediates, At: now,
		Purpose: pki.PurposeAuth, CRLs: crls})
	return err
}
