// Package audit is the trial's append-only audit trail. Every sensitive
// action (logins, monitor enrolment and edits, consent, withdrawal, exports,
// certificates, loans, CA key use) is recorded with Record inside the same
// transaction as the action itself: the action and its entry land together
// or not at all.
//
// Each entry carries the SHA-256 of the entry before it, and audit_head the
// last sequence number and hash, so Verify finds an edited, deleted,
// reordered or cut-off entry. (Someone who can rewrite the whole table can
// also recompute the chain; the head hash printed by `audit verify` and in
// every export's README is what a coordinator writes into the trial report
// to pin it. See docs/SECURITY.md.)
//
// Entries never hold personal data: subjects are pseudonymous ids (M-0001),
// account logins, certificate serials; details say what changed, not to what.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/store"
)

// Actions. A new kind of sensitive action gets its constant here.
const (
	Login             = "login"
	LoginFailed       = "login.failed"
	Logout            = "logout"
	SessionLocked     = "session.locked"
	StaffCreate       = "staff.create"
	StaffUpdate       = "staff.update"
	StaffDisable      = "staff.disable"
	StaffPassword     = "staff.password"
	StaffPIN          = "staff.pin"
	DataKeyRotate     = "datakey.rotate"
	MonitorEnrol      = "monitor.enrol"
	MonitorEdit       = "monitor.edit"
	MonitorStatus     = "monitor.status"
	MonitorConsent    = "monitor.consent"
	MonitorWithdraw   = "monitor.withdraw"
	MonitorDelete     = "monitor.delete"
	MonitorImport     = "monitor.import"
	RetentionPurge    = "retention.purge"
	Export            = "export"
	CAInit            = "ca.init"
	CAKeyUse          = "ca.key_use"
	CertIssue         = "cert.issue"
	CertRevoke        = "cert.revoke"
	CRLPublish        = "crl.publish"
	LoanCheckout      = "loan.checkout"
	LoanReturn        = "loan.return"
	LoanEvent         = "loan.event"
	KioskLeave        = "kiosk.leave"
	TrialCreate       = "trial.create"
	TrialRetention    = "trial.retention"
	DeviceAdd         = "device.add"
	DeviceImport      = "device.import"
	TokenIssue        = "staff.token_issue"
	TokenRevoke       = "staff.token_revoke"
	KioskLeaveRefused = "kiosk.leave_refused"
)

// Genesis is the "previous hash" of the first entry.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

type actorKey struct{}

// WithActor returns ctx carrying who acts: an account login, or a fixed
// name for the system ("system", "kiosk:gate").
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns the actor in ctx, or Anonymous.
func ActorFrom(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return Anonymous
}

// Default returns ctx as it is when it names an actor, else ctx carrying
// actor. Services that outlive one call (the GUI's trial.Service) keep the
// logged-in account's login and apply it with Default, so screens need not
// thread the actor through every context.
func Default(ctx context.Context, actor string) context.Context {
	if _, ok := ctx.Value(actorKey{}).(string); ok || actor == "" {
		return ctx
	}
	return WithActor(ctx, actor)
}

// Anonymous is the actor of a store that has no staff accounts yet.
const Anonymous = "(no account)"

// Now is the audit clock, replaced in tests.
var Now = func() time.Time { return time.Now() }

// Entry is one audit record.
type Entry struct {
	Seq      int64     `db:"seq"`
	At       time.Time `db:"at"`
	Actor    string    `db:"actor"`
	Action   string    `db:"action"`
	Subject  string    `db:"subject"`
	Detail   string    `db:"detail"`
	PrevHash string    `db:"prev_hash"`
	Hash     string    `db:"hash"`
}

// Sum is the entry's hash: SHA-256 over the previous hash and every field,
// each length-prefixed so no two entries encode alike.
func (e Entry) Sum() string {
	h := sha256.New()
	var n [8]byte
	field := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field([]byte("jpkipilot audit v1"))
	field([]byte(e.PrevHash))
	var v [8]byte // its own buffer: field reuses n for the length
	binary.BigEndian.PutUint64(v[:], uint64(e.Seq))
	field(v[:])
	binary.BigEndian.PutUint64(v[:], uint64(e.At.UTC().UnixMicro()))
	field(v[:])
	field([]byte(e.Actor))
	field([]byte(e.Action))
	field([]byte(e.Subject))
	field([]byte(e.Detail))
	return hex.EncodeToString(h.Sum(nil))
}

