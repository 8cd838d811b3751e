package staff

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/pii"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

const (
	coordPW = "Coordinator-pass1"
	staffPW = "Venue-staff-pass2"
	anaPW   = "analyst-pass-3"
)

// clock is a fake Service.Now that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newService(db *store.DB) (*Service, *clock) {
	c := &clock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	s := New(db)
	s.Now = c.Now
	s.KDF = TestKDF
	return s, c
}

// setup makes a store with a coordinator "coord", venue staff "venue" and
// analyst "ana".
func setup(t *testing.T, db *store.DB) (*Service, *clock, *Session) {
	t.Helper()
	s, c := newService(db)
	ctx := context.Background()
	co, err := s.CreateFirst(ctx, "Coord", "Coordinator One", coordPW)
	if err != nil {
		t.Fatalf("CreateFirst: %v", err)
	}
	if _, err := s.Create(ctx, co, "venue", "Venue Staff", VenueStaff, staffPW); err != nil {
		t.Fatalf("Create venue: %v", err)
	}
	if _, err := s.Create(ctx, co, "ana", "Analyst", Analyst, anaPW); err != nil {
		t.Fatalf("Create analyst: %v", err)
	}
	return s, c, co
}

func mustLogin(t *testing.T, s *Service, login, pw string) *Session {
	t.Helper()
	sess, err := s.Login(context.Background(), login, pw)
	if err != nil {
		t.Fatalf("Login %s: %v", login, err)
	}
	return sess
}

func exec(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), db.Rebind(q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// addMonitors adds a trial and monitors with the given names (sealed under
// key, or in the clear when key is nil), ids M-0001, M-0002, ...
func addMonitors(t *testing.T, db *store.DB, key *pii.Key, names ...string) {
	t.Helper()
	ctx := context.Background()
	exec(t, db, "INSERT INTO trials (name, kind, loan_days, notes, created_at) VALUES ('t', 'venue', 14, '', ?)", store.Now())
	var tid int64
	if err := db.GetContext(ctx, &tid, "SELECT MAX(id) FROM trials"); err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		id := fmt.Sprintf("M-%04d", i+1)
		name, contact := n, "tel-"+n
		if key != nil {
			var err error
			if name, err = key.Seal("monitors.name", id, n); err != nil {
				t.Fatal(err)
			}
			if contact, err = key.Seal("monitors.contact", id, "tel-"+n); err != nil {
				t.Fatal(err)
			}
		}
		exec(t, db, "INSERT INTO monitors (id, trial_id, name, kana, contact, status, created_at, updated_at) VALUES (?, ?, ?, '', ?, 'enrolled', ?, ?)",
			id, tid, name, contact, store.Now(), store.Now())
	}
}

// monitorName reads and opens a monitor's name with key.
func monitorName(t *testing.T, db *store.DB, key *pii.Key, id string) (string, error) {
	t.Helper()
	var v string
	if err := db.GetContext(context.Background(), &v, db.Rebind("SELECT name FROM monitors WHERE id = ?"), id); err != nil {
		t.Fatal(err)
	}
	return key.Open("monitors.name", id, v)
}

// dump returns every row of the tables as text, for "nothing changed" and
// "no secret in the clear" checks.
func dump(t *testing.T, db *store.DB, tables ...string) string {
	t.Helper()
	var b strings.Builder
	for _, tb := range tables {
		rows, err := db.QueryxContext(context.Background(), "SELECT * FROM "+tb)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for rows.Next() {
			m := map[string]any{}
			if err := rows.MapScan(m); err != nil {
				t.Fatal(err)
			}
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var l strings.Builder
			for _, k := range keys {
				v := m[k]
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				if tm, ok := v.(time.Time); ok {
					v = tm.UTC().Format(time.RFC3339Nano)
				}
				fmt.Fprintf(&l, "%s=%v;", k, v)
			}
			lines = append(lines, l.String())
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		sort.Strings(lines)
		fmt.Fprintf(&b, "[%s]\n%s\n", tb, strings.Join(lines, "\n"))
	}
	return b.String()
}

var allTables = []string{"staff_accounts", "staff_tokens", "staff_throttle", "settings", "monitors", "audit_log", "audit_head"}

// actions returns the audit entries of action as "actor subject" strings.
func actions(t *testing.T, db *store.DB, action string) []string {
	t.Helper()
	es, err := audit.List(context.Background(), db, audit.Filter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Actor+" "+e.Subject)
	}
	return out
}

func verifyAudit(t *testing.T, db *store.DB) {
	t.Helper()
	rep, err := audit.Verify(context.Background(), db)
	if err != nil || !rep.OK() {
		t.Fatalf("audit verify: %v %v", rep.Problems, err)
	}
}

