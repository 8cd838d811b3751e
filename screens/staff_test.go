package screens

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial"
	"jpkipilot/trial/audit"
	"jpkipilot/trial/staff"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// Passwords of the test accounts (never shown by the page).
const (
	katoPassword = "Coordinator-2017"
	satoPassword = "venue-staff-42"
)

// auditClock makes the audit trail's times step one minute per entry from
// testClock, so goldens that show times and hashes are stable.
func auditClock(t *testing.T) {
	t.Helper()
	var mu sync.Mutex
	next := testClock
	prev := audit.Now
	audit.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now := next
		next = next.Add(time.Minute)
		return now
	}
	t.Cleanup(func() { audit.Now = prev })
}

// staffDesk is a store with a first coordinator (kato, logged in), venue
// staff sato (with a PIN, logged in once), analyst yamada and venue staff
// suzuki (disabled); accounts use cheap argon2id.
func staffDesk(t *testing.T) (*staff.Service, *staff.Session, *store.DB) {
	t.Helper()
	auditClock(t)
	db := storetest.SQLite(t)
	svc := staff.New(db)
	svc.KDF = staff.TestKDF
	svc.Now = func() time.Time { return testClock }
	ctx := context.Background()
	sess, err := svc.CreateFirst(ctx, "kato", "加藤 花子", katoPassword)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		login, name string
		role        staff.Role
	}{{"sato", "佐藤 一郎", staff.VenueStaff}, {"yamada", "山田 次郎", staff.Analyst}, {"suzuki", "鈴木 三郎", staff.VenueStaff}} {
		if _, err := svc.Create(ctx, sess, a.login, a.name, a.role, satoPassword); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.SetPIN(ctx, sess, "sato", "246810"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Login(ctx, "sato", satoPassword); err != nil {
		t.Fatal(err)
	}
	if err := svc.Disable(ctx, sess, "suzuki", true); err != nil {
		t.Fatal(err)
	}
	return svc, sess, db
}

func staffScreenFor(t *testing.T, svc *staff.Service, sess *staff.Session) *staffScreen {
	t.Helper()
	w := newWindow(t)
	s := newStaffScreen(w, StaffDeps{Service: svc, Session: sess})
	show(w, s.content)
	return s
}

// selectAccount selects login in the list.
func selectAccount(t *testing.T, s *staffScreen, login string) {
	t.Helper()
	for i, a := range s.accounts {
		if a.Login == login {
			s.list.Select(i)
			return
		}
	}
	t.Fatalf("no account %s in the list", login)
}

// rowTexts is what the list shows for account login.
func rowTexts(t *testing.T, s *staffScreen, login string) []string {
	t.Helper()
	for _, a := range s.accounts {
		if a.Login != login {
			continue
		}
		row := newStaffRow()
		s.fillRow(a, row)
		var out []string
		for _, c := range row.(*fyne.Container).Objects {
			out = append(out, c.(*widget.Label).Text)
		}
		return out
	}
	t.Fatalf("no account %s in the list", login)
	return nil
}

func TestStaffListShowsEachAccount(t *testing.T) {
	svc, sess, _ := staffDesk(t)
	s := staffScreenFor(t, svc, sess)
	if got := s.count.Text; got != "4 件" {
		t.Errorf("count %q, want 4 件", got)
	}
	for login, want := range map[string]string{
		"kato":   "kato|加藤 花子|コーディネーター|なし|有効|現行設定|—",
		"sato":   "sato|佐藤 一郎|会場スタッフ|設定済み|有効|現行設定|2017-01-20 10:30",
		"yamada": "yamada|山田 次郎|分析担当|なし|有効|現行設定|—",
		"suzuki": "suzuki|鈴木 三郎|会場スタッフ|なし|無効|現行設定|—",
	} {
		if got := strings.Join(rowTexts(t, s, login), "|"); got != want {
			t.Errorf("row of %s: %q, want %q", login, got, want)
		}
	}
	selectAccount(t, s, "sato")
	if !strings.Contains(s.info.Text, "データ鍵: あり") || !strings.Contains(s.info.Text, "キオスク用 PIN: 設定済み") {
		t.Errorf("details of sato: %q", s.info.Text)
	}
	if s.pin.Disabled() || s.role.Disabled() || s.disable.Text != "無効にする" {
		t.Errorf("actions for sato: pin disabled %v, role disabled %v, disable %q", s.pin.Disabled(), s.role.Disabled(), s.disable.Text)
	}
	relayout(s.w.Canvas())
	test.AssertRendersToMarkup(t, "staff_list.xml", s.w.Canvas())

	selectAccount(t, s, "yamada")
	if !s.pin.Disabled() {
		t.Error("an analyst can be given a kiosk PIN")
	}
	selectAccount(t, s, "suzuki")
	if s.disable.Text != "有効にする" {
		t.Errorf("a disabled account offers %q", s.disable.Text)
	}
}

func TestStaffAddAccountShowsEachFieldError(t *testing.T) {
	svc, sess, _ := staffDesk(t)
	s := staffScreenFor(t, svc, sess)
	f := s.openCreate()
	f.login.SetText("Ab")
	f.password.SetText("short1")
	f.again.SetText("short2")
	f.save()
	waitIdle()
	want := "ログインID: 3〜32 文字にしてください\n表示名: 必須です\nパスワード: 10 文字以上にしてください\nパスワード（確認）: 一致しません"
	if f.errLabel.Text != want {
		t.Errorf("errors:\n%s\nwant:\n%s", f.errLabel.Text, want)
	}
	if strings.Contains(f.errLabel.Text, "short") {
		t.Error("the error echoes the password")
	}
	relayout(s.w.Canvas())
	test.AssertRendersToMarkup(t, "staff_add_errors.xml", s.w.Canvas())

	// The store refuses a taken login (after folding); nothing is created.
	f.login.SetText(" SATO ")
	f.name.SetText("佐藤 二郎")
	f.password.SetText("Another-pass-1")
	f.again.SetText("Another-pass-1")
	f.save()
	waitIdle()
	if f.errLabel.Text != "ログインID: このログインIDはすでに使われています" {
		t.Errorf("taken login: %q", f.errLabel.Text)
	}
	f.password.SetText("onlylowercase")
	f.again.SetText("onlylowercase")
	f.login.SetText("tanaka")
	f.save()
	waitIdle()
	if !strings.HasPrefix(f.errLabel.Text, "パスワード: 英小文字・英大文字・数字・記号のうち 2 種類以上") {
		t.Errorf("one kind of character: %q", f.errLabel.Text)
	}

	f.password.SetText("Tanaka-2017")
	f.again.SetText("Tanaka-2017")
	f.role.SetSelected("分析担当")
	f.save()
	waitIdle()
	if f.errLabel.Text != "" || len(s.w.Canvas().Overlays().List()) != 0 {
		t.Fatalf("a valid account was refused: %q", f.errLabel.Text)
	}
	if s.sel == nil || s.sel.Login != "tanaka" || s.sel.Role != staff.Analyst || len(s.accounts) != 5 {
		t.Fatalf("after creating: selected %+v, %d accounts", s.sel, len(s.accounts))
	}
	if _, err := svc.Login(context.Background(), "tanaka", "Tanaka-2017"); err != nil {
		t.Errorf("the new account cannot log in: %v", err)
	}
}

func TestStaffRoleChangeKeepsTheLastCoordinator(t *testing.T) {
	svc, sess, _ := staffDesk(t)
	s := staffScreenFor(t, svc, sess)
	selectAccount(t, s, "kato")
	f := s.openRole()
	f.role.SetSelected("分析担当")
	f.save()
	waitIdle()
	if f.errLabel.Text != "最後の有効なコーディネーターです。先に別のコーディネーターを作ってください。" {
		t.Errorf("demoting the last coordinator: %q", f.errLabel.Text)
	}
	f.dialog.Hide()

	selectAccount(t, s, "sato")
	f = s.openRole()
	f.role.SetSelected("分析担当")
	f.save()
	waitIdle()
	if f.errLabel.Text != "" {
		t.Fatalf("role change refused: %q", f.errLabel.Text)
	}
	as, err := svc.List(context.Background(), sess)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.Login == "sato" && a.Role != staff.Analyst {
			t.Errorf("sato is %s in the store", a.Role)
		}
	}
	if s.sel == nil || s.sel.Role != staff.Analyst || !s.pin.Disabled() {
		t.Errorf("the page shows %+v after the change", s.sel)
	}
	if s.status.Text != "sato の役割を 分析担当 にしました。" {
		t.Errorf("status %q", s.status.Text)
	}
}

