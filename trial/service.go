package trial

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/pii"
	"jpkipilot/trial/store"
)

// Service is the trial workspace over one store. Errors from the database
// wrap store.ErrNotFound and store.ErrBusy (test with errors.Is); invalid
// input is a FieldErrors naming each field.
//
// Personal fields (monitors' name, kana, contact) are sealed with PII when
// it is set. Without it they are written in the clear only while the store
// has no staff accounts; on a sealed store a write carrying one fails with
// pii.ErrLocked, and reads return them empty with Monitor.Sealed set.
// Every change is recorded in the audit trail in its own transaction, by
// the actor the context names or else Actor.
type Service struct {
	DB *store.DB
	// Now is the clock; tests replace it. Nil means the wall clock.
	Now func() time.Time
	// PII is the logged-in account's data key; nil when there is none.
	PII *pii.Key
	// Actor is who acts when the context names no one (audit.Default):
	// the GUI sets it to the logged-in login.
	Actor string
}

// New returns a Service on db with the wall clock.
func New(db *store.DB) *Service {
	return &Service{DB: db, Now: func() time.Time { return time.Now().UTC() }}
}

// now is the clock in UTC to the microsecond, which both databases keep.
func (s *Service) now() time.Time {
	t := time.Now()
	if s.Now != nil {
		t = s.Now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

func (s *Service) tx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return s.DB.Tx(ctx, fn)
}

// actor returns ctx naming who acts, for audit.Record.
func (s *Service) actor(ctx context.Context) context.Context { return audit.Default(ctx, s.Actor) }

// Audit actions of the trial workspace that package audit has no constant
// for (yet).
const (
	auditTrialCreate    = audit.TrialCreate
	auditTrialRetention = audit.TrialRetention
	auditDeviceAdd      = audit.DeviceAdd
	auditDeviceImport   = audit.DeviceImport
)

// TrialSubject is how a trial is named in the audit trail: "trial 3".
func TrialSubject(id int64) string { return fmt.Sprintf("trial %d", id) }

// --- trials ---------------------------------------------------------------

const trialCols = "id, name, kind, loan_days, notes, created_at, retain_until"

// CreateTrial validates t and saves it; the returned trial has its ID. A
// zero LoanDays becomes DefaultLoanDays.
func (s *Service) CreateTrial(ctx context.Context, t Trial) (Trial, error) {
	if t.LoanDays == 0 {
		t.LoanDays = DefaultLoanDays
	}
	if err := t.Validate(); err != nil {
		return Trial{}, err
	}
	t.CreatedAt = s.now()
	ctx = s.actor(ctx)
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		if err := insertReturningID(ctx, tx, &t.ID,
			"INSERT INTO trials (name, kind, loan_days, notes, created_at, retain_until) VALUES (?, ?, ?, ?, ?, ?)",
			t.Name, t.Kind, t.LoanDays, t.Notes, t.CreatedAt, t.RetainUntil); err != nil {
			return err
		}
		detail := fmt.Sprintf("kind %s, loan days %d", t.Kind, t.LoanDays)
		if t.RetainUntil != "" {
			detail += ", retain until " + t.RetainUntil
		}
		return audit.Record(ctx, tx, auditTrialCreate, TrialSubject(t.ID), detail)
	})
	if err != nil {
		return Trial{}, fmt.Errorf("create trial: %w", err)
	}
	return t, nil
}

// insertReturningID runs an INSERT and stores the new row's id in id.
func insertReturningID(ctx context.Context, tx *sqlx.Tx, id *int64, query string, args ...any) error {
	return tx.GetContext(ctx, id, tx.Rebind(query+" RETURNING id"), args...)
}

// ListTrials returns every trial, oldest first.
func (s *Service) ListTrials(ctx context.Context) ([]Trial, error) {
	var ts []Trial
	err := s.DB.SelectContext(ctx, &ts, "SELECT "+trialCols+" FROM trials ORDER BY id")
	return ts, store.MapErr(err)
}

