package trial

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/pii"
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
		es.add("trial", ReasonNoTrial, "no trial %d", m.TrialID)
	}
	if m.SessionID != nil {
		var st []int64
		if err := tx.SelectContext(ctx, &st, tx.Rebind("SELECT trial_id FROM sessions WHERE id = ?"), *m.SessionID); err != nil {
			return err
		}
		switch {
		case len(st) == 0:
			es.add("session", ReasonNoSession, "no session %d", *m.SessionID)
		case st[0] != m.TrialID:
			es.add("session", ReasonSessionOtherTrial, "session %d belongs to another trial", *m.SessionID)
		}
	}
	if m.CompanionOf != nil {
		var ct []int64
		if err := tx.SelectContext(ctx, &ct, tx.Rebind("SELECT trial_id FROM monitors WHERE id = ?"), *m.CompanionOf); err != nil {
			return err
		}
		switch {
		case len(ct) == 0:
			es.add("companion_of", ReasonNoMonitor, "no monitor %s", *m.CompanionOf)
		case ct[0] != m.TrialID:
			es.add("companion_of", ReasonCompanionOtherTrial, "%s is in another trial", *m.CompanionOf)
		}
	}
	return es.err()
}

// personalRow is a monitor's id and stored personal fields.
type personalRow struct {
	ID      string `db:"id"`
	Name    string `db:"name"`
	Kana    string `db:"kana"`
	Contact string `db:"contact"`
}

// existingPeople returns the dupKey of every monitor of a trial who has not
// withdrawn, mapped to its id. Sealed values are randomised (a fresh nonce
// each), so the comparison cannot be a WHERE clause: the fields are opened
// with k and compared here. Monitors whose fields were erased (retention)
// are skipped. Without k on a sealed store it fails with pii.ErrLocked.
func existingPeople(ctx context.Context, q sqlx.ExtContext, k *pii.Key, trialID int64) (map[string]string, error) {
	var rows []personalRow
	err := sqlx.SelectContext(ctx, q, &rows, q.Rebind(
		"SELECT id, name, kana, contact FROM monitors WHERE trial_id = ? AND status <> 'withdrawn' AND name <> ''"), trialID)
	if err != nil {
		return nil, store.MapErr(err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		m := Monitor{ID: r.ID, Name: r.Name, Kana: r.Kana, Contact: r.Contact}
		if err := openMonitor(k, &m); err != nil {
			return nil, err
		}
		if m.Sealed {
			return nil, pii.ErrLocked
		}
		out[dupKey(trialID, m.Name, m.Kana, m.Contact)] = r.ID
	}
	return out, nil
}

// checkDuplicate refuses a second enrolment of one person in a trial: the
// same name, kana and contact (folded as SearchKey does) as a monitor who
// has not withdrawn.
func checkDuplicate(ctx context.Context, tx *sqlx.Tx, k *pii.Key, m *Monitor) error {
	people, err := existingPeople(ctx, tx, k, m.TrialID)
	if err != nil {
		return err
	}
	if id, ok := people[dupKey(m.TrialID, m.Name, m.Kana, m.Contact)]; ok && id != m.ID {
		return FieldErrors{fieldErr("name", ReasonDuplicateMonitor, "duplicate of existing monitor %s (same name, kana and contact)", id)}
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
		return Monitor{}, FieldErrors{fieldErr("status", ReasonNewWithdrawn, "a new monitor cannot be withdrawn")}
	}
	m.Normalize()
	m.ID = ""
	if err := m.Validate(); err != nil {
		return Monitor{}, err
	}
	m.CreatedAt = s.now()
	m.UpdatedAt = m.CreatedAt
	m.WithdrawnAt = nil
	m.Sealed = false
	ctx = s.actor(ctx)
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		w, err := modeFor(ctx, tx, s.PII)
		if err != nil {
			return err
		}
		if w.locked {
			return pii.ErrLocked // a new monitor always has a name
		}
		if err := checkRefs(ctx, tx, &m); err != nil {
			return err
		}
		if err := checkDuplicate(ctx, tx, s.PII, &m); err != nil {
			return err
		}
		n, err := allocateIDs(ctx, tx, 1)
		if err != nil {
			return err
		}
		m.ID = FormatMonitorID(n)
		stored := m
		p, err := w.seal(&m)
		if err != nil {
			return err
		}
		stored.Name, stored.Kana, stored.Contact = p.name, p.kana, p.contact
		_, err = tx.ExecContext(ctx, tx.Rebind("INSERT INTO monitors ("+monitorCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
			monitorArgs(&stored)...)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.MonitorEnrol, m.ID, enrolDetail(&m))
	})
	if err != nil {
		return Monitor{}, fmt.Errorf("enrol: %w", err)
	}
	return m, nil
}

