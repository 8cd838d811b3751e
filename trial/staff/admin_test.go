package staff

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/pii"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// A coordinator resets a password without knowing it: the account logs in
// with the new one and unwraps the same data key; the old one and the
// account's tokens stop working.
func TestResetPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _, co := setup(t, db)
		v := mustLogin(t, s, "venue", staffPW)
		tok, err := s.IssueToken(ctx, v, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		const newPW = "Brand-new-pass9"
		if err := s.ResetPassword(ctx, co, "Venue", newPW); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Login(ctx, "venue", staffPW); !errors.Is(err, ErrBadLogin) {
			t.Fatalf("old password after reset: %v", err)
		}
		v2 := mustLogin(t, s, "venue", newPW)
		if v2.Key == nil || v2.Key.Check() != co.Key.Check() {
			t.Fatal("after a reset the account does not unwrap the data key")
		}
		if _, err := s.Resume(ctx, tok); !errors.Is(err, ErrBadToken) {
			t.Fatalf("token after reset: %v, want ErrBadToken", err)
		}
		// An analyst reset: still no key.
		if err := s.ResetPassword(ctx, co, "ana", newPW); err != nil {
			t.Fatal(err)
		}
		if a := mustLogin(t, s, "ana", newPW); a.Key != nil {
			t.Fatal("analyst got a key after reset")
		}
		if err := s.ResetPassword(ctx, co, "nobody", newPW); !errors.Is(err, ErrNoSuchAccount) {
			t.Fatalf("reset of an unknown login: %v", err)
		}
		if err := s.ResetPassword(ctx, co, "venue", "short"); err == nil {
			t.Fatal("reset accepted a weak password")
		}
		// A reset clears the account's failures.
		for i := 0; i < 3; i++ {
			s.Login(ctx, "venue", "Wrong-password1")
		}
		if _, err := s.Login(ctx, "venue", newPW); err == nil {
			t.Fatal("not throttled after three failures")
		}
		if err := s.ResetPassword(ctx, co, "venue", staffPW); err != nil {
			t.Fatal(err)
		}
		mustLogin(t, s, "venue", staffPW)
		if got := actions(t, db, audit.StaffPassword); !slices.Equal(got, []string{"coord venue", "coord ana", "coord venue"}) {
			t.Fatalf("staff.password entries = %v", got)
		}
		verifyAudit(t, db)
	})
}

func TestChangePassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _, co := setup(t, db)
		v := mustLogin(t, s, "venue", staffPW)
		const newPW = "Changed-pass-77"
		if err := s.ChangePassword(ctx, v, "Wrong-password1", newPW); !errors.Is(err, ErrBadLogin) {
			t.Fatalf("wrong current password: %v", err)
		}
		if err := s.ChangePassword(ctx, v, staffPW, "venue"); err == nil {
			t.Fatal("weak new password accepted")
		}
		if err := s.ChangePassword(ctx, v, staffPW, newPW); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Login(ctx, "venue", staffPW); !errors.Is(err, ErrBadLogin) {
			t.Fatalf("old password still works: %v", err)
		}
		if v2 := mustLogin(t, s, "venue", newPW); v2.Key == nil || v2.Key.Check() != co.Key.Check() {
			t.Fatal("after a change the account does not unwrap the data key")
		}
		if got := actions(t, db, audit.StaffPassword); !slices.Equal(got, []string{"venue venue"}) {
			t.Fatalf("staff.password entries = %v", got)
		}
		if err := s.ChangePassword(ctx, nil, staffPW, newPW); !errors.Is(err, ErrNotLoggedIn) {
			t.Fatalf("nil session: %v", err)
		}
		verifyAudit(t, db)
	})
}

func isDenied(err error) bool {
	var d *DeniedError
	return errors.As(err, &d)
}

