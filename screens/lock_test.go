package screens

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial/staff"
)

// fakeClock is the lock's clock in tests: it moves only when told.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time          { return c.now }
func (c *fakeClock) advance(d time.Duration) { c.now = c.now.Add(d) }

type lockFixture struct {
	w        fyne.Window
	lock     *SessionLock
	clock    *fakeClock
	svc      *staff.Service
	entry    *widget.Entry // an entry on the locked page
	unlocked []*staff.Session
	switched int
}

func newLockFixture(t *testing.T) *lockFixture {
	t.Helper()
	svc, sess := withCoordinator(t)
	f := &lockFixture{w: newWindow(t), clock: &fakeClock{now: testClock}, svc: svc}
	f.lock = NewSessionLock(f.w, LockDeps{
		Staff: svc, Account: sess.Account, Timeout: 10 * time.Minute, Now: f.clock.Now,
		OnUnlock:     func(s *staff.Session) { f.unlocked = append(f.unlocked, s) },
		OnSwitchUser: func() { f.switched++ },
	})
	f.entry = widget.NewEntry()
	f.w.SetContent(f.lock.Watch(container.NewVBox(widget.NewLabel("山田 花子 — 090-0000-0000"), f.entry)))
	return f
}

func (f *lockFixture) typePassword(t *testing.T, pw string) {
	t.Helper()
	if !f.lock.Locked() {
		t.Fatal("not locked")
	}
	f.lock.password.SetText(pw)
	test.Tap(f.lock.unlock)
	waitIdle()
}

func TestLockAfterInactivity(t *testing.T) {
	f := newLockFixture(t)
	f.clock.advance(9 * time.Minute)
	f.lock.Check()
	if f.lock.Locked() {
		t.Fatal("locked after 9 of 10 minutes")
	}
	// Input restarts the count: the pointer moving over the content (the
	// driver asks the wrapper's cursor on every move) ...
	f.w.Canvas().Content().(desktop.Cursorable).Cursor()
	f.clock.advance(9 * time.Minute)
	f.lock.Check()
	if f.lock.Locked() {
		t.Fatal("locked 9 minutes after the pointer moved")
	}
	// ... a key press with nothing focused ...
	f.lock.keyDown(&fyne.KeyEvent{Name: fyne.KeyA})
	f.clock.advance(9 * time.Minute)
	f.lock.Check()
	if f.lock.Locked() {
		t.Fatal("locked 9 minutes after a key press")
	}
	// ... and typing into a focused entry.
	f.w.Canvas().Focus(f.entry)
	f.lock.Check()
	f.clock.advance(5 * time.Minute)
	test.Type(f.entry, "abc")
	f.clock.advance(5 * time.Minute)
	f.lock.Check() // sees the text changed since the last check
	f.clock.advance(9 * time.Minute)
	f.lock.Check()
	if f.lock.Locked() {
		t.Fatal("locked while typing into an entry")
	}
	f.clock.advance(time.Minute)
	f.lock.Check()
	if !f.lock.Locked() {
		t.Fatal("not locked after 10 minutes without input")
	}
	test.AssertRendersToMarkup(t, "lock.xml", f.w.Canvas())
	// The lock screen covers the page: what was on it is not drawn.
	overlays := f.w.Canvas().Overlays().List()
	if len(overlays) != 1 || overlays[0].Size() != f.w.Canvas().Size() {
		t.Fatalf("lock overlay %v does not cover the canvas %v", overlays, f.w.Canvas().Size())
	}
	// Input while locked does not unlock.
	f.w.Canvas().Content().(desktop.Cursorable).Cursor()
	f.lock.Check()
	if !f.lock.Locked() {
		t.Fatal("pointer input unlocked the session")
	}
}

func TestLockWrongPasswordStaysLockedRightOneUnlocks(t *testing.T) {
	f := newLockFixture(t)
	f.lock.Lock()
	f.typePassword(t, "Wrong-password-1")
	if !f.lock.Locked() || len(f.unlocked) != 0 {
		t.Fatal("a wrong password unlocked")
	}
	if f.lock.result.Text != lang.L("login.bad") {
		t.Errorf("wrong password says %q", f.lock.result.Text)
	}
	if f.lock.password.Text != "" {
		t.Error("the wrong password stays in the field")
	}
	f.typePassword(t, testPassword)
	if f.lock.Locked() || len(f.unlocked) != 1 || f.unlocked[0].Account.Login != "coord" {
		t.Fatalf("the right password: locked %v, unlocks %d", f.lock.Locked(), len(f.unlocked))
	}
	if n := len(f.w.Canvas().Overlays().List()); n != 0 {
		t.Errorf("%d overlays after unlocking", n)
	}
	// Counting starts again from the unlock.
	f.clock.advance(9 * time.Minute)
	f.lock.Check()
	if f.lock.Locked() {
		t.Error("locked again 9 minutes after unlocking")
	}
}

func TestLockIsThrottledByTheStaffService(t *testing.T) {
	f := newLockFixture(t)
	f.lock.Lock()
	var msg string
	for i := 0; i < 10 && !strings.Contains(msg, "秒後"); i++ {
		f.typePassword(t, "Wrong-password-1")
		msg = f.lock.result.Text
	}
	if !strings.Contains(msg, "秒後") {
		t.Fatalf("no wait after repeated wrong passwords: %q", msg)
	}
	f.typePassword(t, testPassword)
	if !f.lock.Locked() || len(f.unlocked) != 0 {
		t.Fatal("the right password unlocked while throttled")
	}
	later := testClock.Add(time.Hour)
	f.svc.Now = func() time.Time { return later }
	f.typePassword(t, testPassword)
	if f.lock.Locked() {
		t.Fatalf("still locked after the wait: %q", f.lock.result.Text)
	}
}

func TestLockSwitchUser(t *testing.T) {
	f := newLockFixture(t)
	f.lock.Lock()
	tapButton(t, f.w, lang.L("lock.switch_user"))
	if f.switched != 1 || f.lock.Locked() {
		t.Fatalf("switch user: %d calls, locked %v", f.switched, f.lock.Locked())
	}
	if n := len(f.w.Canvas().Overlays().List()); n != 0 {
		t.Errorf("%d overlays after switching user", n)
	}
}

func TestLockTimeoutSetting(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"": 10 * time.Minute, "5": 5 * time.Minute, " 30 ": 30 * time.Minute, "0": 0,
		"-3": 10 * time.Minute, "x": 10 * time.Minute, "999999": 10 * time.Minute,
	} {
		if got := LockTimeout(in); got != want {
			t.Errorf("LockTimeout(%q) = %v, want %v", in, got, want)
		}
	}
	// Off: never locks.
	f := newLockFixture(t)
	f.lock.SetTimeout(0)
	f.clock.advance(24 * time.Hour)
	f.lock.Check()
	if f.lock.Locked() {
		t.Error("locked with the lock turned off")
	}
}