func TestStaffResetPasswordAndPIN(t *testing.T) {
	svc, sess, _ := staffDesk(t)
	s := staffScreenFor(t, svc, sess)
	ctx := context.Background()
	selectAccount(t, s, "sato")

	r := s.openReset()
	r.password.SetText("sato")
	r.again.SetText("sato")
	r.save()
	waitIdle()
	if r.errLabel.Text != "パスワード: 10 文字以上にしてください" {
		t.Errorf("short reset password: %q", r.errLabel.Text)
	}
	r.password.SetText("Fresh-start-9")
	r.again.SetText("Fresh-start-9")
	r.save()
	waitIdle()
	if r.errLabel.Text != "" {
		t.Fatalf("reset refused: %q", r.errLabel.Text)
	}
	if _, err := svc.Login(ctx, "sato", satoPassword); !errors.Is(err, staff.ErrBadLogin) {
		t.Errorf("the old password still works: %v", err)
	}
	if _, err := svc.Login(ctx, "sato", "Fresh-start-9"); err != nil {
		t.Errorf("the new password does not work: %v", err)
	}

	p := s.openPIN()
	if p.clear == nil {
		t.Error("an account with a PIN offers no way to remove it")
	}
	p.pin.SetText("12a456")
	p.again.SetText("12a457")
	p.save()
	waitIdle()
	if p.errLabel.Text != "PIN: 数字だけを入力してください\nPIN（確認）: 一致しません" {
		t.Errorf("bad PIN: %q", p.errLabel.Text)
	}
	if strings.Contains(p.errLabel.Text, "12a4") {
		t.Error("the error echoes the PIN")
	}
	p.pin.SetText("97531")
	p.again.SetText("97531")
	p.save()
	waitIdle()
	if p.errLabel.Text != "PIN: 6〜8 桁の数字にしてください" {
		t.Errorf("5-digit PIN: %q", p.errLabel.Text)
	}
	p.pin.SetText("9753102")
	p.again.SetText("9753102")
	p.save()
	waitIdle()
	if p.errLabel.Text != "" {
		t.Fatalf("PIN refused: %q", p.errLabel.Text)
	}
	if a, err := svc.CheckPIN(ctx, "9753102"); err != nil || a.Login != "sato" {
		t.Errorf("the new PIN leaves a kiosk as %q, %v", a.Login, err)
	}
	if _, err := svc.CheckPIN(ctx, "246810"); !errors.Is(err, staff.ErrBadPIN) {
		t.Errorf("the old PIN still works: %v", err)
	}
}

