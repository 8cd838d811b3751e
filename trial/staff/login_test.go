package staff

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

func TestLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _, co := setup(t, db)
		// The right password, any case of the login.
		sess := mustLogin(t, s, " COORD ", coordPW)
		if sess.Account.Login != "coord" || sess.Key == nil || sess.Key.Check() != co.Key.Check() {
			t.Fatalf("coordinator session = %+v", sess)
		}
		// Venue staff holds the data key; an analyst none.
		if v := mustLogin(t, s, "venue", staffPW); v.Key == nil || v.Key.Check() != co.Key.Check() {
			t.Fatal("venue staff has no data key")
		}
		if a := mustLogin(t, s, "ana", anaPW); a.Key != nil || a.Account.Role != Analyst {
			t.Fatalf("analyst session = %+v, want no key", a)
		}
		// Wrong password, unknown login, another account's password: the same error.
		for _, c := range [][2]string{{"coord", "Wrong-password1"}, {"nobody", coordPW}, {"coord", staffPW}, {"coord", ""}} {
			if _, err := s.Login(ctx, c[0], c[1]); !errors.Is(err, ErrBadLogin) {
				t.Fatalf("Login(%s, wrong) = %v, want ErrBadLogin", c[0], err)
			}
		}
		// Disabled: the right password says so; a wrong one does not.
		if err := s.Disable(ctx, co, "venue", true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Login(ctx, "venue", staffPW); !errors.Is(err, ErrDisabled) {
			t.Fatalf("disabled account: %v, want ErrDisabled", err)
		}
		if _, err := s.Login(ctx, "venue", "Wrong-password1"); !errors.Is(err, ErrBadLogin) {
			t.Fatalf("disabled account, wrong password: %v, want ErrBadLogin", err)
		}
		if err := s.Disable(ctx, co, "venue", false); err != nil {
			t.Fatal(err)
		}
		v := mustLogin(t, s, "venue", staffPW)
		if err := s.Logout(ctx, v); err != nil || v.Key != nil {
			t.Fatalf("Logout: %v, key kept: %v", err, v.Key != nil)
		}
		if got := actions(t, db, audit.Logout); !slices.Equal(got, []string{"venue venue"}) {
			t.Fatalf("logout entries = %v", got)
		}
		if got := actions(t, db, audit.StaffDisable); !slices.Equal(got, []string{"coord venue", "coord venue"}) {
			t.Fatalf("staff.disable entries = %v", got)
		}

		if got := actions(t, db, audit.Login); !slices.Contains(got, "coord coord") || !slices.Contains(got, "venue venue") || !slices.Contains(got, "ana ana") {
			t.Fatalf("login entries = %v", got)
		}
		failed, err := audit.List(ctx, db, audit.Filter{Action: audit.LoginFailed})
		if err != nil {
			t.Fatal(err)
		}
		var subjects []string
		for _, e := range failed {
			subjects = append(subjects, e.Subject)
		}
		want := []string{"coord", unknownSubject, "coord", "coord", "venue", "venue"}
		if !slices.Equal(subjects, want) {
			t.Fatalf("login.failed subjects = %v, want %v", subjects, want)
		}
		verifyAudit(t, db)
	})
}

