package cli

import (
	"archive/zip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"jpkipilot/survey"
	"jpkipilot/trial/store"
)

// surveyStore makes a SQLite store with a field trial, monitors in each
// step and their demo answers; it returns the path and the trial id.
func surveyStore(t *testing.T) (string, int64) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jp.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC()
	var trialID int64
	if err := db.GetContext(ctx, &trialID, `INSERT INTO trials (name, kind, created_at) VALUES ('チケットレス実証', 'field', ?) RETURNING id`, now); err != nil {
		t.Fatal(err)
	}
	for i, step := range []string{"application", "purchase", "entry"} {
		var sid int64
		if err := db.GetContext(ctx, &sid, `INSERT INTO sessions (trial_id, code, step, starts_on, capacity, target) VALUES (?, ?, ?, '2017-02-07', 30, 20) RETURNING id`,
			trialID, "S-"+step, step); err != nil {
			t.Fatal(err)
		}
		for j, name := range []string{"山田太郎", "鈴木花子"} {
			id := "M-000" + strconv.Itoa(i*2+j+1)
			if _, err := db.ExecContext(ctx, `INSERT INTO monitors (id, trial_id, session_id, name, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'attended', ?, ?)`,
				id, trialID, sid, name+strconv.Itoa(i), now, now); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n, err := survey.SeedDemo(ctx, db); err != nil || n != 12 {
		t.Fatalf("SeedDemo: %d, %v", n, err)
	}
	return path, trialID
}

func xlsxContains(t *testing.T, path, needle string) bool {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if strings.Contains(string(b), needle) {
			return true
		}
	}
	return false
}

func TestExportSurvey(t *testing.T) {
	db, trialID := surveyStore(t)
	out := filepath.Join(t.TempDir(), "results.xlsx")
	code, stdout, stderr := runSurveyCLI(t, "--db", db, "export", "survey", "--out", out, "--trial", strconv.FormatInt(trialID, 10))
	if code != 0 || !strings.Contains(stdout, "12 responses") {
		t.Fatalf("export: %d %q %q", code, stdout, stderr)
	}
	x, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := x.GetRows("Data")
	x.Close()
	if len(rows) != 13 || rows[0][0] != "response_id" {
		t.Fatalf("Data: %d rows, header %v", len(rows), rows[0])
	}
	if xlsxContains(t, out, "山田太郎") {
		t.Fatal("pseudonymised export holds a name")
	}

	// Identified: names present, and a warning.
	code, _, stderr = runSurveyCLI(t, "--db", db, "export", "survey", "--identified", "--out", out)
	if code != 0 || !strings.Contains(stderr, "identified export") {
		t.Fatalf("identified: %d %q", code, stderr)
	}
	if !xlsxContains(t, out, "山田太郎0") {
		t.Fatal("identified export lacks names")
	}

	// Only one step.
	code, stdout, _ = runSurveyCLI(t, "--db", db, "export", "survey", "--step", "entry", "--out", out)
	if code != 0 || !strings.Contains(stdout, "2 responses") {
		t.Fatalf("--step entry: %d %q", code, stdout)
	}
}

func TestExportSurveyRefusals(t *testing.T) {
	db, _ := surveyStore(t)
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"export", "survey"}, 2, "--out FILE.xlsx is required"},
		{[]string{"export", "monitors", "--out", "x.xlsx"}, 2, "what to export"},
		{[]string{"export", "survey", "--out", filepath.Join(dir, "a.xlsx"), "--trial", "abc"}, 2, "trial id"},
		{[]string{"export", "survey", "--out", filepath.Join(dir, "b.xlsx"), "--trial", "999"}, 1, "trial 999"},
		{[]string{"export", "survey", "--out", filepath.Join(dir, "nodir", "c.xlsx")}, 1, ""},
	} {
		code, _, stderr := runSurveyCLI(t, append([]string{"--db", db}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d %q, want %d %q", c.args, code, stderr, c.code, c.msg)
		}
	}
	// A failed export leaves no file behind, not even its temporary one.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("failed exports left %v", entries)
	}
}