// Once the cost settings are raised, the page shows which accounts'
// password hashes are below them (a column, and a note on the selected
// account); resetting the password, as before, makes the hash current.
func TestStaffPageShowsOutdatedHashes(t *testing.T) {
	svc, sess, _ := staffDesk(t)
	ctx := context.Background()
	svc.KDF = staff.KDFParams{Time: 2, MemoryKiB: 128, Threads: 1}
	if _, err := svc.Login(ctx, "kato", katoPassword); err != nil { // rehashes kato's
		t.Fatal(err)
	}
	s := staffScreenFor(t, svc, sess)
	hashCell := func(login string) (string, widget.Importance) {
		t.Helper()
		for _, a := range s.accounts {
			if a.Login == login {
				row := newStaffRow()
				s.fillRow(a, row)
				l := row.(*fyne.Container).Objects[5].(*widget.Label)
				return l.Text, l.Importance
			}
		}
		t.Fatalf("no account %s in the list", login)
		return "", 0
	}
	for login, want := range map[string]string{"kato": "現行設定", "sato": "旧設定（弱い）", "yamada": "旧設定（弱い）", "suzuki": "旧設定（弱い）"} {
		got, imp := hashCell(login)
		if got != want || (want == "現行設定") != (imp != widget.WarningImportance) {
			t.Errorf("hash of %s: %q (importance %v), want %q", login, got, imp, want)
		}
	}
	selectAccount(t, s, "kato")
	if s.hashNote.Visible() {
		t.Errorf("a current hash shows the note %q", s.hashNote.Text)
	}
	selectAccount(t, s, "sato")
	if !s.hashNote.Visible() || !strings.Contains(s.hashNote.Text, "パスワードを再設定してください") {
		t.Errorf("an outdated hash: note shown %v, %q", s.hashNote.Visible(), s.hashNote.Text)
	}
	r := s.openReset()
	r.password.SetText("Fresh-start-9")
	r.again.SetText("Fresh-start-9")
	r.save()
	waitIdle()
	if r.errLabel.Text != "" {
		t.Fatalf("reset refused: %q", r.errLabel.Text)
	}
	if got, _ := hashCell("sato"); got != "現行設定" {
		t.Errorf("after the reset sato's hash shows %q", got)
	}
	if s.sel == nil || s.sel.Login != "sato" || s.hashNote.Visible() {
		t.Errorf("after the reset: selected %v, note shown %v", s.sel, s.hashNote.Visible())
	}
	if got, _ := hashCell("yamada"); got != "旧設定（弱い）" {
		t.Errorf("another account's reset changed yamada's hash to %q", got)
	}
}

