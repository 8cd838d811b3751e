package staff

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/jmoiron/sqlx"

	"jpkipilot/pki"
	"jpkipilot/trial/audit"
	"jpkipilot/trial/pii"
	"jpkipilot/trial/store"
)

// admin runs fn in one transaction for an account-management action by a
// coordinator's session. Inside the transaction the session's account is
// read again: a coordinator disabled or demoted on another laptop cannot go
// on managing accounts with a session opened before.
func (s *Service) admin(ctx context.Context, by *Session, fn func(ctx context.Context, tx *sqlx.Tx) error) error {
	if err := by.Require(ManageStaff); err != nil {
		return err
	}
	ctx = by.Context(ctx)
	return s.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		if err := s.lock(ctx, tx); err != nil {
			return err
		}
		me, err := getAccount(ctx, tx, "id", by.Account.ID)
		if errors.Is(err, ErrNoSuchAccount) || err == nil && me.Disabled {
			return ErrDisabled
		}
		if err != nil {
			return err
		}
		if !me.Role.May(ManageStaff) {
			return &DeniedError{Login: me.Login, Role: me.Role, Action: ManageStaff}
		}
		return fn(ctx, tx)
	})
}

// freshKey checks that the session holds the store's current data key
// before it is wrapped for someone else (a session from before a rotation
// would hand out the old key).
func (s *Service) freshKey(ctx context.Context, tx *sqlx.Tx, by *Session) error {
	if by.Key == nil {
		return pii.ErrLocked
	}
	if err := s.checkKey(ctx, tx, by.Key); errors.Is(err, ErrKeyCheck) {
		return ErrStaleKey
	} else if err != nil {
		return err
	}
	return nil
}

func revokeTokensOf(ctx context.Context, tx *sqlx.Tx, id int64) error {
	_, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM staff_tokens WHERE account_id = ?"), id)
	return err
}

// Create makes an account (by a coordinator) and wraps the data key for it
// when its role holds one.
func (s *Service) Create(ctx context.Context, by *Session, login, displayName string, role Role, password string) (Account, error) {
	login = FoldLogin(login)
	if err := by.Require(ManageStaff); err != nil {
		return Account{}, err
	}
	if err := ValidateLogin(login); err != nil {
		return Account{}, err
	}
	if err := validateDisplayName(displayName); err != nil {
		return Account{}, err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return Account{}, err
	}
	if err := ValidatePasswordFor(login, password); err != nil {
		return Account{}, err
	}
	cred := s.newCredentials(password)
	var id int64
	err := s.admin(ctx, by, func(ctx context.Context, tx *sqlx.Tx) error {
		if role.HoldsDataKey() {
			if err := s.freshKey(ctx, tx, by); err != nil {
				return err
			}
		}
		var err error
		if id, err = s.insertAccount(ctx, tx, login, displayName, role, cred, by.Key); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.StaffCreate, login, "role "+string(role))
	})
	if err != nil {
		return Account{}, err
	}
	r, err := getAccount(ctx, s.DB, "id", id)
	return s.listed(r), err
}

// List returns every account, by login.
func (s *Service) List(ctx context.Context, by *Session) ([]Account, error) {
	if err := by.Require(ManageStaff); err != nil {
		return nil, err
	}
	var rows []accountRow
	if err := s.DB.SelectContext(ctx, &rows, "SELECT "+accountCols+" FROM staff_accounts ORDER BY login"); err != nil {
		return nil, fmt.Errorf("staff: list accounts: %w", store.MapErr(err))
	}
	out := make([]Account, len(rows))
	for i, r := range rows {
		out[i] = s.listed(r)
	}
	return out, nil
}

// recheck asks the session's account for its password again before a
// change to its own credentials: throttled and, when wrong, audited as a
// failed login (what names the change) and ErrBadLogin.
func (s *Service) recheck(ctx context.Context, sess *Session, password, what string) (accountRow, error) {
	r, err := getAccount(ctx, s.DB, "id", sess.Account.ID)
	if errors.Is(err, ErrNoSuchAccount) {
		return r, ErrDisabled
	} else if err != nil {
		return r, err
	}
	if r.Disabled {
		return r, ErrDisabled
	}
	thr := loginThrottle(r.Login, r.Login)
	thr.what = what + ": "
	if wait, err := s.claimAttempt(ctx, thr); err != nil {
		return r, err
	} else if wait > 0 {
		return r, &ThrottledError{Wait: wait}
	}
	ok, err := verifySecret(r.PasswordHash, password)
	if err != nil {
		return r, fmt.Errorf("staff: account %s: password hash: %w", r.Login, err)
	}
	if !ok {
		if err := s.recordFailure(ctx, thr, what+": wrong current password"); err != nil {
			return r, err
		}
		return r, ErrBadLogin
	}
	return r, nil
}