// Changing a role wraps the data key for it or takes it away.
func TestSetRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _, co := setup(t, db)
		if err := s.SetRole(ctx, co, "ana", VenueStaff); err != nil {
			t.Fatal(err)
		}
		if a := mustLogin(t, s, "ana", anaPW); a.Key == nil || a.Key.Check() != co.Key.Check() || !a.May(RunKiosk) {
			t.Fatalf("promoted analyst = %+v", a)
		}
		v := mustLogin(t, s, "venue", staffPW)
		tok, err := s.IssueToken(ctx, v, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetRole(ctx, co, "venue", Analyst); err != nil {
			t.Fatal(err)
		}
		if a := mustLogin(t, s, "venue", staffPW); a.Key != nil {
			t.Fatal("demoted account still gets the data key")
		}
		var wrapped string
		if err := db.GetContext(ctx, &wrapped, "SELECT wrapped_key FROM staff_accounts WHERE login = 'venue'"); err != nil || wrapped != "" {
			t.Fatalf("wrapped key kept after demotion: %q %v", wrapped, err)
		}
		if _, err := s.Resume(ctx, tok); !errors.Is(err, ErrBadToken) {
			t.Fatalf("the demoted account's token (holding the key) still works: %v", err)
		}
		if err := s.SetRole(ctx, co, "venue", "boss"); err == nil {
			t.Fatal("unknown role accepted")
		}
		if got := actions(t, db, audit.StaffUpdate); !slices.Equal(got, []string{"coord ana", "coord venue"}) {
			t.Fatalf("staff.update entries = %v", got)
		}
		verifyAudit(t, db)
	})
}

// The last enabled coordinator cannot be demoted or disabled.
func TestLastCoordinator(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _, co := setup(t, db)
		if err := s.SetRole(ctx, co, "coord", VenueStaff); !errors.Is(err, ErrLastCoordinator) {
			t.Fatalf("demote the last coordinator: %v", err)
		}
		if err := s.Disable(ctx, co, "coord", true); !errors.Is(err, ErrLastCoordinator) {
			t.Fatalf("disable the last coordinator: %v", err)
		}
		if _, err := s.Create(ctx, co, "coord2", "Second", Coordinator, coordPW); err != nil {
			t.Fatal(err)
		}
		// A disabled second coordinator does not count.
		if err := s.Disable(ctx, co, "coord2", true); err != nil {
			t.Fatal(err)
		}
		if err := s.SetRole(ctx, co, "coord", Analyst); !errors.Is(err, ErrLastCoordinator) {
			t.Fatalf("demote with only a disabled second coordinator: %v", err)
		}
		if err := s.Disable(ctx, co, "coord2", false); err != nil {
			t.Fatal(err)
		}
		c2 := mustLogin(t, s, "coord2", coordPW)
		if err := s.SetRole(ctx, c2, "coord", VenueStaff); err != nil {
			t.Fatal(err)
		}
		// The demoted coordinator's session no longer manages accounts,
		// though it still says Coordinator.
		if _, err := s.Create(ctx, co, "x-user", "X", Analyst, anaPW); !isDenied(err) {
			t.Fatalf("demoted coordinator's old session: %v, want *DeniedError", err)
		}
		if err := s.Disable(ctx, c2, "coord2", true); !errors.Is(err, ErrLastCoordinator) {
			t.Fatalf("disable the new last coordinator: %v", err)
		}
		verifyAudit(t, db)
	})
}

// Every account-management call checks the caller's role.
func TestDenied(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _, co := setup(t, db)
		v := mustLogin(t, s, "venue", staffPW)
		a := mustLogin(t, s, "ana", anaPW)
		before := dump(t, db, allTables...)
		for _, by := range []*Session{v, a, nil} {
			calls := map[string]error{}
			_, calls["Create"] = s.Create(ctx, by, "newbie", "New", Analyst, anaPW)
			_, calls["List"] = s.List(ctx, by)
			calls["ResetPassword"] = s.ResetPassword(ctx, by, "coord", "Taken-over-pw1")
			calls["SetRole"] = s.SetRole(ctx, by, "ana", Coordinator)
			calls["Disable"] = s.Disable(ctx, by, "coord", true)
			calls["SetPIN"] = s.SetPIN(ctx, by, "venue", "123456")
			calls["RotateDataKey"] = s.RotateDataKey(ctx, by)
			for name, err := range calls {
				var d *DeniedError
				if !errors.As(err, &d) || d.Action != ManageStaff {
					t.Errorf("%s by %v: %v, want *DeniedError for %s", name, by, err, ManageStaff)
				}
			}
		}
		if after := dump(t, db, allTables...); after != before {
			t.Fatal("denied calls changed the store")
		}
		// A disabled coordinator's open session stops working at once.
		if _, err := s.Create(ctx, co, "coord2", "Second", Coordinator, coordPW); err != nil {
			t.Fatal(err)
		}
		c2 := mustLogin(t, s, "coord2", coordPW)
		if err := s.Disable(ctx, c2, "coord", true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create(ctx, co, "newbie", "New", Analyst, anaPW); !errors.Is(err, ErrDisabled) {
			t.Fatalf("disabled coordinator's session: %v, want ErrDisabled", err)
		}
	})
}

