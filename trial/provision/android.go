package provision

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"

	"jpkipilot/device"
	"jpkipilot/device/vcard/sim"
	"jpkipilot/pki"
	"jpkipilot/pki/jpki"
	"jpkipilot/trial"
)

// AndroidRequest provisions (or resumes provisioning) the phone of a loan.
type AndroidRequest struct {
	LoanID     int64
	Staff      string
	Passphrase []byte // the trial CA's
	Connect    ConnectFunc
	// CardPIN asks the monitor for their My Number card's auth PIN (step 1).
	CardPIN jpki.PINFunc
	// NewPIN is the PIN pad: the monitor chooses the phone's 4-digit auth PIN.
	NewPIN func(ctx context.Context) (string, error)
	// PhonePIN asks for that PIN again to read the certificate back (step 5).
	PhonePIN jpki.PINFunc
	// Progress, if set, is told each step as it completes.
	Progress func(Step)
}

// Result is a provisioned phone.
type Result struct {
	Record Record
	Cert   *pki.Issued
}

// Provision runs the counter-terminal flow for an Android loan, or resumes
// a run that stopped: it reads the applet's state back over the secure
// channel and continues from there, so a step the applet already holds is
// not repeated and a certificate issued for a key the applet no longer has
// is revoked. On any failure the run is recorded as failed at that step
// with the applet state read back (or "unknown" when the phone is gone).
func (d *Desk) Provision(ctx context.Context, req AndroidRequest) (*Result, error) {
	if req.Connect == nil || req.NewPIN == nil || req.PhonePIN == nil {
		return nil, errors.New("provision: Connect, NewPIN and PhonePIN are required")
	}
	loan, err := d.Loans.GetLoan(ctx, req.LoanID)
	if err != nil {
		return nil, err
	}
	if !loan.Open() {
		return nil, fmt.Errorf("%s: %w", trial.FormatLoanID(loan.ID), trial.ErrLoanClosed)
	}
	phone, err := d.Loans.GetDevice(ctx, loan.Phone)
	if err != nil {
		return nil, err
	}
	if phone.OS != trial.OSAndroid {
		return nil, fmt.Errorf("%s: phone %s (%s): %w", trial.FormatLoanID(loan.ID), phone.Serial, phone.OS, ErrNotAndroid)
	}
	keys, err := d.Loans.SIMKeys(ctx, loan.SIM)
	if err != nil {
		return nil, err
	}
	ca, err := d.unlockCA(ctx, req.Passphrase)
	if err != nil {
		return nil, err
	}
	rec, err := d.live(ctx, loan.ID)
	if err != nil {
		return nil, err
	}
	switch {
	case rec == nil:
		id := loan.ID
		rec = &Record{Path: Android, MonitorID: loan.MonitorID, LoanID: &id, SIM: loan.SIM, Status: StatusActive, Staff: req.Staff}
		if err := d.create(ctx, rec); err != nil {
			return nil, err
		}
	case rec.Status == StatusProvisioned:
		return nil, fmt.Errorf("%s: %w", trial.FormatLoanID(loan.ID), ErrAlreadyProvisioned)
	case rec.Status == StatusActive && d.now().Sub(rec.UpdatedAt) < StaleAfter:
		return nil, fmt.Errorf("%s: %w (last step %s)", trial.FormatLoanID(loan.ID), ErrInProgress, rec.UpdatedAt.In(trial.JST).Format("15:04:05"))
	default:
		rec.Status = StatusActive
		if err := d.save(ctx, rec, Event{Step: "resume", OK: true, Detail: "from step " + string(rec.Step)}); err != nil {
			return nil, err
		}
	}
	f := &flow{d: d, req: req, rec: rec, ca: ca, keys: keys}
	issued, err := f.run(ctx)
	if err != nil {
		f.fail(ctx, err)
		return nil, err
	}
	return &Result{Record: *rec, Cert: issued}, nil
}

type flow struct {
	d     *Desk
	req   AndroidRequest
	rec   *Record
	ca    *pki.CA
	keys  trial.SIMKeys
	phone *device.Card
	ch    *channel
	at    Step // the step being attempted
}

func (f *flow) step(ctx context.Context, s Step, detail string) error {
	if err := f.d.advance(ctx, f.rec, s, detail); err != nil {
		return err
	}
	if f.req.Progress != nil {
		f.req.Progress(s)
	}
	return nil
}

func (f *flow) next(s Step) { f.at = s }