// Three failures are free; then each attempt waits 2^(n-3) s after the last
// failure, checked against a fake clock; a success starts over.
func TestLoginThrottle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, clk, _ := setup(t, db)
		bad := func(login string) {
			t.Helper()
			if _, err := s.Login(ctx, login, "Wrong-password1"); !errors.Is(err, ErrBadLogin) {
				t.Fatalf("wrong password for %s: %v, want ErrBadLogin", login, err)
			}
		}
		throttled := func(login, pw string, want time.Duration) {
			t.Helper()
			_, err := s.Login(ctx, login, pw)
			var te *ThrottledError
			if !errors.As(err, &te) || te.Wait != want {
				t.Fatalf("Login(%s) = %v, want throttled for %v", login, err, want)
			}
		}
		for _, login := range []string{"venue", "no-such-user"} {
			bad(login)
			bad(login)
			bad(login)
			// The fourth attempt is refused even with the right password.
			throttled(login, staffPW, time.Second)
			clk.Add(999 * time.Millisecond)
			throttled(login, staffPW, time.Millisecond)
			clk.Add(time.Millisecond)
			bad(login) // 4 failures: 2 s
			throttled(login, staffPW, 2*time.Second)
			clk.Add(2 * time.Second)
			bad(login) // 5: 4 s
			throttled(login, staffPW, 4*time.Second)
			clk.Add(4 * time.Second)
		}
		// Other logins are not affected.
		mustLogin(t, s, "ana", anaPW)
		// A success resets the count: three failures are free again.
		mustLogin(t, s, "venue", staffPW)
		bad("venue")
		bad("venue")
		bad("venue")
		throttled("venue", staffPW, time.Second)
		// Case does not dodge the throttle.
		throttled("VENUE", staffPW, time.Second)

		// Ten attempts were refused, in seven back-off windows: each
		// window's first refusal has an entry, the window's next failure
		// counts the others, and venue's last window still holds its count.
		tally := tallyRefusals(t, db, audit.LoginFailed)
		if tally.entries != 7 || tally.noted != 2 {
			t.Fatalf("refusals in the trail: %d entries and %d counted in later entries, want 7 and 2", tally.entries, tally.noted)
		}
		if n := pendingRefusals(t, db, "login:venue"); n != 1 {
			t.Fatalf("venue's last window counts %d refusals not yet in the trail, want 1", n)
		}
		verifyAudit(t, db)
	})
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{0: 0, 2: 0, 3: time.Second, 4: 2 * time.Second, 5: 4 * time.Second,
		12: 512 * time.Second, 13: 15 * time.Minute, 40: 15 * time.Minute, 1 << 30: 15 * time.Minute} {
		if got := Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

// Login's own state (throttle rows) stays bounded: a day-old failure is
// forgotten the next time anything fails.
func TestThrottleForgetsOldFailures(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	s, clk, _ := setup(t, db)
	for i := 0; i < 5; i++ {
		if _, err := s.Login(ctx, "intruder", "Wrong-password1"); !errors.Is(err, ErrBadLogin) {
			t.Fatal(err)
		}
		clk.Add(time.Hour)
	}
	clk.Add(25 * time.Hour)
	if _, err := s.Login(ctx, "other", "Wrong-password1"); !errors.Is(err, ErrBadLogin) {
		t.Fatal(err)
	}
	var keys []string
	if err := db.SelectContext(ctx, &keys, "SELECT key FROM staff_throttle"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"login:other"}) {
		t.Fatalf("throttle keys = %v", keys)
	}
}

// Guesses made at the same moment from several laptops on one PostgreSQL
// get no more tries than one laptop: the first three reach the password
// check, every other one is refused by the back-off.
func TestThrottleHoldsForParallelGuesses(t *testing.T) {
	dsn := storetest.NewDatabase(t)
	ctx := context.Background()
	var svcs [2]*Service
	c := &clock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	for i := range svcs {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		svcs[i] = New(db)
		svcs[i].Now, svcs[i].KDF = c.Now, TestKDF
	}
	if _, err := svcs[0].CreateFirst(ctx, "coord", "Coordinator One", coordPW); err != nil {
		t.Fatal(err)
	}
	const guesses = 16
	var wg sync.WaitGroup
	errs := make(chan error, guesses)
	start := make(chan struct{})
	for i := range guesses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := svcs[i%2].Login(ctx, "coord", fmt.Sprintf("Wrong-guess-%02d", i))
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	checked, refused := 0, 0
	for err := range errs {
		var te *ThrottledError
		switch {
		case errors.Is(err, ErrBadLogin):
			checked++
		case errors.As(err, &te):
			refused++
		default:
			t.Fatalf("guess: %v", err)
		}
	}
	if checked != freeFailures || refused != guesses-freeFailures {
		t.Fatalf("%d guesses reached the password check and %d were refused, want %d and %d", checked, refused, freeFailures, guesses-freeFailures)
	}
	var te *ThrottledError
	if _, err := svcs[1].Login(ctx, "coord", coordPW); !errors.As(err, &te) || te.Wait != time.Second {
		t.Fatalf("the right password during the back-off: %v", err)
	}
}