func TestStaffDisableAndEnable(t *testing.T) {
	svc, sess, _ := staffDesk(t)
	s := staffScreenFor(t, svc, sess)
	ctx := context.Background()

	selectAccount(t, s, "kato")
	s.setDisabled("kato", true)
	waitIdle()
	if s.status.Text != "kato: 最後の有効なコーディネーターです。先に別のコーディネーターを作ってください。" || s.status.Importance != widget.DangerImportance {
		t.Errorf("disabling the last coordinator: %q", s.status.Text)
	}

	selectAccount(t, s, "sato")
	s.confirmDisable()
	test.Tap(findButton(t, s.w.Canvas(), "無効にする"))
	waitIdle()
	if _, err := svc.Login(ctx, "sato", satoPassword); !errors.Is(err, staff.ErrDisabled) {
		t.Errorf("a disabled account logs in: %v", err)
	}
	if got := rowTexts(t, s, "sato")[4]; got != "無効" {
		t.Errorf("sato's state shows %q", got)
	}
	s.confirmDisable()
	test.Tap(findButton(t, s.w.Canvas(), "有効にする"))
	waitIdle()
	if _, err := svc.Login(ctx, "sato", satoPassword); err != nil {
		t.Errorf("an enabled account cannot log in: %v", err)
	}
}

func TestChangeOwnPassword(t *testing.T) {
	svc, sess, _ := staffDesk(t)
	w := newWindow(t)
	f := openChangePassword(w, StaffDeps{Service: svc, Session: sess})
	f.current.SetText("not-my-password")
	f.password.SetText("Brand-new-2017")
	f.again.SetText("Brand-new-2017")
	f.save()
	waitIdle()
	if f.errLabel.Text != "現在のパスワード: 正しくありません" {
		t.Errorf("wrong current password: %q", f.errLabel.Text)
	}
	f.current.SetText(katoPassword)
	f.save()
	waitIdle()
	if f.errLabel.Text != "" {
		t.Fatalf("change refused: %q", f.errLabel.Text)
	}
	if _, err := svc.Login(context.Background(), "kato", "Brand-new-2017"); err != nil {
		t.Errorf("the new password does not log in: %v", err)
	}
}

func TestRotateDataKeyReseals(t *testing.T) {
	auditClock(t)
	db := storetest.SQLite(t)
	ts := trial.New(db)
	ts.Now = func() time.Time { return testClock }
	ctx := context.Background()
	if _, err := ts.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	svc := staff.New(db)
	svc.KDF = staff.TestKDF
	sess, err := svc.CreateFirst(ctx, "kato", "加藤 花子", katoPassword)
	if err != nil {
		t.Fatal(err)
	}
	old := sess.Key
	ts.PII = old
	before, err := ts.ListMonitors(ctx, trial.Filter{})
	if err != nil || len(before) == 0 || before[0].Name == "" {
		t.Fatalf("monitors before rotation: %d, %v", len(before), err)
	}

	w := newWindow(t)
	rotated := 0
	s := newStaffScreen(w, StaffDeps{Service: svc, Session: sess, OnKeyRotated: func() { rotated++ }})
	show(w, s.content)
	s.confirmRotate()
	relayout(w.Canvas())
	test.AssertRendersToMarkup(t, "staff_rotate_confirm.xml", w.Canvas())
	test.Tap(findButton(t, w.Canvas(), "更新する"))
	waitIdle()
	if rotated != 1 || sess.Key == old || s.status.Importance != widget.SuccessImportance {
		t.Fatalf("after rotation: callback %d times, key changed %v, status %q", rotated, sess.Key != old, s.status.Text)
	}
	if _, err := ts.ListMonitors(ctx, trial.Filter{}); err == nil {
		t.Error("the old key still opens the personal fields")
	}
	ts.PII = sess.Key
	after, err := ts.ListMonitors(ctx, trial.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) || after[0].Name != before[0].Name || after[0].Contact != before[0].Contact {
		t.Errorf("names changed in the rotation: %q → %q", before[0].Name, after[0].Name)
	}
}

