package staff

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"jpkipilot/pki"
	"jpkipilot/trial/audit"
	"jpkipilot/trial/pii"
	"jpkipilot/trial/store"
)

// Account is a staff account as the GUI and command line show it. It holds
// no secret.
type Account struct {
	ID          int64
	Login       string
	DisplayName string
	Role        Role
	Disabled    bool
	HasPIN      bool
	CreatedAt   time.Time
	LastLogin   *time.Time
	// BelowCost (set by List and Create): the password hash or the sealed
	// private key was made under a lower argon2id cost than the service's
	// (Service.KDF; the defaults were raised since), so a copied store is
	// cheaper to guess against for this account. Its next login makes both
	// again, and so does a password reset; nothing happens on its own.
	BelowCost bool
}

// Session is a logged-in account.
type Session struct {
	Account Account
	Key     *pii.Key // the data key; nil for analysts
	Started time.Time
}

// May reports whether the session's role allows a (a nil session: no).
func (s *Session) May(a Action) bool { return s != nil && s.Account.Role.May(a) }

// Require returns nil when the session may do a, else a *DeniedError.
func (s *Session) Require(a Action) error {
	if s == nil {
		return &DeniedError{Login: audit.Anonymous, Action: a}
	}
	if !s.May(a) {
		return &DeniedError{Login: s.Account.Login, Role: s.Account.Role, Action: a}
	}
	return nil
}

// Context returns ctx naming the session's account as the audit actor.
func (s *Session) Context(ctx context.Context) context.Context {
	if s == nil {
		return ctx
	}
	return audit.WithActor(ctx, s.Account.Login)
}

var (
	// ErrBadLogin is a wrong login or a wrong password; it never says which.
	ErrBadLogin = errors.New("wrong login or password")
	// ErrDisabled is returned for an account a coordinator disabled.
	ErrDisabled = errors.New("this account is disabled")
	// ErrNoAccounts is returned by Login on a store without accounts: the
	// first run creates the first coordinator (CreateFirst).
	ErrNoAccounts = errors.New("there are no staff accounts yet: create the first coordinator")
	// ErrAccountsExist is returned by CreateFirst once any account exists.
	ErrAccountsExist = errors.New("staff accounts already exist: log in as a coordinator to add one")
	// ErrLoginTaken is returned when an account with that login exists.
	ErrLoginTaken = errors.New("an account with this login already exists")
	// ErrNoSuchAccount is returned for a login that names no account.
	ErrNoSuchAccount = errors.New("no such account")
	// ErrLastCoordinator protects the last enabled coordinator from being
	// demoted or disabled: nobody could manage accounts or the data key.
	ErrLastCoordinator = errors.New("this is the last enabled coordinator: make another coordinator first")
	// ErrNotLoggedIn is returned for a call that needs a session given none.
	ErrNotLoggedIn = errors.New("not logged in")
	// ErrBadPIN is a staff PIN that matches no enabled account.
	ErrBadPIN = errors.New("wrong staff PIN")
	// ErrBadToken is an unknown, expired or revoked command-line token.
	ErrBadToken = errors.New("the session token is unknown, expired or revoked: log in again")
	// ErrStaleKey is returned when a session's data key is no longer the
	// store's (it was rotated since the session began): log in again.
	ErrStaleKey = errors.New("the data key was rotated since this session began: log in again")
	// ErrKeyCheck is returned when an unwrapped data key does not match the
	// store's key check: the stored copy was altered or belongs elsewhere.
	ErrKeyCheck = errors.New("the unwrapped data key does not match this store's (altered account row?)")
)

// ThrottledError is returned after too many consecutive failures: the
// attempt was refused without checking the password or PIN.
type ThrottledError struct{ Wait time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed attempts: try again in %s", e.Wait.Round(time.Second))
}

// SettingKeyCheck is the settings key holding the data key's check value
// (pii.Key.Check); it is written once by CreateFirst and by each rotation.
const SettingKeyCheck = "pii.key_check"

