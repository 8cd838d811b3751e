package bank

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
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

// Purpose is what a challenge is for; it is bound into the signed digest,
// so a registration signature never logs anyone in.
type Purpose string

const (
	PurposeRegister Purpose = "register"
	PurposeLogin    Purpose = "login"
)

// Challenge is a fresh random challenge the bank hands out.
type Challenge struct {
	ID        int64
	MonitorID string
	Purpose   Purpose
	Nonce     []byte // 32 random bytes
	Expires   time.Time
}

// Digest is the SHA-256 the card signs for ch: the nonce bound to the
// bank, the purpose and the monitor.
func (ch *Challenge) Digest() []byte {
	h := sha256.New()
	io.WriteString(h, "jpkipilot demo bank\x00")
	io.WriteString(h, string(ch.Purpose))
	h.Write([]byte{0})
	io.WriteString(h, ch.MonitorID)
	h.Write([]byte{0})
	h.Write(ch.Nonce)
	return h.Sum(nil)
}

// Response is what the client sends back: the challenge signed with the
// auth key, and the certificates read from the card.
type Response struct {
	ChallengeID int64
	Method      Method // card or phone, as the token said
	Cert        *x509.Certificate
	CACert      *x509.Certificate
	Signature   []byte
}

// NewChallenge makes and stores a single-use challenge for the monitor.
func (b *Bank) NewChallenge(ctx context.Context, monitorID string, p Purpose) (*Challenge, error) {
	if p != PurposeRegister && p != PurposeLogin {
		return nil, fmt.Errorf("challenge purpose %q: want register or login", p)
	}
	ch := &Challenge{MonitorID: monitorID, Purpose: p, Nonce: make([]byte, 32)}
	if _, err := io.ReadFull(b.random(), ch.Nonce); err != nil {
		return nil, err
	}
	now := b.now()
	ch.Expires = now.Add(b.ttl())
	err := b.DB.GetContext(ctx, &ch.ID, b.DB.Rebind(`INSERT INTO bank_challenges
		(monitor_id, purpose, nonce, created_at, expires_at) VALUES (?, ?, ?, ?, ?) RETURNING id`),
		monitorID, string(p), ch.Nonce, now, ch.Expires)
	return ch, store.MapErr(err)
}

// consume marks the challenge used, once: a second use, or a challenge
// for another monitor or purpose, is a replay; an expired one is stale.
func (b *Bank) consume(ctx context.Context, id int64, monitorID string, p Purpose) (*Challenge, error) {
	now := b.now()
	var ch *Challenge
	err := b.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		var r struct {
			MonitorID string       `db:"monitor_id"`
			Purpose   string       `db:"purpose"`
			Nonce     []byte       `db:"nonce"`
			Expires   time.Time    `db:"expires_at"`
			Used      sql.NullTime `db:"used_at"`
		}
		err := tx.GetContext(ctx, &r, tx.Rebind(
			"SELECT monitor_id, purpose, nonce, expires_at, used_at FROM bank_challenges WHERE id = ?"), id)
		if errors.Is(err, sql.ErrNoRows) {
			return refuse(ReasonReplayed, fmt.Errorf("challenge %d is unknown", id))
		}
		if err != nil {
			return err
		}
		if r.MonitorID != monitorID || Purpose(r.Purpose) != p {
			return refuse(ReasonReplayed, fmt.Errorf("challenge %d was made for another login", id))
		}
		res, err := tx.ExecContext(ctx, tx.Rebind(
			"UPDATE bank_challenges SET used_at = ? WHERE id = ? AND used_at IS NULL"), now, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return refuse(ReasonReplayed, fmt.Errorf("challenge %d was already used", id))
		}
		if !now.Before(r.Expires.UTC()) {
			return nil // recorded as used; refused below, after the commit
		}
		ch = &Challenge{ID: id, MonitorID: r.MonitorID, Purpose: Purpose(r.Purpose), Nonce: r.Nonce, Expires: r.Expires.UTC()}
		return nil
	})
	if err != nil {
		var be *Error
		if errors.As(err, &be) {
			return nil, be
		}
		return nil, err
	}
	if ch == nil {
		return nil, refuse(ReasonStaleChallenge, fmt.Errorf("challenge %d expired", id))
	}
	return ch, nil
}

