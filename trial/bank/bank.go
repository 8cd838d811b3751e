// Package bank is the internet-banking login demo: monitors register their
// My Number card (or lent phone) with a demo bank and log in with it, or
// with a TOTP authenticator, and every attempt is measured for the trial.
// The bank keeps no personal data: an account belongs to a monitor id and
// a card is known by its certificate's issuer and serial.
package bank

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jmoiron/sqlx"

	"jpkipilot/pki"
	"jpkipilot/trial"
	"jpkipilot/trial/store"
)

// Method is how a monitor logs in.
type Method string

const (
	MethodCard  Method = "card"  // My Number card
	MethodPhone Method = "phone" // the JPKI function on a lent phone
	MethodTOTP  Method = "totp"  // one-time password (RFC 6238)
)

// Methods in the order the summary shows them.
var Methods = []Method{MethodCard, MethodPhone, MethodTOTP}

// Bank is the demo bank on a store.
type Bank struct {
	DB  *store.DB
	Now func() time.Time
	// Random feeds challenges and TOTP secrets; nil: crypto/rand.
	Random io.Reader
	// ExtraAnchors are trusted besides the store's anchors (e.g. the demo
	// CA that virtual cards come from).
	ExtraAnchors []*x509.Certificate
	// CRLs gives the CRLs card certificates are checked against; nil: the
	// trial auth CA's latest published CRL, if any.
	CRLs func(ctx context.Context) ([]*pki.CRLIndex, error)
	// OCSP is asked when no CRL covers a certificate's issuer.
	OCSP pki.OCSPChecker
	// ChallengeTTL is how long a login challenge is good; 0: one minute.
	ChallengeTTL time.Duration
}

// New returns the bank on db with the wall clock.
func New(db *store.DB) *Bank { return &Bank{DB: db} }

