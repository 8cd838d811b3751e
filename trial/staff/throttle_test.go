package staff

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// refusals is what the trail says about throttled attempts of one action.
type refusals struct {
	entries int // entries of a refused attempt ("... refused: throttled")
	noted   int // refusals counted in later entries ("N more attempts ...")
}

var moreRefused = regexp.MustCompile(`(\d+) more attempts? refused while throttled`)

// tallyRefusals reads the trail the way a coordinator would: every entry of
// a refused attempt, plus the counts other entries carry.
func tallyRefusals(t *testing.T, db *store.DB, actions ...string) refusals {
	t.Helper()
	var r refusals
	for _, a := range actions {
		es, err := audit.List(context.Background(), db, audit.Filter{Action: a})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if strings.HasSuffix(strings.SplitN(e.Detail, "; ", 2)[0], "refused: throttled") {
				r.entries++
			}
			if m := moreRefused.FindStringSubmatch(e.Detail); m != nil {
				n, _ := strconv.Atoi(m[1])
				r.noted += n
			}
		}
	}
	return r
}

// pendingRefusals is the count key holds for its next entry.
func pendingRefusals(t *testing.T, db *store.DB, key string) int {
	t.Helper()
	var n []int
	if err := db.SelectContext(context.Background(), &n, db.Rebind("SELECT refused FROM staff_throttle WHERE key = ?"), key); err != nil {
		t.Fatal(err)
	}
	if len(n) == 0 {
		return 0
	}
	return n[0]
}

// lastEntry is the newest entry of action.
func lastEntry(t *testing.T, db *store.DB, action string) audit.Entry {
	t.Helper()
	es, err := audit.List(context.Background(), db, audit.Filter{Action: action})
	if err != nil || len(es) == 0 {
		t.Fatalf("no %s entry: %v", action, err)
	}
	return es[len(es)-1]
}

func wantThrottled(t *testing.T, err error, wait time.Duration) {
	t.Helper()
	var te *ThrottledError
	if !errors.As(err, &te) || te.Wait != wait {
		t.Fatalf("%v, want throttled for %v", err, wait)
	}
}

// Someone hammering a login field during the back-off adds one entry per
// window, not one per attempt; the window's next failure or success says
// how many more were refused, so the trail still accounts for each.
func TestThrottledLoginsAreAuditedOncePerWindow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, clk, _ := setup(t, db)
		for range freeFailures {
			if _, err := s.Login(ctx, "venue", "Wrong-password1"); !errors.Is(err, ErrBadLogin) {
				t.Fatal(err)
			}
		}
		before := len(actions(t, db, ""))
		for range 100 {
			_, err := s.Login(ctx, "venue", staffPW)
			wantThrottled(t, err, time.Second)
		}
		if added := len(actions(t, db, "")) - before; added != 1 {
			t.Fatalf("100 refused attempts in one window added %d audit entries, want 1", added)
		}
		if e := lastEntry(t, db, audit.LoginFailed); e.Subject != "venue" || e.Detail != "refused: throttled" {
			t.Fatalf("the window's entry: %q %q", e.Subject, e.Detail)
		}
		clk.Add(time.Second)
		if _, err := s.Login(ctx, "venue", "Wrong-password1"); !errors.Is(err, ErrBadLogin) {
			t.Fatal(err)
		}
		if e := lastEntry(t, db, audit.LoginFailed); e.Detail != "wrong login or password; 99 more attempts refused while throttled, not logged one by one" {
			t.Fatalf("the next failure's entry: %q", e.Detail)
		}
		// The next window: again one entry, and the success that ends
		// the back-off carries the count.
		for range 100 {
			_, err := s.Login(ctx, "venue", staffPW)
			wantThrottled(t, err, 2*time.Second)
		}
		clk.Add(2 * time.Second)
		mustLogin(t, s, "venue", staffPW)
		if e := lastEntry(t, db, audit.Login); e.Subject != "venue" || e.Detail != "99 more attempts refused while throttled, not logged one by one" {
			t.Fatalf("the success's entry: %q %q", e.Subject, e.Detail)
		}
		if got := tallyRefusals(t, db, audit.LoginFailed, audit.Login); got != (refusals{entries: 2, noted: 198}) {
			t.Fatalf("the trail accounts for %+v refusals, want 2 entries + 198 counted", got)
		}
		if n := pendingRefusals(t, db, "login:venue"); n != 0 {
			t.Fatalf("%d refusals left uncounted after a success", n)
		}
		verifyAudit(t, db)
	})
}

