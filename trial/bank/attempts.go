package bank

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/store"
)

// attempt is one registration or login being measured.
type attempt struct {
	trialID    int64
	monitorID  string
	kind       Purpose
	method     Method
	start, end time.Time
}

// finish records the attempt and returns its outcome: nil, or an *Error
// with the reason. Recording happens even when the caller's context was
// cancelled, so a cancelled attempt is counted too.
func (b *Bank) finish(ctx context.Context, a *attempt, err error) error {
	a.end = b.now()
	if a.start.IsZero() || a.start.After(a.end) {
		a.start = a.end
	}
	var out *Error
	if err != nil {
		out = classify(err)
	}
	reason := ReasonOK
	if out != nil {
		reason = out.Reason
	}
	ms := a.end.Sub(a.start).Milliseconds()
	ctx = context.WithoutCancel(ctx)
	werr := b.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		// tries: this attempt and the failed ones since the last success.
		var failed int64
		if err := tx.GetContext(ctx, &failed, tx.Rebind(`SELECT COUNT(*) FROM bank_attempts
			WHERE monitor_id = ? AND kind = ? AND method = ? AND NOT ok AND id > COALESCE(
				(SELECT MAX(id) FROM bank_attempts WHERE monitor_id = ? AND kind = ? AND method = ? AND ok), 0)`),
			a.monitorID, string(a.kind), string(a.method), a.monitorID, string(a.kind), string(a.method)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO bank_attempts
			(trial_id, monitor_id, kind, method, ok, reason, started_at, duration_ms, tries) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			a.trialID, a.monitorID, string(a.kind), string(a.method), out == nil, string(reason), a.start, ms, failed+1)
		return err
	})
	if werr != nil {
		werr = fmt.Errorf("recording the %s attempt: %w", a.kind, werr)
		if out == nil {
			return werr
		}
		return errors.Join(out, werr)
	}
	if out == nil {
		return nil
	}
	return out
}

// Attempt is one recorded attempt.
type Attempt struct {
	ID         int64     `db:"id"`
	TrialID    int64     `db:"trial_id"`
	MonitorID  string    `db:"monitor_id"`
	Kind       Purpose   `db:"kind"`
	Method     Method    `db:"method"`
	OK         bool      `db:"ok"`
	Reason     Reason    `db:"reason"`
	StartedAt  time.Time `db:"started_at"`
	DurationMS int64     `db:"duration_ms"`
	Tries      int64     `db:"tries"`
}

// Attempts lists the trial's attempts (0: all trials), oldest first.
func (b *Bank) Attempts(ctx context.Context, trialID int64) ([]Attempt, error) {
	var out []Attempt
	q := "SELECT id, trial_id, monitor_id, kind, method, ok, reason, started_at, duration_ms, tries FROM bank_attempts"
	var args []any
	if trialID != 0 {
		q += " WHERE trial_id = ?"
		args = append(args, trialID)
	}
	if err := b.DB.SelectContext(ctx, &out, b.DB.Rebind(q+" ORDER BY id"), args...); err != nil {
		return nil, store.MapErr(err)
	}
	for i := range out {
		out[i].StartedAt = out[i].StartedAt.UTC()
	}
	return out, nil
}

// MethodSummary is the login figures of one method.
type MethodSummary struct {
	Method    Method
	Attempts  int
	Successes int
	// SuccessRate is Successes/Attempts (0 with no attempts).
	SuccessRate float64
	// MedianMS is the median time from start to logged in of the
	// successful logins, in milliseconds (0 with none).
	MedianMS float64
	// Reasons counts the failures by reason.
	Reasons map[Reason]int
}

// Summary is the per-method login summary of a trial (0: all trials), one
// entry per method in Methods order. The survey export calls it too.
func (b *Bank) Summary(ctx context.Context, trialID int64) ([]MethodSummary, error) {
	all, err := b.Attempts(ctx, trialID)
	if err != nil {
		return nil, err
	}
	return Summarize(all), nil
}

// Summarize computes the per-method summary of login attempts.
func Summarize(attempts []Attempt) []MethodSummary {
	out := make([]MethodSummary, len(Methods))
	times := make([][]int64, len(Methods))
	for i, m := range Methods {
		out[i] = MethodSummary{Method: m, Reasons: map[Reason]int{}}
	}
	for _, a := range attempts {
		i := slices.Index(Methods, a.Method)
		if a.Kind != PurposeLogin || i < 0 {
			continue
		}
		out[i].Attempts++
		if a.OK {
			out[i].Successes++
			times[i] = append(times[i], a.DurationMS)
		} else {
			out[i].Reasons[a.Reason]++
		}
	}
	for i := range out {
		if out[i].Attempts > 0 {
			out[i].SuccessRate = float64(out[i].Successes) / float64(out[i].Attempts)
		}
		out[i].MedianMS = median(times[i])
	}
	return out
}

func median(v []int64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return float64(s[n/2])
	}
	return float64(s[n/2-1]+s[n/2]) / 2
}