// GetTrial returns one trial or an error wrapping store.ErrNotFound.
func (s *Service) GetTrial(ctx context.Context, id int64) (Trial, error) {
	var t Trial
	err := s.DB.GetContext(ctx, &t, s.DB.Rebind("SELECT "+trialCols+" FROM trials WHERE id = ?"), id)
	if err != nil {
		return Trial{}, fmt.Errorf("trial %d: %w", id, store.MapErr(err))
	}
	return t, nil
}

// UpdateTrial saves name, kind, loan days and notes. A trial's kind cannot
// change once it has sessions whose steps depend on it. The retention date
// is kept as it is (SetRetention changes it).
func (s *Service) UpdateTrial(ctx context.Context, t Trial) (Trial, error) {
	if err := t.Validate(); err != nil {
		return Trial{}, err
	}
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		var old Trial
		if err := tx.GetContext(ctx, &old, tx.Rebind("SELECT "+trialCols+" FROM trials WHERE id = ?"), t.ID); err != nil {
			return err
		}
		if old.Kind != t.Kind {
			var n int
			if err := tx.GetContext(ctx, &n, tx.Rebind("SELECT COUNT(*) FROM sessions WHERE trial_id = ?"), t.ID); err != nil {
				return err
			}
			if n > 0 {
				return FieldErrors{fieldErr("kind", ReasonKindLocked, "cannot change: the trial has %d sessions", n)}
			}
		}
		t.CreatedAt, t.RetainUntil = old.CreatedAt, old.RetainUntil
		_, err := tx.ExecContext(ctx, tx.Rebind("UPDATE trials SET name = ?, kind = ?, loan_days = ?, notes = ? WHERE id = ?"),
			t.Name, t.Kind, t.LoanDays, t.Notes, t.ID)
		return err
	})
	if err != nil {
		return Trial{}, fmt.Errorf("update trial %d: %w", t.ID, err)
	}
	return t, nil
}

// --- sessions -------------------------------------------------------------

const sessionCols = "id, trial_id, code, step, starts_on, venue, capacity, target"

// CreateSession validates s against its trial and saves it. Codes are
// unique across the store: a taken code is a FieldErrors on "code".
func (s *Service) CreateSession(ctx context.Context, se Session) (Session, error) {
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		if err := validateSession(ctx, tx, &se); err != nil {
			return err
		}
		err := insertReturningID(ctx, tx, &se.ID,
			"INSERT INTO sessions (trial_id, code, step, starts_on, venue, capacity, target) VALUES (?, ?, ?, ?, ?, ?, ?)",
			se.TrialID, se.Code, se.Step, se.StartsOn, se.Venue, se.Capacity, se.Target)
		return codeTaken(err, se.Code)
	})
	if err != nil {
		return Session{}, fmt.Errorf("create session: %w", err)
	}
	return se, nil
}

// validateSession checks a session against its trial, and that no other
// session has its code in any letter case (imports match codes ignoring case).
func validateSession(ctx context.Context, tx *sqlx.Tx, se *Session) error {
	var kinds []Kind
	if err := tx.SelectContext(ctx, &kinds, tx.Rebind("SELECT kind FROM trials WHERE id = ?"), se.TrialID); err != nil {
		return err
	}
	if len(kinds) == 0 {
		return FieldErrors{fieldErr("trial", ReasonNoTrial, "no trial %d", se.TrialID)}
	}
	if err := se.Validate(kinds[0]); err != nil {
		return err
	}
	var taken []string
	if err := tx.SelectContext(ctx, &taken, tx.Rebind("SELECT code FROM sessions WHERE UPPER(code) = UPPER(?) AND id <> ?"), se.Code, se.ID); err != nil {
		return err
	}
	if len(taken) > 0 {
		return FieldErrors{fieldErr("code", ReasonCodeTaken, "session code %q is already taken", taken[0])}
	}
	return nil
}

func codeTaken(err error, code string) error {
	if store.IsUniqueViolation(err) {
		return FieldErrors{fieldErr("code", ReasonCodeTaken, "session code %q is already taken", code)}
	}
	return err
}

