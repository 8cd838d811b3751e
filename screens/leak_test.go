package screens

import (
	"bytes"
	"context"
	"log"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"jpkipilot/trial"
)

// The monitors page shows names (to those who may see them) but never puts
// one into the log: Fyne writes its own errors through the standard logger
// (a missing translation logs the text it was asked for), so a name passed
// where a translation key belongs would land there. Part of "personal data
// never leaks" (issue 8; the command line's half is app/cli's leak test).
func TestMonitorsPageLogsNoPersonalData(t *testing.T) {
	var logged bytes.Buffer
	prev, flags := log.Writer(), log.Flags()
	log.SetOutput(&logged)
	t.Cleanup(func() { log.SetOutput(prev); log.SetFlags(flags) })

	svc := seeded(t)
	all, err := svc.ListMonitors(context.Background(), trial.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var personal []string
	for _, m := range all {
		for _, v := range []string{m.Name, m.Kana, m.Contact} {
			if len([]rune(strings.TrimSpace(v))) >= 4 {
				personal = append(personal, strings.TrimSpace(v))
			}
		}
	}
	if len(personal) < 100 {
		t.Fatalf("only %d personal values in the demo data", len(personal))
	}

	w := newWindow(t)
	s := newMonitorsScreen(w, svc)
	show(w, s.content)
	// Open a dozen monitors in the edit form and search by name and kana.
	for i := 0; i < 12 && i < len(s.shown); i++ {
		s.list.Select(i)
		waitIdle()
	}
	for _, m := range all[:6] {
		s.query.SetText("")
		test.Type(s.query, strings.Fields(m.Name)[0])
		s.query.SetText("")
		test.Type(s.query, strings.Fields(m.Kana)[0])
	}
	waitIdle()
	checkLog(t, logged.String(), personal)
}

// The loans desk shows the borrower's name next to each loan; selecting
// loans (detail and history) logs none.
func TestLoansPageLogsNoPersonalData(t *testing.T) {
	var logged bytes.Buffer
	prev, flags := log.Writer(), log.Flags()
	log.SetOutput(&logged)
	t.Cleanup(func() { log.SetOutput(prev); log.SetFlags(flags) })

	svc, l, ms := loansDesk(t)
	var personal []string
	for _, m := range ms {
		for _, v := range []string{m.Name, m.Kana, m.Contact} {
			if len([]rune(strings.TrimSpace(v))) >= 4 {
				personal = append(personal, strings.TrimSpace(v))
			}
		}
	}
	if len(personal) < 10 {
		t.Fatalf("only %d personal values on the desk", len(personal))
	}
	s := loansScreenFor(t, svc, l)
	if len(s.loans) != 2 {
		t.Fatalf("the desk shows %d loans, want 2", len(s.loans))
	}
	for i := range s.loans {
		s.list.Select(i)
		waitIdle()
	}
	checkLog(t, logged.String(), personal)
}

func checkLog(t *testing.T, out string, personal []string) {
	t.Helper()
	for _, v := range personal {
		if strings.Contains(out, v) {
			t.Errorf("the log holds personal data %q", v)
		}
	}
}
