// Package ticket is the ticketless-service demo of the seed (§3.1): tickets
// for events bound to a JPKI user-authentication certificate (its issuer and
// serial, no personal data), applied for with the card or phone and the auth
// PIN, bought by holding the card without PIN and paying by a simulated
// credit card, handed to a companion, and checked at the entry gate.
package ticket

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"jpkipilot/device"
	"jpkipilot/pki"
	"jpkipilot/pki/jpki"
	"jpkipilot/trial/store"
)

// Event is a demo event tickets are sold for.
type Event struct {
	ID       string    `db:"id"`
	Name     string    `db:"name"`
	Venue    string    `db:"venue"`
	StartsAt time.Time `db:"starts_at"`
	PriceYen int64     `db:"price_yen"`
}

// DemoEvents are the seed's: a basketball game at 代々木第二体育館.
func DemoEvents() []Event {
	return []Event{
		{ID: "yoyogi-basketball", Name: "バスケットボール公式戦", Venue: "国立代々木競技場 第二体育館",
			StartsAt: time.Date(2017, 2, 11, 14, 0, 0, 0, time.FixedZone("JST", 9*3600)), PriceYen: 3000},
		{ID: "yoyogi-basketball-2", Name: "バスケットボール公式戦（第2戦）", Venue: "国立代々木競技場 第二体育館",
			StartsAt: time.Date(2017, 2, 12, 14, 0, 0, 0, time.FixedZone("JST", 9*3600)), PriceYen: 3000},
	}
}

// Ticket is one certificate's seat at one event.
type Ticket struct {
	ID          int64        `db:"id"`
	EventID     string       `db:"event_id"`
	CertIssuer  string       `db:"cert_issuer"`
	CertSerial  string       `db:"cert_serial"`
	AppliedAt   time.Time    `db:"applied_at"`
	AppliedWith string       `db:"applied_with"` // card or phone
	PaidAt      sql.NullTime `db:"paid_at"`
	CardLast4   string       `db:"card_last4"`
	Receipt     string       `db:"receipt"`
	EnteredAt   sql.NullTime `db:"entered_at"`
	EnteredGate string       `db:"entered_gate"`
}

// Errors of the staff steps.
var (
	ErrNoTicket           = errors.New("this certificate holds no ticket for the event")
	ErrAlreadyHasTicket   = errors.New("this certificate already holds a ticket for the event")
	ErrAlreadyPaid        = errors.New("the ticket is already paid")
	ErrAlreadyEntered     = errors.New("the ticket was already used at the gate")
	ErrNotOwner           = errors.New("the ticket is not held by this certificate (any more)")
	ErrSameHolder         = errors.New("the companion's certificate is the owner's own")
	ErrCertificateRefused = errors.New("the certificate is not accepted")
)

// Service runs the staff steps on a store.
type Service struct {
	DB *store.DB
	// Trust validates certificates; nil: loaded from the store on first use.
	Trust *Trust
	mu    sync.Mutex
	Now   func() time.Time
	Rand  io.Reader
}

// NewService is a Service with the real clock and randomness.
func NewService(db *store.DB, trust *Trust) *Service {
	return &Service{DB: db, Trust: trust, Now: store.Now, Rand: rand.Reader}
}

func (s *Service) now() time.Time { return s.Now().UTC() }

// SeedDemo adds the demo events that are missing.
func (s *Service) SeedDemo(ctx context.Context) error {
	return s.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		for _, e := range DemoEvents() {
			var n int
			if err := tx.GetContext(ctx, &n, tx.Rebind("SELECT COUNT(*) FROM ticket_events WHERE id = ?"), e.ID); err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO ticket_events (id, name, venue, starts_at, price_yen) VALUES (?, ?, ?, ?, ?)"),
				e.ID, e.Name, e.Venue, e.StartsAt.UTC(), e.PriceYen); err != nil {
				return err
			}
		}
		return nil
	})
}

// Events lists the events by start.
func (s *Service) Events(ctx context.Context) ([]Event, error) {
	var es []Event
	err := s.DB.SelectContext(ctx, &es, "SELECT id, name, venue, starts_at, price_yen FROM ticket_events ORDER BY starts_at, id")
	return es, store.MapErr(err)
}