// ListSessions returns a trial's sessions by date, then code.
func (s *Service) ListSessions(ctx context.Context, trialID int64) ([]Session, error) {
	var ss []Session
	err := s.DB.SelectContext(ctx, &ss, s.DB.Rebind("SELECT "+sessionCols+" FROM sessions WHERE trial_id = ? ORDER BY starts_on, code"), trialID)
	return ss, store.MapErr(err)
}

// AllSessions returns every session of every trial, by trial then date.
func (s *Service) AllSessions(ctx context.Context) ([]Session, error) {
	var ss []Session
	err := s.DB.SelectContext(ctx, &ss, "SELECT "+sessionCols+" FROM sessions ORDER BY trial_id, starts_on, code")
	return ss, store.MapErr(err)
}

// GetSession returns one session or an error wrapping store.ErrNotFound.
func (s *Service) GetSession(ctx context.Context, id int64) (Session, error) {
	var se Session
	err := s.DB.GetContext(ctx, &se, s.DB.Rebind("SELECT "+sessionCols+" FROM sessions WHERE id = ?"), id)
	if err != nil {
		return Session{}, fmt.Errorf("session %d: %w", id, store.MapErr(err))
	}
	return se, nil
}

// UpdateSession saves a session's fields; it stays in its trial.
func (s *Service) UpdateSession(ctx context.Context, se Session) (Session, error) {
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		var trialID int64
		if err := tx.GetContext(ctx, &trialID, tx.Rebind("SELECT trial_id FROM sessions WHERE id = ?"), se.ID); err != nil {
			return err
		}
		if se.TrialID != 0 && se.TrialID != trialID {
			return FieldErrors{fieldErr("trial", ReasonSessionMove, "a session cannot move to another trial")}
		}
		se.TrialID = trialID
		if err := validateSession(ctx, tx, &se); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind("UPDATE sessions SET code = ?, step = ?, starts_on = ?, venue = ?, capacity = ?, target = ? WHERE id = ?"),
			se.Code, se.Step, se.StartsOn, se.Venue, se.Capacity, se.Target, se.ID)
		return codeTaken(err, se.Code)
	})
	if err != nil {
		return Session{}, fmt.Errorf("update session %d: %w", se.ID, err)
	}
	return se, nil
}

// ErrSessionInUse is returned when deleting a session that has monitors.
var ErrSessionInUse = errors.New("the session has monitors (withdrawn ones count): move them first")

// DeleteSession deletes a session that no monitor (not even a withdrawn
// one) belongs to.
func (s *Service) DeleteSession(ctx context.Context, id int64) error {
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		var n int
		if err := tx.GetContext(ctx, &n, tx.Rebind("SELECT COUNT(*) FROM monitors WHERE session_id = ?"), id); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w (%d)", ErrSessionInUse, n)
		}
		res, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM sessions WHERE id = ?"), id)
		if err != nil {
			if isForeignKeyViolation(err) { // a monitor joined it meanwhile, or a loan names it
				return ErrSessionInUse
			}
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete session %d: %w", id, err)
	}
	return nil
}

// --- settings -------------------------------------------------------------

// Setting keys the application uses.
const (
	SettingLanguage      = "language"       // "ja" or "en"
	SettingDefaultReader = "default_reader" // a PC/SC reader name
)

// GetSetting returns a setting's value, "" when it was never set.
func (s *Service) GetSetting(ctx context.Context, key string) (string, error) {
	var v []string
	err := s.DB.SelectContext(ctx, &v, s.DB.Rebind("SELECT value FROM settings WHERE key = ?"), key)
	if err != nil || len(v) == 0 {
		return "", store.MapErr(err)
	}
	return v[0], nil
}

// SetSetting stores a setting (empty key is an error).
func (s *Service) SetSetting(ctx context.Context, key, value string) error {
	if key == "" {
		return FieldErrors{fieldErr("key", ReasonRequired, "required")}
	}
	return s.tx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind(
			"INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"), key, value)
		return err
	})
}