// Service manages accounts in a store.
type Service struct {
	DB  *store.DB
	Now func() time.Time
	// KDF is the argon2id cost for new password hashes and sealed private
	// keys (DefaultKDF; tests use TestKDF). Existing hashes keep the cost
	// they were made with. Staff PINs use DefaultPINKDF, or KDF when KDF is
	// cheaper.
	KDF KDFParams

	hook func(stage string) // tests: called at named points of a transaction
}

// New returns a Service with production parameters.
func New(db *store.DB) *Service {
	return &Service{DB: db, Now: func() time.Time { return time.Now() }, KDF: DefaultKDF}
}

func (s *Service) now() time.Time {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return now().UTC().Truncate(time.Microsecond)
}

func (s *Service) kdf() KDFParams {
	if s.KDF.valid() != nil {
		return DefaultKDF
	}
	return s.KDF
}

func (s *Service) pinKDF() KDFParams {
	if k := s.kdf(); k.cost() < DefaultPINKDF.cost() {
		return k
	}
	return DefaultPINKDF
}

func (s *Service) at(stage string) {
	if s.hook != nil {
		s.hook(stage)
	}
}

// FieldError is a value the package refuses: the field, a reason code
// (Reason*) that the screens translate, and the reason in English for the
// command line. Error() reads "field: reason", e.g. "password: at least 10
// characters". It never holds the value itself (a password or PIN).
type FieldError struct {
	Field  string // FieldLogin, FieldDisplayName, FieldPassword, FieldCurrentPassword or FieldPIN
	Reason string // a Reason* code
	N      int    // the number in the reason (a length), 0 when none
	Msg    string // the reason in English
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// The fields FieldError names, as the command line shows them.
const (
	FieldLogin           = "login"
	FieldDisplayName     = "display name"
	FieldPassword        = "password"
	FieldCurrentPassword = "current password"
	FieldPIN             = "staff PIN"
)

// The reasons of FieldError.
const (
	ReasonRequired        = "required"
	ReasonLoginLength     = "login_length"
	ReasonLoginChars      = "login_chars"
	ReasonNameLength      = "name_length"
	ReasonControl         = "control"
	ReasonPasswordShort   = "password_short"
	ReasonPasswordLong    = "password_long"
	ReasonPasswordClasses = "password_classes"
	ReasonPasswordLogin   = "password_login"
	ReasonPINLength       = "pin_length"
	ReasonPINDigits       = "pin_digits"
	ReasonNoKiosk         = "no_kiosk"      // a PIN for a role that runs no kiosk
	ReasonWrongCurrent    = "wrong_current" // the current password given to change it
)

// Reasons lists every reason code a FieldError can carry (for the screens'
// translation check).
var Reasons = []string{ReasonRequired, ReasonLoginLength, ReasonLoginChars, ReasonNameLength, ReasonControl,
	ReasonPasswordShort, ReasonPasswordLong, ReasonPasswordClasses, ReasonPasswordLogin, ReasonPINLength,
	ReasonPINDigits, ReasonNoKiosk, ReasonWrongCurrent}

// minPassword is the least length of a password, in characters.
const minPassword = 10

func fieldErr(field, reason string, n int, msg string) error {
	return &FieldError{Field: field, Reason: reason, N: n, Msg: msg}
}

// FoldLogin is the canonical form of a login: trimmed and lower-case.
func FoldLogin(login string) string { return strings.ToLower(strings.TrimSpace(login)) }

// ValidateLogin checks a login (after folding): 3–32 of [a-z0-9._-].
func ValidateLogin(login string) error {
	l := FoldLogin(login)
	if len(l) < 3 || len(l) > 32 {
		return fieldErr(FieldLogin, ReasonLoginLength, 0, "3 to 32 characters")
	}
	for _, c := range l {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fieldErr(FieldLogin, ReasonLoginChars, 0, "only letters a–z, digits, '.', '_' and '-'")
		}
	}
	return nil
}

