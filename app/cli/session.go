package cli

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"jpkipilot/trial/staff"
	"jpkipilot/trial/store"
)

func init() {
	register(&Command{
		Name:    "login",
		Usage:   "login [--user LOGIN] [--ttl 12h]",
		Summary: "log in with a staff account (password from the terminal, or one line of standard input); the session token goes to the token file",
		Run:     runLogin,
	})
	register(&Command{
		Name:    "logout",
		Usage:   "logout",
		Summary: "end the session: the token is revoked and its file removed",
		Run:     runLogout,
	})
	register(&Command{
		Name:    "whoami",
		Usage:   "whoami",
		Summary: "the logged-in account: login, role, session expiry",
		Run:     runWhoami,
	})
}

// maxTokenTTL bounds --ttl: a token file unlocks personal data, so a
// forgotten one should not stay good for long.
const maxTokenTTL = 7 * 24 * time.Hour

// newStaff returns the staff service on db; tests swap in cheap KDF costs.
var newStaff = staff.New

// tokenPath is where the session token of env's store lives: --token-file,
// JPKIPILOT_TOKEN_FILE, or a file in the user config directory named after
// the store, so two stores never share a session.
func tokenPath(env *Env) (string, error) {
	if env.TokenFile != "" {
		return env.TokenFile, nil
	}
	dir, err := os.UserConfigDir() // $XDG_CONFIG_HOME, else ~/.config
	if err != nil {
		return "", fmt.Errorf("no directory for the session token (set --token-file): %w", err)
	}
	id, err := storeIdentity(env.DSN)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(id))
	return filepath.Join(dir, "jpkipilot", "session-"+hex.EncodeToString(sum[:])[:12]), nil
}

// storeIdentity names a store independently of how --db spelled it: the
// PostgreSQL DSN, or the SQLite file's absolute path.
func storeIdentity(dsn string) (string, error) {
	if store.IsPostgresDSN(dsn) {
		return dsn, nil
	}
	path := dsn
	if path == "" {
		p, err := store.DefaultPath()
		if err != nil {
			return "", err
		}
		path = p
	}
	return filepath.Abs(path)
}

// readToken returns the saved token, "" when there is none. Like ssh with
// a private key, it refuses a token file others may read: the token alone
// unlocks the personal data.
func readToken(path string) (string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("session token: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return "", fmt.Errorf("session token: %w", err)
	} else if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("session token %s may be read by others (mode %04o): remove it and log in again", path, st.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return "", fmt.Errorf("session token: %w", err)
	}
	return strings.TrimSpace(firstLine(string(b))), nil
}

// saveToken writes the token readable by its owner only, with its expiry
// on a second line for whoami (the store decides; the line only informs).
func saveToken(path, token string, expires time.Time) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("session token: %w", err)
	}
	return writePrivate(path, []byte(token+"\nexpires "+expires.UTC().Format(time.RFC3339)+"\n"))
}

// tokenExpiry is the expiry saveToken noted in the token file.
func tokenExpiry(path string) (time.Time, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "expires "); ok {
			t, err := time.Parse(time.RFC3339, strings.TrimSpace(v))
			return t, err == nil
		}
	}
	return time.Time{}, false
}

// forgetToken removes the token file of a session the store has ended.
func forgetToken(env *Env) error {
	path, err := tokenPath(env)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("session token: %w", err)
	}
	return nil
}

// isEndedSession reports whether err means the token no longer opens a
// session: expired, revoked, its account disabled, or the data key rotated.
func isEndedSession(err error) bool {
	return errors.Is(err, staff.ErrBadToken) || errors.Is(err, staff.ErrStaleKey) || errors.Is(err, staff.ErrDisabled)
}

func osLogin() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

func runLogin(env *Env, args []string) error {
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	login := fs.String("user", "", "the account's login (default: the OS user name)")
	ttl := fs.Duration("ttl", staff.DefaultTokenTTL, "how long the session lasts")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return Usagef("login takes only flags, got %q", pos[0])
	}
	if *ttl <= 0 || *ttl > maxTokenTTL {
		return Usagef("--ttl wants a duration up to %s, such as 8h", maxTokenTTL)
	}
	if *login == "" {
		if *login = osLogin(); *login == "" {
			return Usagef("say who logs in: --user LOGIN")
		}
	}
	path, err := tokenPath(env)
	if err != nil {
		return err
	}
	db, err := store.Open(env.Ctx, env.DSN)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := newStaff(db)
	if has, err := svc.HasAccounts(env.Ctx); err != nil {
		return err
	} else if !has {
		return errors.New("this store has no staff accounts yet: make the first coordinator with `jpkipilot staff init --login LOGIN`")
	}
	pw, err := newSecrets(env).ask("Password for "+*login+": ", "password")
	if err != nil {
		return err
	}
	sess, err := svc.Login(env.Ctx, *login, pw)
	if err != nil {
		return loginRefused(err)
	}
	until := time.Now().Add(*ttl)
	token, err := svc.IssueToken(env.Ctx, sess, *ttl)
	if err != nil {
		return err
	}
	// A session this file held before ends now rather than at its expiry.
	if old, _ := readToken(path); old != "" {
		_ = svc.RevokeToken(env.Ctx, old)
	}
	if err := saveToken(path, token, until); err != nil {
		_ = svc.RevokeToken(env.Ctx, token)
		return err
	}
	fmt.Fprintf(env.Stdout, "logged in as %s (%s) until %s\n", sess.Account.Login, sess.Account.Role, until.Format("2006-01-02 15:04 MST"))
	return nil
}

