package bank

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"time"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/store"
)

// TOTP parameters (RFC 6238 defaults, what authenticator apps expect).
const (
	TOTPDigits = 6
	TOTPPeriod = 30 * time.Second
	// TOTPSkew is how many steps either side of now a code may be from.
	TOTPSkew = 1
	// TOTPIssuer names the bank in the authenticator app.
	TOTPIssuer = "jpkipilot demo bank"
)

// hotp is RFC 4226's HOTP: HMAC of the counter, dynamically truncated to
// digits decimal digits.
func hotp(h func() hash.Hash, secret []byte, counter uint64, digits int) string {
	mac := hmac.New(h, secret)
	var c [8]byte
	binary.BigEndian.PutUint64(c[:], counter)
	mac.Write(c[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0F
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7FFFFFFF
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, v%mod)
}

// TOTPStep is the RFC 6238 time step of t.
func TOTPStep(t time.Time) int64 { return t.Unix() / int64(TOTPPeriod/time.Second) }

// TOTPCode is the 6-digit SHA-1 code of secret for step.
func TOTPCode(secret []byte, step int64) string {
	return hotp(sha1.New, secret, uint64(step), TOTPDigits)
}

// Enrolment is a new TOTP authenticator enrolment: the secret and the
// otpauth:// URI an authenticator app scans as a QR code.
type Enrolment struct {
	Secret []byte
	Base32 string
	URI    string
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// EnrolTOTP gives the monitor's account (opened now if need be) a new
// random TOTP secret, replacing any earlier one.
func (b *Bank) EnrolTOTP(ctx context.Context, monitorID string) (*Enrolment, error) {
	e := &Enrolment{Secret: make([]byte, 20)}
	if _, err := io.ReadFull(b.random(), e.Secret); err != nil {
		return nil, err
	}
	e.Base32 = b32.EncodeToString(e.Secret)
	var accountID int64
	err := b.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := monitorTrial(ctx, tx, monitorID); err != nil {
			return err
		}
		id, err := b.ensureAccount(ctx, tx, monitorID)
		if err != nil {
			return err
		}
		accountID = id
		_, err = tx.ExecContext(ctx, tx.Rebind(
			"UPDATE bank_accounts SET totp_secret = ?, totp_enrolled_at = ?, totp_last_step = -1 WHERE id = ?"),
			e.Secret, b.now(), id)
		return err
	})
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("secret", e.Base32)
	q.Set("issuer", TOTPIssuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", fmt.Sprint(TOTPDigits))
	q.Set("period", fmt.Sprint(int(TOTPPeriod/time.Second)))
	// The label names the account number, not the monitor.
	label := url.PathEscape(fmt.Sprintf("%s:%07d", TOTPIssuer, accountID))
	e.URI = "otpauth://totp/" + label + "?" + q.Encode()
	return e, nil
}

// LoginTOTP logs the monitor in with a code from the authenticator: good
// for the current step or one either side, and each step once (the last
// used step is kept per account and advanced atomically). start is when
// the monitor began; the attempt is recorded.
func (b *Bank) LoginTOTP(ctx context.Context, monitorID, code string, start time.Time) (*Session, error) {
	trialID, err := monitorTrial(ctx, b.DB, monitorID)
	if err != nil {
		return nil, err
	}
	s, err := b.checkTOTP(ctx, monitorID, code)
	return b.finishLogin(ctx, &attempt{trialID: trialID, monitorID: monitorID, kind: PurposeLogin, method: MethodTOTP, start: start}, s, err)
}

func (b *Bank) checkTOTP(ctx context.Context, monitorID, code string) (*Session, error) {
	var r struct {
		ID     int64  `db:"id"`
		Secret []byte `db:"totp_secret"`
		Last   int64  `db:"totp_last_step"`
	}
	err := b.DB.GetContext(ctx, &r, b.DB.Rebind(
		"SELECT id, totp_secret, totp_last_step FROM bank_accounts WHERE monitor_id = ?"), monitorID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, refuse(ReasonNoAccount, ErrNoAccount)
	}
	if err != nil {
		return nil, store.MapErr(err)
	}
	if len(r.Secret) == 0 {
		return nil, refuse(ReasonTOTPNotEnrolled, errors.New("no authenticator enrolled for this account"))
	}
	if len(code) != TOTPDigits {
		return nil, refuse(ReasonTOTPInvalid, fmt.Errorf("the code must have %d digits", TOTPDigits))
	}
	now := TOTPStep(b.now())
	matched := int64(-1)
	for s := now - TOTPSkew; s <= now+TOTPSkew; s++ {
		if subtle.ConstantTimeCompare([]byte(TOTPCode(r.Secret, s)), []byte(code)) == 1 {
			matched = s
		}
	}
	if matched < 0 {
		return nil, refuse(ReasonTOTPInvalid, errors.New("the code is not valid now"))
	}
	res, err := b.DB.ExecContext(ctx, b.DB.Rebind(
		"UPDATE bank_accounts SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?"), matched, r.ID, matched)
	if err != nil {
		return nil, store.MapErr(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, err
	} else if n == 0 {
		return nil, refuse(ReasonTOTPReused, errors.New("this code (or a later one) was already used"))
	}
	return &Session{AccountID: r.ID, MonitorID: monitorID, Method: MethodTOTP}, nil
}