func (f *flow) setState(st sim.Status) { f.rec.AppletState = st.State.String() }

func (f *flow) run(ctx context.Context) (*pki.Issued, error) {
	d, rec := f.d, f.rec
	// 1. Identity proofing with the monitor's My Number card.
	if rec.ProofingID == nil {
		f.next(StepProofed)
		card, err := f.req.Connect(ctx, HoldMyNumberCard)
		if err != nil {
			return nil, err
		}
		p, err := d.ProveIdentity(ctx, rec.MonitorID, f.req.Staff, card, f.req.CardPIN)
		if err != nil {
			return nil, err
		}
		rec.ProofingID = &p.ID
		if err := f.step(ctx, StepProofed, "card certificate "+pki.SerialHex(p.CardCert.SerialNumber)); err != nil {
			return nil, err
		}
	}
	// 2. The phone: secure channel with the SIM's keys; read its state.
	f.next(StepChannel)
	phone, err := f.req.Connect(ctx, HoldPhone)
	if err != nil {
		return nil, err
	}
	f.phone = phone
	if f.ch, err = d.openChannel(ctx, phone, f.keys); err != nil {
		return nil, err
	}
	st, err := f.ch.status(ctx)
	if err != nil {
		return nil, err
	}
	f.setState(st)
	if err := f.step(ctx, StepChannel, "applet "+st.String()); err != nil {
		return nil, err
	}
	var issued *pki.Issued
	if st.State != sim.Provisioned {
		if issued, err = f.personalise(ctx, st); err != nil {
			return nil, err
		}
	} else {
		if issued, err = f.issuedCert(ctx); err != nil {
			return nil, err
		}
		if issued.Revoked() {
			return nil, ErrStaleCertificate
		}
	}
	// 5. Read back as a JPKI phone token, through the JPKI client.
	f.next(StepVerified)
	kind, err := jpki.Detect(ctx, phone)
	if err != nil {
		return nil, err
	}
	if kind != jpki.PhoneToken {
		return nil, fmt.Errorf("the applet answers as %s, not a JPKI phone token", kind)
	}
	got, err := jpki.New(phone).ReadCertificate(ctx, jpki.CertAuth, f.req.PhonePIN)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(got.Raw, issued.Cert.Raw) {
		return nil, ErrPhoneMismatch
	}
	if err := f.step(ctx, StepVerified, "auth certificate read back after the auth PIN"); err != nil {
		return nil, err
	}
	// 6. Link the loan and the certificate: provisioned.
	f.next(StepLinked)
	rec.Status = StatusProvisioned
	if err := f.step(ctx, StepLinked, "loan "+trial.FormatLoanID(*rec.LoanID)+" ↔ certificate "+rec.CertSerial); err != nil {
		return nil, err
	}
	if err := d.Loans.SetAppletState(ctx, rec.SIM, trial.AppletProvisioned); err != nil {
		return nil, err
	}
	return issued, nil
}

