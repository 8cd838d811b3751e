package provision

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"jpkipilot/device"
	"jpkipilot/pki"
	"jpkipilot/pki/jpki"
	"jpkipilot/trial"
	"jpkipilot/trial/store"
)

// Proofing is a completed identity proofing.
type Proofing struct {
	ID        int64
	MonitorID string
	At        time.Time
	CardCert  *x509.Certificate
}

// ErrNotMyNumberCard is returned when proofing is offered something else.
var ErrNotMyNumberCard = errors.New("hold the monitor's My Number card (the reader holds something else)")

// ProveIdentity reads the auth certificate of the monitor's My Number card,
// validates it (chain to the trust anchors, key usage, revocation), and has
// the card sign a fresh random challenge with the auth key, the monitor
// giving the auth PIN through pin. Every attempt is recorded; only a
// verified signature by a valid certificate counts.
func (d *Desk) ProveIdentity(ctx context.Context, monitorID, staff string, card *device.Card, pin jpki.PINFunc) (*Proofing, error) {
	if err := d.checkMonitor(ctx, monitorID); err != nil {
		return nil, err
	}
	p, err := d.prove(ctx, monitorID, card, pin)
	if err == nil {
		err = d.checkCardOwner(ctx, monitorID, p.CardCert)
	}
	rec := struct {
		ok                     bool
		serial, issuer, sha256 string
		detail                 string
	}{ok: err == nil}
	if p != nil && p.CardCert != nil {
		rec.serial, rec.issuer, rec.sha256 = pki.SerialHex(p.CardCert.SerialNumber), p.CardCert.Issuer.String(), pki.Fingerprint(p.CardCert)
	}
	if err != nil {
		rec.detail = err.Error()
	}
	at := d.now()
	var id int64
	werr := d.DB.Tx(context.WithoutCancel(ctx), func(tx *sqlx.Tx) error {
		return tx.GetContext(ctx, &id, tx.Rebind(`INSERT INTO identity_proofings
			(monitor_id, at, staff, ok, card_cert_serial, card_cert_issuer, card_cert_sha256, detail)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), monitorID, at, staff, rec.ok, rec.serial, rec.issuer, rec.sha256, rec.detail)
	})
	if err != nil {
		return nil, fmt.Errorf("identity proofing of %s: %w", monitorID, err)
	}
	if werr != nil {
		return nil, fmt.Errorf("identity proofing of %s: recording it: %w", monitorID, werr)
	}
	p.ID, p.At = id, at
	return p, nil
}

// ErrCardOfAnotherMonitor: the card already proved another monitor's
// identity. A JPKI auth certificate names no one, so the counter binds a
// card to the first monitor it proved.
var ErrCardOfAnotherMonitor = errors.New("this My Number card already proved another monitor's identity")

func (d *Desk) checkCardOwner(ctx context.Context, monitorID string, cert *x509.Certificate) error {
	var other string
	err := d.DB.GetContext(ctx, &other, d.DB.Rebind(
		"SELECT monitor_id FROM identity_proofings WHERE ok AND card_cert_sha256 = ? AND monitor_id <> ? LIMIT 1"),
		pki.Fingerprint(cert), monitorID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return store.MapErr(err)
	}
	return fmt.Errorf("%w (%s)", ErrCardOfAnotherMonitor, other)
}

func (d *Desk) checkMonitor(ctx context.Context, monitorID string) error {
	var status string
	err := d.DB.GetContext(ctx, &status, d.DB.Rebind("SELECT status FROM monitors WHERE id = ?"), monitorID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("monitor %s: %w", monitorID, store.ErrNotFound)
	}
	if err != nil {
		return store.MapErr(err)
	}
	if trial.Status(status) == trial.StatusWithdrawn {
		return fmt.Errorf("%s: %w", monitorID, trial.ErrMonitorWithdrawn)
	}
	return nil
}

func (d *Desk) prove(ctx context.Context, monitorID string, card *device.Card, pin jpki.PINFunc) (*Proofing, error) {
	kind, err := jpki.Detect(ctx, card)
	if err != nil {
		return nil, err
	}
	if kind != jpki.MyNumberCard {
		return nil, fmt.Errorf("%w: %s", ErrNotMyNumberCard, kind)
	}
	c := jpki.New(card)
	cert, err := c.ReadCertificate(ctx, jpki.CertAuth, nil)
	if err != nil {
		return nil, err
	}
	p := &Proofing{MonitorID: monitorID, CardCert: cert}
	caCert, err := c.ReadCertificate(ctx, jpki.CertAuthCA, nil)
	if err != nil {
		return p, err
	}
	anchors, err := pki.Anchors(ctx, d.DB)
	if err != nil {
		return p, err
	}
	anchors = append(anchors, d.ExtraAnchors...)
	crls, err := d.crls(ctx)
	if err != nil {
		return p, err
	}
	if _, err := pki.Verify(cert, pki.Options{Roots: anchors, Intermediates: []*x509.Certificate{caCert},
		At: d.now(), Purpose: pki.PurposeAuth, CRLs: crls, OCSP: d.OCSP, Ctx: ctx}); err != nil {
		return p, fmt.Errorf("the card's authentication certificate is not accepted: %w", err)
	}
	// The challenge is bound to the monitor and the purpose, so a signature
	// made for something else never passes.
	if _, err := jpki.ProveAuthKey(ctx, c, "jpkipilot identity proofing\x00"+monitorID, d.random(), pin); err != nil {
		return p, fmt.Errorf("the card's proof of its authentication key failed: %w", err)
	}
	return p, nil
}

// crls are the CRLs proofing checks against.
func (d *Desk) crls(ctx context.Context) ([]*pki.CRLIndex, error) {
	if d.CRLs != nil {
		return d.CRLs(ctx)
	}
	idx, err := pki.LatestCRLIndex(ctx, d.DB, pki.RoleAuth)
	if err != nil || idx == nil {
		return nil, err
	}
	return []*pki.CRLIndex{idx}, nil
}

// latestProofing is the monitor's newest successful proofing, if any.
func (d *Desk) latestProofing(ctx context.Context, monitorID string) (id int64, at time.Time, err error) {
	var r struct {
		ID int64     `db:"id"`
		At time.Time `db:"at"`
	}
	err = d.DB.GetContext(ctx, &r, d.DB.Rebind(
		"SELECT id, at FROM identity_proofings WHERE monitor_id = ? AND ok ORDER BY at DESC, id DESC LIMIT 1"), monitorID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, fmt.Errorf("%s: %w", monitorID, ErrNoProofing)
	}
	return r.ID, r.At.UTC(), store.MapErr(err)
}