func TestPIN(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := audit.WithActor(context.Background(), "kiosk:gate")
		s, clk, co := setup(t, db)
		if err := s.SetPIN(ctx, co, "venue", "12345"); err == nil {
			t.Fatal("5-digit PIN accepted")
		}
		if err := s.SetPIN(ctx, co, "ana", "246810"); err == nil {
			t.Fatal("an analyst (no kiosks) got a PIN")
		}
		if err := s.SetPIN(ctx, co, "venue", "135790"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetPIN(ctx, co, "coord", "24681357"); err != nil {
			t.Fatal(err)
		}
		list, _ := s.List(ctx, co)
		for _, a := range list {
			if a.HasPIN != (a.Login != "ana") {
				t.Fatalf("%s HasPIN = %v", a.Login, a.HasPIN)
			}
		}
		if a, err := s.CheckPIN(ctx, "135790"); err != nil || a.Login != "venue" {
			t.Fatalf("venue PIN: %+v %v", a, err)
		}
		if a, err := s.CheckPIN(ctx, "24681357"); err != nil || a.Login != "coord" {
			t.Fatalf("coordinator PIN: %+v %v", a, err)
		}
		for _, pin := range []string{"000000", "", "abc"} {
			if _, err := s.CheckPIN(ctx, pin); !errors.Is(err, ErrBadPIN) {
				t.Fatalf("CheckPIN(%q) = %v, want ErrBadPIN", pin, err)
			}
		}
		// Three failures: the next attempt, even the right PIN, waits.
		var te *ThrottledError
		if _, err := s.CheckPIN(ctx, "135790"); !errors.As(err, &te) || te.Wait != time.Second {
			t.Fatalf("fourth PIN attempt: %v, want throttled 1s", err)
		}
		clk.Add(time.Second)
		if a, err := s.CheckPIN(ctx, "135790"); err != nil || a.Login != "venue" {
			t.Fatalf("after the wait: %+v %v", a, err)
		}
		// A disabled account's PIN, or a cleared one, no longer opens a kiosk.
		if err := s.Disable(ctx, co, "venue", true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CheckPIN(ctx, "135790"); !errors.Is(err, ErrBadPIN) {
			t.Fatalf("disabled account's PIN: %v", err)
		}
		if err := s.SetPIN(ctx, co, "coord", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CheckPIN(ctx, "24681357"); !errors.Is(err, ErrBadPIN) {
			t.Fatalf("cleared PIN: %v", err)
		}
		if got := actions(t, db, audit.KioskLeave); !slices.Equal(got, []string{"kiosk:gate venue", "kiosk:gate coord", "kiosk:gate venue"}) {
			t.Fatalf("kiosk.leave entries = %v", got)
		}
		if got := actions(t, db, audit.KioskLeaveRefused); len(got) != 6 {
			t.Fatalf("kiosk.leave_refused entries = %v, want 6", got)
		}
		if got := actions(t, db, audit.StaffPIN); !slices.Equal(got, []string{"coord venue", "coord coord", "coord coord"}) {
			t.Fatalf("staff.pin entries = %v", got)
		}
		verifyAudit(t, db)
	})
}

// The stored rows hold no password, PIN, token or data key in the clear.
func TestNoSecretsInTheClear(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _, co := setup(t, db)
		addMonitors(t, db, co.Key, "山田 太郎")
		if err := s.SetPIN(ctx, co, "venue", "97531864"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CheckPIN(ctx, "97531864"); err != nil {
			t.Fatal(err)
		}
		s.Login(ctx, "coord", "Typo-"+coordPW)
		v := mustLogin(t, s, "venue", staffPW)
		tok, err := s.IssueToken(ctx, v, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ChangePassword(ctx, v, staffPW, "Second-venue-pw8"); err != nil {
			t.Fatal(err)
		}
		tok2, _ := s.IssueToken(ctx, v, time.Hour)
		raw := dump(t, db, allTables...)
		secrets := append([]string{coordPW, staffPW, anaPW, "Second-venue-pw8", "97531864", tok, tok2, "山田"}, keyEncodings(co.Key)...)
		for _, sec := range secrets {
			if containsFold(raw, sec) {
				t.Errorf("the store holds a secret in the clear (%d chars)", len(sec))
			}
		}
	})
}

func containsFold(s, sub string) bool {
	return strings.Contains(s, sub) || strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// keyEncodings lists the data key as raw bytes, hex and base64.
func keyEncodings(k *pii.Key) []string {
	b := k.Bytes()
	return []string{string(b), hex.EncodeToString(b), base64.StdEncoding.EncodeToString(b)[:40],
		base64.RawURLEncoding.EncodeToString(b)[:40]}
}

// Altered account rows never yield a session with a wrong key.
func TestTamperedRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _, co := setup(t, db)
		tok, err := s.IssueToken(ctx, co, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		// The coordinator's wrapped key copied onto venue staff: bound to
		// the coordinator's account id and public key, it does not open.
		exec(t, db, "UPDATE staff_accounts SET wrapped_key = (SELECT wrapped_key FROM staff_accounts WHERE login = 'coord') WHERE login = 'venue'")
		if sess, err := s.Login(ctx, "venue", staffPW); err == nil {
			t.Fatalf("login with another account's wrapped key: %+v", sess.Account)
		}
		// A key check that does not match the unwrapped key.
		exec(t, db, "UPDATE settings SET value = '0000000000000000' WHERE key = ?", SettingKeyCheck)
		if _, err := s.Login(ctx, "coord", coordPW); !errors.Is(err, ErrKeyCheck) {
			t.Fatalf("login with a wrong key check: %v, want ErrKeyCheck", err)
		}
		if _, err := s.Resume(ctx, tok); !errors.Is(err, ErrKeyCheck) {
			t.Fatalf("resume with a wrong key check: %v, want ErrKeyCheck", err)
		}
		// The analyst's private key swapped with the coordinator's: the
		// password does not open it.
		exec(t, db, "UPDATE staff_accounts SET private_key = (SELECT private_key FROM staff_accounts WHERE login = 'coord') WHERE login = 'ana'")
		if sess, err := s.Login(ctx, "ana", anaPW); err == nil || errors.Is(err, ErrBadLogin) {
			t.Fatalf("login with a swapped private key: %v %v", sess, err)
		}
	})
}

