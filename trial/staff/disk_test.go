package staff_test

import (
	"bytes"
	"context"
	"os"
	"testing"

	"jpkipilot/trial"
	"jpkipilot/trial/staff"
	"jpkipilot/trial/store/storetest"
)

// A store used in the clear before its first account (the demo data set
// entered, then the first coordinator created): afterwards the SQLite file
// and its WAL hold none of the names, kana or contacts — not in live rows,
// not in freed pages, not in old WAL frames. This is what a lost laptop
// gives away.
func TestFirstCoordinatorLeavesNoClearNameOnDisk(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	tr := trial.New(db)
	if _, err := tr.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	ms, err := tr.ListMonitors(ctx, trial.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, m := range ms {
		for _, v := range []string{m.Name, m.Kana, m.Contact} {
			if len([]rune(v)) >= 4 { // short values would match by chance
				values = append(values, v)
			}
		}
	}
	if len(values) < 200 {
		t.Fatalf("only %d personal values seeded", len(values))
	}
	s := staff.New(db)
	s.KDF = staff.TestKDF
	if _, err := s.CreateFirst(ctx, "coord", "Coordinator", "first-Coordinator-1"); err != nil {
		t.Fatal(err)
	}
	disk, err := os.ReadFile(db.Where)
	if err != nil {
		t.Fatal(err)
	}
	if wal, err := os.ReadFile(db.Where + "-wal"); err == nil {
		disk = append(disk, wal...)
	}
	left := 0
	for _, v := range values {
		if bytes.Contains(disk, []byte(v)) {
			left++
			if left <= 3 {
				t.Errorf("%q is still in the store's files", v)
			}
		}
	}
	if left > 0 {
		t.Fatalf("%d of %d personal values still readable on disk", left, len(values))
	}
}
