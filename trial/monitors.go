package trial

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/store"
)

const monitorCols = "id, trial_id, session_id, name, kana, age_band, contact, companion_of, status, " +
	"consent_version, consent_signed_on, consent_staff, withdrawn_at, created_at, updated_at"

// monitorOrder sorts ids numerically (M-9999 before M-10000) on both databases.
const monitorOrder = " ORDER BY LENGTH(id), id"

// Filter selects monitors; zero fields select everything.
type Filter struct {
	TrialID   int64
	SessionID int64
	Status    Status
	// Query matches the id, name or kana as SearchKey folds them: width,
	// hiragana/katakana, case and spaces do not matter.
	Query string
}

// allocateIDs takes n consecutive monitor numbers from the counter and
// returns the first. The counter only grows, so an id is never handed out
// twice: not after a deletion, not after a rolled-back import.
func allocateIDs(ctx context.Context, tx *sqlx.Tx, n int) (int64, error) {
	var next int64
	err := tx.GetContext(ctx, &next, tx.Rebind(
		"UPDATE id_counters SET next_value = next_value + ? WHERE name = 'monitor' RETURNING next_value"), n)
	if err != nil {
		return 0, fmt.Errorf("allocate monitor id: %w", err)
	}
	return next - int64(n), nil
}

// checkRefs checks that the monitor's session and companion exist and are in
// its trial.
func checkRefs(ctx context.Context, tx *sqlx.Tx, m *Monitor) error {
	var es FieldErrors
	var trials []int64
	if err := tx.SelectContext(ctx, &trials, tx.Rebind("SELECT id FROM trials WHERE id = ?"), m.TrialID); err != nil {
		return err
	}
	if len(trials) == 0 {
		es.add("trial", "no trial %d", m.TrialID)
	}
	if m.SessionID != nil {
		var st []int64
		if err := tx.SelectContext(ctx, &st, tx.Rebind("SELECT trial_id FROM sessions WHERE id = ?"), *m.SessionID); err != nil {
			return err
		}
		switch {
		case len(st) == 0:
			es.add("session", "no session %d", *m.SessionID)
		case st[0] != m.TrialID:
			es.add("session", "session %d belongs to another trial", *m.SessionID)
		}
	}
	if m.CompanionOf != nil {
		var ct []int64
		if err := tx.SelectContext(ctx, &ct, tx.Rebind("SELECT trial_id FROM monitors WHERE id = ?"), *m.CompanionOf); err != nil {
			return err
		}
		switch {
		case len(ct) == 0:
			es.add("companion_of", "no monitor %s", *m.CompanionOf)
		case ct[0] != m.TrialID:
			es.add("companion_of", "%s is in another trial", *m.CompanionOf)
		}
	}
	return es.err()
}

// checkDuplicate refuses a second enrolment of one person in a trial: the
// same name, kana and contact (folded as SearchKey does) as a monitor who
// has not withdrawn.
func checkDuplicate(ctx context.Context, tx *sqlx.Tx, m *Monitor) error {
	var rows []Monitor
	err := tx.SelectContext(ctx, &rows, tx.Rebind("SELECT "+monitorCols+
		" FROM monitors WHERE trial_id = ? AND kana = ? AND status <> 'withdrawn'"), m.TrialID, m.Kana)
	if err != nil {
		return err
	}
	key := dupKey(m.TrialID, m.Name, m.Kana, m.Contact)
	for _, o := range rows {
		if o.ID != m.ID && dupKey(o.TrialID, o.Name, o.Kana, o.Contact) == key {
			return FieldErrors{{Field: "name", Reason: fmt.Sprintf("duplicate of existing monitor %s (same name, kana and contact)", o.ID)}}
		}
	}
	return nil
}