// SetOwnPIN sets (or, with pin "", clears) the kiosk PIN of the session's
// own account, so that venue staff choose a PIN nobody else knows; the
// account's password must be given again. Roles that run no kiosk are
// refused.
func (s *Service) SetOwnPIN(ctx context.Context, sess *Session, password, pin string) error {
	if sess == nil {
		return ErrNotLoggedIn
	}
	ctx = sess.Context(ctx)
	if !sess.Account.Role.May(RunKiosk) {
		return fieldErr(FieldPIN, ReasonNoKiosk, 0, fmt.Sprintf("%s (%s) does not run kiosks", sess.Account.Login, sess.Account.Role))
	}
	hash := ""
	if pin != "" {
		if err := ValidatePIN(pin); err != nil {
			return err
		}
		hash = hashSecret(pin, s.pinKDF())
	}
	r, err := s.recheck(ctx, sess, password, "PIN change")
	if err != nil {
		return err
	}
	if !r.Role.May(RunKiosk) { // the role changed since the login
		return fieldErr(FieldPIN, ReasonNoKiosk, 0, fmt.Sprintf("%s (%s) does not run kiosks", r.Login, r.Role))
	}
	return s.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		// Only if the password was not reset and the account not
		// disabled meanwhile.
		res, err := tx.ExecContext(ctx, tx.Rebind("UPDATE staff_accounts SET pin_hash = ? WHERE id = ? AND password_hash = ? AND disabled = ?"),
			hash, r.ID, r.PasswordHash, false)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errors.New("staff: the account changed meanwhile (password reset or disabled); try again")
		}
		refused, err := clearFailures(ctx, tx, loginThrottleKey(r.Login))
		if err != nil {
			return err
		}
		detail := "set by the account"
		if hash == "" {
			detail = "cleared by the account"
		}
		return audit.Record(ctx, tx, audit.StaffPIN, r.Login, withRefused(detail, refused))
	})
}

// ChangePassword changes the session's own password: the current one must
// be given (a wrong one counts as a failed login). The private key is sealed
// again under the new password; the data key's wrapping does not change.
// The account's command-line tokens end.
func (s *Service) ChangePassword(ctx context.Context, sess *Session, oldPassword, newPassword string) error {
	if sess == nil {
		return ErrNotLoggedIn
	}
	ctx = sess.Context(ctx)
	if err := ValidatePasswordFor(sess.Account.Login, newPassword); err != nil {
		return err
	}
	r, err := s.recheck(ctx, sess, oldPassword, "password change")
	if err != nil {
		return err
	}
	tkey := loginThrottleKey(r.Login)
	priv, err := openPrivate(r.PrivateKey, oldPassword, r.PublicKey)
	if err != nil {
		return fmt.Errorf("staff: account %s: its sealed private key does not open (altered row?): %w", r.Login, err)
	}
	p := s.kdf()
	hash, sealed := hashSecret(newPassword, p), sealPrivate(priv, newPassword, p)
	return s.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		if err := s.lock(ctx, tx); err != nil {
			return err
		}
		// Only if nobody reset or changed it meanwhile.
		res, err := tx.ExecContext(ctx, tx.Rebind("UPDATE staff_accounts SET password_hash = ?, private_key = ? WHERE id = ? AND password_hash = ? AND disabled = ?"),
			hash, sealed, r.ID, r.PasswordHash, false)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errors.New("staff: the account changed meanwhile (password reset or disabled); try again")
		}
		if err := revokeTokensOf(ctx, tx, r.ID); err != nil {
			return err
		}
		refused, err := clearFailures(ctx, tx, tkey)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.StaffPassword, r.Login, withRefused("changed by the account", refused))
	})
}

// ResetPassword gives an account a new password (by a coordinator): a new
// key pair sealed under it, the data key wrapped again from the
// coordinator's session. The account's tokens end and its failed-login
// count is cleared.
func (s *Service) ResetPassword(ctx context.Context, by *Session, login, newPassword string) error {
	login = FoldLogin(login)
	if err := by.Require(ManageStaff); err != nil {
		return err
	}
	if err := ValidatePasswordFor(login, newPassword); err != nil {
		return err
	}
	cred := s.newCredentials(newPassword)
	return s.admin(ctx, by, func(ctx context.Context, tx *sqlx.Tx) error {
		r, err := getAccount(ctx, tx, "login", login)
		if err != nil {
			return fmt.Errorf("%s: %w", login, err)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE staff_accounts SET password_hash = ?, public_key = ?, private_key = ?, wrapped_key = '' WHERE id = ?"),
			cred.hash, cred.pub, cred.sealed, r.ID); err != nil {
			return err
		}
		if r.Role.HoldsDataKey() {
			if err := s.freshKey(ctx, tx, by); err != nil {
				return err
			}
			if err := setWrapped(ctx, tx, r.ID, cred.pub, by.Key); err != nil {
				return err
			}
		}
		if err := revokeTokensOf(ctx, tx, r.ID); err != nil {
			return err
		}
		refused, err := clearFailures(ctx, tx, loginThrottleKey(login))
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.StaffPassword, login, withRefused("reset by a coordinator", refused))
	})
}