// Verifier is the host-side check of a signed challenge: the signature
// with the certificate's key, then the certificate (chain to the anchors,
// validity, key usage, revocation). It touches no store.
type Verifier struct {
	Roots []*x509.Certificate
	CRLs  []*pki.CRLIndex
	OCSP  pki.OCSPChecker
	At    time.Time
}

// Check verifies sig over digest by cert, and cert itself.
func (v *Verifier) Check(ctx context.Context, digest, sig []byte, cert, caCert *x509.Certificate) error {
	if cert == nil {
		return refuse(ReasonCertInvalid, errors.New("no certificate"))
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return refuse(ReasonCertInvalid, fmt.Errorf("the certificate holds a %T key, not RSA", cert.PublicKey))
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig); err != nil {
		return refuse(ReasonBadSignature, errors.New("the signature of the challenge does not verify with the certificate"))
	}
	var inter []*x509.Certificate
	if caCert != nil {
		inter = []*x509.Certificate{caCert}
	}
	if _, err := pki.Verify(cert, pki.Options{Roots: v.Roots, Intermediates: inter, At: v.At,
		Purpose: pki.PurposeAuth, CRLs: v.CRLs, OCSP: v.OCSP, Ctx: ctx}); err != nil {
		return classify(fmt.Errorf("the certificate is not accepted: %w", err))
	}
	return nil
}

// verifier loads the anchors and CRLs the bank checks against now.
func (b *Bank) verifier(ctx context.Context) (*Verifier, error) {
	anchors, err := pki.Anchors(ctx, b.DB)
	if err != nil {
		return nil, err
	}
	crls, err := b.crls(ctx)
	if err != nil {
		return nil, err
	}
	return &Verifier{Roots: append(anchors, b.ExtraAnchors...), CRLs: crls, OCSP: b.OCSP, At: b.now()}, nil
}

func (b *Bank) crls(ctx context.Context) ([]*pki.CRLIndex, error) {
	if b.CRLs != nil {
		return b.CRLs(ctx)
	}
	idx, err := pki.LatestCRLIndex(ctx, b.DB, pki.RoleAuth)
	if err != nil || idx == nil {
		return nil, err
	}
	return []*pki.CRLIndex{idx}, nil
}

// checkResponse consumes the challenge and verifies the response.
func (b *Bank) checkResponse(ctx context.Context, monitorID string, p Purpose, r *Response) error {
	ch, err := b.consume(ctx, r.ChallengeID, monitorID, p)
	if err != nil {
		return err
	}
	v, err := b.verifier(ctx)
	if err != nil {
		return err
	}
	return v.Check(ctx, ch.Digest(), r.Signature, r.Cert, r.CACert)
}

// SignChallenge is the client side: it reads the auth certificates from
// the card or phone and signs the challenge with the auth key, the PIN
// asked once through pin (with the tries left; a blocked PIN is not asked
// and nothing is sent). A wrong PIN is never retried.
func SignChallenge(ctx context.Context, card *device.Card, pin jpki.PINFunc, ch *Challenge) (*Response, error) {
	r, c, err := readToken(ctx, card, pin)
	if err != nil {
		return r, err
	}
	return r, signWith(ctx, c, r, ch)
}

