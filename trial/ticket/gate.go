package ticket

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"jpkipilot/device"
	"jpkipilot/pki"
	"jpkipilot/pki/jpki"
	"jpkipilot/trial/store"
)

// Method is how the holder showed themselves.
type Method string

const (
	MethodCard  Method = "card"  // My Number card, no PIN (PIN-less)
	MethodPhone Method = "phone" // phone token, auth PIN, challenge-response
)

// Reason is why the gate admitted or denied; its string is stable (logs,
// translation keys ticket.reason.*).
type Reason string

const (
	Admitted        Reason = "admitted"
	NoTicket        Reason = "no_ticket"
	AlreadyEntered  Reason = "already_entered"
	Revoked         Reason = "revoked"
	Expired         Reason = "expired"
	UnknownIssuer   Reason = "unknown_issuer"
	WrongEvent      Reason = "wrong_event"
	PINBlocked      Reason = "pin_blocked"
	CRLTooOld       Reason = "crl_too_old"
	CertificateBad  Reason = "certificate_invalid" // any other validation failure
	SignatureFailed Reason = "signature_failed"    // the phone's challenge signature did not verify
)

// Reasons lists every reason, admitted first.
var Reasons = []Reason{Admitted, NoTicket, AlreadyEntered, Revoked, Expired, UnknownIssuer, WrongEvent, PINBlocked, CRLTooOld, CertificateBad, SignatureFailed}

// ErrPINRequired: a phone token was held and its auth certificate needs the
// PIN; call Check again with a PIN callback.
var ErrPINRequired = errors.New("a phone was held: the auth PIN is needed")

// Decision is one gate decision, as shown and as logged.
type Decision struct {
	ID         int64
	Admit      bool
	Reason     Reason
	Method     Method
	TicketID   int64         // 0 when none was found
	CertSerial string        // '' when no certificate was read
	CRLAge     time.Duration // age of the CRL the decision used
	Elapsed    time.Duration // card detected → decision
	APDUs      int
	Detail     string // the validation error, for staff
}

// Gate is one gate laptop checking tickets for one event.
type Gate struct {
	DB      *store.DB
	EventID string
	Name    string // this gate, e.g. the host name
	Trust   *Trust
	Now     func() time.Time
	Rand    io.Reader

	prep  sync.Once
	stmts gateStmts
	// trustMu guards Trust once the gate runs (RefreshTrust swaps it).
	trustMu sync.Mutex
}

// HeldTrust is the trust the gate decides with now.
func (g *Gate) HeldTrust() *Trust {
	g.trustMu.Lock()
	defer g.trustMu.Unlock()
	return g.Trust
}

// RefreshTrust takes up the store's newest auth CRL when it is newer than
// the one held (a revocation published while the gate runs, or the daily
// CRL), so it counts from the next decision. When nothing changed it reads
// one row; loading a large CRL takes a while: call it between decisions,
// off the UI goroutine. It reports whether the trust changed.
func (g *Gate) RefreshTrust(ctx context.Context) (bool, error) {
	held := g.HeldTrust()
	if held == nil {
		held = &Trust{}
	}
	newest, err := pki.LatestCRLNumber(ctx, g.DB, pki.RoleAuth)
	if err != nil || newest == 0 || (held.CRL != nil && held.CRL.Number != nil && held.CRL.Number.Cmp(big.NewInt(newest)) >= 0) {
		return false, err
	}
	t, err := LoadTrust(ctx, g.DB, held.MaxCRLAge)
	if err != nil {
		return false, err
	}
	g.trustMu.Lock()
	g.Trust = t
	g.trustMu.Unlock()
	return true, nil
}

// gateStmts are the admission path's statements, prepared once per gate:
// a decision is then a commit and little else.
type gateStmts struct {
	err error
	// admitAndLog (PostgreSQL) admits and logs in one statement, so an
	// admission is one round trip and one commit.
	admitAndLog *sqlx.Stmt
	// admit and logDecision (SQLite, in one transaction): SQLite has no
	// UPDATE inside WITH.
	admit, logDecision *sqlx.Stmt
}