// Raising the cost settings takes effect for existing accounts at their
// next login: the password hash and the sealed private key are made again
// with the new cost (audited), the data key still opens, and a lower
// setting later does not weaken them.
func TestLoginUpgradesTheHashCost(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _, co := setup(t, db)
		stored := func() (string, string) {
			var row struct {
				Hash string `db:"password_hash"`
				Priv string `db:"private_key"`
			}
			if err := db.GetContext(ctx, &row, db.Rebind("SELECT password_hash, private_key FROM staff_accounts WHERE login = ?"), "coord"); err != nil {
				t.Fatal(err)
			}
			return row.Hash, row.Priv
		}
		h0, p0 := stored()
		if !strings.Contains(h0, "m=64,t=1,") || !strings.Contains(p0, "m=64,t=1,") {
			t.Fatalf("set up with TestKDF: %s / %s", h0, p0)
		}
		s.KDF = KDFParams{Time: 2, MemoryKiB: 256, Threads: 1}
		sess := mustLogin(t, s, "coord", coordPW)
		h1, p1 := stored()
		if !strings.Contains(h1, "m=256,t=2,") || !strings.Contains(p1, "m=256,t=2,") {
			t.Fatalf("after a login under a higher cost: %s / %s", h1, p1)
		}
		if sess.Key == nil || co.Key == nil || sess.Key.Check() != co.Key.Check() {
			t.Fatal("the data key does not open the same after the upgrade")
		}
		again := mustLogin(t, s, "coord", coordPW)
		if h2, _ := stored(); h2 != h1 || again.Key.Check() != co.Key.Check() {
			t.Fatalf("a second login changed the hash again or lost the key: %s", h2)
		}
		s.KDF = TestKDF
		mustLogin(t, s, "coord", coordPW)
		if h3, _ := stored(); h3 != h1 {
			t.Fatalf("a lower cost setting weakened the hash: %s", h3)
		}
		upgraded := 0
		es, _ := audit.List(ctx, db, audit.Filter{Action: audit.Login})
		for _, e := range es {
			if strings.Contains(e.Detail, "password hash upgraded to argon2id t=2 m=256 KiB p=1") {
				upgraded++
			}
		}
		if upgraded != 1 {
			t.Fatalf("%d logins audited as upgrading the hash, want 1", upgraded)
		}
		verifyAudit(t, db)
	})
}

// A coordinator sees which accounts still have a hash made under a lower
// cost than the one in force: every account once the cost is raised, until
// its own login or a password reset makes the hash again. Nothing changes
// by itself.
func TestListShowsHashesBelowTheCost(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _, co := setup(t, db)
		below := func() []string {
			t.Helper()
			as, err := s.List(ctx, co)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, a := range as {
				if a.BelowCost {
					out = append(out, a.Login)
				}
			}
			return out
		}
		if got := below(); len(got) != 0 {
			t.Fatalf("below the cost they were made with: %v", got)
		}
		s.KDF = KDFParams{Time: 2, MemoryKiB: 256, Threads: 1}
		if got := below(); !slices.Equal(got, []string{"ana", "coord", "venue"}) {
			t.Fatalf("after raising the cost: %v, want every account", got)
		}
		if got := below(); !slices.Equal(got, []string{"ana", "coord", "venue"}) {
			t.Fatalf("listing changed them: %v", got)
		}
		// Only the memory raised counts too.
		s.KDF = KDFParams{Time: 1, MemoryKiB: 128, Threads: 1}
		if got := below(); len(got) != 3 {
			t.Fatalf("after raising the memory only: %v", got)
		}
		s.KDF = KDFParams{Time: 2, MemoryKiB: 256, Threads: 1}
		mustLogin(t, s, "coord", coordPW)
		if got := below(); !slices.Equal(got, []string{"ana", "venue"}) {
			t.Fatalf("after coord's login: %v", got)
		}
		if err := s.ResetPassword(ctx, co, "venue", "Brand-new-pass9"); err != nil {
			t.Fatal(err)
		}
		if got := below(); !slices.Equal(got, []string{"ana"}) {
			t.Fatalf("after venue's reset: %v", got)
		}
		if a, err := s.Create(ctx, co, "new-staff", "New Staff", VenueStaff, "Brand-new-pass9"); err != nil || a.BelowCost {
			t.Fatalf("a new account: %+v %v", a, err)
		}
		// A wrong password or a refused login does not rehash anything.
		if _, err := s.Login(ctx, "ana", "Wrong-password1"); !errors.Is(err, ErrBadLogin) {
			t.Fatal(err)
		}
		if got := below(); !slices.Equal(got, []string{"ana"}) {
			t.Fatalf("after ana's failed login: %v", got)
		}
	})
}
