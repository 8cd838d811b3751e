package screens

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"jpkipilot/trial"
)

func TestCreateTrialWithDefaultLoanDaysAndASession(t *testing.T) {
	svc := newService(t)
	w := newWindow(t)
	s := newTrialsScreen(w, svc)
	show(w, s.content)
	if !s.addSess.Disabled() {
		t.Error("sessions can be added before the trial is saved")
	}

	test.Type(s.name, "貸出実証 第3期")
	if s.loanDays.Text != "14" || s.kind.Selected != "貸出試験" {
		t.Fatalf("a new trial starts as %q with %q loan days", s.kind.Selected, s.loanDays.Text)
	}
	s.saveTrial()
	waitIdle()
	ts, err := svc.ListTrials(context.Background())
	if err != nil || len(ts) != 1 || ts[0].Name != "貸出実証 第3期" || ts[0].LoanDays != trial.DefaultLoanDays {
		t.Fatalf("stored trials %+v, %v", ts, err)
	}
	if s.selected != 0 || s.addSess.Disabled() {
		t.Fatalf("the saved trial is not selected for its sessions (selected %d)", s.selected)
	}

	f := s.editSession(trial.Session{TrialID: ts[0].ID})
	f.code.SetText("LOAN-3")
	f.date.SetText("2017-02-31")
	f.capacity.SetText("10")
	f.target.SetText("x")
	f.save()
	waitIdle()
	if f.errLabel.Text != "目標人数: 数字を入力してください" {
		t.Errorf("non-numeric target: %q", f.errLabel.Text)
	}
	f.target.SetText("8")
	f.save()
	waitIdle()
	if !strings.Contains(f.errLabel.Text, "日付: 日付は YYYY-MM-DD の形で入力してください") {
		t.Errorf("impossible date: %q", f.errLabel.Text)
	}
	test.AssertRendersToMarkup(t, "trials_session_errors.xml", w.Canvas())

	f.date.SetText("2017-02-13")
	f.save()
	waitIdle()
	if len(s.sessions) != 1 || s.sessions[0].Code != "LOAN-3" || s.sessions[0].Target != 8 {
		t.Fatalf("sessions shown: %+v", s.sessions)
	}
	if len(w.Canvas().Overlays().List()) != 0 {
		t.Error("the session dialog stays open after a successful save")
	}
}

func TestFieldTrialSessionNeedsAStep(t *testing.T) {
	svc := newService(t)
	tr, err := svc.CreateTrial(context.Background(), trial.Trial{Name: "チケットレス", Kind: trial.KindField})
	if err != nil {
		t.Fatal(err)
	}
	w := newWindow(t)
	s := newTrialsScreen(w, svc)
	show(w, s.content)
	s.list.Select(0)
	waitIdle()
	if !s.loanDays.Disabled() {
		t.Error("loan days stay editable for a field trial")
	}
	f := s.editSession(trial.Session{TrialID: tr.ID})
	if f.step.Disabled() {
		t.Fatal("the step cannot be chosen for a field-trial session")
	}
	f.code.SetText("FIELD-ENTRY")
	f.date.SetText("2017-03-11")
	f.save()
	waitIdle()
	if !strings.Contains(f.errLabel.Text, "ステップ: 実地試験のセッションには必須です") {
		t.Fatalf("missing step: %q", f.errLabel.Text)
	}
	f.step.SetSelected("入場")
	f.save()
	waitIdle()
	ss, _ := svc.ListSessions(context.Background(), tr.ID)
	if len(ss) != 1 || ss[0].Step != trial.StepEntry {
		t.Fatalf("stored sessions %+v", ss)
	}
}
