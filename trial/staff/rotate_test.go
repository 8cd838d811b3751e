package staff

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/pii"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

func TestRotateDataKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _, co := setup(t, db)
		addMonitors(t, db, co.Key, "山田 太郎", "佐藤 花子")
		if _, err := s.Create(ctx, co, "coord2", "Second", Coordinator, coordPW); err != nil {
			t.Fatal(err)
		}
		if err := s.Disable(ctx, co, "coord2", true); err != nil { // disabled accounts keep a wrapped key for later
			t.Fatal(err)
		}
		if err := s.Disable(ctx, co, "coord2", false); err != nil {
			t.Fatal(err)
		}
		stale := mustLogin(t, s, "coord2", coordPW)
		v := mustLogin(t, s, "venue", staffPW)
		tokV, err := s.IssueToken(ctx, v, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		tokA, err := s.IssueToken(ctx, mustLogin(t, s, "ana", anaPW), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		old := co.Key
		if err := s.RotateDataKey(ctx, co); err != nil {
			t.Fatal(err)
		}
		if co.Key == nil || co.Key.Check() == old.Check() {
			t.Fatal("the rotating session did not get the new key")
		}
		// The old key no longer opens anything; the new one opens all.
		for _, id := range []string{"M-0001", "M-0002"} {
			if _, err := monitorName(t, db, old, id); !errors.Is(err, pii.ErrTampered) {
				t.Fatalf("old key on %s after rotation: %v, want ErrTampered", id, err)
			}
		}
		if n, err := monitorName(t, db, co.Key, "M-0002"); err != nil || n != "佐藤 花子" {
			t.Fatalf("new key: %q %v", n, err)
		}
		// Every key-holding account gets the new key, without its password
		// having been known; the analyst still none.
		for _, c := range [][2]string{{"coord", coordPW}, {"coord2", coordPW}, {"venue", staffPW}} {
			if k := mustLogin(t, s, c[0], c[1]).Key; k == nil || k.Check() != co.Key.Check() {
				t.Fatalf("%s does not get the new key", c[0])
			}
		}
		if mustLogin(t, s, "ana", anaPW).Key != nil {
			t.Fatal("analyst got a key")
		}
		// Tokens held the old key: all revoked.
		for _, tok := range []string{tokV, tokA} {
			if _, err := s.Resume(ctx, tok); !errors.Is(err, ErrBadToken) {
				t.Fatalf("token after rotation: %v, want ErrBadToken", err)
			}
		}
		// A session from before the rotation cannot hand out the old key.
		if _, err := s.Create(ctx, stale, "newbie", "New", VenueStaff, staffPW); !errors.Is(err, ErrStaleKey) {
			t.Fatalf("Create with a pre-rotation session: %v, want ErrStaleKey", err)
		}
		if err := s.ResetPassword(ctx, stale, "venue", "Another-pass-12"); !errors.Is(err, ErrStaleKey) {
			t.Fatalf("ResetPassword with a pre-rotation session: %v, want ErrStaleKey", err)
		}
		if _, err := s.IssueToken(ctx, v, time.Hour); !errors.Is(err, ErrStaleKey) {
			t.Fatalf("IssueToken with a pre-rotation session: %v, want ErrStaleKey", err)
		}
		// Rotating twice works from the session's updated key.
		if err := s.RotateDataKey(ctx, co); err != nil {
			t.Fatal(err)
		}
		if n, err := monitorName(t, db, co.Key, "M-0001"); err != nil || n != "山田 太郎" {
			t.Fatalf("after a second rotation: %q %v", n, err)
		}
		if got := actions(t, db, audit.DataKeyRotate); !slices.Equal(got, []string{"coord ", "coord "}) {
			t.Fatalf("datakey.rotate entries = %v", got)
		}
		verifyAudit(t, db)
	})
}

// A rotation that fails part-way changes nothing: not the personal fields,
// not the wrapped keys, not the key check, not the tokens, not the trail.
func TestRotateDataKeyFailure(t *testing.T) {
	for _, c := range []struct {
		name   string
		break_ func(t *testing.T, db *store.DB, s *Service, cancel context.CancelFunc)
		want   error
	}{
		{"tampered personal field", func(t *testing.T, db *store.DB, s *Service, _ context.CancelFunc) {
			// M-0002's sealed name moved onto M-0001: it no longer opens there.
			exec(t, db, "UPDATE monitors SET name = (SELECT name FROM monitors WHERE id = 'M-0002') WHERE id = 'M-0001'")
		}, pii.ErrTampered},
		{"tampered public key", func(t *testing.T, db *store.DB, s *Service, _ context.CancelFunc) {
			exec(t, db, "UPDATE staff_accounts SET public_key = 'not-a-key' WHERE login = 'venue'")
		}, nil},
		{"cancelled after re-wrapping one account", func(t *testing.T, db *store.DB, s *Service, cancel context.CancelFunc) {
			s.hook = func(stage string) {
				if stage == "rewrapped coord" {
					cancel()
				}
			}
		}, context.Canceled},
	} {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				s, _, co := setup(t, db)
				addMonitors(t, db, co.Key, "山田 太郎", "佐藤 花子")
				v := mustLogin(t, s, "venue", staffPW)
				tok, err := s.IssueToken(context.Background(), v, time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				c.break_(t, db, s, cancel)
				before := dump(t, db, allTables...)
				old := co.Key
				err = s.RotateDataKey(ctx, co)
				if err == nil {
					t.Fatal("rotation succeeded")
				}
				if c.want != nil && !errors.Is(err, c.want) {
					t.Fatalf("rotation failed with %v, want %v", err, c.want)
				}
				if co.Key != old {
					t.Fatal("the session's key changed on a failed rotation")
				}
				if after := dump(t, db, allTables...); after != before {
					t.Fatalf("a failed rotation changed the store:\n%s\nwas\n%s", after, before)
				}
				s.hook = nil
				if n, err := monitorName(t, db, old, "M-0002"); err != nil || n != "佐藤 花子" {
					t.Fatalf("old key after a failed rotation: %q %v", n, err)
				}
				if r, err := s.Resume(context.Background(), tok); err != nil || r.Key.Check() != old.Check() {
					t.Fatalf("token after a failed rotation: %v", err)
				}
				verifyAudit(t, db)
			})
		})
	}
}
