package provision

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"jpkipilot/pki"
	"jpkipilot/trial"
)

// IOSRequest asks for a user-authentication certificate for a key pair an
// iPhone generated in its Keychain ("iOS application management" role).
type IOSRequest struct {
	MonitorID  string
	Staff      string
	CSR        []byte // PKCS#10, PEM or DER
	Passphrase []byte // the trial CA's
}

// ParseCSR reads a PKCS#10 request from PEM ("CERTIFICATE REQUEST") or DER
// and checks its proof of possession: the request is signed by the key it
// carries. Only RSA-2048 or larger and ECDSA P-256 keys are accepted.
func ParseCSR(b []byte) (*x509.CertificateRequest, error) {
	der := b
	if blk, _ := pem.Decode(b); blk != nil {
		if blk.Type != "CERTIFICATE REQUEST" && blk.Type != "NEW CERTIFICATE REQUEST" {
			return nil, fmt.Errorf("CSR: PEM block %q, want CERTIFICATE REQUEST", blk.Type)
		}
		der = blk.Bytes
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("CSR: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("CSR: no proof of possession (the request's signature does not verify with its key): %w", err)
	}
	switch k := csr.PublicKey.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("CSR: RSA-%d key, want 2048 bits or more", k.N.BitLen())
		}
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("CSR: ECDSA key on %s, want P-256", k.Curve.Params().Name)
		}
	default:
		return nil, fmt.Errorf("CSR: %T key, want RSA or ECDSA P-256", csr.PublicKey)
	}
	return csr, nil
}

// IssueIOS checks the CSR's proof of possession and that the monitor proved
// their identity at this counter within ProofingValidity, then issues the
// certificate, bound to the monitor's pseudonymous id (the CSR's subject is
// ignored), and records the run, linked to the monitor's open loan if any.
func (d *Desk) IssueIOS(ctx context.Context, req IOSRequest) (*pki.Issued, error) {
	csr, err := ParseCSR(req.CSR)
	if err != nil {
		return nil, err
	}
	if err := d.checkMonitor(ctx, req.MonitorID); err != nil {
		return nil, err
	}
	pid, at, err := d.latestProofing(ctx, req.MonitorID)
	if err != nil {
		return nil, err
	}
	validity := d.ProofingValidity
	if validity <= 0 {
		validity = time.Hour
	}
	if age := d.now().Sub(at); age > validity {
		return nil, fmt.Errorf("%s: %w: the last one was %s ago", req.MonitorID, ErrNoProofing, age.Round(time.Minute))
	}
	ca, err := d.unlockCA(ctx, req.Passphrase)
	if err != nil {
		return nil, err
	}
	var loanID *int64
	loans, err := d.Loans.ListLoans(ctx, trial.LoanFilter{MonitorID: req.MonitorID, Open: true})
	if err != nil {
		return nil, err
	}
	if len(loans) > 0 {
		id := loans[0].ID
		loanID = &id
		if rec, err := d.live(ctx, id); err != nil {
			return nil, err
		} else if rec != nil {
			return nil, fmt.Errorf("%s: %w", trial.FormatLoanID(id), ErrAlreadyProvisioned)
		}
	}
	issued, err := ca.Issue(ctx, pki.IssueRequest{Kind: pki.RoleAuth, Holder: req.MonitorID, PublicKey: csr.PublicKey})
	if err != nil {
		return nil, err
	}
	rec := &Record{Path: IOS, MonitorID: req.MonitorID, LoanID: loanID, ProofingID: &pid, Status: StatusActive,
		Staff: req.Staff, CertSerial: pki.SerialHex(issued.Serial)}
	err = d.create(ctx, rec)
	if err == nil {
		rec.Status, rec.Step = StatusProvisioned, StepLinked
		err = d.save(ctx, rec, Event{Step: string(StepLinked), OK: true, Detail: "certificate " + rec.CertSerial + " issued for a CSR"})
	}
	if err != nil {
		_ = ca.Revoke(context.WithoutCancel(ctx), issued.Serial, pki.CessationOfOperation)
		return nil, errors.Join(err, errors.New("the certificate was revoked again"))
	}
	return issued, nil
}
