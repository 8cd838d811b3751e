package screens

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/survey"
	"jpkipilot/trial"
	"jpkipilot/trial/staff"
	"jpkipilot/trial/store"
)

// surveyStore is the trial's demo data and the bundled forms on one SQLite
// file at path (reopened by tests that check what survived).
type surveyStore struct {
	path   string
	db     *store.DB
	trials *trial.Service
	survey *survey.Service
	staff  *staff.Service
	sess   *staff.Session // the logged-in coordinator, after setPIN
}

func openSurveyStore(t *testing.T, path string) *surveyStore {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := &surveyStore{path: path, db: db, trials: trial.New(db), survey: survey.New(db), staff: staff.New(db)}
	s.staff.KDF = staff.TestKDF
	s.trials.Now = func() time.Time { return testClock }
	s.survey.Now = func() time.Time { return testClock }
	return s
}

// newSurveyStore seeds the trial demo data and registers the bundled forms.
func newSurveyStore(t *testing.T) *surveyStore {
	t.Helper()
	s := openSurveyStore(t, filepath.Join(t.TempDir(), "survey.db"))
	if _, err := s.trials.SeedDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.survey.AddBundled(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// attendedMonitor is a monitor of the demo data who can answer.
func (s *surveyStore) attendedMonitor(t *testing.T) trial.Monitor {
	t.Helper()
	ms, err := s.trials.ListMonitors(context.Background(), trial.Filter{Status: trial.StatusAttended})
	if err != nil || len(ms) == 0 {
		t.Fatalf("no attended monitor in the demo data (%v)", err)
	}
	return ms[0]
}

// testPassword is the staff accounts' password in screen tests.
const testPassword = "Kiosk-test-2017"

// setPIN makes the store's first coordinator ("coord", the kiosk's staff)
// with the staff PIN pin and logs it in: the trial service gets its data
// key, the kiosk its session.
func (s *surveyStore) setPIN(t *testing.T, pin string) {
	t.Helper()
	ctx := context.Background()
	sess, err := s.staff.CreateFirst(ctx, "coord", "Coordinator", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.staff.SetPIN(ctx, sess, "coord", pin); err != nil {
		t.Fatal(err)
	}
	s.login(t)
}

// login logs the coordinator in again (a reopened store).
func (s *surveyStore) login(t *testing.T) {
	t.Helper()
	sess, err := s.staff.Login(context.Background(), "coord", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	s.sess = sess
	s.trials.PII = sess.Key
}

// startKiosk builds a kiosk on s, fills the staff page for monitor and
// formID, and starts; it returns once the first page is shown.
func startKiosk(t *testing.T, w fyne.Window, s *surveyStore, monitor, formID string) *Kiosk {
	t.Helper()
	k := NewKiosk(w, KioskDeps{Trials: s.trials, Survey: s.survey, Lang: "ja", Staff: s.staff, Session: s.sess})
	show(w, k.Object())
	k.setup.monitorSel.SetText(monitor)
	for i, f := range k.setup.forms {
		if f.ID == formID {
			k.setup.formSel.SetSelectedIndex(i)
		}
	}
	test.Tap(k.setup.start)
	waitIdle()
	if k.resp == nil {
		t.Fatalf("the kiosk did not start: %q", k.setup.result.Text)
	}
	return k
}

// pageQuestions names the answerable questions on the page shown.
func pageQuestions(k *Kiosk) []string {
	var out []string
	for _, q := range k.shown(k.pages[k.cur]) {
		if q.Answerable() {
			out = append(out, q.Name)
		}
	}
	return out
}

func tapButton(t *testing.T, w fyne.Window, text string) {
	t.Helper()
	test.Tap(findButton(t, w.Canvas(), text))
	waitIdle()
}

func findRadio(t *testing.T, c fyne.Canvas) *widget.RadioGroup {
	t.Helper()
	var found *widget.RadioGroup
	walk(c.Content(), func(o fyne.CanvasObject) {
		if r, ok := o.(*widget.RadioGroup); ok && found == nil {
			found = r
		}
	})
	if found == nil {
		t.Fatal("no radio group on the page")
	}
	return found
}

func findEntry(t *testing.T, c fyne.Canvas) *widget.Entry {
	t.Helper()
	var found *widget.Entry
	walk(c.Content(), func(o fyne.CanvasObject) {
		if e, ok := o.(*widget.Entry); ok && found == nil {
			found = e
		}
	})
	if found == nil {
		t.Fatal("no entry on the page")
	}
	return found
}

func storedAnswers(t *testing.T, s *surveyStore, id int64) map[string]string {
	t.Helper()
	r, err := s.survey.Response(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r.Answers
}

func TestKioskRefusesToStartWithoutPIN(t *testing.T) {
	s := newSurveyStore(t)
	w := newWindow(t)
	s.setPIN(t, "") // a coordinator without a staff PIN
	k := NewKiosk(w, KioskDeps{Trials: s.trials, Survey: s.survey, Staff: s.staff, Session: s.sess})
	show(w, k.Object())
	k.setup.monitorSel.SetText(s.attendedMonitor(t).ID)
	k.setup.formSel.SetSelectedIndex(0)
	test.Tap(k.setup.start)
	waitIdle()
	if k.resp != nil {
		t.Fatal("the kiosk started without a PIN to leave it")
	}
	if k.setup.result.Text != lang.L("kiosk.need_pin") {
		t.Errorf("message %q", k.setup.result.Text)
	}
}

func TestKioskEntryQuestionnaire(t *testing.T) {
	s := newSurveyStore(t)
	s.setPIN(t, "246802")
	m := s.attendedMonitor(t)
	w := newWindow(t)
	k := startKiosk(t, w, s, m.ID, "ticket_entry")
	test.AssertRendersToMarkup(t, "kiosk_intro.xml", w.Canvas())

	tapButton(t, w, lang.L("kiosk.next"))
	if got := pageQuestions(k); len(got) != 1 || got[0] != "entry_method" {
		t.Fatalf("second page asks %v, want entry_method", got)
	}
	// Required: Next without an answer stays and says so.
	tapButton(t, w, lang.L("kiosk.next"))
	if got := pageQuestions(k); got[0] != "entry_method" || k.msgs["entry_method"] != lang.L("kiosk.required") {
		t.Fatalf("Next without an answer went on to %v (messages %v)", got, k.msgs)
	}
	test.AssertRendersToMarkup(t, "kiosk_required.xml", w.Canvas())

	findRadio(t, w.Canvas()).SetSelected("マイナンバーカード（PINなし）")
	waitIdle()
	if got := storedAnswers(t, s, k.resp.ID)["entry_method"]; got != "card" {
		t.Fatalf("entry_method in the store = %q right after the choice, want card", got)
	}
	tapButton(t, w, lang.L("kiosk.next"))
	test.AssertRendersToMarkup(t, "kiosk_scale.xml", w.Canvas())
	tapButton(t, w, "5")
	tapButton(t, w, lang.L("kiosk.next"))
	tapButton(t, w, "4")
	tapButton(t, w, lang.L("kiosk.next"))
	// Convenience 5 and willingness 4: the reasons are not asked.
	if got := pageQuestions(k); len(got) != 1 || got[0] != "comment" {
		t.Fatalf("after 5 and 4 the page asks %v, want comment (reasons skipped)", got)
	}
	tapButton(t, w, lang.L("kiosk.back"))
	tapButton(t, w, "2")
	tapButton(t, w, lang.L("kiosk.next"))
	if got := pageQuestions(k); len(got) != 1 || got[0] != "reasons" {
		t.Fatalf("after willingness 2 the page asks %v, want reasons", got)
	}
	tapButton(t, w, lang.L("kiosk.back"))
	tapButton(t, w, "5")
	tapButton(t, w, lang.L("kiosk.next"))
	findEntry(t, w.Canvas()).SetText("かざす場所が分かりやすかった")
	waitIdle()
	want := map[string]string{"entry_method": "card", "convenience": "5", "willingness": "5", "comment": "かざす場所が分かりやすかった"}
	got := storedAnswers(t, s, k.resp.ID)
	for q, v := range want {
		if got[q] != v {
			t.Errorf("stored %s = %q, want %q", q, got[q], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("stored answers %v, want exactly %v", got, want)
	}
	tapButton(t, w, lang.L("kiosk.finish"))
	if !k.done {
		t.Fatalf("Finish did not complete the response: %q", k.status.Text)
	}
	test.AssertRendersToMarkup(t, "kiosk_end.xml", w.Canvas())
	r, err := s.survey.Response(context.Background(), k.resp.ID)
	if err != nil || r.CompletedAt == nil {
		t.Fatalf("response not completed in the store (%v)", err)
	}

	// Reset needs the PIN: a wrong one keeps the thank-you page.
	tapButton(t, w, lang.L("kiosk.reset"))
	typePIN(t, w, "111111")
	if k.form == nil {
		t.Fatal("a wrong PIN reset the kiosk")
	}
	typePIN(t, w, "246802")
	if k.form != nil || k.setup == nil {
		t.Fatal("the right PIN did not bring back the staff page")
	}
}

// typePIN types pin into the PIN dialog shown and presses OK.
func typePIN(t *testing.T, w fyne.Window, pin string) {
	t.Helper()
	var entry *widget.Entry
	for _, o := range w.Canvas().Overlays().List() {
		walk(o, func(o fyne.CanvasObject) {
			if e, ok := o.(*widget.Entry); ok && e.Password {
				entry = e
			}
		})
	}
	if entry == nil {
		t.Fatal("no PIN dialog")
	}
	entry.SetText(pin)
	tapButton(t, w, lang.L("OK"))
}

func TestKioskConstraintAndGroupSkipLogic(t *testing.T) {
	s := newSurveyStore(t)
	s.setPIN(t, "246802")
	m := s.attendedMonitor(t)
	w := newWindow(t)
	k := startKiosk(t, w, s, m.ID, "lent_phone")
	tapButton(t, w, lang.L("kiosk.next"))
	e := findEntry(t, w.Canvas())
	test.Type(e, "20")
	waitIdle()
	if k.msgs["days_used"] != "0〜14の数字でご記入ください。" {
		t.Fatalf("20 days: message %q, want the form's constraint message", k.msgs["days_used"])
	}
	test.AssertRendersToMarkup(t, "kiosk_constraint.xml", w.Canvas())
	if got := storedAnswers(t, s, k.resp.ID)["days_used"]; got != "2" {
		// "2" was valid while typing "20" and was saved; "20" never is.
		t.Fatalf("stored days_used = %q, want 2 (the last valid value)", got)
	}
	tapButton(t, w, lang.L("kiosk.next"))
	if got := pageQuestions(k); got[0] != "days_used" {
		t.Fatalf("Next with an invalid value went on to %v", got)
	}
	e.SetText("")
	test.Type(e, "１０") // full-width digits are fine
	waitIdle()
	if got := storedAnswers(t, s, k.resp.ID)["days_used"]; got != "10" {
		t.Fatalf("stored days_used = %q, want 10", got)
	}
	tapButton(t, w, lang.L("kiosk.next")) // returned_on (optional)
	tapButton(t, w, lang.L("kiosk.next")) // the usage group
	if got := pageQuestions(k); len(got) != 3 {
		t.Fatalf("group page asks %v before any answer, want convenience, willingness, troubles", got)
	}
	tapButton(t, w, "5")
	if got := pageQuestions(k); len(got) != 3 {
		t.Fatalf("convenience 5 shows %v; reasons must stay hidden", got)
	}
	test.AssertRendersToMarkup(t, "kiosk_group_skip.xml", w.Canvas())
	test.Tap(allButtons(w.Canvas(), "2")[0]) // the first row is convenience
	waitIdle()
	if got := pageQuestions(k); len(got) != 4 || got[3] != "reasons" {
		t.Fatalf("convenience 2 shows %v; want reasons added", got)
	}
}

// TestKioskResumesAfterReopening: answers given are in the store; a new
// kiosk on the reopened file continues at the first unanswered page.
func TestKioskResumesAfterReopening(t *testing.T) {
	s := newSurveyStore(t)
	s.setPIN(t, "246802")
	m := s.attendedMonitor(t)
	w := newWindow(t)
	k := startKiosk(t, w, s, m.ID, "ticket_entry")
	tapButton(t, w, lang.L("kiosk.next"))
	findRadio(t, w.Canvas()).SetSelected("スマートフォン（PIN入力）")
	waitIdle()
	tapButton(t, w, lang.L("kiosk.next"))
	tapButton(t, w, "3")
	first := k.resp.ID
	s.db.Close()

	s2 := openSurveyStore(t, s.path)
	w2 := newWindow(t)
	// The staff page offers the unfinished questionnaire; picking it fills
	// in the monitor and the form.
	s2.login(t)
	k2 := NewKiosk(w2, KioskDeps{Trials: s2.trials, Survey: s2.survey, Staff: s2.staff, Session: s2.sess})
	show(w2, k2.Object())
	if len(k2.setup.open) != 1 || len(k2.setup.openSel.Options) != 1 {
		t.Fatalf("unfinished offered: %v", k2.setup.openSel.Options)
	}
	k2.setup.openSel.SetSelectedIndex(0)
	if k2.setup.monitorSel.Text != m.ID || k2.setup.forms[k2.setup.formSel.SelectedIndex()].ID != "ticket_entry" {
		t.Fatalf("picking the unfinished one filled in %q and form %d", k2.setup.monitorSel.Text, k2.setup.formSel.SelectedIndex())
	}
	test.Tap(k2.setup.start)
	waitIdle()
	if k2.resp.ID != first {
		t.Fatalf("reopened kiosk started response %d, want to resume %d", k2.resp.ID, first)
	}
	if got := pageQuestions(k2); len(got) != 1 || got[0] != "willingness" {
		t.Fatalf("resumed at %v, want willingness (first unanswered)", got)
	}
	if k2.answers["entry_method"] != "phone" || k2.answers["convenience"] != "3" {
		t.Errorf("resumed answers %v", k2.answers)
	}
}

// allButtons lists the visible buttons labelled text, in page order.
func allButtons(c fyne.Canvas, text string) []*widget.Button {
	var out []*widget.Button
	walk(c.Content(), func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == text && b.Visible() {
			out = append(out, b)
		}
	})
	return out
}