func validateDisplayName(name string) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return fieldErr(FieldDisplayName, ReasonRequired, 0, "required")
	}
	if utf8.RuneCountInString(name) > 64 {
		return fieldErr(FieldDisplayName, ReasonNameLength, 64, "at most 64 characters")
	}
	for _, c := range name {
		if unicode.IsControl(c) {
			return fieldErr(FieldDisplayName, ReasonControl, 0, "no control characters")
		}
	}
	return nil
}

// ValidatePassword checks a new password: at least 10 characters (at most
// 256), and not all of one class (lower-case, upper-case, digits, others).
func ValidatePassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < minPassword {
		return fieldErr(FieldPassword, ReasonPasswordShort, minPassword, fmt.Sprintf("at least %d characters", minPassword))
	}
	if n > 256 || !utf8.ValidString(pw) {
		return fieldErr(FieldPassword, ReasonPasswordLong, 256, "at most 256 characters of valid text")
	}
	classes := map[int]bool{}
	for _, c := range pw {
		switch {
		case unicode.IsLower(c):
			classes[0] = true
		case unicode.IsUpper(c):
			classes[1] = true
		case unicode.IsDigit(c):
			classes[2] = true
		default:
			classes[3] = true
		}
	}
	if len(classes) < 2 {
		return fieldErr(FieldPassword, ReasonPasswordClasses, 0, "mix at least two kinds of characters (lower-case, upper-case, digits, symbols)")
	}
	return nil
}

// ValidatePasswordFor is ValidatePassword plus: not the account's login.
func ValidatePasswordFor(login, pw string) error {
	if err := ValidatePassword(pw); err != nil {
		return err
	}
	if strings.EqualFold(strings.TrimSpace(pw), FoldLogin(login)) {
		return fieldErr(FieldPassword, ReasonPasswordLogin, 0, "must not be the login")
	}
	return nil
}

// ValidatePIN checks a staff PIN: 6 to 8 digits.
func ValidatePIN(pin string) error {
	if len(pin) < 6 || len(pin) > 8 {
		return fieldErr(FieldPIN, ReasonPINLength, 0, "6 to 8 digits")
	}
	for _, c := range pin {
		if c < '0' || c > '9' {
			return fieldErr(FieldPIN, ReasonPINDigits, 0, "digits only")
		}
	}
	return nil
}

// accountRow is a staff_accounts row.
type accountRow struct {
	ID           int64        `db:"id"`
	Login        string       `db:"login"`
	DisplayName  string       `db:"display_name"`
	Role         Role         `db:"role"`
	PasswordHash string       `db:"password_hash"`
	PublicKey    string       `db:"public_key"`
	PrivateKey   string       `db:"private_key"`
	WrappedKey   string       `db:"wrapped_key"`
	PINHash      string       `db:"pin_hash"`
	Disabled     bool         `db:"disabled"`
	CreatedAt    time.Time    `db:"created_at"`
	LastLogin    sql.NullTime `db:"last_login_at"`
}

const accountCols = "id, login, display_name, role, password_hash, public_key, private_key, wrapped_key, pin_hash, disabled, created_at, last_login_at"

func (r accountRow) account() Account {
	a := Account{ID: r.ID, Login: r.Login, DisplayName: r.DisplayName, Role: r.Role, Disabled: r.Disabled,
		HasPIN: r.PINHash != "", CreatedAt: r.CreatedAt.UTC()}
	if r.LastLogin.Valid {
		t := r.LastLogin.Time.UTC()
		a.LastLogin = &t
	}
	return a
}

func getAccount(ctx context.Context, q sqlx.QueryerContext, where string, arg any) (accountRow, error) {
	var r accountRow
	err := sqlx.GetContext(ctx, q, &r, sqlx.Rebind(bindOf(q), "SELECT "+accountCols+" FROM staff_accounts WHERE "+where+" = ?"), arg)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNoSuchAccount
	}
	if err != nil {
		return r, fmt.Errorf("staff: read account: %w", store.MapErr(err))
	}
	return r, nil
}

func bindOf(q any) int {
	if b, ok := q.(interface{ DriverName() string }); ok {
		return sqlx.BindType(b.DriverName())
	}
	return sqlx.QUESTION
}