// otherCoordinators counts enabled coordinators other than id.
func otherCoordinators(ctx context.Context, tx *sqlx.Tx, id int64) (int, error) {
	var n int
	err := tx.GetContext(ctx, &n, tx.Rebind("SELECT COUNT(*) FROM staff_accounts WHERE role = ? AND disabled = ? AND id <> ?"),
		string(Coordinator), false, id)
	return n, err
}

// SetRole changes an account's role; the data key is wrapped for it or
// dropped (with its tokens) as the new role requires. The last enabled
// coordinator keeps its role.
func (s *Service) SetRole(ctx context.Context, by *Session, login string, role Role) error {
	login = FoldLogin(login)
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	return s.admin(ctx, by, func(ctx context.Context, tx *sqlx.Tx) error {
		r, err := getAccount(ctx, tx, "login", login)
		if err != nil {
			return fmt.Errorf("%s: %w", login, err)
		}
		if r.Role == role {
			return nil
		}
		if r.Role == Coordinator && !r.Disabled {
			if n, err := otherCoordinators(ctx, tx, r.ID); err != nil {
				return err
			} else if n == 0 {
				return ErrLastCoordinator
			}
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE staff_accounts SET role = ? WHERE id = ?"), string(role), r.ID); err != nil {
			return err
		}
		switch {
		case role.HoldsDataKey() && r.WrappedKey == "":
			if err := s.freshKey(ctx, tx, by); err != nil {
				return err
			}
			if err := setWrapped(ctx, tx, r.ID, r.PublicKey, by.Key); err != nil {
				return err
			}
		case !role.HoldsDataKey():
			if err := setWrapped(ctx, tx, r.ID, r.PublicKey, nil); err != nil {
				return err
			}
			if err := revokeTokensOf(ctx, tx, r.ID); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.StaffUpdate, login, fmt.Sprintf("role %s → %s", r.Role, role))
	})
}

// Disable disables an account (disabled true) or enables it again. A
// disabled account cannot log in and its tokens end. The last enabled
// coordinator cannot be disabled.
func (s *Service) Disable(ctx context.Context, by *Session, login string, disabled bool) error {
	login = FoldLogin(login)
	return s.admin(ctx, by, func(ctx context.Context, tx *sqlx.Tx) error {
		r, err := getAccount(ctx, tx, "login", login)
		if err != nil {
			return fmt.Errorf("%s: %w", login, err)
		}
		if r.Disabled == disabled {
			return nil
		}
		if disabled && r.Role == Coordinator {
			if n, err := otherCoordinators(ctx, tx, r.ID); err != nil {
				return err
			} else if n == 0 {
				return ErrLastCoordinator
			}
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE staff_accounts SET disabled = ? WHERE id = ?"), disabled, r.ID); err != nil {
			return err
		}
		detail := "enabled"
		if disabled {
			detail = "disabled"
			if err := revokeTokensOf(ctx, tx, r.ID); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.StaffDisable, login, detail)
	})
}

// SetPIN sets an account's staff PIN for leaving kiosks (6–8 digits), or
// clears it (pin ""). Only roles that may run kiosks have one.
func (s *Service) SetPIN(ctx context.Context, by *Session, login, pin string) error {
	login = FoldLogin(login)
	if err := by.Require(ManageStaff); err != nil {
		return err
	}
	hash := ""
	if pin != "" {
		if err := ValidatePIN(pin); err != nil {
			return err
		}
		hash = hashSecret(pin, s.pinKDF())
	}
	return s.admin(ctx, by, func(ctx context.Context, tx *sqlx.Tx) error {
		r, err := getAccount(ctx, tx, "login", login)
		if err != nil {
			return fmt.Errorf("%s: %w", login, err)
		}
		if hash != "" && !r.Role.May(RunKiosk) {
			return fieldErr(FieldPIN, ReasonNoKiosk, 0, fmt.Sprintf("%s (%s) does not run kiosks", login, r.Role))
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE staff_accounts SET pin_hash = ? WHERE id = ?"), hash, r.ID); err != nil {
			return err
		}
		detail := "set"
		if hash == "" {
			detail = "cleared"
		}
		return audit.Record(ctx, tx, audit.StaffPIN, login, detail)
	})
}