// readToken detects the token and reads its certificates.
func readToken(ctx context.Context, card *device.Card, pin jpki.PINFunc) (*Response, *tokenSigner, error) {
	r := &Response{Method: MethodCard}
	kind, err := jpki.Detect(ctx, card)
	if err != nil {
		return r, nil, err
	}
	switch kind {
	case jpki.MyNumberCard:
	case jpki.PhoneToken:
		r.Method = MethodPhone
	default:
		return r, nil, refuse(ReasonNotJPKI, fmt.Errorf("the reader holds %s", kind))
	}
	c := jpki.New(card)
	once := askOnce(pin)
	s, err := c.Signer(ctx, jpki.Auth, once)
	if err != nil {
		return r, nil, err
	}
	r.Cert = s.Certificate()
	if r.CACert, err = c.ReadCertificate(ctx, jpki.CertAuthCA, once); err != nil {
		return r, nil, err
	}
	return r, &tokenSigner{s}, nil
}

type tokenSigner struct{ s *jpki.KeySigner }

func signWith(ctx context.Context, t *tokenSigner, r *Response, ch *Challenge) error {
	sig, err := t.s.SignContext(ctx, ch.Digest(), crypto.SHA256)
	if err != nil {
		return err
	}
	r.ChallengeID, r.Signature = ch.ID, sig
	return nil
}

// askOnce asks the user for the PIN once per flow: a phone token needs the
// auth PIN verified to read its certificate and again to sign, and the
// monitor types it once. The second VERIFY only follows a successful first
// one, so this never retries a wrong PIN. The PIN lives only as long as the
// flow.
func askOnce(pin jpki.PINFunc) jpki.PINFunc {
	var (
		mu    sync.Mutex
		asked bool
		got   string
	)
	return func(ctx context.Context, req jpki.PINRequest) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if asked {
			return got, nil
		}
		p, err := pin(ctx, req)
		if err != nil {
			return "", err
		}
		asked, got = true, p
		return p, nil
	}
}

// Session is a successful login.
type Session struct {
	AccountID int64
	MonitorID string
	Method    Method
	At        time.Time
	Duration  time.Duration // from start to logged in
}

// Register links the card's or phone's certificate to the monitor's demo
// bank account (opened now if need be): the certificate is validated and
// a fresh challenge signed with the auth key proves the card is there.
// start is when the monitor began (for the measurement). The attempt is
// recorded whatever the outcome.
func (b *Bank) Register(ctx context.Context, monitorID string, card *device.Card, pin jpki.PINFunc, start time.Time) (*Credential, error) {
	trialID, err := monitorTrial(ctx, b.DB, monitorID)
	if err != nil {
		return nil, err
	}
	r, t, err := readToken(ctx, card, pin)
	var cred *Credential
	if err == nil {
		err = b.signAndCheck(ctx, monitorID, PurposeRegister, t, r)
	}
	if err == nil {
		cred, err = b.link(ctx, monitorID, r)
	}
	if err := b.finish(ctx, &attempt{trialID: trialID, monitorID: monitorID, kind: PurposeRegister, method: r.Method, start: start}, err); err != nil {
		return nil, err
	}
	return cred, nil
}

func (b *Bank) signAndCheck(ctx context.Context, monitorID string, p Purpose, t *tokenSigner, r *Response) error {
	ch, err := b.NewChallenge(ctx, monitorID, p)
	if err != nil {
		return err
	}
	if err := signWith(ctx, t, r, ch); err != nil {
		return err
	}
	return b.checkResponse(ctx, monitorID, p, r)
}

