// Package trial is the trial workspace: trials and their sessions, monitors
// (the trial's participants), consent and withdrawal, imports, and the
// dashboard. Types and their validation are here; the SQL is beside them.
package trial

import (
	"time"
)

// Kind is the kind of trial (seed §3).
type Kind string

const (
	KindLoan  Kind = "loan"  // phones lent to monitors, 14 days by default
	KindVenue Kind = "venue" // monitors try it on site
	KindField Kind = "field" // ticketless field trial: application / purchase / entry
)

// Kinds lists every kind in display order.
var Kinds = []Kind{KindLoan, KindVenue, KindField}

// Step is a field-trial step; empty for other kinds.
type Step string

const (
	StepNone        Step = ""
	StepApplication Step = "application" // 申込
	StepPurchase    Step = "purchase"    // 購入
	StepEntry       Step = "entry"       // 入場
)

// Steps lists the field-trial steps in order.
var Steps = []Step{StepApplication, StepPurchase, StepEntry}

// DefaultLoanDays is the loan period of a loan trial (seed §3.2).
const DefaultLoanDays = 14

// Trial is one trial: a loan, venue or field trial with its sessions.
type Trial struct {
	ID        int64     `db:"id"`
	Name      string    `db:"name"`
	Kind      Kind      `db:"kind"`
	LoanDays  int       `db:"loan_days"`
	Notes     string    `db:"notes"`
	CreatedAt time.Time `db:"created_at"`
	// RetainUntil is the last day (YYYY-MM-DD, Japan's calendar) the
	// monitors' personal fields are kept; from the day after, PurgeExpired
	// erases them. Empty: no retention date set. Changed with SetRetention
	// only (UpdateTrial keeps it), so every change is audited.
	RetainUntil string `db:"retain_until"`
}

// Session is one dated session of a trial at a venue.
type Session struct {
	ID       int64  `db:"id"`
	TrialID  int64  `db:"trial_id"`
	Code     string `db:"code"` // unique, used by imports: "LOAN-1", "FIELD-ENTRY"
	Step     Step   `db:"step"`
	StartsOn string `db:"starts_on"` // YYYY-MM-DD
	Venue    string `db:"venue"`
	Capacity int    `db:"capacity"`
	Target   int    `db:"target"` // target number of monitors
}

// Status is where a monitor is in the trial.
type Status string

const (
	StatusEnrolled  Status = "enrolled"
	StatusAttended  Status = "attended"
	StatusCompleted Status = "completed"
	StatusWithdrawn Status = "withdrawn"
)

// Statuses lists every status in display order.
var Statuses = []Status{StatusEnrolled, StatusAttended, StatusCompleted, StatusWithdrawn}

// AgeBands are the age bands a monitor can be enrolled in.
var AgeBands = []string{"10s", "20s", "30s", "40s", "50s", "60s", "70+"}

// Monitor is a trial participant. ID is pseudonymous (M-0001 …) and never
// reused; Name, Kana and Contact are personal data, erased on withdrawal and
// after the trial's retention date. Once the store has staff accounts they
// are sealed at rest (package pii) and the Service opens them with its key.
type Monitor struct {
	ID          string     `db:"id"`
	TrialID     int64      `db:"trial_id"`
	SessionID   *int64     `db:"session_id"` // nil: not yet given a session
	Name        string     `db:"name"`
	Kana        string     `db:"kana"`
	AgeBand     string     `db:"age_band"`
	Contact     string     `db:"contact"`
	CompanionOf *string    `db:"companion_of"` // the monitor this one came with
	Status      Status     `db:"status"`
	Consent                // embedded: its columns are the monitor row's
	WithdrawnAt *time.Time `db:"withdrawn_at"`
	CreatedAt   time.Time  `db:"created_at"`
	UpdatedAt   time.Time  `db:"updated_at"`
	// Sealed reports that the monitor has personal fields the reader could
	// not open (read without the data key: an analyst, or no login). Name,
	// Kana and Contact are then empty although the store holds them: show
	// （非表示） ("hidden"), not a blank that looks erased. Passing such a
	// monitor back to UpdateMonitor keeps the stored fields as they are.
	Sealed bool `db:"-"`
}

// Consent records the signed consent form.
type Consent struct {
	FormVersion string `db:"consent_version"`
	SignedOn    string `db:"consent_signed_on"` // YYYY-MM-DD
	Staff       string `db:"consent_staff"`
}

// Given reports whether a consent form is on record.
func (c Consent) Given() bool { return c.FormVersion != "" && c.SignedOn != "" }
