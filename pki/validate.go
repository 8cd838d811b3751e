package pki

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Purpose is what a certificate is being accepted for.
type Purpose int

const (
	// PurposeAuth: user authentication (digitalSignature, clientAuth EKU if any EKU).
	PurposeAuth Purpose = iota + 1
	// PurposeSign: electronic signature (nonRepudiation/contentCommitment).
	PurposeSign
)

func (p Purpose) String() string {
	switch p {
	case PurposeAuth:
		return "auth"
	case PurposeSign:
		return "sign"
	}
	return fmt.Sprintf("Purpose(%d)", int(p))
}

// Reason is why a certificate was not accepted. The UI translates it; the
// String form is a stable identifier.
type Reason int

const (
	UnknownIssuer Reason = iota + 1 // no chain to a trust anchor
	Expired                         // the certificate (or a CA in its chain) expired
	NotYetValid                     // before notBefore
	Revoked                         // on the CRL or revoked per OCSP; see Failure.RevokedAt/RevocationReason
	WrongKeyUsage                   // not usable for the purpose
	BadSignature                    // a signature in the chain does not verify
	InvalidChain                    // a CA in the chain may not issue it (path length, constraints, critical extensions)
	CRLMissing                      // revocation could not be checked: no CRL for the issuer and no OCSP
	CRLStale                        // the CRL is past its nextUpdate
	CRLInvalid                      // the CRL is not signed by the issuer
	OCSPFailed                      // the OCSP responder could not be asked or answered badly
	OCSPUnknown                     // the OCSP responder does not know the certificate
)

var reasonIDs = map[Reason]string{
	UnknownIssuer: "UnknownIssuer", Expired: "Expired", NotYetValid: "NotYetValid", Revoked: "Revoked",
	WrongKeyUsage: "WrongKeyUsage", BadSignature: "BadSignature", InvalidChain: "InvalidChain",
	CRLMissing: "CRLMissing", CRLStale: "CRLStale", CRLInvalid: "CRLInvalid",
	OCSPFailed: "OCSPFailed", OCSPUnknown: "OCSPUnknown",
}

func (r Reason) String() string {
	if s, ok := reasonIDs[r]; ok {
		return s
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// Failure is a validation failure. Errors from Verify are *Failure.
type Failure struct {
	Reason  Reason
	Subject string // the certificate the failure is about
	// For Revoked:
	RevokedAt        time.Time
	RevocationReason RevocationReason
	Detail           string
}

func (f *Failure) Error() string {
	msg := f.Reason.String()
	switch f.Reason {
	case Revoked:
		msg = fmt.Sprintf("Revoked (%s) on %s", f.RevocationReason, f.RevokedAt.UTC().Format(time.RFC3339))
	}
	if f.Subject != "" {
		msg += ": " + f.Subject
	}
	if f.Detail != "" {
		msg += ": " + f.Detail
	}
	return msg
}

// ReasonOf returns the failure reason of err, or 0 when err is not a *Failure.
func ReasonOf(err error) Reason {
	var f *Failure
	if errors.As(err, &f) {
		return f.Reason
	}
	return 0
}

// Options for Verify.
type Options struct {
	Roots         []*x509.Certificate // trust anchors
	Intermediates []*x509.Certificate
	At            time.Time // zero: now
	Purpose       Purpose
	// CRLs are matched to the certificates of the chain by issuer name.
	CRLs []*CRLIndex
	// OCSP is asked about the leaf when no CRL of its issuer is given.
	OCSP OCSPChecker
	Ctx  context.Context
	// SkipRevocation accepts a leaf whose revocation cannot be checked.
	SkipRevocation bool
}

// Verify validates cert for opts.Purpose: chain to a trust anchor, validity
// at opts.At, key usage, and revocation of the leaf (by CRL, else OCSP).
// It returns the chain, leaf first. Its errors are *Failure.
func Verify(cert *x509.Certificate, opts Options) ([]*x509.Certificate, error) {
	at := opts.At
	if at.IsZero() {
		at = time.Now()
	}
	ctx := opts.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	subject := cert.Subject.String()
	if at.Before(cert.NotBefore) {
		return nil, &Failure{Reason: NotYetValid, Subject: subject, Detail: "valid from " + cert.NotBefore.UTC().Format(time.RFC3339)}
	}
	if at.After(cert.NotAfter) {
		return nil, &Failure{Reason: Expired, Subject: subject, Detail: "expired " + cert.NotAfter.UTC().Format(time.RFC3339)}
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, c := range opts.Roots {
		roots.AddCert(c)
	}
	for _, c := range opts.Intermediates {
		inter.AddCert(c)
	}
	chains, err := cert.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, // checked per purpose below
	})
	if err != nil {
		return nil, chainFailure(cert, err, opts, at)
	}
	chain := chains[0]
	if err := checkUsage(cert, opts.Purpose); err != nil {
		return nil, err
	}
	// The leaf must be checked; CA certificates are checked when a CRL of
	// their issuer was given.
	for i := 0; i+1 < len(chain); i++ {
		if err := checkRevocation(ctx, chain[i], chain[i+1], opts, at, i == 0); err != nil {
			return nil, err
		}
	}
	return chain, nil
}

func chainFailure(cert *x509.Certificate, err error, opts Options, at time.Time) error {
	subject := cert.Subject.String()
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) {
		s := inv.Cert.Subject.String()
		if inv.Reason == x509.Expired {
			if at.Before(inv.Cert.NotBefore) {
				return &Failure{Reason: NotYetValid, Subject: s, Detail: "a CA in the chain is not yet valid"}
			}
			return &Failure{Reason: Expired, Subject: s, Detail: "a CA in the chain has expired"}
		}
		return &Failure{Reason: InvalidChain, Subject: s, Detail: err.Error()}
	}
	var unk x509.UnknownAuthorityError
	if errors.As(err, &unk) {
		if bad := badSignatureInPath(cert, append(slices.Clone(opts.Intermediates), opts.Roots...)); bad != nil {
			return bad
		}
		return &Failure{Reason: UnknownIssuer, Subject: subject, Detail: "issuer " + cert.Issuer.String() + " is not trusted"}
	}
	return &Failure{Reason: InvalidChain, Subject: subject, Detail: err.Error()}
}

