package screens

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial/staff"
	"jpkipilot/trial/store/storetest"
)

// newStaff is the real staff service on a new SQLite store, with cheap
// argon2id parameters and the screen tests' clock (throttle waits exact).
func newStaff(t *testing.T) *staff.Service {
	t.Helper()
	s := staff.New(storetest.SQLite(t))
	s.KDF = staff.TestKDF
	s.Now = func() time.Time { return testClock }
	return s
}

// withCoordinator is newStaff with the first coordinator "coord" made.
func withCoordinator(t *testing.T) (*staff.Service, *staff.Session) {
	t.Helper()
	s := newStaff(t)
	sess, err := s.CreateFirst(context.Background(), "coord", "Sato Coordinator", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	return s, sess
}

type loginResult struct {
	sess  *staff.Session
	first bool
	calls int
}

func newLoginPage(t *testing.T, svc LoginService) (fyne.Window, *Login, *loginResult) {
	t.Helper()
	w := newWindow(t)
	res := &loginResult{}
	l := NewLogin(w, LoginDeps{Staff: svc, OnLogin: func(s *staff.Session, first bool) {
		res.sess, res.first = s, first
		res.calls++
	}})
	show(w, l.Object())
	return w, l, res
}

func TestLoginFirstRunCreatesTheFirstCoordinator(t *testing.T) {
	svc := newStaff(t)
	w, l, res := newLoginPage(t, svc)
	if !l.first || l.again == nil {
		t.Fatal("a store without accounts did not show the first-coordinator form")
	}
	test.AssertRendersToMarkup(t, "login_first.xml", w.Canvas())

	fill := func(login, name, pw, again string) {
		l.login.SetText(login)
		l.name.SetText(name)
		l.password.SetText(pw)
		l.again.SetText(again)
		test.Tap(l.submit)
		waitIdle()
	}
	fill("sato", "Sato", testPassword, testPassword+"x")
	if l.result.Text != lang.L("login.password_mismatch") || res.calls != 0 {
		t.Fatalf("differing passwords: %q (%d logins)", l.result.Text, res.calls)
	}
	fill("sato", "Sato", "short1", "short1")
	if !strings.Contains(l.result.Text, "10") || res.calls != 0 {
		t.Fatalf("a short password: %q (%d logins)", l.result.Text, res.calls)
	}
	// The staff package's reasons come in the UI's language (Japanese here).
	if strings.Contains(l.result.Text, "at least") || strings.Contains(l.result.Text, "characters") {
		t.Errorf("the reason is not translated: %q", l.result.Text)
	}
	if has, _ := svc.HasAccounts(context.Background()); has {
		t.Fatal("a refused form made an account")
	}
	fill("sato", "Sato", testPassword, testPassword)
	if res.calls != 1 || !res.first || res.sess == nil || res.sess.Account.Role != staff.Coordinator || res.sess.Key == nil {
		t.Fatalf("after creating: %d calls, first %v, session %+v", res.calls, res.first, res.sess)
	}
	if l.password.Text != "" || l.again.Text != "" {
		t.Error("the password stays in the form")
	}
	// The next start asks to log in.
	_, l2, _ := newLoginPage(t, svc)
	if l2.first {
		t.Error("a store with an account shows the first-coordinator form again")
	}
}

func TestLoginChecksThePasswordAndSlowsDownGuessing(t *testing.T) {
	svc, _ := withCoordinator(t)
	w, l, res := newLoginPage(t, svc)
	if l.first {
		t.Fatal("the first-coordinator form on a store with accounts")
	}
	test.AssertRendersToMarkup(t, "login.xml", w.Canvas())

	// Enter in the password field submits.
	try := func(login, pw string) {
		l.login.SetText(login)
		l.password.SetText(pw)
		// What Enter does (TypedKey itself would go on refreshing the
		// entry while the test driver runs the result's fyne.Do on the
		// worker: a race only the test driver has).
		l.password.OnSubmitted(l.password.Text)
		waitIdle()
	}
	try("coord", "Wrong-password-1")
	if l.result.Text != lang.L("login.bad") || res.calls != 0 {
		t.Fatalf("wrong password: %q, %d logins", l.result.Text, res.calls)
	}
	if l.password.Text != "" {
		t.Error("the wrong password stays in the field")
	}
	try("nobody", testPassword)
	if l.result.Text != lang.L("login.bad") {
		t.Fatalf("unknown login: %q (must read as a wrong password)", l.result.Text)
	}
	var msg string
	for i := 0; i < 10 && !strings.Contains(msg, "秒後"); i++ {
		try("coord", "Wrong-password-1")
		msg = l.result.Text
	}
	if !strings.Contains(msg, "秒後") {
		t.Fatalf("no wait shown after repeated failures: %q", msg)
	}
	test.AssertRendersToMarkup(t, "login_throttled.xml", w.Canvas())
	try("coord", testPassword)
	if res.calls != 0 || !strings.Contains(l.result.Text, "秒後") {
		t.Fatalf("the right password while throttled: %q, %d logins", l.result.Text, res.calls)
	}

	// Once the wait is over the right password logs in.
	later := testClock.Add(time.Hour)
	svc.Now = func() time.Time { return later }
	try("coord", testPassword)
	if res.calls != 1 || res.first || res.sess.Account.Login != "coord" {
		t.Fatalf("right password: %d logins, first %v (%q)", res.calls, res.first, l.result.Text)
	}
}

func TestSessionBarShowsWhoAndLogsOut(t *testing.T) {
	w := newWindow(t)
	out := 0
	sess := &staff.Session{Account: staff.Account{Login: "tanaka", DisplayName: "田中", Role: staff.VenueStaff}}
	w.SetContent(SessionBar(w, StaffDeps{Session: sess}, func() { out++ }))
	var texts []string
	walk(w.Canvas().Content(), func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok {
			texts = append(texts, l.Text)
		}
	})
	if len(texts) != 1 || texts[0] != "田中（tanaka・会場スタッフ）" {
		t.Errorf("the bar says %q", texts)
	}
	tapButton(t, w, lang.L("login.logout"))
	if out != 1 {
		t.Error("logout was not called")
	}
	// Venue staff get their own PIN button; an analyst, who runs no
	// kiosk, does not; both can change their own password.
	for role, wantPIN := range map[staff.Role]bool{staff.VenueStaff: true, staff.Analyst: false, staff.Coordinator: true} {
		sess := &staff.Session{Account: staff.Account{Login: "x", DisplayName: "x", Role: role}}
		w.SetContent(SessionBar(w, StaffDeps{Session: sess}, func() {}))
		var buttons []string
		walk(w.Canvas().Content(), func(o fyne.CanvasObject) {
			if b, ok := o.(*widget.Button); ok {
				buttons = append(buttons, b.Text)
			}
		})
		if slices.Contains(buttons, "自分のキオスク用 PIN") != wantPIN || !slices.Contains(buttons, "自分のパスワードを変更") {
			t.Errorf("%s: buttons %q", role, buttons)
		}
	}
}
