package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"jpkipilot/device/vcard/sim"
	"jpkipilot/pki"
	"jpkipilot/trial"
)

// Inspect reads the applet state of a loan's SIM back over the secure
// channel and records it on the loan's run (if there is one) and in the
// inventory. It changes nothing on the SIM.
func (d *Desk) Inspect(ctx context.Context, loanID int64, connect ConnectFunc) (sim.Status, error) {
	loan, err := d.Loans.GetLoan(ctx, loanID)
	if err != nil {
		return sim.Status{}, err
	}
	keys, err := d.Loans.SIMKeys(ctx, loan.SIM)
	if err != nil {
		return sim.Status{}, err
	}
	card, err := connect(ctx, HoldPhone)
	if err != nil {
		return sim.Status{}, err
	}
	ch, err := d.openChannel(ctx, card, keys)
	if err != nil {
		return sim.Status{}, err
	}
	st, err := ch.status(ctx)
	if err != nil {
		return sim.Status{}, err
	}
	rec, err := d.live(ctx, loanID)
	if err != nil {
		return st, err
	}
	provisioned := false
	if rec != nil {
		rec.AppletState = st.State.String()
		provisioned = rec.Status == StatusProvisioned
		if err := d.save(ctx, rec, Event{Step: "inspect", OK: true, Detail: "applet " + st.String()}); err != nil {
			return st, err
		}
	}
	return st, d.Loans.SetAppletState(ctx, loan.SIM, inventoryState(st.State.String(), provisioned))
}

// RollbackRequest undoes an unfinished (or finished) Android run.
type RollbackRequest struct {
	LoanID  int64
	Staff   string
	Connect ConnectFunc
	// Passphrase, when given, also publishes a new CRL of the auth CA.
	Passphrase []byte
}

// Rollback revokes the run's certificate, if one was issued, and wipes the
// applet over the secure channel, reading its state back. The run ends as
// rolled back only when the applet reads back blank; otherwise it stays
// failed with what happened recorded, and Rollback can be run again.
func (d *Desk) Rollback(ctx context.Context, req RollbackRequest) (*Record, error) {
	rec, err := d.live(ctx, req.LoanID)
	if err != nil {
		return nil, err
	}
	if rec == nil || rec.Path != Android {
		return nil, fmt.Errorf("%s: %w", trial.FormatLoanID(req.LoanID), ErrNotProvisioned)
	}
	var ca *pki.CA
	if len(req.Passphrase) > 0 {
		if ca, err = d.unlockCA(ctx, req.Passphrase); err != nil {
			return nil, err
		}
	} else if ca, err = pki.Open(ctx, d.DB); err != nil && rec.CertSerial != "" {
		return nil, err
	}
	if rec.CertSerial != "" {
		if err := d.revoke(ctx, ca, rec, pki.CessationOfOperation, len(req.Passphrase) > 0); err != nil {
			return nil, err
		}
	}
	st, err := d.wipe(ctx, rec, req.Connect)
	if err != nil {
		rec.Status = StatusFailed
		_ = d.save(ctx, rec, Event{Step: "wipe", OK: false, Detail: err.Error()})
		return nil, err
	}
	rec.Status = StatusRolledBack
	if err := d.save(ctx, rec, Event{Step: "rollback", OK: true, Detail: "applet " + st.String()}); err != nil {
		return nil, err
	}
	return rec, d.Loans.SetAppletState(ctx, rec.SIM, trial.AppletBlank)
}

// revoke marks the run's certificate revoked (already revoked is fine)
// and, when the CA is unlocked, publishes the auth CA's CRL.
func (d *Desk) revoke(ctx context.Context, ca *pki.CA, rec *Record, reason pki.RevocationReason, publish bool) error {
	serial, err := pki.ParseSerial(rec.CertSerial)
	if err != nil {
		return err
	}
	err = ca.Revoke(ctx, serial, reason)
	if err != nil && !errors.Is(err, pki.ErrAlreadyRevoked) {
		_ = d.save(ctx, rec, Event{Step: "revoke", OK: false, Detail: err.Error()})
		return fmt.Errorf("revoke certificate %s: %w", rec.CertSerial, err)
	}
	detail := "certificate " + rec.CertSerial + " revoked (" + reason.String() + ")"
	if publish {
		if _, err := ca.PublishCRL(ctx, pki.RoleAuth, 7*24*time.Hour); err != nil {
			_ = d.save(ctx, rec, Event{Step: "revoke", OK: false, Detail: detail + "; CRL not published: " + err.Error()})
			return fmt.Errorf("publish the auth CRL: %w", err)
		}
		detail += "; CRL published"
	}
	return d.save(ctx, rec, Event{Step: "revoke", OK: true, Detail: detail})
}