// Venue staff choose their own kiosk PIN (nobody else learns it), after
// giving their password again; a wrong password is a throttled failed
// login, an analyst is refused, and clearing works.
func TestSetOwnPIN(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _, _ := setup(t, db)
		venue := mustLogin(t, s, "venue", staffPW)
		ana := mustLogin(t, s, "ana", anaPW)
		var fe *FieldError
		if err := s.SetOwnPIN(ctx, ana, anaPW, "246810"); !errors.As(err, &fe) || fe.Reason != ReasonNoKiosk {
			t.Fatalf("analyst's own PIN: %v", err)
		}
		if err := s.SetOwnPIN(ctx, venue, staffPW, "12ab56"); !errors.As(err, &fe) || fe.Reason != ReasonPINDigits {
			t.Fatalf("letters in the PIN: %v", err)
		}
		for range freeFailures {
			if err := s.SetOwnPIN(ctx, venue, "Wrong-password1", "864213"); !errors.Is(err, ErrBadLogin) {
				t.Fatalf("wrong password: %v", err)
			}
		}
		var te *ThrottledError
		if err := s.SetOwnPIN(ctx, venue, staffPW, "864213"); !errors.As(err, &te) {
			t.Fatalf("after three wrong passwords: %v, want throttled", err)
		}
		if _, err := s.CheckPIN(ctx, "864213"); !errors.Is(err, ErrBadPIN) {
			t.Fatalf("a PIN refused with its password opens a kiosk: %v", err)
		}
		exec(t, db, "DELETE FROM staff_throttle")
		if err := s.SetOwnPIN(ctx, venue, staffPW, "864213"); err != nil {
			t.Fatal(err)
		}
		if a, err := s.CheckPIN(ctx, "864213"); err != nil || a.Login != "venue" {
			t.Fatalf("own PIN at a kiosk: %+v %v", a, err)
		}
		if err := s.SetOwnPIN(ctx, venue, staffPW, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CheckPIN(ctx, "864213"); !errors.Is(err, ErrBadPIN) {
			t.Fatalf("cleared own PIN: %v", err)
		}
		if got := actions(t, db, audit.StaffPIN); !slices.Equal(got, []string{"venue venue", "venue venue"}) {
			t.Fatalf("staff.pin entries = %v", got)
		}
		failed := 0
		es, _ := audit.List(ctx, db, audit.Filter{Action: audit.LoginFailed})
		for _, e := range es {
			if e.Detail == "PIN change: wrong current password" {
				failed++
			}
		}
		if failed != freeFailures {
			t.Fatalf("%d wrong passwords audited, want %d", failed, freeFailures)
		}
		verifyAudit(t, db)
	})
}