// Enrol validates m and saves it as a new monitor with the next
// pseudonymous id, allocated in the same transaction. The same person
// (name, kana, contact) cannot be enrolled twice in a trial. An empty Status
// becomes StatusEnrolled; enrolling straight into StatusWithdrawn is refused.
func (s *Service) Enrol(ctx context.Context, m Monitor) (Monitor, error) {
	if m.Status == "" {
		m.Status = StatusEnrolled
	}
	if m.Status == StatusWithdrawn {
		return Monitor{}, FieldErrors{{Field: "status", Reason: "a new monitor cannot be withdrawn"}}
	}
	m.Normalize()
	m.ID = ""
	if err := m.Validate(); err != nil {
		return Monitor{}, err
	}
	m.CreatedAt = s.now()
	m.UpdatedAt = m.CreatedAt
	m.WithdrawnAt = nil
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		if err := checkRefs(ctx, tx, &m); err != nil {
			return err
		}
		if err := checkDuplicate(ctx, tx, &m); err != nil {
			return err
		}
		n, err := allocateIDs(ctx, tx, 1)
		if err != nil {
			return err
		}
		m.ID = FormatMonitorID(n)
		_, err = tx.ExecContext(ctx, tx.Rebind("INSERT INTO monitors ("+monitorCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
			monitorArgs(&m)...)
		return err
	})
	if err != nil {
		return Monitor{}, fmt.Errorf("enrol: %w", err)
	}
	return m, nil
}

func monitorArgs(m *Monitor) []any {
	return []any{m.ID, m.TrialID, m.SessionID, m.Name, m.Kana, m.AgeBand, m.Contact, m.CompanionOf, m.Status,
		m.Consent.FormVersion, m.Consent.SignedOn, m.Consent.Staff, m.WithdrawnAt, m.CreatedAt, m.UpdatedAt}
}

// GetMonitor returns one monitor (id as typed: "m-12" finds M-0012) or an
// error wrapping store.ErrNotFound.
func (s *Service) GetMonitor(ctx context.Context, id string) (Monitor, error) {
	if n, ok := ParseMonitorID(id); ok {
		id = FormatMonitorID(n)
	}
	var m Monitor
	err := s.DB.GetContext(ctx, &m, s.DB.Rebind("SELECT "+monitorCols+" FROM monitors WHERE id = ?"), id)
	if err != nil {
		return Monitor{}, fmt.Errorf("monitor %s: %w", id, store.MapErr(err))
	}
	return m, nil
}

// getMonitorForUpdate reads a monitor to change it. On PostgreSQL the row
// stays locked until the transaction ends, so an edit on one laptop and a
// withdrawal on another are applied one after the other, never mixed (an
// edit that read the row before a withdrawal must not write the name back).
// SQLite transactions take the write lock at BEGIN and need no more.
func getMonitorForUpdate(ctx context.Context, tx *sqlx.Tx, id string) (Monitor, error) {
	q := "SELECT " + monitorCols + " FROM monitors WHERE id = ?"
	if tx.DriverName() == "pgx" {
		q += " FOR UPDATE"
	}
	var m Monitor
	err := tx.GetContext(ctx, &m, tx.Rebind(q), id)
	if err != nil {
		return Monitor{}, fmt.Errorf("monitor %s: %w", id, store.MapErr(err))
	}
	return m, nil
}