// CheckPIN checks a staff PIN typed at a kiosk against every enabled
// account that may run kiosks and returns the account it belongs to.
// Failures are throttled like logins, on one key for all kiosks.
func (s *Service) CheckPIN(ctx context.Context, pin string) (Account, error) {
	if wait, err := s.claimAttempt(ctx, pinThrottle); err != nil {
		return Account{}, err
	} else if wait > 0 {
		return Account{}, &ThrottledError{Wait: wait}
	}
	var rows []accountRow
	if err := s.DB.SelectContext(ctx, &rows, s.DB.Rebind("SELECT "+accountCols+" FROM staff_accounts WHERE disabled = ? AND pin_hash <> '' ORDER BY id"), false); err != nil {
		return Account{}, fmt.Errorf("staff: %w", store.MapErr(err))
	}
	var match *accountRow
	if ValidatePIN(pin) == nil {
		// Every candidate is checked, so the time does not tell which
		// matched; on all cores at once, as a kiosk user waits for it.
		ok := make([]bool, len(rows))
		errs := make([]error, len(rows))
		sem := make(chan struct{}, runtime.GOMAXPROCS(0))
		var wg sync.WaitGroup
		for i := range rows {
			if !rows[i].Role.May(RunKiosk) {
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				ok[i], errs[i] = verifySecret(rows[i].PINHash, pin)
			}()
		}
		wg.Wait()
		for i := range rows {
			if errs[i] != nil {
				return Account{}, fmt.Errorf("staff: account %s: PIN hash: %w", rows[i].Login, errs[i])
			}
			if ok[i] && match == nil {
				match = &rows[i]
			}
		}
	}
	if match == nil {
		if err := s.recordFailure(ctx, pinThrottle, "wrong staff PIN"); err != nil {
			return Account{}, err
		}
		return Account{}, ErrBadPIN
	}
	err := s.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		refused, err := clearFailures(ctx, tx, pinThrottleKey)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.KioskLeave, match.Login, withRefused("staff PIN", refused))
	})
	if err != nil {
		return Account{}, err
	}
	return match.account(), nil
}

// RotateDataKey replaces the store's data key (by a coordinator): every
// personal field is sealed again under a new key, the key is wrapped for
// every account whose role holds it (from their public keys: no password is
// needed), and every command-line token ends (they hold the old key). One
// transaction: a failure changes nothing. On success by.Key is the new key;
// other sessions must log in again.
func (s *Service) RotateDataKey(ctx context.Context, by *Session) error {
	if err := by.Require(ManageStaff); err != nil {
		return err
	}
	next, err := pii.NewKey()
	if err != nil {
		return err
	}
	err = s.admin(ctx, by, func(ctx context.Context, tx *sqlx.Tx) error {
		if err := s.freshKey(ctx, tx, by); err != nil {
			return err
		}
		sealed, err := pii.Reseal(ctx, tx, by.Key, next)
		if err != nil {
			return err
		}
		// A store sealed by a version that left named certificates in
		// the clear gets them sealed here.
		certs, err := pki.SealNamedCertificates(ctx, tx, next)
		if err != nil {
			return err
		}
		sealed += certs
		s.at("resealed")
		var holders []accountRow
		if err := tx.SelectContext(ctx, &holders, tx.Rebind("SELECT "+accountCols+" FROM staff_accounts WHERE role IN (?, ?) ORDER BY id"),
			string(Coordinator), string(VenueStaff)); err != nil {
			return err
		}
		for _, h := range holders {
			if err := setWrapped(ctx, tx, h.ID, h.PublicKey, next); err != nil {
				return fmt.Errorf("%s: %w", h.Login, err)
			}
			s.at("rewrapped " + h.Login)
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM staff_tokens")
		if err != nil {
			return err
		}
		tokens, _ := res.RowsAffected()
		if res, err := tx.ExecContext(ctx, tx.Rebind("UPDATE settings SET value = ? WHERE key = ?"), next.Check(), SettingKeyCheck); err != nil {
			return err
		} else if n, _ := res.RowsAffected(); n != 1 {
			return errors.New("staff: the store has no data key check to replace")
		}
		return audit.Record(ctx, tx, audit.DataKeyRotate, "",
			fmt.Sprintf("%d personal fields resealed; key wrapped for %d accounts; %d tokens revoked", sealed, len(holders), tokens))
	})
	if err != nil {
		return err
	}
	by.Key = next
	_ = s.DB.Scrub(ctx) // best effort, as after CreateFirst
	return nil
}
