package screens

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"jpkipilot/trial"
	"jpkipilot/trial/store/storetest"
)

// lendingDesk is the demo trials and monitors with the desk over the same
// real SQLite store, its clock at testClock.
func lendingDesk(t *testing.T) (*trial.Service, *trial.Loans) {
	t.Helper()
	db := storetest.SQLite(t)
	svc := trial.New(db)
	svc.Now = func() time.Time { return testClock }
	if _, err := svc.SeedDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	l := trial.NewLoans(db)
	l.Now = func() time.Time { return testClock }
	return svc, l
}

// importDevices imports testdata/devices.csv (two phones, three SIMs).
func importDevices(t *testing.T, l *trial.Loans) {
	t.Helper()
	if _, err := l.ImportDevicesFile(context.Background(), filepath.Join("testdata", "devices.csv")); err != nil {
		t.Fatal(err)
	}
}

func TestDevicesListAndFilter(t *testing.T) {
	svc, l := lendingDesk(t)
	importDevices(t, l)
	ms, err := svc.ListMonitors(context.Background(), trial.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Checkout(context.Background(), trial.Checkout{MonitorID: ms[0].ID, Phone: "352099001761481",
		SIM: "8981101000000000019", Staff: "田中", DueOn: "2017-02-03"}); err != nil {
		t.Fatal(err)
	}
	w := newWindow(t)
	s := newDevicesScreen(w, l)
	show(w, s.content)
	if s.list.Length() != 5 || s.count.Text != "5 / 5 台" {
		t.Fatalf("%d rows, count %q; want 5", s.list.Length(), s.count.Text)
	}
	test.AssertRendersToMarkup(t, "devices.xml", w.Canvas())

	s.kind.SetSelectedIndex(2) // SIMs
	if s.list.Length() != 3 {
		t.Errorf("SIMs: %d rows, want 3", s.list.Length())
	}
	s.free.SetChecked(true)
	if s.list.Length() != 2 {
		t.Errorf("free SIMs: %d rows, want 2 (one is lent)", s.list.Length())
	}
	s.kind.SetSelectedIndex(0)
	s.free.SetChecked(false)
	test.Type(s.query, "iphone")
	if s.list.Length() != 1 || s.shown[0].Serial != "356938035643809" {
		t.Errorf("search iphone: %+v", s.shown)
	}
}

func TestDevicesImportRejectedListsProblems(t *testing.T) {
	_, l := lendingDesk(t)
	w := newWindow(t)
	s := newDevicesScreen(w, l)
	show(w, s.content)
	s.importFile(filepath.Join("testdata", "devices_bad.csv"))
	waitIdle()
	if len(s.problems) == 0 || !strings.Contains(s.result.Text, "何も取り込まれていません") {
		t.Fatalf("result %q, problems %v", s.result.Text, s.problems)
	}
	rows := map[int]bool{}
	for _, p := range s.problems {
		rows[p.Row] = true
	}
	if !rows[2] || !rows[3] {
		t.Errorf("problems name rows %v, want rows 2 and 3 among them", rows)
	}
	if s.list.Length() != 0 {
		t.Errorf("%d devices after a rejected import, want none", s.list.Length())
	}

	s.importFile(filepath.Join("testdata", "devices.csv"))
	waitIdle()
	if s.result.Text != "スマートフォン 2 台と SIM 3 枚を取り込みました。" || len(s.problems) != 0 {
		t.Errorf("result %q, problems %v", s.result.Text, s.problems)
	}
	waitIdle()
	if s.list.Length() != 5 {
		t.Errorf("%d devices after the import, want 5", s.list.Length())
	}
}