// change loads a monitor, lets edit change it, validates and saves it, all
// in one transaction.
func (s *Service) change(ctx context.Context, id string, what string, edit func(old Monitor, m *Monitor) error) (Monitor, error) {
	if n, ok := ParseMonitorID(id); ok {
		id = FormatMonitorID(n)
	}
	var m Monitor
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		old, err := getMonitorForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		m = old
		if err := edit(old, &m); err != nil {
			return err
		}
		m.ID, m.CreatedAt, m.WithdrawnAt = old.ID, old.CreatedAt, old.WithdrawnAt
		m.Normalize()
		if err := m.Validate(); err != nil {
			return err
		}
		if err := checkRefs(ctx, tx, &m); err != nil {
			return err
		}
		m.UpdatedAt = s.now()
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE monitors SET trial_id = ?, session_id = ?, name = ?, kana = ?, age_band = ?,
			contact = ?, companion_of = ?, status = ?, consent_version = ?, consent_signed_on = ?, consent_staff = ?, updated_at = ?
			WHERE id = ?`),
			m.TrialID, m.SessionID, m.Name, m.Kana, m.AgeBand, m.Contact, m.CompanionOf, m.Status,
			m.Consent.FormVersion, m.Consent.SignedOn, m.Consent.Staff, m.UpdatedAt, m.ID)
		return err
	})
	if err != nil {
		return Monitor{}, fmt.Errorf("%s %s: %w", what, id, err)
	}
	return m, nil
}

// UpdateMonitor saves the editable fields of m (session, name, kana, age
// band, contact, companion, consent). Status changes go through SetStatus
// and Withdraw. A withdrawn monitor keeps no personal data: giving it a
// name, kana or contact fails with ErrWithdrawn.
func (s *Service) UpdateMonitor(ctx context.Context, m Monitor) (Monitor, error) {
	return s.change(ctx, m.ID, "update monitor", func(old Monitor, n *Monitor) error {
		if old.TrialID != m.TrialID && m.TrialID != 0 {
			return FieldErrors{{Field: "trial", Reason: "a monitor cannot move to another trial"}}
		}
		if old.Status == StatusWithdrawn && (m.Status != "" && m.Status != StatusWithdrawn ||
			strings.TrimSpace(m.Name) != "" || strings.TrimSpace(m.Kana) != "" || strings.TrimSpace(m.Contact) != "") {
			return ErrWithdrawn // withdrawn since the caller read it, or personal data put back
		}
		if m.Status != "" && m.Status != old.Status {
			return FieldErrors{{Field: "status", Reason: "change the status with SetStatus or Withdraw"}}
		}
		n.SessionID, n.Name, n.Kana, n.AgeBand, n.Contact = m.SessionID, m.Name, m.Kana, m.AgeBand, m.Contact
		n.CompanionOf, n.Consent = m.CompanionOf, m.Consent
		return nil
	})
}

// SetStatus moves a monitor to enrolled, attended or completed. Withdrawal
// is Withdraw; a withdrawn monitor stays withdrawn (ErrWithdrawn).
func (s *Service) SetStatus(ctx context.Context, id string, st Status) (Monitor, error) {
	if st == StatusWithdrawn {
		return Monitor{}, FieldErrors{{Field: "status", Reason: "use Withdraw, which also erases the personal data"}}
	}
	if !KnownStatus(st) {
		return Monitor{}, FieldErrors{{Field: "status", Reason: fmt.Sprintf("unknown status %q", st)}}
	}
	return s.change(ctx, id, "set status of", func(old Monitor, n *Monitor) error {
		if old.Status == StatusWithdrawn {
			return ErrWithdrawn
		}
		n.Status = st
		return nil
	})
}

// RecordConsent records the signed consent form: its version, the date it
// was signed (YYYY-MM-DD) and the staff member who checked it.
func (s *Service) RecordConsent(ctx context.Context, id string, c Consent) (Monitor, error) {
	c.FormVersion, c.SignedOn, c.Staff = strings.TrimSpace(c.FormVersion), strings.TrimSpace(c.SignedOn), strings.TrimSpace(c.Staff)
	if c.FormVersion == "" || c.SignedOn == "" {
		var es FieldErrors
		if c.FormVersion == "" {
			es.add("consent_version", "required")
		}
		if c.SignedOn == "" {
			es.add("consent_signed_on", "required")
		}
		return Monitor{}, es
	}
	return s.change(ctx, id, "record consent of", func(old Monitor, n *Monitor) error {
		if old.Status == StatusWithdrawn {
			return ErrWithdrawn
		}
		n.Consent = c
		return nil
	})
}

// SetCompanion links a monitor to the monitor they came with (another
// monitor of the same trial), or unlinks it when companionOf is "".
func (s *Service) SetCompanion(ctx context.Context, id, companionOf string) (Monitor, error) {
	return s.change(ctx, id, "set companion of", func(old Monitor, n *Monitor) error {
		if companionOf == "" {
			n.CompanionOf = nil
		} else {
			c := companionOf
			n.CompanionOf = &c
		}
		return nil
	})
}

// Withdraw records a withdrawal: in one transaction the name, kana and
// contact are erased, the status becomes withdrawn and withdrawn_at is set.
// The pseudonymous id, trial, session, age band, consent record, companion
// link and any answers stay. Withdrawing twice is a no-op.
func (s *Service) Withdraw(ctx context.Context, id string) (Monitor, error) {
	if n, ok := ParseMonitorID(id); ok {
		id = FormatMonitorID(n)
	}
	var m Monitor
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		old, err := getMonitorForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		if old.Status == StatusWithdrawn {
			m = old
			return nil
		}
		now := s.now()
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE monitors SET name = '', kana = '', contact = '', status = ?,
			withdrawn_at = ?, updated_at = ? WHERE id = ?`), StatusWithdrawn, now, now, id)
		if err != nil {
			return err
		}
		m = old
		m.Name, m.Kana, m.Contact, m.Status = "", "", "", StatusWithdrawn
		m.WithdrawnAt, m.UpdatedAt = &now, now
		return nil
	})
	if err != nil {
		return Monitor{}, fmt.Errorf("withdraw %s: %w", id, err)
	}
	return m, nil
}

