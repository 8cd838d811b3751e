// Package provision is the counter terminal of the loan trial: it proves a
// monitor's identity with their My Number card, writes a user-
// authentication key and certificate into the JPKI applet on a lent phone's
// SIM over a GlobalPlatform SCP03 channel (Android), issues a certificate
// for a key an iPhone generated (iOS), and undoes both when the phone
// comes back. Every step is recorded in the store, so a run cut short by a
// phone taken off the reader can be resumed or rolled back, and nothing
// half-written ever counts as provisioned.
package provision

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jmoiron/sqlx"

	"jpkipilot/device"
	"jpkipilot/device/vcard/sim"
	"jpkipilot/pki"
	"jpkipilot/pki/scp03"
	"jpkipilot/trial"
	"jpkipilot/trial/store"
)

// Step is one step of a provisioning run, in the order they complete.
type Step string

const (
	StepNone      Step = ""
	StepProofed   Step = "proofed"   // 1: identity proven with the My Number card
	StepChannel   Step = "channel"   // 2: SCP03 channel to the SIM opened
	StepKeyGen    Step = "keygen"    // 3: key pair generated on the applet
	StepIssued    Step = "issued"    // 4: certificate issued by the trial CA
	StepStored    Step = "stored"    // 4: certificate and CA certificate written
	StepPIN       Step = "pin"       // 4: auth PIN set
	StepCommitted Step = "committed" // 4: applet personalised
	StepVerified  Step = "verified"  // 5: read back as a JPKI phone token
	StepLinked    Step = "linked"    // 6: loan and certificate linked: provisioned
)

var stepOrder = []Step{StepNone, StepProofed, StepChannel, StepKeyGen, StepIssued, StepStored, StepPIN, StepCommitted, StepVerified, StepLinked}

func (s Step) index() int {
	for i, x := range stepOrder {
		if x == s {
			return i
		}
	}
	return 0
}

// Status is where a provisioning run stands.
type Status string

const (
	StatusActive      Status = "active"      // running (or the laptop died while it ran)
	StatusFailed      Status = "failed"      // stopped at a step: resume or roll back
	StatusProvisioned Status = "provisioned" // the phone carries the monitor's certificate
	StatusRolledBack  Status = "rolled_back" // undone: applet wiped, certificate revoked
	StatusReturned    Status = "returned"    // the loan came back and was closed
)

// Path is how the phone gets its key.
type Path string

const (
	Android Path = "android"
	IOS     Path = "ios"
)

// Record is one provisioning run as the store keeps it.
type Record struct {
	ID          int64     `db:"id"`
	Path        Path      `db:"path"`
	MonitorID   string    `db:"monitor_id"`
	LoanID      *int64    `db:"loan_id"`
	SIM         string    `db:"sim_serial"`
	ProofingID  *int64    `db:"proofing_id"`
	Step        Step      `db:"step"`
	Status      Status    `db:"status"`
	AppletState string    `db:"applet_state"` // as last read back; "unknown" when it could not be
	CertSerial  string    `db:"cert_serial"`  // lower-case hex, as pki.SerialHex
	Staff       string    `db:"staff"`
	StartedAt   time.Time `db:"started_at"`
	UpdatedAt   time.Time `db:"updated_at"`
}

// Event is one line of a run's history.
type Event struct {
	ID          int64     `db:"id"`
	RunID       int64     `db:"provisioning_id"`
	At          time.Time `db:"at"`
	Step        string    `db:"step"`
	OK          bool      `db:"ok"`
	AppletState string    `db:"applet_state"`
	Detail      string    `db:"detail"`
}

// Errors a caller tests with errors.Is.
var (
	ErrAlreadyProvisioned = errors.New("the loan's phone is already provisioned (roll back or return it first)")
	ErrNotProvisioned     = errors.New("nothing to roll back: no provisioning run is open for this loan")
	ErrNotAndroid         = errors.New("the loan's phone is not an Android phone (use the iOS path)")
	ErrNoProofing         = errors.New("no completed identity proofing for the monitor (hold their My Number card first)")
	ErrPhoneMismatch      = errors.New("the phone read back a different certificate than the one issued")
	ErrInProgress         = errors.New("a provisioning run of this loan is in progress (on this or another laptop)")
	ErrStaleCertificate   = errors.New("the applet holds a certificate that is revoked or not this run's: roll back and start again")
	ErrReturnIncomplete   = errors.New("check-in refused: the certificate was not revoked or the applet not wiped (record why with the reason)")
)