func (b *Bank) now() time.Time {
	if b.Now != nil {
		return b.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func (b *Bank) random() io.Reader {
	if b.Random != nil {
		return b.Random
	}
	return rand.Reader
}

func (b *Bank) ttl() time.Duration {
	if b.ChallengeTTL > 0 {
		return b.ChallengeTTL
	}
	return time.Minute
}

// Account is a monitor's demo bank account.
type Account struct {
	ID        int64     `db:"id"`
	MonitorID string    `db:"monitor_id"`
	CreatedAt time.Time `db:"created_at"`
	// TOTPEnrolled is set once an authenticator is enrolled.
	TOTPEnrolled bool `db:"-"`
	Credentials  []Credential
}

// Credential is a registered certificate.
type Credential struct {
	Method       Method    `db:"method"`
	Issuer       string    `db:"cert_issuer"`
	Serial       string    `db:"cert_serial"`
	RegisteredAt time.Time `db:"registered_at"`
}

// Transaction is one statement line: a deposit (amount > 0) or a
// withdrawal (amount < 0), in yen.
type Transaction struct {
	At          time.Time `db:"at"`
	Amount      int64     `db:"amount"`
	Description string    `db:"description"`
	// Updated is set on lines the scheduled update added.
	Updated  bool          `db:"-"`
	UpdateID sql.NullInt64 `db:"update_id"`
}

// ErrNoAccount: the monitor has no bank account yet (register first).
var ErrNoAccount = errors.New("no demo bank account yet: register the card or phone first")

// queryer is a store handle or a transaction.
type queryer interface {
	sqlx.QueryerContext
	Rebind(string) string
}

// monitorTrial checks the monitor exists and is not withdrawn, and returns
// its trial.
func monitorTrial(ctx context.Context, q queryer, monitorID string) (int64, error) {
	var r struct {
		TrialID int64  `db:"trial_id"`
		Status  string `db:"status"`
	}
	err := sqlx.GetContext(ctx, q, &r, q.Rebind("SELECT trial_id, status FROM monitors WHERE id = ?"), monitorID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("monitor %s: %w", monitorID, store.ErrNotFound)
	}
	if err != nil {
		return 0, store.MapErr(err)
	}
	if trial.Status(r.Status) == trial.StatusWithdrawn {
		return 0, fmt.Errorf("%s: %w", monitorID, trial.ErrMonitorWithdrawn)
	}
	return r.TrialID, nil
}

// Account returns the monitor's account with its credentials.
func (b *Bank) Account(ctx context.Context, monitorID string) (*Account, error) {
	var a Account
	var secret []byte
	row := b.DB.QueryRowxContext(ctx, b.DB.Rebind(
		"SELECT id, monitor_id, created_at, totp_secret FROM bank_accounts WHERE monitor_id = ?"), monitorID)
	err := row.Scan(&a.ID, &a.MonitorID, &a.CreatedAt, &secret)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", monitorID, ErrNoAccount)
	}
	if err != nil {
		return nil, store.MapErr(err)
	}
	a.CreatedAt = a.CreatedAt.UTC()
	a.TOTPEnrolled = len(secret) > 0
	if err := b.DB.SelectContext(ctx, &a.Credentials, b.DB.Rebind(
		"SELECT method, cert_issuer, cert_serial, registered_at FROM bank_credentials WHERE account_id = ? ORDER BY id"), a.ID); err != nil {
		return nil, store.MapErr(err)
	}
	for i := range a.Credentials {
		a.Credentials[i].RegisteredAt = a.Credentials[i].RegisteredAt.UTC()
	}
	return &a, nil
}

// ensureAccount returns the monitor's account id, opening the account with
// its demo statement when there is none.
func (b *Bank) ensureAccount(ctx context.Context, tx *sqlx.Tx, monitorID string) (int64, error) {
	var id int64
	err := tx.GetContext(ctx, &id, tx.Rebind("SELECT id FROM bank_accounts WHERE monitor_id = ?"), monitorID)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	now := b.now()
	if err := tx.GetContext(ctx, &id, tx.Rebind(
		"INSERT INTO bank_accounts (monitor_id, created_at) VALUES (?, ?) RETURNING id"), monitorID, now); err != nil {
		return 0, err
	}
	for _, l := range openingStatement(now) {
		if _, err := tx.ExecContext(ctx, tx.Rebind(
			"INSERT INTO bank_transactions (account_id, at, amount, description) VALUES (?, ?, ?, ?)"),
			id, l.At, l.Amount, l.Description); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// demoLine is a statement line relative to a moment.
type demoLine struct {
	daysBefore  int
	amount      int64
	description string
}

// The demo statement every new account starts with (the same for all:
// the figures are made up and say nothing about the monitor).
var openingLines = []demoLine{
	{30, 250000, "給与 / Salary"},
	{28, -85000, "家賃 / Rent"},
	{21, -7420, "電気料金 / Electricity"},
	{14, -12800, "クレジットカード / Credit card"},
	{7, 30000, "振込 / Transfer in"},
	{3, -4980, "携帯電話料金 / Mobile phone"},
}

// The lines the scheduled update adds (during a loan trial).
var updateLines = []demoLine{
	{0, 250000, "給与 / Salary"},
	{0, -3300, "水道料金 / Water"},
}

func openingStatement(now time.Time) []Transaction {
	return lines(openingLines, now)
}

func lines(ls []demoLine, now time.Time) []Transaction {
	out := make([]Transaction, len(ls))
	for i, l := range ls {
		out[i] = Transaction{At: now.AddDate(0, 0, -l.daysBefore), Amount: l.amount, Description: l.description}
	}
	return out
}

// Statement returns the monitor's balance (yen) and statement, oldest first.
func (b *Bank) Statement(ctx context.Context, monitorID string) (balance int64, txs []Transaction, err error) {
	a, err := b.Account(ctx, monitorID)
	if err != nil {
		return 0, nil, err
	}
	if err := b.DB.SelectContext(ctx, &txs, b.DB.Rebind(
		"SELECT at, amount, description, update_id FROM bank_transactions WHERE account_id = ? ORDER BY at, id"), a.ID); err != nil {
		return 0, nil, store.MapErr(err)
	}
	for i := range txs {
		txs[i].At = txs[i].At.UTC()
		txs[i].Updated = txs[i].UpdateID.Valid
		balance += txs[i].Amount
	}
	return balance, txs, nil
}