// Event is one event.
func (s *Service) Event(ctx context.Context, id string) (Event, error) {
	var e Event
	err := s.DB.GetContext(ctx, &e, s.DB.Rebind("SELECT id, name, venue, starts_at, price_yen FROM ticket_events WHERE id = ?"), id)
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("event %q: %w", id, store.ErrNotFound)
	}
	return e, store.MapErr(err)
}

const ticketCols = "id, event_id, cert_issuer, cert_serial, applied_at, applied_with, paid_at, card_last4, receipt, entered_at, entered_gate"

// TicketsOf lists the tickets a certificate holds.
func (s *Service) TicketsOf(ctx context.Context, cert *x509.Certificate) ([]Ticket, error) {
	var ts []Ticket
	err := s.DB.SelectContext(ctx, &ts, s.DB.Rebind("SELECT "+ticketCols+" FROM tickets WHERE cert_serial = ? AND cert_issuer = ? ORDER BY id"),
		pki.SerialHex(cert.SerialNumber), cert.Issuer.String())
	return ts, store.MapErr(err)
}

// Ticket is one ticket.
func (s *Service) Ticket(ctx context.Context, id int64) (Ticket, error) {
	var t Ticket
	err := s.DB.GetContext(ctx, &t, s.DB.Rebind("SELECT "+ticketCols+" FROM tickets WHERE id = ?"), id)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("ticket %d: %w", id, store.ErrNotFound)
	}
	return t, store.MapErr(err)
}

// Identify proves who holds the card or phone: challenge-response with the
// auth key and the auth PIN, and a validated certificate.
func (s *Service) Identify(ctx context.Context, card *device.Card, pin jpki.PINFunc) (*x509.Certificate, Method, error) {
	kind, err := jpki.Detect(ctx, card)
	if err != nil {
		return nil, "", err
	}
	method := MethodCard
	switch kind {
	case jpki.PhoneToken:
		method = MethodPhone
	case jpki.NotJPKI:
		return nil, "", jpki.ErrNotJPKI
	}
	cert, err := jpki.ProveAuthKey(ctx, jpki.New(card), "jpkipilot ticket", s.Rand, pin)
	if err != nil {
		return nil, "", err
	}
	if err := s.validate(ctx, cert); err != nil {
		return cert, "", err
	}
	return cert, method, nil
}

// validate checks cert against the service's trust, loading it from the
// store (anchors, auth CA, newest CRL) on first use.
func (s *Service) validate(ctx context.Context, cert *x509.Certificate) error {
	s.mu.Lock()
	if s.Trust == nil {
		t, err := LoadTrust(ctx, s.DB, 0)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		s.Trust = t
	}
	trust := s.Trust
	s.mu.Unlock()
	if err := trust.Validate(cert, s.now()); err != nil {
		return fmt.Errorf("%w: %w", ErrCertificateRefused, err)
	}
	return nil
}

// ReadWithoutPIN reads the auth certificate of a My Number card without a
// PIN and validates it.
func (s *Service) ReadWithoutPIN(ctx context.Context, card *device.Card) (*x509.Certificate, error) {
	cert, err := jpki.New(card).ReadCertificate(ctx, jpki.CertAuth, nil)
	if err != nil {
		return nil, err
	}
	if err := s.validate(ctx, cert); err != nil {
		return cert, err
	}
	return cert, nil
}

// Apply is 申込: the holder proves themselves with the auth PIN and gets a
// ticket for the event bound to their certificate.
func (s *Service) Apply(ctx context.Context, eventID string, card *device.Card, pin jpki.PINFunc) (Ticket, error) {
	if _, err := s.Event(ctx, eventID); err != nil {
		return Ticket{}, err
	}
	cert, method, err := s.Identify(ctx, card, pin)
	if err != nil {
		return Ticket{}, err
	}
	t := Ticket{EventID: eventID, CertIssuer: cert.Issuer.String(), CertSerial: pki.SerialHex(cert.SerialNumber),
		AppliedAt: s.now(), AppliedWith: string(method)}
	err = s.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		return tx.GetContext(ctx, &t.ID, tx.Rebind(`INSERT INTO tickets (event_id, cert_issuer, cert_serial, applied_at, applied_with)
			VALUES (?, ?, ?, ?, ?) RETURNING id`), t.EventID, t.CertIssuer, t.CertSerial, t.AppliedAt, t.AppliedWith)
	})
	if store.IsUniqueViolation(err) {
		return Ticket{}, ErrAlreadyHasTicket
	}
	if err != nil {
		return Ticket{}, store.MapErr(err)
	}
	return t, nil
}