// StaleAfter is how long an active run with no step recorded counts as
// running elsewhere; after that it is taken to be left by a laptop that
// died, and may be resumed or rolled back.
var StaleAfter = 2 * time.Minute

// UnknownState is recorded when the applet could not be read back.
const UnknownState = "unknown"

// Hold is what the monitor is asked to hold to the reader.
type Hold int

const (
	HoldMyNumberCard Hold = iota + 1
	HoldPhone
)

func (h Hold) String() string {
	switch h {
	case HoldMyNumberCard:
		return "My Number card"
	case HoldPhone:
		return "phone"
	}
	return fmt.Sprintf("Hold(%d)", int(h))
}

// ConnectFunc asks for a card or phone on the reader and returns it
// connected. It runs on the worker doing the flow.
type ConnectFunc func(ctx context.Context, what Hold) (*device.Card, error)

// Desk runs provisioning against one store.
type Desk struct {
	DB    *store.DB
	Loans *trial.Loans
	Now   func() time.Time
	// ExtraAnchors are trusted for identity proofing besides the store's
	// anchors (the trial root and imported JPKI roots).
	ExtraAnchors []*x509.Certificate
	// CRLs gives the CRLs identity proofing checks the card certificate
	// against; nil: the trial auth CA's latest published CRL, if any.
	CRLs func(ctx context.Context) ([]*pki.CRLIndex, error)
	// OCSP is asked when no CRL covers the card certificate's issuer.
	OCSP pki.OCSPChecker
	// Level is the SCP03 security level; 0: C-MAC, C-DECRYPTION and R-MAC.
	Level byte
	// Random feeds challenges; nil: crypto/rand.
	Random io.Reader
	// ProofingValidity is how long an identity proofing counts for the iOS
	// path; 0: one hour (the monitor stands at the counter).
	ProofingValidity time.Duration
}

// NewDesk returns a desk on db with the wall clock.
func NewDesk(db *store.DB) *Desk {
	return &Desk{DB: db, Loans: trial.NewLoans(db)}
}

func (d *Desk) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func (d *Desk) random() io.Reader {
	if d.Random != nil {
		return d.Random
	}
	return rand.Reader
}

func (d *Desk) level() byte {
	if d.Level != 0 {
		return d.Level
	}
	return scp03.LevelCMAC | scp03.LevelCDEC | scp03.LevelRMAC
}

// unlockCA opens the trial CA and decrypts its keys; a wrong passphrase
// fails here, before anything is issued or written.
func (d *Desk) unlockCA(ctx context.Context, passphrase []byte) (*pki.CA, error) {
	ca, err := pki.Open(ctx, d.DB)
	if err != nil {
		return nil, err
	}
	if d.Now != nil {
		ca.Now = d.Now
	}
	if err := ca.Unlock(ctx, passphrase); err != nil {
		return nil, fmt.Errorf("trial CA: %w", err)
	}
	return ca, nil
}

const recordCols = `id, path, monitor_id, loan_id, sim_serial, proofing_id, step, status, applet_state, cert_serial, staff, started_at, updated_at`

// ForLoan returns the newest provisioning run of a loan and its history, or
// an error wrapping store.ErrNotFound.
func (d *Desk) ForLoan(ctx context.Context, loanID int64) (*Record, []Event, error) {
	var r Record
	err := d.DB.GetContext(ctx, &r, d.DB.Rebind("SELECT "+recordCols+" FROM provisionings WHERE loan_id = ? ORDER BY id DESC LIMIT 1"), loanID)
	if err != nil {
		return nil, nil, fmt.Errorf("provisioning of %s: %w", trial.FormatLoanID(loanID), store.MapErr(err))
	}
	r.normalize()
	evs, err := d.Events(ctx, r.ID)
	return &r, evs, err
}