func TestCommonPath(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newService(db)
		if has, err := s.HasAccounts(ctx); err != nil || has {
			t.Fatalf("HasAccounts on a new store = %v, %v", has, err)
		}
		if _, err := s.Login(ctx, "coord", coordPW); !errors.Is(err, ErrNoAccounts) {
			t.Fatalf("Login before any account: %v, want ErrNoAccounts", err)
		}
		co, err := s.CreateFirst(ctx, "Coord", "Coordinator One", coordPW)
		if err != nil {
			t.Fatal(err)
		}
		if co.Account.Login != "coord" || co.Account.Role != Coordinator || co.Key == nil {
			t.Fatalf("first session = %+v", co)
		}
		if has, _ := s.HasAccounts(ctx); !has {
			t.Fatal("HasAccounts false after CreateFirst")
		}
		if _, err := s.CreateFirst(ctx, "other", "Other", coordPW); !errors.Is(err, ErrAccountsExist) {
			t.Fatalf("second CreateFirst: %v, want ErrAccountsExist", err)
		}
		acc, err := s.Create(ctx, co, "Venue", "Venue Staff", VenueStaff, staffPW)
		if err != nil {
			t.Fatal(err)
		}
		if acc.Login != "venue" || acc.Role != VenueStaff || acc.Disabled || acc.HasPIN || acc.LastLogin != nil {
			t.Fatalf("created account = %+v", acc)
		}
		if _, err := s.Create(ctx, co, "VENUE", "Again", Analyst, anaPW); !errors.Is(err, ErrLoginTaken) {
			t.Fatalf("duplicate login (other case): %v, want ErrLoginTaken", err)
		}
		v := mustLogin(t, s, "VENUE", staffPW)
		if v.Key == nil || v.Key.Check() != co.Key.Check() {
			t.Fatal("venue staff did not get the store's data key")
		}
		list, err := s.List(ctx, co)
		if err != nil || len(list) != 2 || list[0].Login != "coord" || list[1].Login != "venue" {
			t.Fatalf("List = %+v, %v", list, err)
		}
		if list[1].LastLogin == nil || !list[1].LastLogin.Equal(v.Started) || list[0].LastLogin != nil {
			t.Fatalf("last login not recorded: %+v", list)
		}
		if list[1].DisplayName != "Venue Staff" || list[1].CreatedAt.IsZero() {
			t.Fatalf("listed account = %+v", list[1])
		}
		tok, err := s.IssueToken(ctx, v, 0)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Resume(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if r.Account.Login != "venue" || r.Key == nil || r.Key.Check() != co.Key.Check() {
			t.Fatalf("resumed session = %+v", r)
		}
	})
}

// The first run seals personal fields typed in before accounts existed.
func TestCreateFirstSealsClearFields(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newService(db)
		addMonitors(t, db, nil, "山田 太郎", "佐藤 花子")
		co, err := s.CreateFirst(ctx, "coord", "Coordinator", coordPW)
		if err != nil {
			t.Fatal(err)
		}
		if req, err := pii.Required(ctx, db); err != nil || !req {
			t.Fatalf("store not marked sealed: %v %v", req, err)
		}
		if d := dump(t, db, "monitors"); strings.Contains(d, "山田") || strings.Contains(d, "tel-") {
			t.Fatalf("personal fields still in the clear:\n%s", d)
		}
		if n, err := monitorName(t, db, co.Key, "M-0001"); err != nil || n != "山田 太郎" {
			t.Fatalf("sealed name opens as %q, %v", n, err)
		}
		if got := actions(t, db, audit.StaffCreate); len(got) != 1 || got[0] != "coord coord" {
			t.Fatalf("staff.create entries = %v", got)
		}
		es, _ := audit.List(ctx, db, audit.Filter{Action: audit.StaffCreate})
		if !strings.Contains(es[0].Detail, "4 personal fields sealed") {
			t.Fatalf("detail = %q", es[0].Detail)
		}
		verifyAudit(t, db)
	})
}

// A first run that fails (a sealed field it cannot open) leaves no account
// and no data key behind.
func TestCreateFirstFailureLeavesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newService(db)
		other, _ := pii.NewKey()
		addMonitors(t, db, other, "山田 太郎")
		before := dump(t, db, allTables...)
		if _, err := s.CreateFirst(ctx, "coord", "Coordinator", coordPW); !errors.Is(err, pii.ErrLocked) {
			t.Fatalf("CreateFirst over fields sealed by an unknown key: %v, want pii.ErrLocked", err)
		}
		if after := dump(t, db, allTables...); after != before {
			t.Fatalf("failed CreateFirst changed the store:\n%s\nwas\n%s", after, before)
		}
	})
}