// link stores the credential, opening the account, in one transaction.
func (b *Bank) link(ctx context.Context, monitorID string, r *Response) (*Credential, error) {
	cred := &Credential{Method: r.Method, Issuer: r.Cert.Issuer.String(), Serial: pki.SerialHex(r.Cert.SerialNumber), RegisteredAt: b.now()}
	err := b.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		owner, _, err := credentialOwner(ctx, tx, r.Cert)
		switch {
		case err == nil && owner == monitorID:
			return nil // already registered: nothing to do
		case err == nil:
			return refuse(ReasonOtherAccount, errors.New("this card is registered to another monitor's account"))
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		id, err := b.ensureAccount(ctx, tx, monitorID)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO bank_credentials
			(account_id, method, cert_issuer, cert_serial, cert_sha256, registered_at) VALUES (?, ?, ?, ?, ?, ?)`),
			id, string(cred.Method), cred.Issuer, cred.Serial, pki.Fingerprint(r.Cert), cred.RegisteredAt)
		return err
	})
	if err != nil {
		var be *Error
		if errors.As(err, &be) {
			return nil, be
		}
		return nil, err
	}
	return cred, nil
}

// credentialOwner is the monitor and account the certificate is registered
// to (sql.ErrNoRows when none). Issuer and serial are the link; the
// fingerprint guards against a different certificate with the same pair.
func credentialOwner(ctx context.Context, q queryer, cert *x509.Certificate) (monitorID string, accountID int64, err error) {
	var r struct {
		MonitorID string `db:"monitor_id"`
		AccountID int64  `db:"account_id"`
		SHA256    string `db:"cert_sha256"`
	}
	err = sqlx.GetContext(ctx, q, &r, q.Rebind(`SELECT a.monitor_id, c.account_id, c.cert_sha256
		FROM bank_credentials c JOIN bank_accounts a ON a.id = c.account_id
		WHERE c.cert_issuer = ? AND c.cert_serial = ?`), cert.Issuer.String(), pki.SerialHex(cert.SerialNumber))
	if err != nil {
		return "", 0, err
	}
	if r.SHA256 != pki.Fingerprint(cert) {
		return "", 0, sql.ErrNoRows
	}
	return r.MonitorID, r.AccountID, nil
}

// Login logs the monitor in with the card or phone: a fresh challenge
// signed with the auth key, the signature and certificate verified, and the
// certificate the one registered to the monitor's account.
func (b *Bank) Login(ctx context.Context, monitorID string, card *device.Card, pin jpki.PINFunc, start time.Time) (*Session, error) {
	trialID, err := monitorTrial(ctx, b.DB, monitorID)
	if err != nil {
		return nil, err
	}
	r, t, err := readToken(ctx, card, pin)
	if err == nil {
		err = b.signAndCheck(ctx, monitorID, PurposeLogin, t, r)
	}
	var s *Session
	if err == nil {
		s, err = b.session(ctx, monitorID, r)
	}
	return b.finishLogin(ctx, &attempt{trialID: trialID, monitorID: monitorID, kind: PurposeLogin, method: r.Method, start: start}, s, err)
}

// CompleteLogin is the bank side of a login whose challenge the client
// signed itself (SignChallenge): it consumes the challenge and verifies.
func (b *Bank) CompleteLogin(ctx context.Context, monitorID string, r *Response, start time.Time) (*Session, error) {
	trialID, err := monitorTrial(ctx, b.DB, monitorID)
	if err != nil {
		return nil, err
	}
	err = b.checkResponse(ctx, monitorID, PurposeLogin, r)
	var s *Session
	if err == nil {
		s, err = b.session(ctx, monitorID, r)
	}
	return b.finishLogin(ctx, &attempt{trialID: trialID, monitorID: monitorID, kind: PurposeLogin, method: r.Method, start: start}, s, err)
}

func (b *Bank) session(ctx context.Context, monitorID string, r *Response) (*Session, error) {
	owner, accountID, err := credentialOwner(ctx, b.DB, r.Cert)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, refuse(ReasonNotRegistered, errors.New("this card is not registered with the bank"))
	}
	if err != nil {
		return nil, store.MapErr(err)
	}
	if owner != monitorID {
		return nil, refuse(ReasonOtherAccount, errors.New("this card is registered to another monitor's account"))
	}
	return &Session{AccountID: accountID, MonitorID: monitorID, Method: r.Method}, nil
}

func (b *Bank) finishLogin(ctx context.Context, a *attempt, s *Session, err error) (*Session, error) {
	err = b.finish(ctx, a, err)
	if err != nil {
		return nil, err
	}
	s.At = a.end
	s.Duration = a.end.Sub(a.start)
	return s, nil
}