// Events is a run's history, oldest first.
func (d *Desk) Events(ctx context.Context, runID int64) ([]Event, error) {
	var evs []Event
	err := d.DB.SelectContext(ctx, &evs, d.DB.Rebind(
		"SELECT id, provisioning_id, at, step, ok, applet_state, detail FROM provisioning_events WHERE provisioning_id = ? ORDER BY id"), runID)
	for i := range evs {
		evs[i].At = evs[i].At.UTC()
	}
	return evs, store.MapErr(err)
}

func (r *Record) normalize() {
	r.StartedAt, r.UpdatedAt = r.StartedAt.UTC(), r.UpdatedAt.UTC()
}

// live is the loan's run that is not finished: active, failed or provisioned.
func (d *Desk) live(ctx context.Context, loanID int64) (*Record, error) {
	var r Record
	err := d.DB.GetContext(ctx, &r, d.DB.Rebind("SELECT "+recordCols+
		" FROM provisionings WHERE loan_id = ? AND status IN ('active', 'failed', 'provisioned')"), loanID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, store.MapErr(err)
	}
	r.normalize()
	return &r, nil
}

// create inserts a new run.
func (d *Desk) create(ctx context.Context, r *Record) error {
	now := d.now()
	r.StartedAt, r.UpdatedAt = now, now
	return d.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &r.ID, tx.Rebind(`INSERT INTO provisionings
			(path, monitor_id, loan_id, sim_serial, proofing_id, step, status, applet_state, cert_serial, staff, started_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			r.Path, r.MonitorID, r.LoanID, r.SIM, r.ProofingID, r.Step, r.Status, r.AppletState, r.CertSerial, r.Staff, now, now)
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("another provisioning run of this loan is open (another laptop?): %w", trial.ErrOnLoan)
		}
		if err != nil {
			return err
		}
		return addEvent(ctx, tx, Event{RunID: r.ID, At: now, Step: "start", OK: true, Detail: string(r.Path)})
	})
}

// save writes the run's fields and one event, in one transaction.
func (d *Desk) save(ctx context.Context, r *Record, ev Event) error {
	now := d.now()
	r.UpdatedAt = now
	ev.RunID, ev.At = r.ID, now
	if ev.AppletState == "" {
		ev.AppletState = r.AppletState
	}
	// The record outlives a cancelled context: it says where the SIM is.
	ctx = context.WithoutCancel(ctx)
	return d.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE provisionings SET proofing_id = ?, step = ?, status = ?,
			applet_state = ?, cert_serial = ?, updated_at = ? WHERE id = ?`),
			r.ProofingID, r.Step, r.Status, r.AppletState, r.CertSerial, now, r.ID)
		if err != nil {
			return err
		}
		return addEvent(ctx, tx, ev)
	})
}

func addEvent(ctx context.Context, tx *sqlx.Tx, e Event) error {
	if len(e.Detail) > 1000 {
		e.Detail = e.Detail[:1000]
	}
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO provisioning_events (provisioning_id, at, step, ok, applet_state, detail)
		VALUES (?, ?, ?, ?, ?, ?)`), e.RunID, e.At, e.Step, e.OK, e.AppletState, e.Detail)
	return err
}

// advance records a completed step (a step never moves backwards).
func (d *Desk) advance(ctx context.Context, r *Record, s Step, detail string) error {
	if s.index() > r.Step.index() {
		r.Step = s
	}
	return d.save(ctx, r, Event{Step: string(s), OK: true, Detail: detail})
}

// inventoryState maps an applet state to the inventory's coarse one: a
// half-written applet is "unknown" there; the run has the detail.
func inventoryState(st string, provisioned bool) trial.AppletState {
	switch st {
	case sim.Blank.String():
		return trial.AppletBlank
	case sim.Provisioned.String():
		if provisioned {
			return trial.AppletProvisioned
		}
	}
	return trial.AppletUnknown
}