// The same at a kiosk: one PIN throttle for all kiosks, one entry per
// window, the count in the entry of the PIN that finally leaves the kiosk.
func TestThrottledKioskPINsAreAuditedOncePerWindow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, clk, co := setup(t, db)
		if err := s.SetPIN(ctx, co, "venue", "135790"); err != nil {
			t.Fatal(err)
		}
		for range freeFailures {
			if _, err := s.CheckPIN(ctx, "000000"); !errors.Is(err, ErrBadPIN) {
				t.Fatal(err)
			}
		}
		for range 50 {
			_, err := s.CheckPIN(ctx, "135790")
			wantThrottled(t, err, time.Second)
		}
		es, _ := audit.List(ctx, db, audit.Filter{Action: audit.KioskLeaveRefused})
		if len(es) != freeFailures+1 || es[len(es)-1].Detail != "refused: throttled" {
			t.Fatalf("%d kiosk.leave_refused entries after 3 wrong PINs and 50 refusals, want 4", len(es))
		}
		clk.Add(time.Second)
		if a, err := s.CheckPIN(ctx, "135790"); err != nil || a.Login != "venue" {
			t.Fatalf("after the wait: %+v %v", a, err)
		}
		if e := lastEntry(t, db, audit.KioskLeave); e.Subject != "venue" || e.Detail != "staff PIN; 49 more attempts refused while throttled, not logged one by one" {
			t.Fatalf("the kiosk.leave entry: %q %q", e.Subject, e.Detail)
		}
		verifyAudit(t, db)
	})
}

// Giving one's password again to change it is throttled on the login's key
// like a login, and its refusals are audited the same way (once per window).
func TestThrottledRecheckIsAuditedOncePerWindow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, clk, _ := setup(t, db)
		venue := mustLogin(t, s, "venue", staffPW)
		for range freeFailures {
			if err := s.ChangePassword(ctx, venue, "Wrong-password1", "Brand-new-pass9"); !errors.Is(err, ErrBadLogin) {
				t.Fatal(err)
			}
		}
		for range 5 {
			wantThrottled(t, s.ChangePassword(ctx, venue, staffPW, "Brand-new-pass9"), time.Second)
		}
		// A login attempt in the same window is one more on the same key.
		_, err := s.Login(ctx, "venue", staffPW)
		wantThrottled(t, err, time.Second)
		e := lastEntry(t, db, audit.LoginFailed)
		if e.Actor != "venue" || e.Detail != "password change: refused: throttled" {
			t.Fatalf("the window's entry: %q %q", e.Actor, e.Detail)
		}
		clk.Add(time.Second)
		if err := s.ChangePassword(ctx, venue, staffPW, "Brand-new-pass9"); err != nil {
			t.Fatal(err)
		}
		if e := lastEntry(t, db, audit.StaffPassword); e.Detail != "changed by the account; 5 more attempts refused while throttled, not logged one by one" {
			t.Fatalf("the change's entry: %q", e.Detail)
		}
		verifyAudit(t, db)
	})
}

// Refusals made after an attempt was let through but before its failure is
// in the trail belong to the new window: its first refusal is audited and
// carries the old window's count, and the failure's entry then has none
// left to add, so nothing is counted twice or lost.
func TestNextWindowsFirstRefusalCarriesTheCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, clk, _ := setup(t, db)
		thr := loginThrottle("venue", "venue")
		for range freeFailures {
			if _, err := s.Login(ctx, "venue", "Wrong-password1"); !errors.Is(err, ErrBadLogin) {
				t.Fatal(err)
			}
		}
		for range 6 {
			_, err := s.Login(ctx, "venue", staffPW)
			wantThrottled(t, err, time.Second)
		}
		clk.Add(time.Second)
		if wait, err := s.claimAttempt(ctx, thr); err != nil || wait != 0 {
			t.Fatalf("the attempt after the wait: %v %v", wait, err)
		}
		// Its password is being checked; another attempt comes in.
		_, err := s.Login(ctx, "venue", staffPW)
		wantThrottled(t, err, 2*time.Second)
		if e := lastEntry(t, db, audit.LoginFailed); e.Detail != "refused: throttled; 5 more attempts refused while throttled, not logged one by one" {
			t.Fatalf("the new window's first refusal: %q", e.Detail)
		}
		if err := s.recordFailure(ctx, thr, "wrong login or password"); err != nil {
			t.Fatal(err)
		}
		if e := lastEntry(t, db, audit.LoginFailed); e.Detail != "wrong login or password" {
			t.Fatalf("the failure's entry: %q", e.Detail)
		}
		if got := tallyRefusals(t, db, audit.LoginFailed); got != (refusals{entries: 2, noted: 5}) {
			t.Fatalf("the trail accounts for %+v, want 2 entries + 5 counted", got)
		}
		verifyAudit(t, db)
	})
}