// personalise runs steps 3 and 4 from whatever state the applet is in.
func (f *flow) personalise(ctx context.Context, st sim.Status) (*pki.Issued, error) {
	// 3. Key pair on the applet, or the one it already has.
	f.next(StepKeyGen)
	generate := st.State == sim.Blank
	pub, err := f.ch.publicKey(ctx, generate)
	if err != nil {
		return nil, err
	}
	if generate {
		st = sim.Status{State: sim.KeyGenerated, Parts: sim.PartKey}
		f.setState(st)
		if err := f.step(ctx, StepKeyGen, "RSA-2048 key pair generated on the applet"); err != nil {
			return nil, err
		}
	}
	// 4. Certificate for that key, bound to the monitor's pseudonymous id.
	f.next(StepIssued)
	var issued *pki.Issued
	if st.State == sim.CertStored {
		// The applet holds the run's certificate and takes no other: it
		// must still be the valid one for its key, or only a rollback helps.
		if issued, err = f.issuedCert(ctx); err != nil {
			return nil, err
		}
		if k, ok := issued.Cert.PublicKey.(*rsa.PublicKey); !ok || !k.Equal(pub) || issued.Revoked() {
			return nil, ErrStaleCertificate
		}
	} else if issued, err = f.certFor(ctx, pub); err != nil {
		return nil, err
	}
	f.next(StepStored)
	if st.State == sim.KeyGenerated {
		if err := f.ch.store(ctx, sim.DGIAuthCert, issued.Cert.Raw); err != nil {
			return nil, err
		}
		st = sim.Status{State: sim.CertStored, Parts: st.Parts | sim.PartCert}
		f.setState(st)
	}
	if !st.Has(sim.PartCACert) {
		if err := f.ch.store(ctx, sim.DGIAuthCACert, f.ca.Certificate(pki.RoleAuth).Raw); err != nil {
			return nil, err
		}
		st.Parts |= sim.PartCACert
	}
	if err := f.step(ctx, StepStored, "certificate and CA certificate stored"); err != nil {
		return nil, err
	}
	f.next(StepPIN)
	if !st.Has(sim.PartPIN) {
		pin, err := f.req.NewPIN(ctx)
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			return nil, fmt.Errorf("PIN pad: %w", err)
		}
		if err := jpki.CheckPIN(jpki.Auth, pin); err != nil {
			return nil, err
		}
		if _, err := f.ch.do(ctx, sim.SetPIN(pin)); err != nil {
			return nil, fmt.Errorf("SET PIN: %w", err)
		}
		if err := f.step(ctx, StepPIN, "auth PIN set"); err != nil {
			return nil, err
		}
	}
	f.next(StepCommitted)
	if _, err := f.ch.do(ctx, sim.Personalize()); err != nil {
		return nil, fmt.Errorf("PERSONALIZE: %w", err)
	}
	if st, err = f.ch.status(ctx); err != nil {
		return nil, err
	}
	f.setState(st)
	if !st.Provisioned() {
		return nil, fmt.Errorf("PERSONALIZE answered 9000 but the applet reads back as %s", st)
	}
	if err := f.step(ctx, StepCommitted, "applet personalised"); err != nil {
		return nil, err
	}
	return issued, nil
}

// certFor returns the run's certificate when it is for pub and still
// valid, else revokes it (superseded) and issues a new one.
func (f *flow) certFor(ctx context.Context, pub *rsa.PublicKey) (*pki.Issued, error) {
	rec := f.rec
	if rec.CertSerial != "" {
		old, err := f.issuedCert(ctx)
		if err != nil {
			return nil, err
		}
		if k, ok := old.Cert.PublicKey.(*rsa.PublicKey); ok && k.Equal(pub) && !old.Revoked() {
			return old, nil
		}
		if !old.Revoked() {
			if err := f.ca.Revoke(ctx, old.Serial, pki.Superseded); err != nil && !errors.Is(err, pki.ErrAlreadyRevoked) {
				return nil, err
			}
		}
		rec.CertSerial = ""
	}
	issued, err := f.ca.Issue(ctx, pki.IssueRequest{Kind: pki.RoleAuth, Holder: rec.MonitorID, PublicKey: pub})
	if err != nil {
		return nil, err
	}
	rec.CertSerial = pki.SerialHex(issued.Serial)
	if err := f.step(ctx, StepIssued, "certificate "+rec.CertSerial+" for "+rec.MonitorID); err != nil {
		// Not linked to the run: revoke it rather than leave it valid.
		_ = f.ca.Revoke(context.WithoutCancel(ctx), issued.Serial, pki.CessationOfOperation)
		return nil, err
	}
	return issued, nil
}

func (f *flow) issuedCert(ctx context.Context) (*pki.Issued, error) {
	serial, err := pki.ParseSerial(f.rec.CertSerial)
	if err != nil {
		return nil, fmt.Errorf("recorded certificate serial %q: %w", f.rec.CertSerial, err)
	}
	return f.ca.Lookup(ctx, pki.RoleAuth, serial)
}

// fail records the run as failed at the step attempted, with the applet
// state read back over a fresh channel, or unknown when the phone is gone.
func (f *flow) fail(ctx context.Context, cause error) {
	ctx = context.WithoutCancel(ctx)
	rec := f.rec
	rec.Status = StatusFailed
	if f.phone != nil {
		rec.AppletState = UnknownState
		if !errors.Is(cause, device.ErrCardRemoved) {
			if ch, err := f.d.openChannel(ctx, f.phone, f.keys); err == nil {
				if st, err := ch.status(ctx); err == nil {
					rec.AppletState = st.State.String()
				}
			}
		}
		_ = f.d.Loans.SetAppletState(ctx, rec.SIM, inventoryState(rec.AppletState, false))
	}
	_ = f.d.save(ctx, rec, Event{Step: string(f.at), OK: false, Detail: cause.Error()})
}
