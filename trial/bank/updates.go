package bank

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/store"
)

// Update is the demo data update of a trial.
type Update struct {
	ID          int64        `db:"id"`
	TrialID     int64        `db:"trial_id"`
	DueOn       string       `db:"due_on"` // YYYY-MM-DD
	ScheduledAt time.Time    `db:"scheduled_at"`
	AppliedAt   sql.NullTime `db:"applied_at"`
	AppliedBy   string       `db:"applied_by"`
	Accounts    int64        `db:"accounts"` // accounts it added lines to
}

// ErrUpdateApplied: the trial's update was already applied.
var ErrUpdateApplied = errors.New("the demo data update of this trial was already applied")

// ScheduleUpdate sets the date the trial's demo data update is due
// (YYYY-MM-DD); a pending update is moved, an applied one is refused.
func (b *Bank) ScheduleUpdate(ctx context.Context, trialID int64, on string) (*Update, error) {
	if _, err := time.Parse(time.DateOnly, on); err != nil {
		return nil, fmt.Errorf("date %q: want YYYY-MM-DD", on)
	}
	err := b.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		var n int
		if err := tx.GetContext(ctx, &n, tx.Rebind("SELECT COUNT(*) FROM trials WHERE id = ?"), trialID); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("trial %d: %w", trialID, store.ErrNotFound)
		}
		var u Update
		err := tx.GetContext(ctx, &u, tx.Rebind("SELECT id, applied_at FROM bank_updates WHERE trial_id = ?"), trialID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, tx.Rebind(
				"INSERT INTO bank_updates (trial_id, due_on, scheduled_at) VALUES (?, ?, ?)"), trialID, on, b.now())
			return err
		case err != nil:
			return err
		case u.AppliedAt.Valid:
			return ErrUpdateApplied
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(
			"UPDATE bank_updates SET due_on = ?, scheduled_at = ? WHERE id = ? AND applied_at IS NULL"), on, b.now(), u.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return b.Update(ctx, trialID)
}

// Update returns the trial's update (store.ErrNotFound when none).
func (b *Bank) Update(ctx context.Context, trialID int64) (*Update, error) {
	var u Update
	err := b.DB.GetContext(ctx, &u, b.DB.Rebind(`SELECT id, trial_id, due_on, scheduled_at, applied_at, applied_by, accounts
		FROM bank_updates WHERE trial_id = ?`), trialID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("demo data update of trial %d: %w", trialID, store.ErrNotFound)
	}
	if err != nil {
		return nil, store.MapErr(err)
	}
	u.ScheduledAt = u.ScheduledAt.UTC()
	return &u, nil
}

// ApplyDue applies every update due today or earlier (by the local date of
// the bank's clock) that is not yet applied, each exactly once: the claim
// (UPDATE … WHERE applied_at IS NULL) and the new statement lines are one
// transaction, so two laptops on one database never both apply it. by
// names who applied it. It returns the updates this call applied.
func (b *Bank) ApplyDue(ctx context.Context, by string) ([]Update, error) {
	now := b.now()
	today := now.In(time.Local).Format(time.DateOnly)
	var due []int64
	if err := b.DB.SelectContext(ctx, &due, b.DB.Rebind(
		"SELECT id FROM bank_updates WHERE applied_at IS NULL AND due_on <= ? ORDER BY id"), today); err != nil {
		return nil, store.MapErr(err)
	}
	var applied []Update
	for _, id := range due {
		var u Update
		var won bool
		err := b.DB.Tx(ctx, func(tx *sqlx.Tx) error {
			res, err := tx.ExecContext(ctx, tx.Rebind(
				"UPDATE bank_updates SET applied_at = ?, applied_by = ? WHERE id = ? AND applied_at IS NULL"), now, by, id)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return err // another laptop applied it
			}
			won = true
			var accounts []int64
			if err := tx.SelectContext(ctx, &accounts, tx.Rebind(`SELECT a.id FROM bank_accounts a
				JOIN monitors m ON m.id = a.monitor_id
				WHERE m.trial_id = (SELECT trial_id FROM bank_updates WHERE id = ?) ORDER BY a.id`), id); err != nil {
				return err
			}
			for _, acc := range accounts {
				for _, l := range lines(updateLines, now) {
					if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO bank_transactions
						(account_id, at, amount, description, update_id) VALUES (?, ?, ?, ?, ?)`),
						acc, l.At, l.Amount, l.Description, id); err != nil {
						return err
					}
				}
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE bank_updates SET accounts = ? WHERE id = ?"), len(accounts), id); err != nil {
				return err
			}
			return tx.GetContext(ctx, &u, tx.Rebind(`SELECT id, trial_id, due_on, scheduled_at, applied_at, applied_by, accounts
				FROM bank_updates WHERE id = ?`), id)
		})
		if err != nil {
			return applied, fmt.Errorf("applying demo data update %d: %w", id, err)
		}
		if won {
			applied = append(applied, u)
		}
	}
	return applied, nil
}
