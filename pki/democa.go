package pki

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"jpkipilot/device/vcard"
	"jpkipilot/trial/audit"
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
// against the trial root, and both are marked virtual, of this CA value's
// run (virtualrun.go). In the same transaction the certificates of earlier
// runs' virtual cards whose keys are gone are revoked. The keys live only
// in the returned config (in memory); the PINs are the demo defaults.
func (ca *CA) IssueVirtualCard(ctx context.Context, p vcard.Profile, holder string) (vcard.Config, error) {
	cfg, _, err := ca.issueVirtualCard(ctx, p, holder)
	return cfg, err
}

func (ca *CA) issueVirtualCard(ctx context.Context, p vcard.Profile, holder string) (vcard.Config, map[Role]int, error) {
	holder = strings.TrimSpace(holder)
	if holder == "" {
		return vcard.Config{}, nil, errors.New("virtual card: the holder id is empty")
	}
	fail := func(err error) (vcard.Config, map[Role]int, error) {
		return vcard.Config{}, nil, fmt.Errorf("virtual card for %s: %w", holder, err)
	}
	authKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fail(err)
	}
	var signKey *rsa.PrivateKey
	if p == vcard.MyNumber {
		if signKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return fail(err)
		}
	}
	ctx = audit.Default(ctx, ca.Actor)
	run := ca.run
	for attempt := 0; ; attempt++ {
		auth, authDER, err := ca.signCertificate(ctx, IssueRequest{Kind: RoleAuth, Holder: holder, PublicKey: &authKey.PublicKey})
		if err != nil {
			return fail(err)
		}
		var sign *Issued
		var signDER []byte
		if signKey != nil {
			sign, signDER, err = ca.signCertificate(ctx, IssueRequest{Kind: RoleSign, Holder: holder, Name: holder + " " + VirtualCardMark, PublicKey: &signKey.PublicKey})
			if err != nil {
				return fail(err)
			}
		}
		var revoked map[Role]int
		err = ca.db.Tx(ctx, func(tx txer) error {
			now := ca.now().Truncate(time.Second)
			if err := ca.registerRun(ctx, tx, now); err != nil {
				return err
			}
			var err error
			if revoked, err = ca.sweepVirtual(ctx, tx, now); err != nil {
				return err
			}
			if err := insertIssued(ctx, tx, auth, authDER, &run); err != nil {
				return err
			}
			if sign != nil {
				return insertIssued(ctx, tx, sign, signDER, &run)
			}
			return nil
		})
		if store.IsUniqueViolation(err) && attempt < 3 {
			continue
		}
		if err != nil {
			return fail(err)
		}
		cfg := vcard.Config{Profile: p, AuthKey: authKey, AuthCert: auth.Cert.Raw,
			AuthCACert: ca.Certificate(RoleAuth).Raw, AuthPIN: vcard.DemoAuthPIN}
		if sign != nil {
			cfg.SignKey, cfg.SignCert, cfg.SignCACert, cfg.SignPIN = signKey, sign.Cert.Raw, ca.Certificate(RoleSign).Raw, vcard.DemoSignPIN
		}
		return cfg, revoked, cfg.Validate()
	}
}

// VirtualCardCRLAge is how old the auth CRL may be when a virtual card is
// served: older, a new one is published first (a gate accepts up to
// ticket.DefaultMaxCRLAge, so one that young keeps the gate deciding).
const VirtualCardCRLAge = 24 * time.Hour

// ServeVirtualCard is IssueVirtualCard for a card about to be held to a
// gate or bank: it also publishes a fresh auth CRL when the newest is older
// than VirtualCardCRLAge, and a new CRL of each CA whose earlier virtual
// cards it revoked, so they are listed at once. The GUI's virtual readers
// and `jpkipilot vcard --trial-ca` both issue this way.
func (ca *CA) ServeVirtualCard(ctx context.Context, p vcard.Profile, holder string) (vcard.Config, error) {
	cfg, revoked, err := ca.issueVirtualCard(ctx, p, holder)
	if err != nil {
		return vcard.Config{}, err
	}
	for _, role := range []Role{RoleAuth, RoleSign} {
		if revoked[role] == 0 {
			continue
		}
		if _, err := ca.PublishCRL(ctx, role, 0); err != nil {
			return vcard.Config{}, fmt.Errorf("publishing the %s CRL with %d revoked virtual cards: %w", role, revoked[role], err)
		}
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
