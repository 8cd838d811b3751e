package screens

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial"
)

// loansDesk is a desk with two loans made 20 days before testClock: one
// due after 14 days (6 days overdue now), one due in 5 days from now.
func loansDesk(t *testing.T) (*trial.Service, *trial.Loans, []trial.Monitor) {
	t.Helper()
	svc, l := lendingDesk(t)
	importDevices(t, l)
	ctx := context.Background()
	ms, err := svc.ListMonitors(ctx, trial.Filter{Status: trial.StatusEnrolled})
	if err != nil {
		t.Fatal(err)
	}
	then := testClock.AddDate(0, 0, -20)
	l.Now = func() time.Time { return then }
	for _, c := range []trial.Checkout{
		{MonitorID: ms[1].ID, Phone: "356938035643809", SIM: "89812000123456789017", Staff: "佐藤", DueOn: "2017-01-25"},
		{MonitorID: ms[0].ID, Phone: "352099001761481", SIM: "8981101000000000019", Charger: true, Staff: "田中", DueOn: "2017-01-14"},
	} {
		if _, err := l.Checkout(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	l.Now = func() time.Time { return testClock }
	return svc, l, ms
}

func loansScreenFor(t *testing.T, svc *trial.Service, l *trial.Loans) *loansScreen {
	t.Helper()
	w := newWindow(t)
	s := newLoansScreen(w, LoansDeps{Loans: l, Monitors: svc, Trials: svc, Now: func() time.Time { return testClock }})
	show(w, s.content)
	return s
}

func TestLoansOverdueFirst(t *testing.T) {
	svc, l, ms := loansDesk(t)
	s := loansScreenFor(t, svc, l)
	if s.list.Length() != 2 {
		t.Fatalf("%d loans, want 2", s.list.Length())
	}
	if s.loans[0].MonitorID != ms[0].ID || s.loans[0].DaysOverdue != 6 {
		t.Errorf("first row %+v, want %s 6 days overdue", s.loans[0], ms[0].ID)
	}
	row := newLoanRow()
	fillLoanRow(s.loans[0], row)
	state := row.(*fyne.Container).Objects[5].(*widget.Label)
	if state.Text != "6 日超過" || state.Importance != widget.DangerImportance {
		t.Errorf("state cell %q (importance %v), want 6 日超過 in red", state.Text, state.Importance)
	}
	fillLoanRow(s.loans[1], row)
	if state.Text != "貸出中" || state.Importance == widget.DangerImportance {
		t.Errorf("second row state %q (importance %v)", state.Text, state.Importance)
	}
	test.AssertRendersToMarkup(t, "loans.xml", s.w.Canvas())
}

// submitCheckout fills the check-out form and submits it.
func submitCheckout(t *testing.T, s *loansScreen, monitor, phone, sim, staff string) *checkoutForm {
	t.Helper()
	f := s.newCheckoutForm()
	waitIdle()
	f.monitor.entry.SetText(monitor)
	f.phone.SetText(phone)
	f.sim.SetText(sim)
	f.staff.SetText(staff)
	f.submit()
	waitIdle()
	return f
}

func TestCheckoutRefusesDoubleLending(t *testing.T) {
	svc, l, ms := loansDesk(t)
	s := loansScreenFor(t, svc, l)

	// The phone is out on the first loan: refused, and the form says why.
	f := submitCheckout(t, s, ms[2].ID, "352099001761481", "8981300000000000091", "田中")
	// Named in Japanese: the device's kind and serial, no English error.
	if f.problem.Text != "スマートフォン 352099001761481 は貸出中です。二重には貸し出せません。" {
		t.Errorf("problem = %q", f.problem.Text)
	}
	w := s.w
	w.SetContent(f.form)
	test.AssertRendersToMarkup(t, "loans_checkout_refused.xml", w.Canvas())

	// A monitor who holds a loan cannot take a second bundle.
	f = submitCheckout(t, s, ms[0].ID, "", "8981300000000000091", "田中")
	if f.errs["phone"].Hidden || f.errs["phone"].Text == "" {
		t.Error("no phone error for an empty IMEI")
	}
	f = submitCheckout(t, s, ms[0].ID, "356938035643809", "8981300000000000091", "田中")
	if f.problem.Text != "モニター "+ms[0].ID+" には返却されていない貸出があります。先に返却を受けてください。" &&
		f.problem.Text != "スマートフォン 356938035643809 は貸出中です。二重には貸し出せません。" {
		t.Errorf("problem = %q", f.problem.Text)
	}
	open, err := l.ListLoans(context.Background(), trial.LoanFilter{Open: true})
	if err != nil || len(open) != 2 {
		t.Fatalf("%d open loans after refusals (%v), want still 2", len(open), err)
	}
}

func TestCheckoutDefaultDueAndHistory(t *testing.T) {
	svc, l, ms := loansDesk(t)
	s := loansScreenFor(t, svc, l)
	f := s.newCheckoutForm()
	waitIdle()
	if len(f.phones) != 0 {
		t.Errorf("phones offered %v, want none (both are out)", f.phones)
	}
	if len(f.sims) != 1 || f.sims[0] != "8981300000000000091" {
		t.Errorf("SIMs offered %v, want the free one", f.sims)
	}
	test.Type(f.monitor.entry, ms[2].Kana) // the only monitor with that kana: picked by it
	if f.due.Text != "2017-02-03" {        // testClock + the demo trial's 14 loan days
		t.Errorf("default due = %q, want 2017-02-03", f.due.Text)
	}

	// Check in the overdue loan with a note and a missing charger.
	ctx := context.Background()
	first := s.loans[0]
	if _, err := l.Checkin(ctx, first.ID, trial.Return{Staff: "田中", Notes: "画面に傷", Missing: []string{"充電器"}}); err != nil {
		t.Fatal(err)
	}
	// The phone is free again: the form lends it.
	f = submitCheckout(t, s, ms[2].ID, first.Phone, "8981300000000000091", "鈴木")
	if f.problem.Text != "" {
		t.Fatalf("checkout refused: %q", f.problem.Text)
	}
	// History per device: both loans of the phone, the returned one with its note.
	s.showHistory(trial.LoanFilter{Device: first.Phone}, first.Phone)
	waitIdle()
	if s.list.Length() != 2 {
		t.Fatalf("phone history: %d loans, want 2", s.list.Length())
	}
	var returned trial.Loan
	for _, ln := range s.loans {
		if !ln.Open() {
			returned = ln
		}
	}
	s.showLoan(returned)
	waitIdle()
	for _, want := range []string{"状態: 画面に傷", "返却されなかったもの: 充電器"} {
		if !strings.Contains(s.detail.Text, want) {
			t.Errorf("detail lacks %q:\n%s", want, s.detail.Text)
		}
	}
	if !strings.Contains(s.history.Text, "貸出") || !strings.Contains(s.history.Text, "返却") {
		t.Errorf("events = %q", s.history.Text)
	}
	// The events' details are in the UI language too, not the store's
	// English record ("phone …, SIM …", "missing: …").
	for _, want := range []string{"スマートフォン " + returned.Phone + " ・ SIM " + returned.SIM, "状態: 画面に傷 ・ 返却されなかったもの: 充電器"} {
		if !strings.Contains(s.history.Text, want) {
			t.Errorf("history lacks %q:\n%s", want, s.history.Text)
		}
	}
	for _, english := range []string{"phone ", "missing:"} {
		if strings.Contains(s.history.Text, english) {
			t.Errorf("history has the English %q:\n%s", english, s.history.Text)
		}
	}
	if s.extend.Disabled() == false {
		t.Error("extend offered on a returned loan")
	}
}

// A refused check-out names the device or monitor in the UI language,
// whichever language that is; the English error stays for the command line.
func TestLendingErrorsNameWhatTheyAreAbout(t *testing.T) {
	cases := []struct {
		err    error
		ja, en string
	}{
		{&trial.LendingError{Kind: trial.KindSIM, Serial: "8981300000000000091", Err: trial.ErrOnLoan},
			"SIM 8981300000000000091 は貸出中です。二重には貸し出せません。",
			"SIM 8981300000000000091 is already on loan and cannot be lent twice."},
		{&trial.LendingError{Kind: trial.KindPhone, Serial: "8981300000000000091", Found: trial.KindSIM, Err: trial.ErrWrongKindOfDevice},
			"スマートフォンの欄の 8981300000000000091 は SIM です。種類の合う欄に入力してください。",
			"8981300000000000091 in the Smartphone field is a SIM: enter it in the field for its kind."},
	}
	for _, lang := range []string{"en", "ja"} { // ja last: the other tests' language
		if err := LoadTranslations(lang); err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			want := c.ja
			if lang == "en" {
				want = c.en
			}
			if got := lendingErrorText(fmt.Errorf("check-out: %w", c.err)); got != want {
				t.Errorf("%s: %q, want %q", lang, got, want)
			}
		}
	}
	if got := (&trial.LendingError{Kind: trial.KindSIM, Serial: "8981300000000000091", Err: trial.ErrOnLoan}).Error(); got != "SIM 8981300000000000091: already on loan" {
		t.Errorf("English error %q", got)
	}
}
