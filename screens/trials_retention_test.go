package screens

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial"
	"jpkipilot/trial/audit"
)

func trialsScreenAt(t *testing.T, svc *trial.Service) *trialsScreen {
	t.Helper()
	w := newWindow(t)
	s := newTrialsScreen(w, svc)
	s.now = func() time.Time { return testClock }
	show(w, s.content)
	return s
}

func storedRetention(t *testing.T, svc *trial.Service, id int64) string {
	t.Helper()
	tr, err := svc.GetTrial(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tr.RetainUntil
}

func TestTrialRetentionDate(t *testing.T) {
	auditClock(t)
	svc := newService(t)
	ctx := context.Background()
	tr, err := svc.CreateTrial(ctx, trial.Trial{Name: "貸出実証 第1期", Kind: trial.KindLoan})
	if err != nil {
		t.Fatal(err)
	}
	s := trialsScreenAt(t, svc)
	if !s.retain.Disabled() || !s.retainOK.Disabled() {
		t.Error("a retention date can be set before the trial is saved")
	}
	s.list.Select(0)
	waitIdle()
	if s.retain.Disabled() || !strings.HasPrefix(s.retainer.Text, "保存期限は設定されていません") {
		t.Fatalf("selected trial: entry disabled %v, %q", s.retain.Disabled(), s.retainer.Text)
	}

	s.retain.SetText("2017-02-30")
	s.saveRetention()
	waitIdle()
	if s.retainer.Text != "保存期限: 日付は YYYY-MM-DD の形で入力してください: 2017-02-30" || s.retainer.Importance != widget.DangerImportance {
		t.Errorf("impossible date: %q", s.retainer.Text)
	}
	if got := storedRetention(t, svc, tr.ID); got != "" {
		t.Errorf("a bad date was stored: %q", got)
	}

	s.retain.SetText("2017-03-31")
	s.saveRetention()
	waitIdle()
	if got := storedRetention(t, svc, tr.ID); got != "2017-03-31" {
		t.Fatalf("stored %q, want 2017-03-31", got)
	}
	if s.retainer.Text != "モニターの氏名・よみがな・連絡先は 2017-03-31 まで保存し、その翌日以降に消去できます。" {
		t.Errorf("future date: %q", s.retainer.Text)
	}
	es, err := audit.List(ctx, svc.DB, audit.Filter{Subject: trial.TrialSubject(tr.ID)})
	if err != nil || len(es) == 0 || !strings.Contains(es[len(es)-1].Detail, "2017-03-31") {
		t.Errorf("the change is not in the audit trail: %+v, %v", es, err)
	}

	s.retain.SetText("2017-01-10")
	s.saveRetention()
	waitIdle()
	if s.retainer.Importance != widget.WarningImportance || !strings.HasPrefix(s.retainer.Text, "保存期限（2017-01-10）を過ぎています") {
		t.Errorf("past date: %q", s.retainer.Text)
	}
	relayout(s.w.Canvas())
	test.AssertRendersToMarkup(t, "trials_retention.xml", s.w.Canvas())

	s.retain.SetText("")
	s.saveRetention()
	waitIdle()
	if got := storedRetention(t, svc, tr.ID); got != "" {
		t.Errorf("clearing left %q", got)
	}
}

// personalLeft counts the monitors of a trial that still have a name, kana
// or contact.
func personalLeft(t *testing.T, svc *trial.Service, trialID int64) int {
	t.Helper()
	ms, err := svc.ListMonitors(context.Background(), trial.Filter{TrialID: trialID})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range ms {
		if m.Name != "" || m.Kana != "" || m.Contact != "" {
			n++
		}
	}
	return n
}

// dialogText is the text of every label in the dialogs on c.
func dialogText(c fyne.Canvas) string {
	var b strings.Builder
	for _, o := range c.Overlays().List() {
		walk(o, func(o fyne.CanvasObject) {
			if l, ok := o.(*widget.Label); ok {
				b.WriteString(l.Text + "\n")
			}
		})
	}
	return b.String()
}

func TestPurgeConfirmsTrialsAndCountThenErases(t *testing.T) {
	auditClock(t)
	svc := seeded(t)
	ctx := context.Background()
	ts, err := svc.ListTrials(ctx)
	if err != nil || len(ts) < 2 {
		t.Fatalf("demo trials %d, %v", len(ts), err)
	}
	past, future := ts[0], ts[1]
	if err := svc.SetRetention(ctx, past.ID, "2017-01-19"); err != nil { // the day before testClock
		t.Fatal(err)
	}
	if err := svc.SetRetention(ctx, future.ID, "2017-01-20"); err != nil { // kept through today
		t.Fatal(err)
	}
	n, kept := personalLeft(t, svc, past.ID), personalLeft(t, svc, future.ID)
	if n == 0 || kept == 0 {
		t.Fatalf("demo data: %d and %d monitors with personal data", n, kept)
	}

	s := trialsScreenAt(t, svc)
	s.previewPurge()
	waitIdle()
	msg := dialogText(s.w.Canvas())
	line := "・" + past.Name + "（保存期限 2017-01-19）: モニター " + strconv.Itoa(n) + " 人"
	if !strings.Contains(msg, "次の1件の試験で、合計"+strconv.Itoa(n)+"人") || !strings.Contains(msg, line) {
		t.Errorf("confirmation:\n%s\nwant the count %d and %q", msg, n, line)
	}
	if strings.Contains(msg, future.Name) {
		t.Errorf("the confirmation names %s, kept through today", future.Name)
	}
	relayout(s.w.Canvas())
	test.AssertRendersToMarkup(t, "trials_purge_confirm.xml", s.w.Canvas())

	test.Tap(findButton(t, s.w.Canvas(), "キャンセル"))
	waitIdle()
	if got := personalLeft(t, svc, past.ID); got != n {
		t.Fatalf("Cancel erased: %d of %d left", got, n)
	}

	s.previewPurge()
	waitIdle()
	test.Tap(findButton(t, s.w.Canvas(), "消去する"))
	waitIdle()
	if got := personalLeft(t, svc, past.ID); got != 0 {
		t.Errorf("%d monitors of %s keep personal data after the purge", got, past.Name)
	}
	if got := personalLeft(t, svc, future.ID); got != kept {
		t.Errorf("the purge touched %s: %d of %d left", future.Name, got, kept)
	}
	if msg := dialogText(s.w.Canvas()); !strings.Contains(msg, past.Name+" のモニター "+strconv.Itoa(n)+" 人の個人情報を消去しました。") {
		t.Errorf("result: %q", msg)
	}
	es, err := audit.List(ctx, svc.DB, audit.Filter{Action: audit.RetentionPurge})
	if err != nil || len(es) != 1 || es[0].Subject != trial.TrialSubject(past.ID) {
		t.Errorf("purge entries %+v, %v", es, err)
	}
	for _, o := range s.w.Canvas().Overlays().List() {
		s.w.Canvas().Overlays().Remove(o)
	}

	s.previewPurge()
	waitIdle()
	if msg := dialogText(s.w.Canvas()); !strings.Contains(msg, "消去する個人情報が残っている試験はありません") {
		t.Errorf("second purge: %q", msg)
	}
}

// Without the right to manage trials the date is read-only: the access
// table hides its button, and Enter in the field does nothing either.
func TestRetentionReadOnlyWhenItsButtonIsDenied(t *testing.T) {
	svc := newService(t)
	tr, err := svc.CreateTrial(context.Background(), trial.Trial{Name: "貸出実証 第1期", Kind: trial.KindLoan})
	if err != nil {
		t.Fatal(err)
	}
	s := trialsScreenAt(t, svc)
	HideActions(s.content, []string{"trials.retention_save", "trials.purge"})
	s.list.Select(0)
	waitIdle()
	if !s.retain.Disabled() || s.retainOK.Visible() || s.purge.Visible() {
		t.Errorf("entry disabled %v, set visible %v, purge visible %v", s.retain.Disabled(), s.retainOK.Visible(), s.purge.Visible())
	}
	s.retain.SetText("2017-03-31")
	s.retain.OnSubmitted(s.retain.Text)
	waitIdle()
	if got := storedRetention(t, svc, tr.ID); got != "" {
		t.Errorf("a denied session set the retention date to %q", got)
	}
}
