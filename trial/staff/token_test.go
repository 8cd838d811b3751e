package staff

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"jpkipilot/trial/pii"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

func TestTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, clk, co := setup(t, db)
		v := mustLogin(t, s, "venue", staffPW)
		tok, err := s.IssueToken(ctx, v, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != 43 { // 256 bits, base64url without padding
			t.Fatalf("token of %d characters", len(tok))
		}
		var stored []string
		if err := db.SelectContext(ctx, &stored, "SELECT token_hash FROM staff_tokens"); err != nil || len(stored) != 1 || stored[0] == tok {
			t.Fatalf("stored token rows = %v, %v", stored, err)
		}
		r, err := s.Resume(ctx, tok)
		if err != nil || r.Account.Login != "venue" || r.Account.Role != VenueStaff || r.Key.Check() != co.Key.Check() {
			t.Fatalf("Resume = %+v, %v", r, err)
		}
		// Expiry, against the fake clock.
		clk.Add(59 * time.Minute)
		if _, err := s.Resume(ctx, tok); err != nil {
			t.Fatalf("a minute before expiry: %v", err)
		}
		clk.Add(time.Minute)
		if _, err := s.Resume(ctx, tok); !errors.Is(err, ErrBadToken) {
			t.Fatalf("expired token: %v, want ErrBadToken", err)
		}
		var n int
		if err := db.GetContext(ctx, &n, "SELECT COUNT(*) FROM staff_tokens"); err != nil || n != 0 {
			t.Fatalf("expired token still stored (%d rows)", n)
		}
		// The default lifetime is 12 hours; issuing deletes expired tokens.
		tok12, err := s.IssueToken(ctx, v, 0)
		if err != nil {
			t.Fatal(err)
		}
		short, err := s.IssueToken(ctx, v, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		clk.Add(12*time.Hour - time.Second)
		if _, err := s.Resume(ctx, tok12); err != nil {
			t.Fatalf("default token before 12 h: %v", err)
		}
		if _, err := s.IssueToken(ctx, v, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := db.GetContext(ctx, &n, "SELECT COUNT(*) FROM staff_tokens"); err != nil || n != 2 {
			t.Fatalf("%d tokens stored, want 2 (the expired one deleted)", n)
		}
		if _, err := s.Resume(ctx, short); !errors.Is(err, ErrBadToken) {
			t.Fatal("short token still works")
		}
		clk.Add(time.Second)
		if _, err := s.Resume(ctx, tok12); !errors.Is(err, ErrBadToken) {
			t.Fatalf("default token after 12 h: %v", err)
		}
		// Revocation.
		tok, _ = s.IssueToken(ctx, v, time.Hour)
		if err := s.RevokeToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Resume(ctx, tok); !errors.Is(err, ErrBadToken) {
			t.Fatalf("revoked token: %v", err)
		}
		if err := s.RevokeToken(ctx, tok); err != nil {
			t.Fatalf("revoking twice: %v", err)
		}
		for _, bad := range []string{"", "not a token", tok[:42], tok + "A", "!" + tok[1:]} {
			if _, err := s.Resume(ctx, bad); !errors.Is(err, ErrBadToken) {
				t.Fatalf("Resume(malformed) = %v", err)
			}
		}
		// An analyst's token carries no key.
		a := mustLogin(t, s, "ana", anaPW)
		tokA, err := s.IssueToken(ctx, a, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if r, err := s.Resume(ctx, tokA); err != nil || r.Key != nil || r.Account.Role != Analyst {
			t.Fatalf("analyst Resume = %+v %v", r, err)
		}
		// A disabled account's tokens end.
		tok, _ = s.IssueToken(ctx, v, time.Hour)
		if err := s.Disable(ctx, co, "venue", true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Resume(ctx, tok); !errors.Is(err, ErrBadToken) { // Disable revoked it
			t.Fatalf("disabled account's token: %v", err)
		}
		if _, err := s.IssueToken(ctx, v, time.Hour); !errors.Is(err, ErrDisabled) {
			t.Fatalf("IssueToken for a disabled account: %v", err)
		}
		if got := actions(t, db, AuditTokenRevoke); !slices.Equal(got, []string{"venue venue"}) {
			t.Fatalf("token revoke entries = %v", got)
		}
		if got := actions(t, db, AuditTokenIssue); len(got) != 7 {
			t.Fatalf("token issue entries = %v", got)
		}
		verifyAudit(t, db)
	})
}

// A token's wrapped key copied onto another token does not open: the key
// is bound to its own token.
func TestTokenWrappedKeyBound(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _, co := setup(t, db)
		t1, _ := s.IssueToken(ctx, co, time.Hour)
		t2, _ := s.IssueToken(ctx, co, time.Hour)
		raw, _ := decodeToken(t1)
		exec(t, db, "UPDATE staff_tokens SET wrapped_key = (SELECT wrapped_key FROM staff_tokens WHERE token_hash = ?) WHERE token_hash <> ?",
			tokenHash(raw), tokenHash(raw))
		if _, err := s.Resume(ctx, t1); err != nil {
			t.Fatal(err)
		}
		if r, err := s.Resume(ctx, t2); err == nil {
			t.Fatalf("a moved wrapped key opened: %+v", r.Account)
		}
	})
}

// A data key suspended by the window's lock between the freshness check and
// the wrap is refused: no account or token ever gets a wrapped zero key.
func TestSuspendedKeyIsNotWrapped(t *testing.T) {
	key, err := pii.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	key.Suspend()
	if w, err := wrapTo(encodePublic(newKeyPair()), 7, key); !errors.Is(err, pii.ErrLocked) || w != "" {
		t.Errorf("wrapTo with a suspended key: %q, %v", w, err)
	}
	token := randomBytes(32)
	if w, err := wrapForToken(token, tokenHash(token), 7, key); !errors.Is(err, pii.ErrLocked) || w != "" {
		t.Errorf("wrapForToken with a suspended key: %q, %v", w, err)
	}
	if w, err := wrapTo(encodePublic(newKeyPair()), 7, nil); !errors.Is(err, pii.ErrLocked) || w != "" {
		t.Errorf("wrapTo with no key: %q, %v", w, err)
	}
}