// HasAccounts reports whether any staff account exists.
func (s *Service) HasAccounts(ctx context.Context) (bool, error) {
	var n int
	if err := s.DB.GetContext(ctx, &n, "SELECT COUNT(*) FROM staff_accounts"); err != nil {
		return false, fmt.Errorf("staff: %w", store.MapErr(err))
	}
	return n > 0, nil
}

// lock serialises account changes across laptops sharing a PostgreSQL
// store (SQLite transactions are serialised already: BEGIN IMMEDIATE), so
// checks such as "another enabled coordinator remains" hold at commit.
func (s *Service) lock(ctx context.Context, tx *sqlx.Tx) error {
	if s.DB.Dialect != store.Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7315310)")
	return err
}

func readKeyCheck(ctx context.Context, q sqlx.QueryerContext) (string, error) {
	var v []string
	if err := sqlx.SelectContext(ctx, q, &v, sqlx.Rebind(bindOf(q), "SELECT value FROM settings WHERE key = ?"), SettingKeyCheck); err != nil {
		return "", fmt.Errorf("staff: read %s: %w", SettingKeyCheck, store.MapErr(err))
	}
	if len(v) == 0 {
		return "", nil
	}
	return v[0], nil
}

// newCredentials hashes a password and makes a key pair sealed under it:
// the slow part of creating an account, done before the transaction.
type credentials struct {
	hash, pub, sealed string
}

func (s *Service) newCredentials(password string) credentials {
	k := newKeyPair()
	p := s.kdf()
	return credentials{hash: hashSecret(password, p), pub: encodePublic(k), sealed: sealPrivate(k, password, p)}
}

