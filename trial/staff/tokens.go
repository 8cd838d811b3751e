package staff

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/store"
)

// DefaultTokenTTL is how long a command-line token lasts unless told.
const DefaultTokenTTL = 12 * time.Hour

// Audit actions for command-line tokens.
const (
	AuditTokenIssue  = audit.TokenIssue
	AuditTokenRevoke = audit.TokenRevoke
)

func tokenHash(raw []byte) string {
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:])
}

func decodeToken(token string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != 32 {
		return nil, ErrBadToken
	}
	return raw, nil
}

func deleteExpired(ctx context.Context, tx *sqlx.Tx, now time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM staff_tokens WHERE expires_at <= ?"), now)
	return err
}

// IssueToken returns a new command-line token for the session's account,
// valid for ttl (0: DefaultTokenTTL): 256 random bits, base64url. The store
// keeps its SHA-256 and the data key wrapped under a key derived from the
// token, so the token file alone unlocks personal data: keep it private.
func (s *Service) IssueToken(ctx context.Context, sess *Session, ttl time.Duration) (string, error) {
	if sess == nil {
		return "", ErrNotLoggedIn
	}
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	ctx = sess.Context(ctx)
	raw := randomBytes(32)
	hash := tokenHash(raw)
	now := s.now()
	err := s.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		r, err := getAccount(ctx, tx, "id", sess.Account.ID)
		if errors.Is(err, ErrNoSuchAccount) || err == nil && r.Disabled {
			return ErrDisabled
		} else if err != nil {
			return err
		}
		wrapped := ""
		if sess.Key != nil && r.Role.HoldsDataKey() {
			if err := s.freshKey(ctx, tx, sess); err != nil {
				return err
			}
			if wrapped, err = wrapForToken(raw, hash, r.ID, sess.Key); err != nil {
				return err
			}
		}
		if err := deleteExpired(ctx, tx, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO staff_tokens (token_hash, account_id, wrapped_key, created_at, expires_at) VALUES (?, ?, ?, ?, ?)"),
			hash, r.ID, wrapped, now, now.Add(ttl)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, AuditTokenIssue, r.Login, "expires "+now.Add(ttl).Format(time.RFC3339))
	})
	if err != nil {
		return "", fmt.Errorf("staff: issue token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

type tokenRow struct {
	AccountID  int64     `db:"account_id"`
	WrappedKey string    `db:"wrapped_key"`
	ExpiresAt  time.Time `db:"expires_at"`
}

// Resume turns a command-line token back into a session with its data key.
// An unknown, expired or revoked token gives ErrBadToken; a disabled
// account ErrDisabled.
func (s *Service) Resume(ctx context.Context, token string) (*Session, error) {
	raw, err := decodeToken(token)
	if err != nil {
		return nil, err
	}
	hash := tokenHash(raw)
	var t tokenRow
	err = s.DB.GetContext(ctx, &t, s.DB.Rebind("SELECT account_id, wrapped_key, expires_at FROM staff_tokens WHERE token_hash = ?"), hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrBadToken
	} else if err != nil {
		return nil, fmt.Errorf("staff: resume: %w", store.MapErr(err))
	}
	now := s.now()
	if !now.Before(t.ExpiresAt) {
		if err := s.DB.Tx(ctx, func(tx *sqlx.Tx) error { return deleteExpired(ctx, tx, now) }); err != nil {
			return nil, err
		}
		return nil, ErrBadToken
	}
	r, err := getAccount(ctx, s.DB, "id", t.AccountID)
	if errors.Is(err, ErrNoSuchAccount) {
		return nil, ErrBadToken
	} else if err != nil {
		return nil, err
	}
	if r.Disabled {
		return nil, ErrDisabled
	}
	sess := &Session{Account: r.account(), Started: now}
	if t.WrappedKey != "" && r.Role.HoldsDataKey() {
		key, err := unwrapForToken(raw, hash, r.ID, t.WrappedKey)
		if err != nil {
			return nil, fmt.Errorf("staff: token of %s: wrapped data key: %w", r.Login, err)
		}
		if err := s.checkKey(ctx, s.DB, key); err != nil {
			return nil, err
		}
		sess.Key = key
	}
	return sess, nil
}

// RevokeToken ends a command-line token (logout). Revoking an unknown or
// expired token is not an error.
func (s *Service) RevokeToken(ctx context.Context, token string) error {
	raw, err := decodeToken(token)
	if err != nil {
		return err
	}
	hash := tokenHash(raw)
	return s.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		var login []string
		if err := tx.SelectContext(ctx, &login, tx.Rebind(`SELECT a.login FROM staff_tokens t
			JOIN staff_accounts a ON a.id = t.account_id WHERE t.token_hash = ?`), hash); err != nil {
			return err
		}
		if len(login) == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM staff_tokens WHERE token_hash = ?"), hash); err != nil {
			return err
		}
		return audit.Record(audit.Default(ctx, login[0]), tx, AuditTokenRevoke, login[0], "")
	})
}

// Logout records the end of a session (audit.Logout) and forgets its data
// key. The GUI calls it on logout; the command line revokes its token with
// RevokeToken instead.
func (s *Service) Logout(ctx context.Context, sess *Session) error {
	if sess == nil {
		return nil
	}
	if err := audit.RecordNow(sess.Context(ctx), s.DB, audit.Logout, sess.Account.Login, ""); err != nil {
		return err
	}
	sess.Key = nil
	return nil
}
