package screens

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial"
)

func TestMonitorFilterNarrowsTheList(t *testing.T) {
	svc := seeded(t)
	w := newWindow(t)
	s := newMonitorsScreen(w, svc)
	show(w, s.content)
	all, err := svc.ListMonitors(context.Background(), trial.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.shown) != len(all) || len(all) < 100 {
		t.Fatalf("unfiltered list shows %d of %d monitors", len(s.shown), len(all))
	}

	test.Type(s.query, "m-0012")
	if len(s.shown) != 1 || s.index.At(s.shown[0]).ID != "M-0012" {
		t.Fatalf("typing m-0012 shows %d monitors, want only M-0012", len(s.shown))
	}
	if want := "1 名 / 全 157 名"; s.count.Text != want {
		t.Errorf("count = %q, want %q", s.count.Text, want)
	}

	// Kana typed in hiragana finds the katakana entries, and only them.
	var kana string
	for _, m := range all {
		if m.Status != trial.StatusWithdrawn {
			kana = strings.Fields(m.Kana)[0]
			break
		}
	}
	hira := strings.Map(func(r rune) rune {
		if r >= 'ァ' && r <= 'ヶ' {
			return r - 0x60
		}
		return r
	}, kana)
	s.query.SetText("")
	test.Type(s.query, hira)
	want := 0
	for _, m := range all {
		if strings.Contains(strings.ReplaceAll(m.Kana, " ", ""), kana) {
			want++
		}
	}
	if len(s.shown) != want || want == 0 {
		t.Fatalf("typing %q shows %d monitors, want the %d whose kana contains %q", hira, len(s.shown), want, kana)
	}
	test.AssertRendersToMarkup(t, "monitors_filtered.xml", w.Canvas())

	// The status select narrows to withdrawn monitors, marked as erased.
	s.query.SetText("")
	s.status.SetSelected(statusName(trial.StatusWithdrawn))
	if len(s.shown) == 0 {
		t.Fatal("the demo data has withdrawals but the withdrawn filter shows none")
	}
	for _, i := range s.shown {
		if m := s.index.At(i); m.Status != trial.StatusWithdrawn {
			t.Errorf("withdrawn filter shows %s (%s)", m.ID, m.Status)
		}
	}
}

func TestEnrolFormShowsValidationMessagesAndSavesNothing(t *testing.T) {
	svc := seeded(t)
	w := newWindow(t)
	s := newMonitorsScreen(w, svc)
	show(w, s.content)
	before := s.index.Len()

	f := s.form
	f.edit(trial.Monitor{})
	f.name.SetText("")
	f.kana.SetText("yamada")
	f.cDate.SetText("2017-13-45")
	test.Tap(f.save)
	waitIdle()
	for _, want := range []string{"入力を確認してください", "名前: 必須です", "よみがな: "} {
		if !strings.Contains(f.errors.Text, want) {
			t.Errorf("errors = %q, want it to contain %q", f.errors.Text, want)
		}
	}
	if strings.Contains(f.errors.Text, "連絡先") {
		t.Errorf("contact is valid but the errors mention it: %q", f.errors.Text)
	}
	test.AssertRendersToMarkup(t, "monitors_enrol_errors.xml", w.Canvas())
	if ms, _ := svc.ListMonitors(context.Background(), trial.Filter{}); len(ms) != before {
		t.Fatalf("a rejected enrolment changed the store: %d monitors, was %d", len(ms), before)
	}

	// Corrected, it is saved with the next id and listed at once.
	f.name.SetText("新井 花子")
	f.kana.SetText("あらい はなこ")
	f.age.SetSelected("30s")
	f.cDate.SetText("2017-01-20")
	f.cVer.SetText("v1.0")
	test.Tap(f.save)
	waitIdle()
	if !strings.Contains(f.errors.Text, "M-0158") {
		t.Fatalf("after a valid enrolment the form says %q", f.errors.Text)
	}
	m, err := svc.GetMonitor(context.Background(), "M-0158")
	if err != nil || m.Kana != "アライ ハナコ" || !m.Consent.Given() {
		t.Fatalf("stored %+v, %v", m, err)
	}
	if s.index.Len() != before+1 {
		t.Errorf("list holds %d monitors, want %d", s.index.Len(), before+1)
	}
}

func TestWithdrawAsksThenErasesAndMarks(t *testing.T) {
	svc := seeded(t)
	w := newWindow(t)
	s := newMonitorsScreen(w, svc)
	show(w, s.content)
	test.Type(s.query, "M-0003")
	s.list.Select(0)
	if s.form.m.ID != "M-0003" || s.form.m.Name == "" {
		t.Fatalf("selected %+v", s.form.m)
	}

	test.Tap(s.form.wd)
	test.AssertRendersToMarkup(t, "withdraw_confirm.xml", w.Canvas())
	if m, _ := svc.GetMonitor(context.Background(), "M-0003"); m.Status == trial.StatusWithdrawn {
		t.Fatal("withdrawn before the confirmation was answered")
	}
	test.Tap(findButton(t, w.Canvas(), "辞退を記録して消去する"))
	waitIdle()

	m, err := svc.GetMonitor(context.Background(), "M-0003")
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != trial.StatusWithdrawn || m.Name != "" || m.Kana != "" || m.Contact != "" {
		t.Fatalf("after withdrawal the store holds %+v", m)
	}
	row := newMonitorRow()
	s.fillRow(s.index.At(s.shown[0]), row)
	cells := row.(*fyne.Container).Objects
	if got := cells[1].(*widget.Label).Text; got != "（消去済み）" {
		t.Errorf("name cell of the withdrawn row = %q", got)
	}
	if got := cells[4].(*widget.Label); !strings.HasPrefix(got.Text, "辞退 2017-01-20") || got.Importance != widget.DangerImportance {
		t.Errorf("status cell = %q (importance %v)", got.Text, got.Importance)
	}
	if !s.form.name.Disabled() || s.form.wd.Visible() || !strings.Contains(s.form.banner.Text, "消去されました") {
		t.Errorf("the form of a withdrawn monitor stays editable (banner %q)", s.form.banner.Text)
	}
}