// enrolDetail is what the audit trail says about an enrolment: where the
// monitor went, never who they are.
func enrolDetail(m *Monitor) string {
	d := fmt.Sprintf("trial %d", m.TrialID)
	if m.SessionID != nil {
		d += fmt.Sprintf(", session %d", *m.SessionID)
	}
	return d + ", status " + string(m.Status)
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
	if err == nil {
		err = openMonitor(s.PII, &m)
	}
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

// auditFn names the audit action of a change and its detail (which fields,
// never their values).
type auditFn func(old, m *Monitor) (action, detail string)

// change loads a monitor, lets edit change it, validates and saves it and
// records it in the audit trail, all in one transaction. edit sees the
// monitor opened with the service's key. Without the key, personal fields
// the caller could not see stay as stored while edit leaves them empty;
// putting one in fails with pii.ErrLocked. Personal fields are validated
// when they change (a monitor whose fields the retention purge erased can
// still change status).
func (s *Service) change(ctx context.Context, id string, what string, edit func(old Monitor, m *Monitor) error, record auditFn) (Monitor, error) {
	if n, ok := ParseMonitorID(id); ok {
		id = FormatMonitorID(n)
	}
	var m Monitor
	ctx = s.actor(ctx)
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		raw, err := getMonitorForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		old := raw
		if err := openMonitor(s.PII, &old); err != nil {
			return err
		}
		m = old
		if err := edit(old, &m); err != nil {
			return err
		}
		m.ID, m.CreatedAt, m.WithdrawnAt = old.ID, old.CreatedAt, old.WithdrawnAt
		m.Normalize()
		keep := old.Sealed && !hasPersonal(&m)
		if old.Sealed && !keep {
			return pii.ErrLocked
		}
		m.Sealed = keep
		if err := m.validate(!keep && personalChanged(&old, &m)); err != nil {
			return err
		}
		if err := checkRefs(ctx, tx, &m); err != nil {
			return err
		}
		p := personal{raw.Name, raw.Kana, raw.Contact}
		if !keep && personalChanged(&old, &m) {
			w, err := modeFor(ctx, tx, s.PII)
			if err != nil {
				return err
			}
			if p, err = w.seal(&m); err != nil {
				return err
			}
		}
		m.UpdatedAt = s.now()
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE monitors SET trial_id = ?, session_id = ?, name = ?, kana = ?, age_band = ?,
			contact = ?, companion_of = ?, status = ?, consent_version = ?, consent_signed_on = ?, consent_staff = ?, updated_at = ?
			WHERE id = ?`),
			m.TrialID, m.SessionID, p.name, p.kana, m.AgeBand, p.contact, m.CompanionOf, m.Status,
			m.Consent.FormVersion, m.Consent.SignedOn, m.Consent.Staff, m.UpdatedAt, m.ID)
		if err != nil {
			return err
		}
		action, detail := record(&old, &m)
		return audit.Record(ctx, tx, action, m.ID, detail)
	})
	if err != nil {
		return Monitor{}, fmt.Errorf("%s %s: %w", what, id, err)
	}
	return m, nil
}

// personalChanged reports whether m's personal fields differ from old's.
func personalChanged(old, m *Monitor) bool {
	return old.Name != m.Name || old.Kana != m.Kana || old.Contact != m.Contact
}

// changedFields names the fields that differ between old and m, by field
// name ("name", "consent_version"), for the audit trail: never the values.
func changedFields(old, m *Monitor) string {
	ptr := func(a, b *int64) bool { return (a == nil) != (b == nil) || a != nil && *a != *b }
	sptr := func(a, b *string) bool { return (a == nil) != (b == nil) || a != nil && *a != *b }
	var fs []string
	for _, f := range []struct {
		name    string
		changed bool
	}{
		{"session", ptr(old.SessionID, m.SessionID)},
		{"name", old.Name != m.Name},
		{"kana", old.Kana != m.Kana},
		{"age_band", old.AgeBand != m.AgeBand},
		{"contact", old.Contact != m.Contact},
		{"companion_of", sptr(old.CompanionOf, m.CompanionOf)},
		{"status", old.Status != m.Status},
		{"consent_version", old.Consent.FormVersion != m.Consent.FormVersion},
		{"consent_signed_on", old.Consent.SignedOn != m.Consent.SignedOn},
		{"consent_staff", old.Consent.Staff != m.Consent.Staff},
	} {
		if f.changed {
			fs = append(fs, f.name)
		}
	}
	if len(fs) == 0 {
		return "no change"
	}
	return strings.Join(fs, ", ")
}

func auditEdit(old, m *Monitor) (string, string) { return audit.MonitorEdit, changedFields(old, m) }

// UpdateMonitor saves the editable fields of m (session, name, kana, age
// band, contact, companion, consent). Status changes go through SetStatus
// and Withdraw. A withdrawn monitor keeps no personal data: giving it a
// name, kana or contact fails with ErrWithdrawn. A monitor read without the
// data key (Sealed, personal fields empty) can be saved without one: its
// stored personal fields stay as they are. The audit trail names the
// fields that changed.
func (s *Service) UpdateMonitor(ctx context.Context, m Monitor) (Monitor, error) {
	return s.change(ctx, m.ID, "update monitor", func(old Monitor, n *Monitor) error {
		if old.TrialID != m.TrialID && m.TrialID != 0 {
			return FieldErrors{fieldErr("trial", ReasonMonitorMove, "a monitor cannot move to another trial")}
		}
		if old.Status == StatusWithdrawn && (m.Status != "" && m.Status != StatusWithdrawn ||
			strings.TrimSpace(m.Name) != "" || strings.TrimSpace(m.Kana) != "" || strings.TrimSpace(m.Contact) != "") {
			return ErrWithdrawn // withdrawn since the caller read it, or personal data put back
		}
		if m.Status != "" && m.Status != old.Status {
			return FieldErrors{fieldErr("status", ReasonStatusElsewhere, "change the status with SetStatus or Withdraw")}
		}
		n.SessionID, n.Name, n.Kana, n.AgeBand, n.Contact = m.SessionID, m.Name, m.Kana, m.AgeBand, m.Contact
		n.CompanionOf, n.Consent = m.CompanionOf, m.Consent
		return nil
	}, auditEdit)
}

// SetStatus moves a monitor to enrolled, attended or completed. Withdrawal
// is Withdraw; a withdrawn monitor stays withdrawn (ErrWithdrawn).
func (s *Service) SetStatus(ctx context.Context, id string, st Status) (Monitor, error) {
	if st == StatusWithdrawn {
		return Monitor{}, FieldErrors{fieldErr("status", ReasonUseWithdraw, "use Withdraw, which also erases the personal data")}
	}
	if !KnownStatus(st) {
		return Monitor{}, FieldErrors{fieldErr("status", ReasonStatusUnknown, "unknown status %q", st)}
	}
	return s.change(ctx, id, "set status of", func(old Monitor, n *Monitor) error {
		if old.Status == StatusWithdrawn {
			return ErrWithdrawn
		}
		n.Status = st
		return nil
	}, func(old, m *Monitor) (string, string) {
		return audit.MonitorStatus, string(old.Status) + "→" + string(m.Status)
	})
}

// RecordConsent records the signed consent form: its version, the date it
// was signed (YYYY-MM-DD) and the staff member who checked it.
func (s *Service) RecordConsent(ctx context.Context, id string, c Consent) (Monitor, error) {
	c.FormVersion, c.SignedOn, c.Staff = strings.TrimSpace(c.FormVersion), strings.TrimSpace(c.SignedOn), strings.TrimSpace(c.Staff)
	if c.FormVersion == "" || c.SignedOn == "" {
		var es FieldErrors
		if c.FormVersion == "" {
			es.add("consent_version", ReasonRequired, "required")
		}
		if c.SignedOn == "" {
			es.add("consent_signed_on", ReasonRequired, "required")
		}
		return Monitor{}, es
	}
	return s.change(ctx, id, "record consent of", func(old Monitor, n *Monitor) error {
		if old.Status == StatusWithdrawn {
			return ErrWithdrawn
		}
		n.Consent = c
		return nil
	}, func(old, m *Monitor) (string, string) { return audit.MonitorConsent, m.Consent.FormVersion })
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
	}, auditEdit)
}

// Withdraw records a withdrawal: in one transaction the name, kana and
// contact are erased, the status becomes withdrawn, withdrawn_at is set and
// the audit trail records it. It needs no data key.
// The pseudonymous id, trial, session, age band, consent record, companion
// link and any answers stay. Withdrawing twice is a no-op.
func (s *Service) Withdraw(ctx context.Context, id string) (Monitor, error) {
	if n, ok := ParseMonitorID(id); ok {
		id = FormatMonitorID(n)
	}
	var m Monitor
	ctx = s.actor(ctx)
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		old, err := getMonitorForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		if old.Status == StatusWithdrawn {
			m = old
			return openMonitor(s.PII, &m) // erased: nothing to open
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
		return audit.Record(ctx, tx, audit.MonitorWithdraw, id, "status "+string(old.Status)+"→withdrawn; name, kana and contact erased")
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
	ctx = s.actor(ctx)
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
		return audit.Record(ctx, tx, audit.MonitorDelete, id, "")
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

// ListMonitors returns the monitors f selects in id order, personal fields
// opened with the service's key (without it, sealed ones are empty and
// Sealed is set). The query is matched in Go, after opening, with the same
// folding as Index, so both agree; a sealed name cannot be searched.
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
	if err := openMonitors(s.PII, ms); err != nil {
		return nil, fmt.Errorf("list monitors: %w", err)
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