// A count forgotten after a day (no attempt followed) is written to the
// trail first, under the login's account or as an unknown login.
func TestForgottenThrottleWritesItsCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, clk, _ := setup(t, db)
		for _, login := range []string{"venue", "intruder"} {
			for range freeFailures {
				if _, err := s.Login(ctx, login, "Wrong-password1"); !errors.Is(err, ErrBadLogin) {
					t.Fatal(err)
				}
			}
			for range 10 {
				_, err := s.Login(ctx, login, "Wrong-password1")
				wantThrottled(t, err, time.Second)
			}
		}
		if _, err := s.Login(ctx, "ana", "Wrong-password1"); !errors.Is(err, ErrBadLogin) {
			t.Fatal(err)
		}
		clk.Add(25 * time.Hour)
		// Any attempt on another key forgets the day-old ones.
		if _, err := s.Login(ctx, "coord", "Wrong-password1"); !errors.Is(err, ErrBadLogin) {
			t.Fatal(err)
		}
		var keys []string
		if err := db.SelectContext(ctx, &keys, "SELECT key FROM staff_throttle"); err != nil {
			t.Fatal(err)
		}
		if len(keys) != 1 || keys[0] != "login:coord" {
			t.Fatalf("throttle keys = %v", keys)
		}
		var forgotten []string
		es, _ := audit.List(ctx, db, audit.Filter{Action: audit.LoginFailed})
		for _, e := range es {
			if strings.HasPrefix(e.Detail, "failure count forgotten") {
				forgotten = append(forgotten, fmt.Sprintf("%s|%s|%s", e.Actor, e.Subject, e.Detail))
			}
		}
		const note = "|failure count forgotten after a day; 9 more attempts refused while throttled, not logged one by one"
		want := []string{audit.Anonymous + "|" + unknownSubject + note, audit.Anonymous + "|venue" + note}
		if fmt.Sprint(forgotten) != fmt.Sprint(want) {
			t.Fatalf("entries of forgotten counts:\n%v\nwant\n%v", forgotten, want)
		}
		if got := tallyRefusals(t, db, audit.LoginFailed); got != (refusals{entries: 2, noted: 18}) {
			t.Fatalf("the trail accounts for %+v, want 2 entries + 18 counted", got)
		}
		verifyAudit(t, db)
	})
}

// Two laptops on one PostgreSQL refusing 100 attempts at the same moment
// write one entry between them; the count comes with the next failure.
func TestThrottledRefusalsRacingOnPostgres(t *testing.T) {
	ctx := context.Background()
	var svcs [2]*Service
	dbs := storetest.Laptops(t, 2)
	c := &clock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	for i := range svcs {
		svcs[i] = New(dbs[i])
		svcs[i].Now, svcs[i].KDF = c.Now, TestKDF
	}
	if _, err := svcs[0].CreateFirst(ctx, "coord", "Coordinator One", coordPW); err != nil {
		t.Fatal(err)
	}
	for i := range freeFailures {
		if _, err := svcs[i%2].Login(ctx, "coord", "Wrong-password1"); !errors.Is(err, ErrBadLogin) {
			t.Fatal(err)
		}
	}
	const attempts = 100
	var wg sync.WaitGroup
	errs := make(chan error, attempts)
	start := make(chan struct{})
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := svcs[i%2].Login(ctx, "coord", coordPW)
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		wantThrottled(t, err, time.Second)
	}
	if got := tallyRefusals(t, dbs[0], audit.LoginFailed); got != (refusals{entries: 1}) {
		t.Fatalf("%d racing refusals gave %+v, want one entry", attempts, got)
	}
	if n := pendingRefusals(t, dbs[1], "login:coord"); n != attempts-1 {
		t.Fatalf("%d refusals counted for the next entry, want %d", n, attempts-1)
	}
	c.Add(time.Second)
	if _, err := svcs[1].Login(ctx, "coord", "Wrong-password1"); !errors.Is(err, ErrBadLogin) {
		t.Fatal(err)
	}
	if got := tallyRefusals(t, dbs[1], audit.LoginFailed); got != (refusals{entries: 1, noted: attempts - 1}) {
		t.Fatalf("after the next failure the trail accounts for %+v, want 1 entry + %d counted", got, attempts-1)
	}
	verifyAudit(t, dbs[0])
}
