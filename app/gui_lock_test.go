package app

import (
	"context"
	"errors"
	"testing"

	"jpkipilot/trial/pii"
	"jpkipilot/trial/staff"
)

// mainWindow logs the first coordinator in and sets up the session and
// the lock as showMain does (not its pages: their loading workers would
// touch widgets from other goroutines under the test driver).
func mainWindow(t *testing.T) (*gui, *staff.Session) {
	t.Helper()
	g := newTestGUI(t)
	ctx := context.Background()
	if _, err := g.staff.CreateFirst(ctx, "coord", "Coordinator", testPassword); err != nil {
		t.Fatal(err)
	}
	sess, err := g.staff.Login(ctx, "coord", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	g.setSession(sess)
	g.lock = g.newLock(sess)
	if g.lock == nil || g.svc.PII != sess.Key || sess.Key == nil {
		t.Fatal("the main window has no lock, or its services another key")
	}
	return g, sess
}

func usable(k *pii.Key) bool {
	_, err := k.Seal("monitors.name", "M-0001", "x")
	return err == nil
}

// The window's lock suspends the key the services hold.
func TestGUILockSuspendsTheServicesKey(t *testing.T) {
	g, sess := mainWindow(t)
	g.lock.Lock()
	if usable(g.svc.PII) || usable(g.loans.PII) || usable(sess.Key) {
		t.Fatal("the data key works while the window is locked")
	}
}

// Logging out (or switching user from the lock screen: both go through
// showLogin, which drops the session first) wipes the session's key: a
// worker still holding it gets ErrLocked.
func TestGUILogoutSuspendsTheKey(t *testing.T) {
	g, sess := mainWindow(t)
	key := sess.Key
	g.setSession(nil) // showLogin's first step; the login form's worker is left out
	if _, err := key.Seal("monitors.name", "M-0001", "x"); !errors.Is(err, pii.ErrLocked) {
		t.Fatalf("after logout the old session's key seals: %v", err)
	}
	if g.svc.PII != nil {
		t.Error("the services keep a key after logout")
	}
	// Another user logging in after the first: the first one's key is wiped.
	g2, first := mainWindow(t)
	second, err := g2.staff.Login(context.Background(), "coord", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	g2.setSession(second)
	if usable(first.Key) || !usable(second.Key) {
		t.Error("switching sessions: the old key works or the new one does not")
	}
}

// A rotation from the staff page: the services take the new key, the old
// one is wiped; a rotation that ends while the window is locked leaves the
// new key suspended, and the lock suspends the new key afterwards.
func TestGUIKeyRotation(t *testing.T) {
	g, sess := mainWindow(t)
	ctx := context.Background()
	old := sess.Key
	if err := g.staff.RotateDataKey(ctx, sess); err != nil {
		t.Fatal(err)
	}
	g.keyRotated(sess)
	if g.svc.PII != sess.Key || g.loans.PII != sess.Key || !usable(sess.Key) {
		t.Fatal("the services do not hold the new, usable key")
	}
	if usable(old) {
		t.Error("the key from before the rotation still works")
	}
	g.lock.Lock()
	if usable(sess.Key) {
		t.Fatal("the lock left the rotated key usable")
	}

	// The rotation's worker committed, then the lock came before its
	// result reached the UI: the lock suspended the key the services held
	// (the old one), and the new one is suspended as it arrives.
	g2, sess2 := mainWindow(t)
	if err := g2.staff.RotateDataKey(ctx, sess2); err != nil {
		t.Fatal(err)
	}
	g2.lock.Lock()
	g2.keyRotated(sess2)
	if usable(sess2.Key) || usable(g2.svc.PII) {
		t.Fatal("a rotation that ended while locked left the new key usable")
	}
	// Logged out while a rotation ran: its result does not put the new
	// key into the logged-out services, and the key is wiped.
	g3, sess3 := mainWindow(t)
	if err := g3.staff.RotateDataKey(ctx, sess3); err != nil {
		t.Fatal(err)
	}
	g3.setSession(nil)
	g3.keyRotated(sess3)
	if g3.svc.PII != nil || g3.loans.PII != nil || usable(sess3.Key) {
		t.Fatal("a rotation that ended after logout left its key in the services or usable")
	}
	// And a rotation tried with a suspended key is refused before it
	// touches the store.
	if err := g2.staff.RotateDataKey(ctx, sess2); !errors.Is(err, staff.ErrStaleKey) {
		t.Fatalf("rotating with a suspended key: %v, want ErrStaleKey", err)
	}
}
