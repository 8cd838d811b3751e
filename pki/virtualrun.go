package pki

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"time"

	"jpkipilot/trial/audit"
)

// A virtual card's private keys live only in the process serving it (the
// GUI's virtual readers, `jpkipilot vcard --trial-ca`): when that process
// stops, its certificates are valid ones nobody can use. Each CA value is
// one such run. While it serves it beats (KeepVirtualRun); when it stops
// cleanly it says so (EndVirtualRun). The next virtual card served from
// any laptop on the store revokes the certificates of runs that ended or
// have not beaten for VirtualRunIdle, in the transaction that issues it —
// never those of a run still beating, such as a second laptop's at the
// same venue on one PostgreSQL.
const (
	// VirtualRunBeat is how often a serving run says it is alive.
	VirtualRunBeat = 5 * time.Minute
	// VirtualRunIdle is how long a run may go unseen before its cards count
	// as gone. Generous: a certificate revoked late is harmless (its key is
	// gone), a live card revoked is a monitor turned away at the gate — a
	// laptop suspended over a break must keep its cards.
	VirtualRunIdle = 2 * time.Hour
)

// newRunID names a run: random, so two laptops never share one.
func newRunID() string { return rand.Text()[:16] }

// VirtualRunID names this CA value's run of virtual cards.
func (ca *CA) VirtualRunID() string { return ca.run }

// registerRun records the run (first card) or its beat (later cards).
func (ca *CA) registerRun(ctx context.Context, tx txer, now time.Time) error {
	res, err := tx.ExecContext(ctx, tx.Rebind("UPDATE pki_virtual_runs SET seen_at = ? WHERE id = ?"), now, ca.run)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	host, _ := os.Hostname()
	_, err = tx.ExecContext(ctx, tx.Rebind("INSERT INTO pki_virtual_runs (id, host, started_at, seen_at) VALUES (?, ?, ?, ?)"),
		ca.run, host, now, now)
	return err
}

// sweepVirtual revokes (cessationOfOperation) every unrevoked virtual
// card certificate of a run other than this one that ended or has been
// idle for VirtualRunIdle, each audited, and counts them per issuing CA.
func (ca *CA) sweepVirtual(ctx context.Context, tx txer, now time.Time) (map[Role]int, error) {
	var rows []struct {
		Serial string `db:"serial"`
		Role   string `db:"ca_role"`
		Run    string `db:"virtual_run"`
	}
	err := tx.SelectContext(ctx, &rows, tx.Rebind(`SELECT serial, ca_role, virtual_run FROM pki_certs
		WHERE virtual_run IS NOT NULL AND revoked_at IS NULL AND virtual_run <> ?
		AND virtual_run NOT IN (SELECT id FROM pki_virtual_runs WHERE ended_at IS NULL AND seen_at > ?)
		ORDER BY serial`), ca.run, now.Add(-VirtualRunIdle))
	if err != nil {
		return nil, err
	}
	revoked := map[Role]int{}
	up := tx.Rebind("UPDATE pki_certs SET revoked_at = ?, revocation_reason = ? WHERE serial = ? AND revoked_at IS NULL")
	for _, r := range rows {
		if _, err := tx.ExecContext(ctx, up, now, int(CessationOfOperation), r.Serial); err != nil {
			return nil, err
		}
		run := r.Run
		if run == "" {
			run = "before runs were recorded"
		}
		if err := audit.Record(ctx, tx, audit.CertRevoke, r.Serial,
			fmt.Sprintf("reason %s: virtual card of an earlier run (%s), its key is gone", CessationOfOperation, run)); err != nil {
			return nil, err
		}
		revoked[Role(r.Role)]++
	}
	return revoked, nil
}

// BeatVirtualRun tells other laptops this run still serves its virtual
// cards. Before its first card it does nothing.
func (ca *CA) BeatVirtualRun(ctx context.Context) error {
	_, err := ca.db.ExecContext(ctx, ca.db.Rebind("UPDATE pki_virtual_runs SET seen_at = ? WHERE id = ? AND ended_at IS NULL"),
		ca.now().Truncate(time.Second), ca.run)
	if err != nil {
		return fmt.Errorf("virtual card run %s: %w", ca.run, err)
	}
	return nil
}

// KeepVirtualRun beats every VirtualRunBeat until ctx ends. A failed beat
// (the store unreachable for a while) is tried again at the next tick: a
// run counts as gone only after VirtualRunIdle.
func (ca *CA) KeepVirtualRun(ctx context.Context) {
	t := time.NewTicker(VirtualRunBeat)
	defer t.Stop()
	ca.keepVirtualRun(ctx, t.C)
}

func (ca *CA) keepVirtualRun(ctx context.Context, ticks <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			_ = ca.BeatVirtualRun(ctx)
		}
	}
}

// EndVirtualRun records that this run stopped serving: its cards' keys
// are gone, and the next virtual card served on the store revokes their
// certificates without waiting for VirtualRunIdle.
func (ca *CA) EndVirtualRun(ctx context.Context) error {
	_, err := ca.db.ExecContext(ctx, ca.db.Rebind("UPDATE pki_virtual_runs SET ended_at = ? WHERE id = ? AND ended_at IS NULL"),
		ca.now().Truncate(time.Second), ca.run)
	if err != nil {
		return fmt.Errorf("virtual card run %s: %w", ca.run, err)
	}
	return nil
}