// Two laptops on one PostgreSQL store create the first coordinator at the
// same moment: exactly one wins.
func TestCreateFirstRace(t *testing.T) {
	for round := 0; round < 3; round++ {
		ctx := context.Background()
		dbs := storetest.Laptops(t, 2)
		start := make(chan struct{})
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range dbs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, _ := newService(dbs[i])
				<-start
				_, errs[i] = s.CreateFirst(ctx, fmt.Sprintf("coord%d", i), "Coordinator", coordPW)
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, ErrAccountsExist):
				t.Fatalf("round %d: loser got %v, want ErrAccountsExist", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d winners (%v)", round, won, errs)
		}
		var n, checks int
		if err := dbs[0].GetContext(ctx, &n, "SELECT COUNT(*) FROM staff_accounts"); err != nil || n != 1 {
			t.Fatalf("round %d: %d accounts, %v", round, n, err)
		}
		if err := dbs[0].GetContext(ctx, &checks, "SELECT COUNT(*) FROM settings WHERE key = 'pii.key_check'"); err != nil || checks != 1 {
			t.Fatalf("round %d: %d key checks", round, checks)
		}
	}
}

func TestValidation(t *testing.T) {
	for _, c := range []struct {
		login string
		ok    bool
	}{{"abc", true}, {"Tanaka.K", true}, {"a_b-c.d", true}, {"ab", false}, {strings.Repeat("a", 32), true},
		{strings.Repeat("a", 33), false}, {"with space", false}, {"名前abc", false}, {"a@b", false}} {
		if err := ValidateLogin(c.login); (err == nil) != c.ok {
			t.Errorf("ValidateLogin(%q) = %v", c.login, err)
		}
	}
	for _, c := range []struct {
		pw string
		ok bool
	}{{"short1A", false}, {"alllowercaseletters", false}, {"1234567890", false}, {"ABCDEFGHIJK", false},
		{"!!!!!!!!!!!!", false}, {"lowercase12", true}, {"Mixed-Case", true}, {"パスワードです1234", true}, {strings.Repeat("a1", 129), false}} {
		if err := ValidatePassword(c.pw); (err == nil) != c.ok {
			t.Errorf("ValidatePassword(%q) = %v", c.pw, err)
		}
	}
	if err := ValidatePasswordFor("tanaka.2026", "Tanaka.2026"); err == nil {
		t.Error("the login accepted as its own password")
	}
	if err := ValidatePasswordFor("tanaka", "Tanaka.2026"); err != nil {
		t.Errorf("a password containing the login is allowed: %v", err)
	}
	for _, c := range []struct {
		pin string
		ok  bool
	}{{"123456", true}, {"12345678", true}, {"12345", false}, {"123456789", false}, {"12345a", false}, {"１２３４５６", false}} {
		if err := ValidatePIN(c.pin); (err == nil) != c.ok {
			t.Errorf("ValidatePIN(%q) = %v", c.pin, err)
		}
	}
	// Errors name the field, never the value.
	if err := ValidatePassword("secretpw"); err == nil || strings.Contains(err.Error(), "secretpw") {
		t.Errorf("password error shows the value: %v", err)
	}
}

// Each refusal is a *FieldError with its field and reason code (what the
// screens translate) and the English text the command line shows.
func TestValidationReasons(t *testing.T) {
	for _, c := range []struct {
		err           error
		field, reason string
		n             int
		text          string
	}{
		{ValidateLogin("ab"), FieldLogin, ReasonLoginLength, 0, "login: 3 to 32 characters"},
		{ValidateLogin("a b"), FieldLogin, ReasonLoginChars, 0, "login: only letters a–z, digits, '.', '_' and '-'"},
		{validateDisplayName(" "), FieldDisplayName, ReasonRequired, 0, "display name: required"},
		{validateDisplayName(strings.Repeat("名", 65)), FieldDisplayName, ReasonNameLength, 64, "display name: at most 64 characters"},
		{validateDisplayName("a\x07b"), FieldDisplayName, ReasonControl, 0, "display name: no control characters"},
		{ValidatePassword("Short1"), FieldPassword, ReasonPasswordShort, 10, "password: at least 10 characters"},
		{ValidatePassword(strings.Repeat("a1", 129)), FieldPassword, ReasonPasswordLong, 256, "password: at most 256 characters of valid text"},
		{ValidatePassword("onlylowercase"), FieldPassword, ReasonPasswordClasses, 0, "password: mix at least two kinds of characters (lower-case, upper-case, digits, symbols)"},
		{ValidatePasswordFor("tanaka.2026", "TANAKA.2026"), FieldPassword, ReasonPasswordLogin, 0, "password: must not be the login"},
		{ValidatePIN("123"), FieldPIN, ReasonPINLength, 0, "staff PIN: 6 to 8 digits"},
		{ValidatePIN("12345x"), FieldPIN, ReasonPINDigits, 0, "staff PIN: digits only"},
	} {
		var fe *FieldError
		if !errors.As(c.err, &fe) {
			t.Errorf("%v is not a *FieldError", c.err)
			continue
		}
		if fe.Field != c.field || fe.Reason != c.reason || fe.N != c.n || c.err.Error() != c.text {
			t.Errorf("%q: field %q reason %q n %d, want %q %q %d and text %q", c.err, fe.Field, fe.Reason, fe.N, c.field, c.reason, c.n, c.text)
		}
		if !slices.Contains(Reasons, fe.Reason) {
			t.Errorf("reason %q is not in Reasons", fe.Reason)
		}
	}
}
