package pki

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"jpkipilot/device/vcard"
	"jpkipilot/trial/store"
)

// VirtualCardMark ends the name in the signature certificate of a virtual
// card the trial CA issued, so that anyone reading it (or `ca list`) can
// tell a demo card from a provisioned phone or card.
const VirtualCardMark = "(仮想カード / virtual card)"

// IssueVirtualCard issues, from the unlocked trial CA, the certificates of
// a virtual card for the monitor holder: a user-authentication certificate
// (subject: the holder id only, as JPKI's) and, on a My Number card
// profile, a signature certificate whose name carries VirtualCardMark.
// Both are recorded in the store like any other, so `ca revoke` and the
// CRLs cover them and the gate, bank and provisioning desk validate them
// against the trial root. The keys live only in the returned config (in
// memory); the PINs are the demo defaults.
func (ca *CA) IssueVirtualCard(ctx context.Context, p vcard.Profile, holder string) (vcard.Config, error) {
	holder = strings.TrimSpace(holder)
	if holder == "" {
		return vcard.Config{}, errors.New("virtual card: the holder id is empty")
	}
	auth, authKey, err := ca.IssueWithNewKey(ctx, IssueRequest{Kind: RoleAuth, Holder: holder})
	if err != nil {
		return vcard.Config{}, fmt.Errorf("virtual card for %s: %w", holder, err)
	}
	cfg := vcard.Config{Profile: p, AuthKey: authKey, AuthCert: auth.Cert.Raw,
		AuthCACert: ca.Certificate(RoleAuth).Raw, AuthPIN: vcard.DemoAuthPIN}
	if p == vcard.MyNumber {
		sign, signKey, err := ca.IssueWithNewKey(ctx, IssueRequest{Kind: RoleSign, Holder: holder, Name: holder + " " + VirtualCardMark})
		if err != nil {
			// Leave nothing usable behind: the auth certificate's key is about to be dropped.
			_ = ca.Revoke(context.WithoutCancel(ctx), auth.Serial, CessationOfOperation)
			return vcard.Config{}, fmt.Errorf("virtual card for %s: %w", holder, err)
		}
		cfg.SignKey, cfg.SignCert, cfg.SignCACert, cfg.SignPIN = signKey, sign.Cert.Raw, ca.Certificate(RoleSign).Raw, vcard.DemoSignPIN
	}
	return cfg, cfg.Validate()
}

// VirtualCardCRLAge is how old the auth CRL may be when a virtual card is
// served: older, a new one is published first (a gate accepts up to
// ticket.DefaultMaxCRLAge, so one that young keeps the gate deciding).
const VirtualCardCRLAge = 24 * time.Hour

// ServeVirtualCard is IssueVirtualCard for a card about to be held to a
// gate or bank: it also publishes a fresh auth CRL when the newest is older
// than VirtualCardCRLAge. The GUI's virtual readers and `jpkipilot vcard
// --trial-ca` both issue this way.
func (ca *CA) ServeVirtualCard(ctx context.Context, p vcard.Profile, holder string) (vcard.Config, error) {
	cfg, err := ca.IssueVirtualCard(ctx, p, holder)
	if err != nil {
		return vcard.Config{}, err
	}
	if _, err := ca.RefreshCRL(ctx, RoleAuth, VirtualCardCRLAge); err != nil {
		return vcard.Config{}, fmt.Errorf("publishing the auth CRL: %w", err)
	}
	return cfg, nil
}

// RefreshCRL publishes a new CRL of role's CA when the newest one is older
// than maxAge (or there is none), so that a gate or bank on this store
// has one young enough to decide with. It reports whether it published.
func (ca *CA) RefreshCRL(ctx context.Context, role Role, maxAge time.Duration) (bool, error) {
	thisUpdate, err := LatestCRLUpdate(ctx, ca.db, role)
	switch {
	case err != nil:
		return false, err
	case !thisUpdate.IsZero() && ca.now().Sub(thisUpdate) <= maxAge:
		return false, nil
	}
	if _, err := ca.PublishCRL(ctx, role, 0); err != nil {
		return false, err
	}
	return true, nil
}

// LatestCRLUpdate is when role's newest stored CRL was issued (zero when
// there is none): cheap enough to ask before every decision, so a gate
// knows when to load a newer CRL.
func LatestCRLUpdate(ctx context.Context, db *store.DB, role Role) (time.Time, error) {
	var thisUpdate time.Time
	err := db.GetContext(ctx, &thisUpdate, db.Rebind(
		"SELECT this_update FROM pki_crls WHERE ca_role = ? ORDER BY number DESC LIMIT 1"), string(role))
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return thisUpdate.UTC(), store.MapErr(err)
}

// LatestCRLNumber is the number of the newest CRL the store holds for role
// (0 when none): how a running gate tells a newer CRL from the one it holds.
// The number, not thisUpdate: two CRLs published within one second (a
// revocation right after an issue) share their thisUpdate, which X.509
// keeps to the second.
func LatestCRLNumber(ctx context.Context, db *store.DB, role Role) (int64, error) {
	var n int64
	err := db.GetContext(ctx, &n, db.Rebind(
		"SELECT number FROM pki_crls WHERE ca_role = ? ORDER BY number DESC LIMIT 1"), string(role))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, store.MapErr(err)
}