// Record appends an entry in tx, with the actor from ctx. Call it inside the
// transaction of the action it records.
func Record(ctx context.Context, tx *sqlx.Tx, action, subject, detail string) error {
	e := Entry{At: Now().UTC().Truncate(time.Microsecond), Actor: ActorFrom(ctx), Action: action, Subject: subject, Detail: detail}
	// Bumping the head first takes its row lock (PostgreSQL) before the
	// previous hash is read, so two laptops append one after the other.
	// RETURNING gives the bumped seq and the hash not yet replaced.
	if err := tx.QueryRowxContext(ctx, "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash").Scan(&e.Seq, &e.PrevHash); err != nil {
		return fmt.Errorf("audit %s: %w", action, store.MapErr(err))
	}
	e.Hash = e.Sum()
	if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE audit_head SET hash = ? WHERE id = 1"), e.Hash); err != nil {
		return fmt.Errorf("audit %s: %w", action, store.MapErr(err))
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
		e.Seq, e.At, e.Actor, e.Action, e.Subject, e.Detail, e.PrevHash, e.Hash); err != nil {
		return fmt.Errorf("audit %s: %w", action, store.MapErr(err))
	}
	return nil
}

// RecordNow appends one entry in a transaction of its own, for events that
// change nothing else (a failed login, an export, a kiosk left).
func RecordNow(ctx context.Context, db *store.DB, action, subject, detail string) error {
	return db.Tx(ctx, func(tx *sqlx.Tx) error { return Record(ctx, tx, action, subject, detail) })
}

// Problem is one break in the chain.
type Problem struct {
	Seq  int64  // the entry where the break shows
	Kind string // "edited", "missing", "chain", "head"
	Msg  string
}

func (p Problem) String() string { return fmt.Sprintf("entry %d: %s", p.Seq, p.Msg) }

// Report is the outcome of Verify.
type Report struct {
	Entries  int
	HeadSeq  int64
	HeadHash string
	Problems []Problem
}

// OK reports an intact chain.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// Verify walks the whole log and reports every break: an entry whose hash
// no longer matches its content (edited), a gap in the sequence (deleted),
// an entry whose previous-hash does not match the entry before it
// (reordered, or deleted and renumbered), and a head that does not match
// the last entry (the tail cut off).
func Verify(ctx context.Context, db *store.DB) (Report, error) {
	var r Report
	if err := db.QueryRowxContext(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&r.HeadSeq, &r.HeadHash); err != nil {
		return r, fmt.Errorf("audit verify: %w", store.MapErr(err))
	}
	rows, err := db.QueryxContext(ctx, "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log ORDER BY seq")
	if err != nil {
		return r, fmt.Errorf("audit verify: %w", store.MapErr(err))
	}
	defer rows.Close()
	prevSeq, prevHash := int64(0), Genesis
	for rows.Next() {
		var e Entry
		if err := rows.StructScan(&e); err != nil {
			return r, fmt.Errorf("audit verify: %w", err)
		}
		r.Entries++
		if e.Seq != prevSeq+1 {
			r.Problems = append(r.Problems, Problem{e.Seq, "missing", fmt.Sprintf("entries %d–%d are missing (deleted)", prevSeq+1, e.Seq-1)})
		} else if e.PrevHash != prevHash {
			r.Problems = append(r.Problems, Problem{e.Seq, "chain", "does not follow the entry before it (reordered or replaced)"})
		}
		if e.Sum() != e.Hash {
			r.Problems = append(r.Problems, Problem{e.Seq, "edited", fmt.Sprintf("content does not match its hash (edited %s entry)", e.Action)})
		}
		prevSeq, prevHash = e.Seq, e.Hash
	}
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("audit verify: %w", err)
	}
	if r.HeadSeq != prevSeq || r.HeadHash != prevHash {
		r.Problems = append(r.Problems, Problem{prevSeq, "head", fmt.Sprintf("the log ends at entry %d but its head says %d: entries after it were removed, or the head was altered", prevSeq, r.HeadSeq)})
	}
	return r, nil
}

// Filter selects entries for List and the export.
type Filter struct {
	Action  string // exact action, or "" for all
	Subject string
	From    time.Time // inclusive; zero: from the start
	Until   time.Time // exclusive; zero: to the end
	Limit   int       // 0: no limit
}

// List returns entries matching f, oldest first.
func List(ctx context.Context, db *store.DB, f Filter) ([]Entry, error) {
	q := "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log WHERE 1 = 1"
	var args []any
	if f.Action != "" {
		q += " AND action = ?"
		args = append(args, f.Action)
	}
	if f.Subject != "" {
		q += " AND subject = ?"
		args = append(args, f.Subject)
	}
	if !f.From.IsZero() {
		q += " AND at >= ?"
		args = append(args, f.From.UTC())
	}
	if !f.Until.IsZero() {
		q += " AND at < ?"
		args = append(args, f.Until.UTC())
	}
	q += " ORDER BY seq"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	var es []Entry
	err := db.SelectContext(ctx, &es, db.Rebind(q), args...)
	for i := range es {
		es[i].At = es[i].At.UTC()
	}
	return es, store.MapErr(err)
}