func TestStaffPageNeedsACoordinator(t *testing.T) {
	svc, _, _ := staffDesk(t)
	for _, role := range []staff.Role{staff.VenueStaff, staff.Analyst} {
		other := &staff.Session{Account: staff.Account{Login: "x", Role: role}}
		w := newWindow(t)
		s := newStaffScreen(w, StaffDeps{Service: svc, Session: other})
		show(w, s.content)
		if s.list != nil {
			t.Errorf("%s gets the account list", role)
		}
	}
	if s := newStaffScreen(newWindow(t), StaffDeps{Service: svc}); s.list != nil {
		t.Error("no session gets the account list")
	}
}

// relayout lays out everything on c again, top down, as the desktop driver
// does when a widget's minimum size changed after it was shown (the test
// canvas does not): goldens taken after an update then show what a user sees.
func relayout(c fyne.Canvas) {
	var lay func(o fyne.CanvasObject)
	lay = func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *fyne.Container:
			if x.Layout != nil {
				x.Layout.Layout(x.Objects, x.Size())
			}
			for _, c := range x.Objects {
				lay(c)
			}
		case fyne.Widget:
			r := test.WidgetRenderer(x)
			r.Layout(x.Size())
			for _, c := range r.Objects() {
				lay(c)
			}
		}
	}
	lay(c.Content())
	for _, o := range c.Overlays().List() {
		lay(o)
	}
}

// Venue staff set their own kiosk PIN from the session bar's dialog: a
// wrong password is shown on the field, the right one sets the PIN, which
// then opens a kiosk; clearing needs the password too.
func TestSetOwnPINForm(t *testing.T) {
	svc, _, _ := staffDesk(t)
	ctx := context.Background()
	sato, err := svc.Login(ctx, "sato", satoPassword)
	if err != nil {
		t.Fatal(err)
	}
	w := newWindow(t)
	if f := openOwnPIN(w, StaffDeps{Service: svc, Session: &staff.Session{Account: staff.Account{Login: "yamada", Role: staff.Analyst}}}); f != nil {
		t.Fatal("an analyst got the own PIN form")
	}
	f := openOwnPIN(w, StaffDeps{Service: svc, Session: sato})
	f.pin.SetText("97531")
	f.again.SetText("97531")
	f.save()
	waitIdle()
	if f.errLabel.Text != "現在のパスワード: 必須です\nPIN: 6〜8 桁の数字にしてください" {
		t.Errorf("empty password, short PIN: %q", f.errLabel.Text)
	}
	f.current.SetText("not-my-password")
	f.pin.SetText("975310")
	f.again.SetText("975310")
	f.save()
	waitIdle()
	if f.errLabel.Text != "現在のパスワード: 正しくありません" {
		t.Errorf("wrong password: %q", f.errLabel.Text)
	}
	if _, err := svc.CheckPIN(ctx, "975310"); !errors.Is(err, staff.ErrBadPIN) {
		t.Fatalf("the PIN was set with a wrong password: %v", err)
	}
	f.current.SetText(satoPassword)
	f.save()
	waitIdle()
	if f.errLabel.Text != "" {
		t.Fatalf("PIN refused: %q", f.errLabel.Text)
	}
	if a, err := svc.CheckPIN(ctx, "975310"); err != nil || a.Login != "sato" {
		t.Fatalf("own PIN at a kiosk: %+v, %v", a, err)
	}
	f = openOwnPIN(w, StaffDeps{Service: svc, Session: sato})
	f.current.SetText(satoPassword)
	test.Tap(findButton(t, w.Canvas(), "PIN を削除"))
	waitIdle()
	if _, err := svc.CheckPIN(ctx, "975310"); !errors.Is(err, staff.ErrBadPIN) {
		t.Fatalf("cleared PIN still opens a kiosk: %v", err)
	}
}
