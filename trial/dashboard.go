package trial

import (
	"context"
	"fmt"

	"jpkipilot/trial/store"
)

// SessionStats are one session's numbers on the dashboard.
type SessionStats struct {
	Session Session // zero for monitors not yet given a session
	// Enrolled counts monitors who have not withdrawn (enrolled, attended
	// or completed); it is what Target is compared with.
	Enrolled       int
	Attended       int // status attended
	Completed      int // status completed
	ConsentMissing int // not withdrawn, no consent on record
	Withdrawn      int
}

// Target and Capacity are the session's, for the dashboard's columns.
func (st SessionStats) Target() int   { return st.Session.Target }
func (st SessionStats) Capacity() int { return st.Session.Capacity }

// Dashboard is one trial at a glance: per session, and totals.
type Dashboard struct {
	Trial    Trial
	Sessions []SessionStats // in session order
	// Unassigned holds monitors with no session yet (zero when none).
	Unassigned SessionStats
	// Total sums every session and the unassigned; its Session carries the
	// summed Target and Capacity.
	Total SessionStats
}

// Dashboard counts a trial's monitors per session.
func (s *Service) Dashboard(ctx context.Context, trialID int64) (Dashboard, error) {
	t, err := s.GetTrial(ctx, trialID)
	if err != nil {
		return Dashboard{}, err
	}
	sessions, err := s.ListSessions(ctx, trialID)
	if err != nil {
		return Dashboard{}, err
	}
	var rows []struct {
		SessionID *int64 `db:"session_id"`
		Status    Status `db:"status"`
		NoConsent bool   `db:"no_consent"`
		N         int    `db:"n"`
	}
	err = s.DB.SelectContext(ctx, &rows, s.DB.Rebind(`SELECT session_id, status,
		(consent_version = '' OR consent_signed_on = '') AS no_consent, COUNT(*) AS n
		FROM monitors WHERE trial_id = ? GROUP BY session_id, status, (consent_version = '' OR consent_signed_on = '')`), trialID)
	if err != nil {
		return Dashboard{}, fmt.Errorf("dashboard: %w", store.MapErr(err))
	}
	d := Dashboard{Trial: t, Sessions: make([]SessionStats, len(sessions))}
	at := map[int64]int{}
	for i, se := range sessions {
		d.Sessions[i].Session = se
		at[se.ID] = i
		d.Total.Session.Target += se.Target
		d.Total.Session.Capacity += se.Capacity
	}
	for _, r := range rows {
		st := &d.Unassigned
		if r.SessionID != nil {
			i, ok := at[*r.SessionID]
			if !ok {
				continue // cannot happen: monitors' sessions are in their trial
			}
			st = &d.Sessions[i]
		}
		for _, x := range []*SessionStats{st, &d.Total} {
			switch r.Status {
			case StatusWithdrawn:
				x.Withdrawn += r.N
				continue
			case StatusAttended:
				x.Attended += r.N
			case StatusCompleted:
				x.Completed += r.N
			}
			x.Enrolled += r.N
			if r.NoConsent {
				x.ConsentMissing += r.N
			}
		}
	}
	return d, nil
}