// badSignatureInPath walks issuer names from cert and reports the first
// certificate whose signature the named issuer's key rejects: x509 calls
// that an unknown authority, the user needs to hear it is forged.
func badSignatureInPath(cert *x509.Certificate, pool []*x509.Certificate) *Failure {
	cur := cert
	for range 8 {
		var parent *x509.Certificate
		for _, p := range pool {
			if bytes.Equal(p.RawSubject, cur.RawIssuer) {
				parent = p
				if cur.CheckSignatureFrom(p) == nil {
					break
				}
			}
		}
		if parent == nil {
			return nil
		}
		if err := cur.CheckSignatureFrom(parent); err != nil {
			var ce x509.ConstraintViolationError
			if errors.As(err, &ce) {
				return &Failure{Reason: InvalidChain, Subject: cur.Subject.String(), Detail: err.Error()}
			}
			return &Failure{Reason: BadSignature, Subject: cur.Subject.String(), Detail: err.Error()}
		}
		if bytes.Equal(parent.RawSubject, parent.RawIssuer) {
			return nil
		}
		cur = parent
	}
	return nil
}

func checkUsage(cert *x509.Certificate, p Purpose) error {
	fail := func(d string) error {
		return &Failure{Reason: WrongKeyUsage, Subject: cert.Subject.String(), Detail: d}
	}
	switch p {
	case PurposeAuth:
		if cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
			return fail("no digitalSignature key usage: not a user-authentication certificate")
		}
		// A signature certificate carries the holder's name; it must not
		// pass as a login token (JPKI keeps the two keys apart too).
		if cert.KeyUsage&x509.KeyUsageContentCommitment != 0 {
			return fail("a signature (nonRepudiation) certificate is not for authentication")
		}
		if len(cert.ExtKeyUsage) > 0 || len(cert.UnknownExtKeyUsage) > 0 {
			if !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) && !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageAny) {
				return fail("extended key usage lacks clientAuth")
			}
		}
	case PurposeSign:
		if cert.KeyUsage&x509.KeyUsageContentCommitment == 0 {
			return fail("no nonRepudiation key usage: not a signature certificate")
		}
	default:
		return fail("no purpose given")
	}
	return nil
}

func checkRevocation(ctx context.Context, cert, issuer *x509.Certificate, opts Options, at time.Time, required bool) error {
	subject := cert.Subject.String()
	for _, crl := range opts.CRLs {
		if !bytes.Equal(crl.RawIssuer, issuer.RawSubject) {
			continue
		}
		if err := crl.CheckSignatureFrom(issuer); err != nil {
			return &Failure{Reason: CRLInvalid, Subject: subject, Detail: err.Error()}
		}
		if !crl.NextUpdate.IsZero() && at.After(crl.NextUpdate) {
			return &Failure{Reason: CRLStale, Subject: subject,
				Detail: "the CRL of " + issuer.Subject.String() + " expired " + crl.NextUpdate.Format(time.RFC3339)}
		}
		if e, ok := crl.Lookup(cert.SerialNumber); ok && revokedBy(e.RevokedAt, e.Reason, at) {
			return &Failure{Reason: Revoked, Subject: subject, RevokedAt: e.RevokedAt, RevocationReason: e.Reason}
		}
		return nil
	}
	if !required {
		return nil
	}
	if opts.OCSP != nil {
		resp, err := opts.OCSP(ctx, cert, issuer)
		if err != nil {
			return &Failure{Reason: OCSPFailed, Subject: subject, Detail: err.Error()}
		}
		if !resp.NextUpdate.IsZero() && at.After(resp.NextUpdate) || resp.ThisUpdate.After(at.Add(5*time.Minute)) {
			return &Failure{Reason: OCSPFailed, Subject: subject, Detail: "the OCSP answer is not current"}
		}
		switch resp.Status {
		case ocsp.Good:
			return nil
		case ocsp.Revoked:
			r := RevocationReason(resp.RevocationReason)
			if revokedBy(resp.RevokedAt, r, at) {
				return &Failure{Reason: Revoked, Subject: subject, RevokedAt: resp.RevokedAt.UTC(), RevocationReason: r}
			}
			return nil
		default:
			return &Failure{Reason: OCSPUnknown, Subject: subject}
		}
	}
	if opts.SkipRevocation {
		return nil
	}
	return &Failure{Reason: CRLMissing, Subject: subject, Detail: "no CRL of " + issuer.Subject.String() + " and no OCSP responder"}
}

// revokedBy: a certificate counts as revoked at `at` if it was revoked by
// then — validating an old signature asks about its signing time — except
// after a key compromise, which taints every use of the key.
func revokedBy(revokedAt time.Time, r RevocationReason, at time.Time) bool {
	return !revokedAt.After(at) || r == KeyCompromise || r == CACompromise
}