const (
	admitSQL = `UPDATE tickets SET entered_at = ?, entered_gate = ?
		WHERE event_id = ? AND cert_serial = ? AND cert_issuer = ? AND entered_at IS NULL RETURNING id`
	logSQL = `INSERT INTO gate_decisions
		(event_id, gate, detected_at, method, admitted, reason, ticket_id, cert_serial, crl_age_s, decision_us, apdus)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	// Parameters as admitSQL's, then detected_at, method, crl_age_s,
	// decision_us, apdus.
	admitAndLogSQL = `WITH admitted AS (` + admitSQL + `)
		INSERT INTO gate_decisions
		(event_id, gate, detected_at, method, admitted, reason, ticket_id, cert_serial, crl_age_s, decision_us, apdus)
		SELECT ?::text, ?::text, ?::timestamptz, ?::text, TRUE, 'admitted', id, ?::text, ?::bigint, ?::bigint, ?::bigint
		FROM admitted RETURNING id, ticket_id`
)

func (g *Gate) prepared(ctx context.Context) (*gateStmts, error) {
	g.prep.Do(func() {
		st := &g.stmts
		if g.DB.Dialect == store.Postgres {
			st.admitAndLog, st.err = g.DB.PreparexContext(ctx, g.DB.Rebind(admitAndLogSQL))
			return
		}
		if st.admit, st.err = g.DB.PreparexContext(ctx, g.DB.Rebind(admitSQL)); st.err == nil {
			st.logDecision, st.err = g.DB.PreparexContext(ctx, g.DB.Rebind(logSQL))
		}
	})
	return &g.stmts, g.stmts.err
}

// Close releases the gate's prepared statements (the store stays open).
func (g *Gate) Close() error {
	var errs []error
	for _, st := range []*sqlx.Stmt{g.stmts.admitAndLog, g.stmts.admit, g.stmts.logDecision} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// NewGate is a gate with the real clock and randomness.
func NewGate(db *store.DB, eventID, name string, trust *Trust) *Gate {
	return &Gate{DB: db, EventID: eventID, Name: name, Trust: trust, Now: store.Now, Rand: rand.Reader}
}

// Check decides on the card or phone in the reader, detected at detected.
// A My Number card is read without PIN: SELECT AP, SELECT EF and the
// certificate's READ BINARYs, nothing more. A phone token refuses that
// read; then pin is asked (nil → ErrPINRequired) and the phone signs a
// fresh challenge. Card removal, a wrong PIN (with tries left) and
// cancelling are errors, not decisions; every decision is logged.
func (g *Gate) Check(ctx context.Context, card *device.Card, detected time.Time, pin jpki.PINFunc) (Decision, error) {
	if detected.IsZero() {
		detected = g.Now()
	}
	apdus0 := card.APDUCount()
	d := Decision{Method: MethodCard}
	now := g.Now()
	trust := g.HeldTrust()
	d.CRLAge = trust.CRLAge(now)
	if err := trust.Fresh(now); err != nil {
		d.Reason, d.Detail = CRLTooOld, err.Error()
		return g.log(ctx, d, card, apdus0, detected)
	}
	c := jpki.New(card)
	cert, err := c.ReadCertificate(ctx, jpki.CertAuth, nil)
	if errors.Is(err, device.ErrSecurityStatus) {
		if pin == nil {
			return Decision{}, ErrPINRequired
		}
		d.Method = MethodPhone
		cert, err = jpki.ProveAuthKey(ctx, c, "jpkipilot gate\x00"+g.EventID, g.Rand, pin)
		if err != nil && cert != nil && !errors.Is(err, device.ErrCardRemoved) && ctx.Err() == nil {
			d.CertSerial, d.Reason, d.Detail = pki.SerialHex(cert.SerialNumber), SignatureFailed, err.Error()
			return g.log(ctx, d, card, apdus0, detected)
		}
	}
	if errors.Is(err, device.ErrBlocked) {
		d.Reason, d.Detail = PINBlocked, err.Error()
		return g.log(ctx, d, card, apdus0, detected)
	}
	if err != nil {
		return Decision{}, err
	}
	d.CertSerial = pki.SerialHex(cert.SerialNumber)
	if err := trust.Validate(cert, g.Now()); err != nil {
		d.Reason, d.Detail = reasonOf(err), err.Error()
		return g.log(ctx, d, card, apdus0, detected)
	}
	// The admission and its log entry share one transaction: one commit
	// (one fsync) per decision, and no admission goes unlogged.
	st, err := g.prepared(ctx)
	if err != nil {
		return Decision{}, fmt.Errorf("recording the gate decision: %w", store.MapErr(err))
	}
	if st.admitAndLog != nil {
		if ok, err := g.admitAndLog(ctx, st, cert, &d, card, apdus0, detected); ok || err != nil {
			return d, err
		}
		// No ticket to admit: find out why (below), as SQLite does.
	}
	err = g.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		d.Reason = g.admit(ctx, tx, cert, &d)
		var q getter = tx
		if st.logDecision != nil {
			q = stmtGetter{tx.StmtxContext(ctx, st.logDecision)}
		}
		var err error
		d, err = g.logTx(ctx, q, d, card, apdus0, detected)
		return err
	})
	if err != nil {
		return Decision{}, fmt.Errorf("recording the gate decision: %w", store.MapErr(err))
	}
	return d, nil
}

// admitAndLog admits and logs in one statement (PostgreSQL); ok is false,
// with nothing written, when no unused ticket of this event matches.
func (g *Gate) admitAndLog(ctx context.Context, st *gateStmts, cert *x509.Certificate, d *Decision, card *device.Card, apdus0 int, detected time.Time) (bool, error) {
	d.APDUs = card.APDUCount() - apdus0
	d.Elapsed = g.Now().Sub(detected)
	var row struct {
		ID     int64 `db:"id"`
		Ticket int64 `db:"ticket_id"`
	}
	err := st.admitAndLog.GetContext(ctx, &row,
		g.Now().UTC(), g.Name, g.EventID, d.CertSerial, cert.Issuer.String(),
		g.EventID, g.Name, detected.UTC(), string(d.Method), d.CertSerial,
		int64(d.CRLAge/time.Second), d.Elapsed.Microseconds(), d.APDUs)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("recording the gate decision: %w", store.MapErr(err))
	}
	d.ID, d.TicketID, d.Admit, d.Reason = row.ID, row.Ticket, true, Admitted
	return true, nil
}

func reasonOf(err error) Reason {
	switch pki.ReasonOf(err) {
	case pki.Revoked:
		return Revoked
	case pki.Expired, pki.NotYetValid:
		return Expired
	case pki.UnknownIssuer:
		return UnknownIssuer
	case pki.CRLStale:
		return CRLTooOld
	}
	return CertificateBad
}

// admit marks the ticket entered with one conditional UPDATE: of two gates
// racing for the same ticket exactly one changes the row. Only when no row
// changed does it look for why.
func (g *Gate) admit(ctx context.Context, tx *sqlx.Tx, cert *x509.Certificate, d *Decision) Reason {
	issuer, serial := cert.Issuer.String(), d.CertSerial
	var id int64
	var err error
	if g.stmts.admit != nil {
		err = tx.StmtxContext(ctx, g.stmts.admit).GetContext(ctx, &id, g.Now().UTC(), g.Name, g.EventID, serial, issuer)
	} else {
		err = tx.GetContext(ctx, &id, tx.Rebind(admitSQL), g.Now().UTC(), g.Name, g.EventID, serial, issuer)
	}
	if err == nil {
		d.TicketID, d.Admit = id, true
		return Admitted
	}
	if !errors.Is(err, sql.ErrNoRows) {
		d.Detail = store.MapErr(err).Error()
		return CertificateBad
	}
	var t struct {
		ID      int64        `db:"id"`
		EventID string       `db:"event_id"`
		Entered sql.NullTime `db:"entered_at"`
	}
	err = tx.GetContext(ctx, &t, tx.Rebind(`SELECT id, event_id, entered_at FROM tickets
		WHERE cert_serial = ? AND cert_issuer = ? ORDER BY (CASE WHEN event_id = ? THEN 0 ELSE 1 END), id LIMIT 1`),
		serial, issuer, g.EventID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return NoTicket
	case err != nil:
		d.Detail = store.MapErr(err).Error()
		return NoTicket
	}
	d.TicketID = t.ID
	if t.EventID != g.EventID {
		return WrongEvent
	}
	return AlreadyEntered
}

// log records the decision; a decision that cannot be recorded is an error
// (the gate must not admit silently).
func (g *Gate) log(ctx context.Context, d Decision, card *device.Card, apdus0 int, detected time.Time) (Decision, error) {
	d, err := g.logTx(context.WithoutCancel(ctx), g.DB, d, card, apdus0, detected)
	if err != nil {
		return d, fmt.Errorf("recording the gate decision: %w", store.MapErr(err))
	}
	return d, nil
}

type getter interface {
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	Rebind(string) string
}

// stmtGetter is a prepared logSQL behind the getter interface.
type stmtGetter struct{ st *sqlx.Stmt }

func (s stmtGetter) GetContext(ctx context.Context, dest any, _ string, args ...any) error {
	return s.st.GetContext(ctx, dest, args...)
}
func (stmtGetter) Rebind(q string) string { return q }

func (g *Gate) logTx(ctx context.Context, q getter, d Decision, card *device.Card, apdus0 int, detected time.Time) (Decision, error) {
	d.APDUs = card.APDUCount() - apdus0
	d.Elapsed = g.Now().Sub(detected)
	var ticket sql.NullInt64
	if d.TicketID != 0 {
		ticket = sql.NullInt64{Int64: d.TicketID, Valid: true}
	}
	err := q.GetContext(ctx, &d.ID, q.Rebind(logSQL),
		g.EventID, g.Name, detected.UTC(), string(d.Method), d.Admit, string(d.Reason), ticket, d.CertSerial,
		int64(d.CRLAge/time.Second), d.Elapsed.Microseconds(), d.APDUs)
	return d, err
}

// Decisions lists the event's logged decisions, oldest first.
func Decisions(ctx context.Context, db *store.DB, eventID string) ([]Decision, error) {
	var rows []struct {
		ID       int64         `db:"id"`
		Method   string        `db:"method"`
		Admitted bool          `db:"admitted"`
		Reason   string        `db:"reason"`
		TicketID sql.NullInt64 `db:"ticket_id"`
		Serial   string        `db:"cert_serial"`
		CRLAge   int64         `db:"crl_age_s"`
		US       int64         `db:"decision_us"`
		APDUs    int           `db:"apdus"`
	}
	err := db.SelectContext(ctx, &rows, db.Rebind(`SELECT id, method, admitted, reason, ticket_id, cert_serial, crl_age_s, decision_us, apdus
		FROM gate_decisions WHERE event_id = ? ORDER BY id`), eventID)
	if err != nil {
		return nil, store.MapErr(err)
	}
	out := make([]Decision, len(rows))
	for i, r := range rows {
		out[i] = Decision{ID: r.ID, Admit: r.Admitted, Reason: Reason(r.Reason), Method: Method(r.Method), TicketID: r.TicketID.Int64,
			CertSerial: r.Serial, CRLAge: time.Duration(r.CRLAge) * time.Second, Elapsed: time.Duration(r.US) * time.Microsecond, APDUs: r.APDUs}
	}
	return out, nil
}
