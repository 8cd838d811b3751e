package screens

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial"
	"jpkipilot/trial/pii"
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
	sess     *staff.Session // the locked session: its Key is the pages' key
	entry    *widget.Entry  // an entry on the locked page
	unlocked []*staff.Session
	changed  []*staff.Session // OnKeyChanged
	switched int
}

func newLockFixture(t *testing.T) *lockFixture {
	t.Helper()
	svc, sess := withCoordinator(t)
	f := &lockFixture{w: newWindow(t), clock: &fakeClock{now: testClock}, svc: svc, sess: sess}
	f.lock = NewSessionLock(f.w, LockDeps{
		Staff: svc, Account: sess.Account, Timeout: 10 * time.Minute, Now: f.clock.Now,
		Key:          func() *pii.Key { return f.sess.Key },
		OnUnlock:     func(s *staff.Session) { f.unlocked = append(f.unlocked, s) },
		OnKeyChanged: func(s *staff.Session) { f.changed = append(f.changed, s) },
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

// The data key the pages hold is unusable while the window is locked, the
// same object works again after the password, and a monitor's name read
// through a service holding it is hidden, then shown.
func TestLockSuspendsTheDataKeyThePagesHold(t *testing.T) {
	f := newLockFixture(t)
	ctx := context.Background()
	pageKey := f.sess.Key
	monitors := newService(t)
	monitors.PII = pageKey // as app/gui.go gives the session's key to the services
	if _, err := monitors.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	list, err := monitors.ListMonitors(ctx, trial.Filter{})
	if err != nil || len(list) == 0 || list[0].Name == "" || list[0].Sealed {
		t.Fatalf("before the lock: %d monitors, %v", len(list), err)
	}
	id, name := list[0].ID, list[0].Name
	sealed, err := pageKey.Seal("monitors.name", id, name)
	if err != nil {
		t.Fatal(err)
	}

	f.lock.Lock()
	if _, err := pageKey.Open("monitors.name", id, sealed); !errors.Is(err, pii.ErrLocked) {
		t.Fatalf("the page's key opens a sealed value while locked: %v", err)
	}
	if m, err := monitors.GetMonitor(ctx, id); err != nil || m.Name != "" || !m.Sealed {
		t.Fatalf("while locked the service reads %q (sealed %v), %v", m.Name, m.Sealed, err)
	}
	if _, err := monitors.Enrol(ctx, trial.Monitor{TrialID: list[0].TrialID, Name: "新規 太郎", Kana: "シンキ タロウ"}); !errors.Is(err, pii.ErrLocked) {
		t.Fatalf("enrolling while locked: %v, want pii.ErrLocked", err)
	}
	f.typePassword(t, "Wrong-password-1")
	if !pageKey.Suspended() {
		t.Fatal("a wrong password resumed the key")
	}

	f.typePassword(t, testPassword)
	if f.lock.Locked() || len(f.unlocked) != 1 || len(f.changed) != 0 {
		t.Fatalf("unlock: locked %v, unlocks %d, key changes %d", f.lock.Locked(), len(f.unlocked), len(f.changed))
	}
	if f.unlocked[0].Key != pageKey {
		t.Error("the unlocked session holds another key object than the pages")
	}
	if got, err := pageKey.Open("monitors.name", id, sealed); err != nil || got != name {
		t.Fatalf("after unlocking the page's key opens %q, %v", got, err)
	}
	if m, err := monitors.GetMonitor(ctx, id); err != nil || m.Name != name {
		t.Fatalf("after unlocking the service reads %q, %v", m.Name, err)
	}
	// Locked again: the same object is suspended again.
	f.lock.Lock()
	if !pageKey.Suspended() {
		t.Fatal("the second lock left the key usable")
	}
}

func TestLockSwitchUserLeavesTheKeySuspended(t *testing.T) {
	f := newLockFixture(t)
	key := f.sess.Key
	f.lock.Lock()
	tapButton(t, f.w, lang.L("lock.switch_user"))
	if f.switched != 1 {
		t.Fatalf("switch user: %d calls", f.switched)
	}
	if _, err := key.Seal("monitors.name", "M-0001", "x"); !errors.Is(err, pii.ErrLocked) {
		t.Fatalf("after switching user the key seals: %v", err)
	}
}

// The lock suspends the key that is current when it comes: after a
// rotation on the staff page, the new one.
func TestLockSuspendsTheCurrentKeyAfterARotation(t *testing.T) {
	f := newLockFixture(t)
	old := f.sess.Key
	if err := f.svc.RotateDataKey(context.Background(), f.sess); err != nil {
		t.Fatal(err)
	}
	if f.sess.Key == old {
		t.Fatal("the rotation kept the key object")
	}
	f.lock.Lock()
	if !f.sess.Key.Suspended() {
		t.Fatal("the lock left the rotated key usable")
	}
	f.typePassword(t, testPassword)
	if f.lock.Locked() || f.sess.Key.Suspended() || len(f.unlocked) != 1 {
		t.Fatalf("unlock after a rotation: locked %v, suspended %v", f.lock.Locked(), f.sess.Key.Suspended())
	}
}

// Rotated on another laptop while locked: the login unwraps a key the
// pages do not hold; it is not resumed and the window starts over.
func TestLockKeyRotatedElsewhereWhileLocked(t *testing.T) {
	f := newLockFixture(t)
	pageKey := f.sess.Key
	f.lock.Lock()
	other, err := f.svc.Login(context.Background(), "coord", testPassword) // the other laptop
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RotateDataKey(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	f.typePassword(t, testPassword)
	if f.lock.Locked() || len(f.unlocked) != 0 || len(f.changed) != 1 {
		t.Fatalf("locked %v, unlocks %d, key changes %d", f.lock.Locked(), len(f.unlocked), len(f.changed))
	}
	if !pageKey.Suspended() {
		t.Error("the stale key was resumed from another key")
	}
	if k := f.changed[0].Key; k == nil || k.Suspended() || k.Check() != other.Key.Check() {
		t.Error("OnKeyChanged did not get the new key")
	}
}

// An analyst holds no key: locking and unlocking have none to handle, and
// the unlocking login does not bring one into the window.
func TestLockWithoutAKey(t *testing.T) {
	f := newLockFixture(t)
	f.sess = &staff.Session{Account: f.sess.Account} // a window built without the key
	f.lock.Lock()
	f.typePassword(t, testPassword)
	if f.lock.Locked() || len(f.unlocked) != 1 || f.unlocked[0].Key != nil {
		t.Fatalf("unlock without a key: locked %v, unlocks %d", f.lock.Locked(), len(f.unlocked))
	}
}

// stillUnlockedAfter advances the clock and checks; it fails when the
// lock came.
func (f *lockFixture) stillUnlockedAfter(t *testing.T, d time.Duration, after string) {
	t.Helper()
	f.clock.advance(d)
	f.lock.Check()
	if f.lock.Locked() {
		t.Fatalf("locked %v after %s", d, after)
	}
}

// The clock runs past the timeout with no input: the lock must come (the
// control that shows the input before it was what kept it away).
func (f *lockFixture) locksAfterTimeout(t *testing.T) {
	t.Helper()
	f.clock.advance(10 * time.Minute)
	f.lock.Check()
	if !f.lock.Locked() {
		t.Fatal("not locked 10 minutes after the last input")
	}
}

// Clicks and wheel turns over content that takes neither reach the
// wrapper, which takes no tap or focus itself; a button inside still gets
// its taps.
func TestLockSeesClicksAndWheelOverPlainContent(t *testing.T) {
	f := newLockFixture(t)
	content := f.w.Canvas().Content()
	if _, ok := content.(fyne.Tappable); ok {
		t.Fatal("the wrapper is tappable: it would change what a click does")
	}
	if _, ok := content.(fyne.Focusable); ok {
		t.Fatal("the wrapper is focusable: a click would take the focus")
	}
	f.lock.Check()
	f.clock.advance(9 * time.Minute)
	content.(desktop.Mouseable).MouseDown(&desktop.MouseEvent{Button: desktop.MouseButtonPrimary})
	content.(desktop.Mouseable).MouseUp(&desktop.MouseEvent{Button: desktop.MouseButtonPrimary})
	f.stillUnlockedAfter(t, 9*time.Minute, "a click")
	// The wheel over the label: the test driver, like the GLFW one, gives
	// it to the top-most scrollable under the pointer, here the wrapper.
	test.Scroll(f.w.Canvas(), fyne.NewPos(20, 10), 0, -20)
	f.stillUnlockedAfter(t, 9*time.Minute, "a wheel turn over a label")
	f.locksAfterTimeout(t)

	tapped := 0
	b := widget.NewButton("押す", func() { tapped++ })
	f2 := newLockFixture(t)
	f2.w.SetContent(f2.lock.Watch(container.NewVBox(b)))
	test.Tap(b)
	if tapped != 1 {
		t.Error("a button inside the wrapper lost its tap")
	}
}

// The wheel over a scroll container or a list goes to them, not to the
// wrapper: the scroll offsets in the Check's mark see it.
func TestLockSeesScrolling(t *testing.T) {
	f := newLockFixture(t)
	tall := container.NewVBox()
	for i := range 200 {
		tall.Add(widget.NewLabel(strings.Repeat("行", i%7+1)))
	}
	items := make([]string, 200)
	list := widget.NewList(func() int { return len(items) },
		func() fyne.CanvasObject { return widget.NewLabel("item") },
		func(int, fyne.CanvasObject) {})
	scroll := container.NewVScroll(tall)
	f.w.SetContent(f.lock.Watch(container.NewGridWithColumns(2, scroll, list)))
	f.lock.Check()

	f.clock.advance(9 * time.Minute)
	test.Scroll(f.w.Canvas(), fyne.NewPos(100, 100), 0, -300)
	if scroll.Offset.Y == 0 {
		t.Fatal("the wheel did not scroll the scroll container")
	}
	f.stillUnlockedAfter(t, 9*time.Minute, "scrolling a scroll container")

	test.Scroll(f.w.Canvas(), fyne.NewPos(900, 100), 0, -300)
	if list.GetScrollOffset() == 0 {
		t.Fatal("the wheel did not scroll the list")
	}
	f.stillUnlockedAfter(t, 9*time.Minute, "scrolling a list")

	// Arrow keys in a focused list that move past its last visible row
	// scroll it.
	list.ScrollToTop()
	f.w.Canvas().Focus(list)
	f.lock.Check()
	f.clock.advance(9 * time.Minute)
	for range 40 {
		list.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	}
	if list.GetScrollOffset() == 0 {
		t.Fatal("40 arrow presses did not scroll the list")
	}
	f.stillUnlockedAfter(t, 9*time.Minute, "arrow keys that scroll a list")
	f.locksAfterTimeout(t)
}

// Keys that change the focused widget: Tab (the focus moves), Space on a
// check box, a choice in a focused select.
func TestLockSeesKeysThatChangeTheFocusedWidget(t *testing.T) {
	f := newLockFixture(t)
	one, two := widget.NewButton("一", nil), widget.NewButton("二", nil)
	check := widget.NewCheck("同意", nil)
	sel := widget.NewSelect([]string{"A", "B"}, nil)
	f.w.SetContent(f.lock.Watch(container.NewVBox(one, two, check, sel)))
	f.w.Canvas().Focus(one)
	f.lock.Check()

	f.clock.advance(9 * time.Minute)
	f.w.Canvas().FocusNext() // what Tab does
	if f.w.Canvas().Focused() == one {
		t.Fatal("Tab did not move the focus")
	}
	f.stillUnlockedAfter(t, 9*time.Minute, "Tab")

	f.w.Canvas().Focus(check)
	f.lock.Check()
	f.clock.advance(9 * time.Minute)
	check.TypedRune(' ')
	if !check.Checked {
		t.Fatal("Space did not tick the check box")
	}
	f.stillUnlockedAfter(t, 9*time.Minute, "Space on a check box")

	f.w.Canvas().Focus(sel)
	f.lock.Check()
	f.clock.advance(9 * time.Minute)
	sel.SetSelected("B") // the keyboard's choice in the select's menu
	f.stillUnlockedAfter(t, 9*time.Minute, "a choice in a select")
	f.locksAfterTimeout(t)
}

// The window coming to the foreground counts while the lock runs, and the
// hook is gone after Stop.
func TestLockSeesTheWindowComingToTheForeground(t *testing.T) {
	f := newLockFixture(t)
	lc, ok := fyne.CurrentApp().Lifecycle().(interface{ OnEnteredForeground() func() })
	if !ok {
		t.Fatal("the test app's lifecycle does not expose its hook")
	}
	f.lock.Start()
	f.lock.Check()
	f.clock.advance(9 * time.Minute)
	hook := lc.OnEnteredForeground()
	if hook == nil {
		t.Fatal("no foreground hook while the lock runs")
	}
	hook()
	f.stillUnlockedAfter(t, 9*time.Minute, "the window came to the foreground")
	f.locksAfterTimeout(t)
	f.lock.Stop()
	if lc.OnEnteredForeground() != nil {
		t.Error("the foreground hook stays after Stop")
	}
}

// BenchmarkLockCheck is one periodic Check (every 1 to 15 s) over a page
// with a split, two lists and a scroll container of 500 labels: the
// focus and scroll marks walk it.
func BenchmarkLockCheck(b *testing.B) {
	if err := LoadTranslations("ja"); err != nil {
		b.Fatal(err)
	}
	test.NewTempApp(b)
	w := test.NewTempWindow(b, widget.NewLabel(""))
	w.Resize(fyne.NewSize(1280, 800))
	l := NewSessionLock(w, LockDeps{Timeout: 10 * time.Minute})
	body := container.NewVBox()
	for i := range 500 {
		body.Add(widget.NewLabel(strings.Repeat("名", i%9+1)))
	}
	newList := func() *widget.List {
		return widget.NewList(func() int { return 1000 }, func() fyne.CanvasObject { return widget.NewLabel("item") },
			func(int, fyne.CanvasObject) {})
	}
	w.SetContent(l.Watch(container.NewHSplit(newList(), container.NewGridWithColumns(2, newList(), container.NewVScroll(body)))))
	b.ResetTimer()
	for range b.N {
		l.Check()
	}
}
