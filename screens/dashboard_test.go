package screens

import (
	"context"
	"fmt"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func TestDashboardShowsEachTrialAgainstItsTargets(t *testing.T) {
	svc := seeded(t)
	// One more withdrawal so the numbers move.
	if _, err := svc.Withdraw(context.Background(), "M-0001"); err != nil {
		t.Fatal(err)
	}
	w := newWindow(t)
	s := newDashboardScreen(w, svc)
	show(w, s.content)
	if len(s.body.Objects) != 3 {
		t.Fatalf("%d trial cards, want the demo's 3", len(s.body.Objects))
	}
	card := s.body.Objects[0].(*widget.Card)
	if card.Title != "インターネットバンキング 貸出実証 — 貸出試験（貸出 14 日）" {
		t.Errorf("first card = %q", card.Title)
	}
	d, err := svc.Dashboard(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	// The first session's row: its bar reads enrolled / target.
	rows := card.Content.(*fyne.Container).Objects
	bar := rows[2].(*fyne.Container).Objects[1].(*widget.ProgressBar)
	st := d.Sessions[0]
	if got, want := bar.TextFormatter(), formatCount(st.Enrolled, st.Target()); got != want {
		t.Errorf("LOAN-1 bar = %q, want %q", got, want)
	}
	test.AssertRendersToMarkup(t, "dashboard.xml", w.Canvas())
}

func formatCount(n, target int) string { return fmt.Sprintf("%d / %d", n, target) }

func TestDashboardEmptyStoreSaysWhatToDo(t *testing.T) {
	w := newWindow(t)
	s := newDashboardScreen(w, newService(t))
	show(w, s.content)
	if l, ok := s.body.Objects[0].(*widget.Label); !ok || l.Text != "試験がまだありません。「試験」で作成するか、デモデータを読み込んでください。" {
		t.Errorf("empty dashboard shows %#v", s.body.Objects[0])
	}
}