// ErrMonitorInUse is returned when deleting a monitor another monitor names
// as companion, or that other records (answers, loans) refer to.
var ErrMonitorInUse = errors.New("other records refer to this monitor; withdraw it instead")

// DeleteMonitor removes a monitor entered by mistake. Its id is not reused.
// A monitor with answers, loans or companions cannot be deleted (withdraw
// it instead).
func (s *Service) DeleteMonitor(ctx context.Context, id string) error {
	if n, ok := ParseMonitorID(id); ok {
		id = FormatMonitorID(n)
	}
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		var n int
		if err := tx.GetContext(ctx, &n, tx.Rebind("SELECT COUNT(*) FROM monitors WHERE companion_of = ?"), id); err != nil {
			return err
		}
		if n > 0 {
			return ErrMonitorInUse
		}
		res, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM monitors WHERE id = ?"), id)
		if err != nil {
			if isForeignKeyViolation(err) {
				return ErrMonitorInUse
			}
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete monitor %s: %w", id, err)
	}
	return nil
}

func isForeignKeyViolation(err error) bool {
	s := err.Error()
	return strings.Contains(s, "FOREIGN KEY constraint failed") || strings.Contains(s, "SQLSTATE 23503")
}

// ListMonitors returns the monitors f selects in id order. The query is
// matched in Go with the same folding as Index, so both agree.
func (s *Service) ListMonitors(ctx context.Context, f Filter) ([]Monitor, error) {
	var where []string
	var args []any
	if f.TrialID != 0 {
		where, args = append(where, "trial_id = ?"), append(args, f.TrialID)
	}
	if f.SessionID != 0 {
		where, args = append(where, "session_id = ?"), append(args, f.SessionID)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	q := "SELECT " + monitorCols + " FROM monitors"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	var ms []Monitor
	if err := s.DB.SelectContext(ctx, &ms, s.DB.Rebind(q+monitorOrder), args...); err != nil {
		return nil, fmt.Errorf("list monitors: %w", store.MapErr(err))
	}
	if key := SearchKey(f.Query); key != "" {
		out := ms[:0]
		for _, m := range ms {
			if strings.Contains(monitorKey(&m), key) {
				out = append(out, m)
			}
		}
		ms = out
	}
	return ms, nil
}