// loginRefused turns a failed login into its one line: what went wrong and,
// when throttled, how long to wait. It never says whether the login exists.
func loginRefused(err error) error {
	var th *staff.ThrottledError
	switch {
	case errors.As(err, &th):
		return fmt.Errorf("login refused: too many failed attempts; try again in %s", waitText(th.Wait))
	case errors.Is(err, staff.ErrBadLogin):
		return errors.New("login refused: wrong login or password")
	case errors.Is(err, staff.ErrDisabled):
		return errors.New("login refused: the account is disabled (ask a coordinator)")
	}
	return err
}

// waitText is a wait rounded up to the second ("1m30s", "5s").
func waitText(d time.Duration) string {
	if d < time.Second {
		d = time.Second
	}
	return d.Round(time.Second).String()
}

func runLogout(env *Env, args []string) error {
	if len(args) != 0 {
		return Usagef("logout takes no arguments")
	}
	path, err := tokenPath(env)
	if err != nil {
		return err
	}
	token, err := readToken(path)
	if err != nil {
		return err
	}
	if token == "" {
		fmt.Fprintln(env.Stdout, "not logged in")
		return nil
	}
	db, err := store.Open(env.Ctx, env.DSN)
	if err != nil {
		return err
	}
	defer db.Close()
	// The file goes whatever the store says: a token that is already
	// expired or revoked is no session either.
	rerr := newStaff(db).RevokeToken(env.Ctx, token)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("session token: %w", err)
	}
	if rerr != nil && !isEndedSession(rerr) {
		return fmt.Errorf("the token file is removed but the store did not revoke the token: %w", rerr)
	}
	fmt.Fprintln(env.Stdout, "logged out")
	return nil
}

func runWhoami(env *Env, args []string) error {
	if len(args) != 0 {
		return Usagef("whoami takes no arguments")
	}
	db, err := store.Open(env.Ctx, env.DSN)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := newStaff(db)
	if has, err := svc.HasAccounts(env.Ctx); err != nil {
		return err
	} else if !has {
		return errors.New("nobody: this store has no staff accounts yet")
	}
	sess, err := resume(env, svc)
	if err != nil {
		return err
	}
	a := sess.Account
	line := fmt.Sprintf("%s (%s)", a.Login, a.Role)
	if a.DisplayName != "" && a.DisplayName != a.Login {
		line += " " + a.DisplayName
	}
	if path, err := tokenPath(env); err == nil {
		if t, ok := tokenExpiry(path); ok {
			line += ", session until " + t.Local().Format("2006-01-02 15:04 MST")
		}
	}
	fmt.Fprintln(env.Stdout, line)
	return nil
}

// resume returns the session of the saved token, or a one-line reason to log in.
func resume(env *Env, svc *staff.Service) (*staff.Session, error) {
	path, err := tokenPath(env)
	if err != nil {
		return nil, err
	}
	token, err := readToken(path)
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, errors.New("not logged in: this store has staff accounts; log in with `jpkipilot login`")
	}
	sess, err := svc.Resume(env.Ctx, token)
	if err != nil {
		if isEndedSession(err) {
			return nil, errors.New("the session has ended (expired, revoked or disabled): log in again with `jpkipilot login`")
		}
		return nil, err
	}
	return sess, nil
}

// secrets reads passwords and PINs: at a terminal with echo off, else one
// line of standard input each. Never from flags or the environment, never
// echoed, printed or logged.
type secrets struct {
	env *Env
	tty *os.File
	in  *bufio.Reader
}

func newSecrets(env *Env) *secrets {
	s := &secrets{env: env}
	if f, ok := env.Stdin.(*os.File); ok && isTerminal(f) {
		s.tty = f
	} else {
		s.in = bufio.NewReader(env.Stdin)
	}
	return s
}

// ask reads one secret; what names it in errors.
func (s *secrets) ask(prompt, what string) (string, error) {
	if s.tty != nil {
		p, err := readPINNoEcho(s.env.Ctx, s.tty, func() { fmt.Fprint(s.env.Stderr, prompt) })
		fmt.Fprintln(s.env.Stderr)
		if err != nil {
			return "", err
		}
		if p == "" {
			return "", fmt.Errorf("empty %s", what)
		}
		return p, nil
	}
	line, err := s.in.ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return "", fmt.Errorf("no %s on standard input (one line)", what)
	}
	p := firstLine(line)
	if p == "" {
		return "", fmt.Errorf("empty %s", what)
	}
	return p, nil
}

// askNew reads a new secret twice; check vets the first before the second
// is asked for.
func (s *secrets) askNew(prompt, what string, check func(string) error) (string, error) {
	p, err := s.ask(prompt, what)
	if err != nil {
		return "", err
	}
	if check != nil {
		if err := check(p); err != nil {
			return "", err
		}
	}
	again, err := s.ask("Again: ", what)
	if err != nil {
		return "", err
	}
	if again != p {
		return "", fmt.Errorf("the two %ss differ; nothing changed", what)
	}
	return p, nil
}
