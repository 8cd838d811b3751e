package trial

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/store"
)

// Retention dates are days of Japan's calendar: the trial runs there, and
// "kept until 2017-03-31" means until that day ends in Tokyo. Japan keeps
// no summer time, so Asia/Tokyo is UTC+9 all year: the fixed JST zone is
// the same clock and needs no time-zone database on the laptop.
var retentionZone = JST

// SetRetention sets the last day (YYYY-MM-DD) the personal fields of a
// trial's monitors are kept, or clears it with "". The change is audited
// with the old and new dates.
func (s *Service) SetRetention(ctx context.Context, trialID int64, until string) error {
	until = strings.TrimSpace(until)
	if until != "" && !ValidDate(until) {
		return FieldErrors{fieldErr("retain_until", ReasonDate, "not a date in the form YYYY-MM-DD: %q", until)}
	}
	ctx = s.actor(ctx)
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		var old []string
		q := "SELECT retain_until FROM trials WHERE id = ?"
		if tx.DriverName() == "pgx" {
			q += " FOR UPDATE"
		}
		if err := tx.SelectContext(ctx, &old, tx.Rebind(q), trialID); err != nil {
			return err
		}
		if len(old) == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE trials SET retain_until = ? WHERE id = ?"), until, trialID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, auditTrialRetention, TrialSubject(trialID), dateChange(old[0], until))
	})
	if err != nil {
		return fmt.Errorf("set retention of trial %d: %w", trialID, err)
	}
	return nil
}

func dateChange(from, to string) string {
	or := func(s string) string {
		if s == "" {
			return "none"
		}
		return s
	}
	return "retain until " + or(from) + "→" + or(to)
}

// PurgeResult says what PurgeExpired erased: the trials it purged (those
// with personal fields left to erase) and how many monitors lost theirs.
type PurgeResult struct {
	Trials   []int64
	Monitors int
}

// PurgeExpired erases the name, kana and contact of every monitor of every
// trial whose retention date has passed (today, by s.Now in Japan's
// calendar, is after it). Everything happens in one transaction with one
// audit.RetentionPurge entry per purged trial giving the count; the
// pseudonymous ids, statuses, consent records, answers and loans stay. Run
// again it finds nothing to erase and records nothing. It needs no data
// key: erasing does not read the sealed values.
func (s *Service) PurgeExpired(ctx context.Context) (PurgeResult, error) {
	var res PurgeResult
	now := s.now()
	today := now.In(retentionZone).Format(time.DateOnly)
	ctx = s.actor(ctx)
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		res = PurgeResult{}
		var due []struct {
			ID          int64  `db:"id"`
			RetainUntil string `db:"retain_until"`
		}
		if err := tx.SelectContext(ctx, &due, tx.Rebind(
			"SELECT id, retain_until FROM trials WHERE retain_until <> '' AND retain_until < ? ORDER BY id"), today); err != nil {
			return err
		}
		erase := tx.Rebind(`UPDATE monitors SET name = '', kana = '', contact = '', updated_at = ?
			WHERE trial_id = ? AND (name <> '' OR kana <> '' OR contact <> '')`)
		for _, t := range due {
			r, err := tx.ExecContext(ctx, erase, now, t.ID)
			if err != nil {
				return err
			}
			n, err := r.RowsAffected()
			if err != nil {
				return err
			}
			if n == 0 {
				continue
			}
			detail := fmt.Sprintf("%d monitors' name, kana and contact erased (retained until %s)", n, t.RetainUntil)
			if err := audit.Record(ctx, tx, audit.RetentionPurge, TrialSubject(t.ID), detail); err != nil {
				return err
			}
			res.Trials = append(res.Trials, t.ID)
			res.Monitors += int(n)
		}
		return nil
	})
	if err != nil {
		return PurgeResult{}, fmt.Errorf("retention purge: %w", err)
	}
	if res.Monitors > 0 {
		_ = s.DB.Scrub(ctx) // best effort: the erased pages' old frames leave the WAL
	}
	return res, nil
}
