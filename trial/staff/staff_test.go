package staff

import (
	"context"
	"errors"
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
		list, err := s.List(ctx, co)
		if err != nil || len(list) != 2 || list[0].Login != "coord" || list[1].Login != "venue" {
			t.Fatalf("List = %+v, %v", list, err)
		}
		v := mustLogin(t, s, "VENUE", staffPW)
		if v.Key == nil || v.Key.Check() != co.Key.Check() {
			t.Fatal("venue staff did not get the store's data key")
		}
		if v.Account.LastLogin == nil {
			t.Fatal("LastLogin not set by Login")
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

func TestAuditChainAfterCommonPath(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _, co := setup(t, db)
		mustLogin(t, s, "venue", staffPW)
		rep, err := audit.Verify(context.Background(), db)
		if err != nil || !rep.OK() {
			t.Fatalf("audit verify: %+v, %v", rep, err)
		}
		_ = co
		_ = pii.ErrLocked
	})
}