// Buy is 購入: the card is held without PIN, its certificate read and
// validated, and the holder's applied ticket paid with a simulated credit
// card. A declined payment changes nothing.
func (s *Service) Buy(ctx context.Context, eventID string, card *device.Card, p Payment) (Receipt, error) {
	ev, err := s.Event(ctx, eventID)
	if err != nil {
		return Receipt{}, err
	}
	now := s.now()
	if err := p.Validate(now); err != nil {
		return Receipt{}, err
	}
	cert, err := s.ReadWithoutPIN(ctx, card)
	if err != nil {
		return Receipt{}, err
	}
	var t Ticket
	err = s.DB.GetContext(ctx, &t, s.DB.Rebind("SELECT "+ticketCols+" FROM tickets WHERE event_id = ? AND cert_serial = ? AND cert_issuer = ?"),
		eventID, pki.SerialHex(cert.SerialNumber), cert.Issuer.String())
	if errors.Is(err, sql.ErrNoRows) {
		return Receipt{}, ErrNoTicket
	}
	if err != nil {
		return Receipt{}, store.MapErr(err)
	}
	if t.PaidAt.Valid {
		return Receipt{}, ErrAlreadyPaid
	}
	r := authorize(p, ev, t.ID, now)
	if !r.Approved {
		return r, ErrDeclined
	}
	err = s.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind("UPDATE tickets SET paid_at = ?, card_last4 = ?, receipt = ? WHERE id = ? AND paid_at IS NULL"),
			now, r.Last4, r.Number, t.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return ErrAlreadyPaid
		}
		return nil
	})
	if err != nil {
		return Receipt{}, store.MapErr(err)
	}
	return r, nil
}

// Transfer is 同行者へ受渡: the owner (whose certificate was read when they
// picked the ticket) hands it to the companion, who proves themselves with
// their card or phone and PIN. The ticket is re-bound in one transaction;
// the owner's certificate no longer admits.
func (s *Service) Transfer(ctx context.Context, ticketID int64, owner *x509.Certificate, companion *device.Card, pin jpki.PINFunc) (Ticket, error) {
	t, err := s.Ticket(ctx, ticketID)
	if err != nil {
		return Ticket{}, err
	}
	fromIssuer, fromSerial := owner.Issuer.String(), pki.SerialHex(owner.SerialNumber)
	if t.CertIssuer != fromIssuer || t.CertSerial != fromSerial {
		return Ticket{}, ErrNotOwner
	}
	if t.EnteredAt.Valid {
		return Ticket{}, ErrAlreadyEntered
	}
	cert, _, err := s.Identify(ctx, companion, pin)
	if err != nil {
		return Ticket{}, err
	}
	toIssuer, toSerial := cert.Issuer.String(), pki.SerialHex(cert.SerialNumber)
	if toIssuer == fromIssuer && toSerial == fromSerial {
		return Ticket{}, ErrSameHolder
	}
	err = s.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE tickets SET cert_issuer = ?, cert_serial = ?
			WHERE id = ? AND cert_issuer = ? AND cert_serial = ? AND entered_at IS NULL`), toIssuer, toSerial, ticketID, fromIssuer, fromSerial)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return ErrNotOwner
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO ticket_transfers (ticket_id, at, from_issuer, from_serial, to_issuer, to_serial)
			VALUES (?, ?, ?, ?, ?, ?)`), ticketID, s.now(), fromIssuer, fromSerial, toIssuer, toSerial)
		return err
	})
	if store.IsUniqueViolation(err) {
		return Ticket{}, fmt.Errorf("companion: %w", ErrAlreadyHasTicket)
	}
	if err != nil {
		return Ticket{}, store.MapErr(err)
	}
	return s.Ticket(ctx, ticketID)
}