func (s *Service) insertAccount(ctx context.Context, tx *sqlx.Tx, login, displayName string, role Role, c credentials, key *pii.Key) (int64, error) {
	var id int64
	err := tx.QueryRowxContext(ctx, tx.Rebind(`INSERT INTO staff_accounts
		(login, display_name, role, password_hash, public_key, private_key, disabled, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		login, strings.TrimSpace(displayName), string(role), c.hash, c.pub, c.sealed, false, s.now()).Scan(&id)
	if store.IsUniqueViolation(err) {
		return 0, fmt.Errorf("%s: %w", login, ErrLoginTaken)
	}
	if err != nil {
		return 0, fmt.Errorf("staff: create %s: %w", login, store.MapErr(err))
	}
	if role.HoldsDataKey() {
		if err := setWrapped(ctx, tx, id, c.pub, key); err != nil {
			return 0, err
		}
	}
	return id, nil
}

func setWrapped(ctx context.Context, tx *sqlx.Tx, id int64, pub string, key *pii.Key) error {
	w := ""
	if key != nil {
		var err error
		if w, err = wrapTo(pub, id, key); err != nil {
			return fmt.Errorf("staff: wrap the data key for account %d: %w", id, err)
		}
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE staff_accounts SET wrapped_key = ? WHERE id = ?"), w, id); err != nil {
		return fmt.Errorf("staff: store the wrapped key of account %d: %w", id, store.MapErr(err))
	}
	return nil
}

// CreateFirst creates the first coordinator of a store that has no account,
// with a new data key, and seals every personal field left in the clear by
// the store's use before accounts existed; all in one transaction. Two
// laptops racing on one PostgreSQL store: one wins, the other gets
// ErrAccountsExist.
func (s *Service) CreateFirst(ctx context.Context, login, displayName, password string) (*Session, error) {
	login = FoldLogin(login)
	if err := ValidateLogin(login); err != nil {
		return nil, err
	}
	if err := validateDisplayName(displayName); err != nil {
		return nil, err
	}
	if err := ValidatePasswordFor(login, password); err != nil {
		return nil, err
	}
	if has, err := s.HasAccounts(ctx); err != nil {
		return nil, err
	} else if has {
		return nil, ErrAccountsExist
	}
	cred := s.newCredentials(password)
	key, err := pii.NewKey()
	if err != nil {
		return nil, err
	}
	ctx = audit.WithActor(ctx, login)
	var id int64
	var sealed int
	err = s.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		if err := s.lock(ctx, tx); err != nil {
			return err
		}
		var n int
		if err := tx.GetContext(ctx, &n, "SELECT COUNT(*) FROM staff_accounts"); err != nil {
			return err
		}
		if n > 0 {
			return ErrAccountsExist
		}
		// The store's one data key is born here: the settings row's primary
		// key refuses a second one even without the advisory lock.
		if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO settings (key, value) VALUES (?, ?)"), SettingKeyCheck, key.Check()); err != nil {
			if store.IsUniqueViolation(err) {
				return ErrAccountsExist
			}
			return fmt.Errorf("staff: store the key check: %w", err)
		}
		var err error
		if id, err = s.insertAccount(ctx, tx, login, displayName, Coordinator, cred, key); err != nil {
			return err
		}
		if sealed, err = pii.Reseal(ctx, tx, nil, key); err != nil {
			return err
		}
		// Signature certificates issued with a name before now keep it in
		// pki_certs; from here on the name is sealed with the rest.
		certs, err := pki.SealNamedCertificates(ctx, tx, key)
		if err != nil {
			return err
		}
		sealed += certs
		if err := audit.Record(ctx, tx, audit.StaffCreate, login, fmt.Sprintf("first coordinator; %d personal fields sealed", sealed)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Login, login, "first run")
	})
	if err != nil {
		return nil, err
	}
	// The clear values just sealed must not survive in the WAL's old
	// frames. Best effort: the account exists now whatever happens here, and
	// a checkpoint another reader blocks is done again when the store opens.
	_ = s.DB.Scrub(ctx)
	r, err := getAccount(ctx, s.DB, "id", id)
	if err != nil {
		return nil, err
	}
	return &Session{Account: r.account(), Key: key, Started: s.now()}, nil
}

// Throttling: after 3 consecutive failures on a key, each further attempt
// waits 2^(n-3) s after the last failure (n failures so far), at most 15
// minutes. Refused attempts are not counted, so the wait does not grow
// while someone waits it out.
const (
	freeFailures = 3
	maxWait      = 15 * time.Minute
	forgetAfter  = 24 * time.Hour // a failure count nobody followed up for a day
)

// Backoff is the wait after n consecutive failures.
func Backoff(n int) time.Duration {
	if n < freeFailures {
		return 0
	}
	e := n - freeFailures
	if e >= 10 { // 2^10 s > 15 min
		return maxWait
	}
	return min(time.Second<<e, maxWait)
}

func loginThrottleKey(folded string) string {
	if len(folded) > 64 { // not a login anyway: keep the key short
		h := sha256.Sum256([]byte(folded))
		folded = "#" + hex.EncodeToString(h[:16])
	}
	return "login:" + folded
}

const pinThrottleKey = "kiosk:pin"

// throttled names a throttle key and where its audit entries go.
type throttled struct {
	key     string
	action  string // audit.LoginFailed or audit.KioskLeaveRefused
	subject string
	what    string // prefixes the refusal's detail ("PIN change: "), or ""
}

func loginThrottle(login, subject string) throttled {
	return throttled{key: loginThrottleKey(login), action: audit.LoginFailed, subject: subject}
}

var pinThrottle = throttled{key: pinThrottleKey, action: audit.KioskLeaveRefused}

// claimAttempt counts an attempt on t's key before its secret is checked and
// returns how long the attempt must still wait (0: go on; nothing is
// counted then). Counting first, in one transaction with the check, is what
// makes the back-off hold for attempts made at the same moment, from
// several laptops on one PostgreSQL: each sees the ones before it, so no
// more than the free attempts ever reach the password check. A success
// clears the count (clearFailures); a failure leaves it counted.
//
// A refused attempt is audited once per back-off window: the window's
// first refusal writes an entry (in this transaction, so a refusal is never
// left unaudited), the others are only counted, and the key's next entry
// says how many (withRefused): someone hammering a login field cannot grow
// the trail by one entry per try.
func (s *Service) claimAttempt(ctx context.Context, t throttled) (time.Duration, error) {
	var wait time.Duration
	err := s.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		now := s.now()
		// The upsert takes the key's row lock (PostgreSQL; SQLite runs one
		// write transaction at a time) whether the row is new or not, and
		// waits out a transaction deleting it rather than reading nothing.
		var row struct {
			Failures int       `db:"failures"`
			Last     time.Time `db:"last_failure_at"`
			Refused  int       `db:"refused"`
			Logged   int       `db:"logged"` // 1: this window's first refusal is in the trail
		}
		if err := tx.GetContext(ctx, &row, tx.Rebind(`INSERT INTO staff_throttle (key, failures, last_failure_at) VALUES (?, 0, ?)
			ON CONFLICT (key) DO UPDATE SET failures = staff_throttle.failures
			RETURNING failures, last_failure_at, refused, CASE WHEN refusal_window = last_failure_at THEN 1 ELSE 0 END AS logged`),
			t.key, now); err != nil {
			return err
		}
		if err := s.forgetOld(ctx, tx, now, t.key); err != nil {
			return err
		}
		if row.Last.Before(now.Add(-forgetAfter)) {
			row.Failures = 0 // a day-old count is forgotten
		}
		if w := row.Last.Add(Backoff(row.Failures)).Sub(now); w > 0 {
			wait = w
			if row.Logged == 1 {
				_, err := tx.ExecContext(ctx, tx.Rebind("UPDATE staff_throttle SET refused = refused + 1 WHERE key = ?"), t.key)
				return err
			}
			if err := audit.Record(ctx, tx, t.action, t.subject, withRefused(t.what+"refused: throttled", row.Refused)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, tx.Rebind("UPDATE staff_throttle SET refused = 0, refusal_window = last_failure_at WHERE key = ?"), t.key)
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind("UPDATE staff_throttle SET failures = ?, last_failure_at = ? WHERE key = ?"), row.Failures+1, now, t.key)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("staff: throttle: %w", store.MapErr(err))
	}
	return wait, nil
}

// forgetOld deletes the failure counts of other keys that nobody followed
// up for a day (keeps unknown logins from piling up), first writing to the
// trail the refusals they still count. On PostgreSQL rows another
// transaction holds are skipped (the next attempt forgets them), so two
// laptops cleaning up never wait on each other.
func (s *Service) forgetOld(ctx context.Context, tx *sqlx.Tx, now time.Time, except string) error {
	lock := ""
	if s.DB.Dialect == store.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var old []struct {
		Key     string `db:"key"`
		Refused int    `db:"refused"`
	}
	if err := tx.SelectContext(ctx, &old, tx.Rebind("SELECT key, refused FROM staff_throttle WHERE last_failure_at < ? AND key <> ? ORDER BY key"+lock),
		now.Add(-forgetAfter), except); err != nil {
		return err
	}
	for _, o := range old {
		if o.Refused > 0 {
			t, err := throttleOf(ctx, tx, o.Key)
			if err != nil {
				return err
			}
			if err := audit.Record(audit.WithActor(ctx, audit.Anonymous), tx, t.action, t.subject,
				withRefused("failure count forgotten after a day", o.Refused)); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM staff_throttle WHERE key = ?"), o.Key); err != nil {
			return err
		}
	}
	return nil
}

// throttleOf is where the entries of a stored throttle key go: the login's
// account, or unknownSubject for a login that names none (what was typed is
// not recorded).
func throttleOf(ctx context.Context, q sqlx.QueryerContext, key string) (throttled, error) {
	if key == pinThrottleKey {
		return pinThrottle, nil
	}
	login, _ := strings.CutPrefix(key, "login:")
	if _, err := getAccount(ctx, q, "login", login); err == nil {
		return loginThrottle(login, login), nil
	} else if !errors.Is(err, ErrNoSuchAccount) {
		return throttled{}, err
	}
	return throttled{key: key, action: audit.LoginFailed, subject: unknownSubject}, nil
}

// withRefused adds to detail how many throttled attempts were refused
// since the key's last entry without one of their own.
func withRefused(detail string, n int) string {
	if n <= 0 {
		return detail
	}
	note := fmt.Sprintf("%d more attempts refused while throttled, not logged one by one", n)
	if n == 1 {
		note = "1 more attempt refused while throttled, not logged on its own"
	}
	if detail == "" {
		return note
	}
	return detail + "; " + note
}

// recordFailure audits a failed check of t's key; the entry also says how
// many refusals the key counted since its last entry (they are reset in
// the same transaction, so none is written twice or lost).
func (s *Service) recordFailure(ctx context.Context, t throttled, detail string) error {
	return s.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		n, err := takeRefused(ctx, tx, s.DB.Dialect, t.key)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, t.action, t.subject, withRefused(detail, n))
	})
}

// takeRefused returns and resets the refusals key counts unlogged.
func takeRefused(ctx context.Context, tx *sqlx.Tx, d store.Dialect, key string) (int, error) {
	lock := ""
	if d == store.Postgres {
		lock = " FOR UPDATE"
	}
	var n []int
	if err := tx.SelectContext(ctx, &n, tx.Rebind("SELECT refused FROM staff_throttle WHERE key = ?"+lock), key); err != nil {
		return 0, err
	}
	if len(n) == 0 || n[0] == 0 {
		return 0, nil
	}
	_, err := tx.ExecContext(ctx, tx.Rebind("UPDATE staff_throttle SET refused = 0 WHERE key = ?"), key)
	return n[0], err
}

// clearFailures deletes key's failure count after a success and returns
// the refusals it still counted, for the success's own entry to say.
func clearFailures(ctx context.Context, tx *sqlx.Tx, key string) (int, error) {
	var n []int
	if err := tx.SelectContext(ctx, &n, tx.Rebind("DELETE FROM staff_throttle WHERE key = ? RETURNING refused"), key); err != nil {
		return 0, err
	}
	if len(n) == 0 {
		return 0, nil
	}
	return n[0], nil
}

// unknownSubject is the audit subject of a failed login whose login names
// no account: what was typed is not recorded, because people now and then
// type their password into the login field.
const unknownSubject = "(unknown login)"

// Login checks a login and password and returns the session with its data
// key. A wrong password and an unknown login both give ErrBadLogin after the
// same argon2id work. After three consecutive failures for a login, attempts
// are refused with *ThrottledError until the back-off has passed.
func (s *Service) Login(ctx context.Context, login, password string) (*Session, error) {
	folded := FoldLogin(login)
	if has, err := s.HasAccounts(ctx); err != nil {
		return nil, err
	} else if !has {
		return nil, ErrNoAccounts
	}
	r, err := getAccount(ctx, s.DB, "login", folded)
	known := err == nil
	if err != nil && !errors.Is(err, ErrNoSuchAccount) {
		return nil, err
	}
	subject := unknownSubject
	if known {
		subject = r.Login
	}
	thr := loginThrottle(folded, subject)
	if wait, err := s.claimAttempt(ctx, thr); err != nil {
		return nil, err
	} else if wait > 0 {
		return nil, &ThrottledError{Wait: wait}
	}

	var key *pii.Key
	ok := false
	if !known {
		// The same work as for an account: a password hash and the key
		// that would open a sealed private key.
		p := s.kdf()
		p.derive([]byte(password), randomBytes(saltLen), hashLen)
		p.derive([]byte(password), randomBytes(saltLen), 32)
	} else {
		if ok, err = verifySecret(r.PasswordHash, password); err != nil {
			return nil, fmt.Errorf("staff: account %s: password hash: %w", r.Login, err)
		}
		if ok {
			if key, err = s.unseal(ctx, r, password); err != nil {
				return nil, err
			}
		} else {
			// Keep the timing of a wrong password like a right one.
			if h, err := parsePHC(r.PrivateKey, algSealedKey); err == nil {
				h.Params.derive([]byte(password), h.Salt, 32)
			}
		}
	}
	if !ok {
		// The attempt was counted by claimAttempt.
		if err := s.recordFailure(ctx, thr, "wrong login or password"); err != nil {
			return nil, err
		}
		return nil, ErrBadLogin
	}
	if r.Disabled {
		if err := s.recordFailure(ctx, thr, "account disabled"); err != nil {
			return nil, err
		}
		return nil, ErrDisabled
	}
	// A password hashed under a lower cost than the one in force (the
	// defaults were raised since it was set) is hashed again, and the
	// private key sealed again, now that the password is at hand.
	hash, sealed, detail := "", "", ""
	if s.belowCost(r) {
		p := s.kdf()
		priv, err := openPrivate(r.PrivateKey, password, r.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("staff: account %s: its sealed private key does not open with a correct password (altered row?): %w", r.Login, err)
		}
		hash, sealed = hashSecret(password, p), sealPrivate(priv, password, p)
		detail = fmt.Sprintf("password hash upgraded to argon2id t=%d m=%d KiB p=%d", p.Time, p.MemoryKiB, p.Threads)
	}
	now := s.now()
	err = s.DB.Tx(audit.WithActor(ctx, r.Login), func(tx *sqlx.Tx) error {
		refused, err := clearFailures(ctx, tx, thr.key)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE staff_accounts SET last_login_at = ? WHERE id = ?"), now, r.ID); err != nil {
			return err
		}
		if hash != "" {
			// Only if nobody changed the password meanwhile.
			res, err := tx.ExecContext(ctx, tx.Rebind("UPDATE staff_accounts SET password_hash = ?, private_key = ? WHERE id = ? AND password_hash = ?"),
				hash, sealed, r.ID, r.PasswordHash)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				detail = ""
			}
		}
		return audit.Record(audit.WithActor(ctx, r.Login), tx, audit.Login, r.Login, withRefused(detail, refused))
	})
	if err != nil {
		return nil, fmt.Errorf("staff: login %s: %w", r.Login, err)
	}
	r.LastLogin = sql.NullTime{Time: now, Valid: true}
	return &Session{Account: r.account(), Key: key, Started: now}, nil
}

// belowCost reports whether the account's password hash or sealed private
// key was made with less time or memory than the service's cost: what a
// login upgrades and List shows.
func (s *Service) belowCost(r accountRow) bool {
	p := s.kdf()
	return weaker(r.PasswordHash, "argon2id", p) || weaker(r.PrivateKey, algSealedKey, p)
}

// listed is r as a coordinator's list shows it.
func (s *Service) listed(r accountRow) Account {
	a := r.account()
	a.BelowCost = s.belowCost(r)
	return a
}

// weaker reports whether the stored PHC string was made with less time or
// memory than p (a malformed one is left for the check that reads it).
func weaker(stored, alg string, p KDFParams) bool {
	h, err := parsePHC(stored, alg)
	return err == nil && (h.Params.Time < p.Time || h.Params.MemoryKiB < p.MemoryKiB)
}

// unseal opens the account's private key with its password and unwraps
// the data key (nil for a role without one), checked against the store.
func (s *Service) unseal(ctx context.Context, r accountRow, password string) (*pii.Key, error) {
	priv, err := openPrivate(r.PrivateKey, password, r.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("staff: account %s: its sealed private key does not open with a correct password (altered row?): %w", r.Login, err)
	}
	if r.WrappedKey == "" || !r.Role.HoldsDataKey() {
		return nil, nil
	}
	key, err := unwrapWith(priv, r.ID, r.WrappedKey)
	if err != nil {
		return nil, fmt.Errorf("staff: account %s: wrapped data key: %w", r.Login, err)
	}
	if err := s.checkKey(ctx, s.DB, key); err != nil {
		return nil, err
	}
	return key, nil
}

// checkKey compares key with the store's key check.
func (s *Service) checkKey(ctx context.Context, q sqlx.QueryerContext, key *pii.Key) error {
	want, err := readKeyCheck(ctx, q)
	if err != nil {
		return err
	}
	if want == "" || key.Check() != want {
		return ErrKeyCheck
	}
	return nil
}