// wipe opens the channel, sends WIPE and reads the state back: blank.
func (d *Desk) wipe(ctx context.Context, rec *Record, connect ConnectFunc) (sim.Status, error) {
	keys, err := d.Loans.SIMKeys(ctx, rec.SIM)
	if err != nil {
		return sim.Status{}, err
	}
	if connect == nil {
		return sim.Status{}, errors.New("no reader to reach the phone")
	}
	card, err := connect(ctx, HoldPhone)
	if err != nil {
		return sim.Status{}, err
	}
	ch, err := d.openChannel(ctx, card, keys)
	if err != nil {
		return sim.Status{}, err
	}
	if _, err := ch.do(ctx, sim.Wipe()); err != nil {
		return sim.Status{}, fmt.Errorf("WIPE: %w", err)
	}
	st, err := ch.status(ctx)
	if err != nil {
		return sim.Status{}, err
	}
	rec.AppletState = st.State.String()
	if st.State != sim.Blank || st.Parts != 0 {
		return st, fmt.Errorf("WIPE answered 9000 but the applet reads back as %s", st)
	}
	return st, nil
}

// ReturnRequest is the check-in of a provisioned loan.
type ReturnRequest struct {
	LoanID     int64
	Return     trial.Return
	Passphrase []byte // the trial CA's, to publish the CRL
	Connect    ConnectFunc
	// Unresolved, when revocation or wiping fails (phone lost, SIM dead),
	// is staff's reason for closing the loan anyway; it goes into the
	// loan's notes and the run's history.
	Unresolved string
}

// ReturnResult says what check-in did.
type ReturnResult struct {
	Loan    trial.Loan
	Revoked bool // the certificate is revoked and the CRL published (or there was none)
	Wiped   bool // the applet reads back blank (or the phone has no applet: iOS)
	Problem string
}

// Return revokes the loan's certificate (publishing the CRL) and wipes the
// applet over the secure channel; the loan is checked in only when both
// succeeded, or when staff give the reason in Unresolved.
func (d *Desk) Return(ctx context.Context, req ReturnRequest) (*ReturnResult, error) {
	loan, err := d.Loans.GetLoan(ctx, req.LoanID)
	if err != nil {
		return nil, err
	}
	if !loan.Open() {
		return nil, fmt.Errorf("%s: %w", trial.FormatLoanID(loan.ID), trial.ErrLoanClosed)
	}
	rec, err := d.live(ctx, loan.ID)
	if err != nil {
		return nil, err
	}
	res := &ReturnResult{Revoked: true, Wiped: true}
	var problems []string
	if rec != nil && rec.CertSerial != "" {
		res.Revoked = false
		ca, err := d.unlockCA(ctx, req.Passphrase)
		if err == nil {
			err = d.revoke(ctx, ca, rec, pki.CessationOfOperation, true)
		}
		if err != nil {
			problems = append(problems, "certificate not revoked: "+err.Error())
		} else {
			res.Revoked = true
		}
	}
	android := rec != nil && rec.Path == Android
	if rec == nil {
		phone, err := d.Loans.GetDevice(ctx, loan.Phone)
		if err != nil {
			return nil, err
		}
		android = phone.OS == trial.OSAndroid
	}
	if android {
		res.Wiped = false
		r := rec
		if r == nil {
			r = &Record{SIM: loan.SIM}
		}
		st, err := d.wipe(ctx, r, req.Connect)
		switch {
		case err != nil:
			problems = append(problems, "applet not wiped: "+err.Error())
			if rec != nil {
				_ = d.save(ctx, rec, Event{Step: "wipe", OK: false, Detail: err.Error()})
			}
		default:
			res.Wiped = true
			_ = d.Loans.SetAppletState(ctx, loan.SIM, trial.AppletWiped)
			if rec != nil {
				// A wiped phone no longer counts as provisioned, whether or
				// not the loan closes now.
				if rec.Status == StatusProvisioned {
					rec.Status = StatusFailed
				}
				_ = d.save(ctx, rec, Event{Step: "wipe", OK: true, Detail: "applet " + st.String()})
			}
		}
	}
	res.Problem = strings.Join(problems, "; ")
	ret := req.Return
	if len(problems) > 0 {
		why := strings.TrimSpace(req.Unresolved)
		if why == "" {
			return res, fmt.Errorf("%s: %w: %s", trial.FormatLoanID(loan.ID), ErrReturnIncomplete, res.Problem)
		}
		note := "not completed (" + res.Problem + "): " + why
		if ret.Notes != "" {
			ret.Notes += "; "
		}
		ret.Notes += note
	}
	res.Loan, err = d.Loans.Checkin(ctx, loan.ID, ret)
	if err != nil {
		return res, err
	}
	if rec != nil {
		rec.Status = StatusReturned
		detail := "loan checked in"
		if len(problems) > 0 {
			detail += " by staff decision: " + strings.TrimSpace(req.Unresolved)
		}
		if err := d.save(ctx, rec, Event{Step: "return", OK: len(problems) == 0, Detail: detail}); err != nil {
			return res, err
		}
	}
	return res, nil
}
