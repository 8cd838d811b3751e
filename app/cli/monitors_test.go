package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// eachTrialDB runs fn with a --db for a new SQLite file and for a new database
// on the test PostgreSQL cluster.
func eachTrialDB(t *testing.T, fn func(t *testing.T, db string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, filepath.Join(t.TempDir(), "jp.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, storetest.NewDatabase(t)) })
}

// runDB calls the command line as a user would and returns exit code, stdout
// and stderr.
func runDB(t *testing.T, db string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"--db", db}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func mustRunDB(t *testing.T, db string, args ...string) string {
	t.Helper()
	code, out, errs := runDB(t, db, args...)
	if code != 0 {
		t.Fatalf("jpkipilot %s: exit %d\n%s", strings.Join(args, " "), code, errs)
	}
	return out
}

// trialWorkspace makes the trials and sessions trial/testdata's files name.
func trialWorkspace(t *testing.T, db string) {
	mustRunDB(t, db, "trials", "add", "--kind", "venue", "--name", "会場実証")
	mustRunDB(t, db, "trials", "add", "--kind", "field", "--name", "チケットレス")
	mustRunDB(t, db, "trials", "add-session", "--trial", "1", "--code", "VENUE-1", "--date", "2017-02-18", "--capacity", "50", "--target", "45")
	mustRunDB(t, db, "trials", "add-session", "--trial", "1", "--code", "VENUE-2", "--date", "2017-02-19", "--capacity", "50", "--target", "45")
	mustRunDB(t, db, "trials", "add-session", "--trial", "2", "--code", "FIELD-APPLY", "--step", "application", "--date", "2017-02-07", "--target", "24")
}

func listMonitorsCSV(t *testing.T, db string, args ...string) [][]string {
	t.Helper()
	out := mustRunDB(t, db, append([]string{"monitors", "list", "--csv"}, args...)...)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("list --csv is not CSV: %v\n%s", err, out)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(monitorColumns, ",") {
		t.Fatalf("list --csv header = %v", recs)
	}
	return recs[1:]
}

func TestMonitorsImportListWithdraw(t *testing.T) {
	eachTrialDB(t, func(t *testing.T, db string) {
		trialWorkspace(t, db)
		out := mustRunDB(t, db, "monitors", "import", "../../trial/testdata/monitors_utf8.csv")
		if !strings.HasPrefix(out, "imported 4 monitors (M-0001 … M-0004)") {
			t.Fatalf("import said %q", out)
		}
		out = mustRunDB(t, db, "monitors", "import", "../../trial/testdata/monitors_sjis.csv")
		if !strings.HasPrefix(out, "imported 2 monitors") || !strings.Contains(out, "Shift_JIS") {
			t.Fatalf("import said %q", out)
		}
		rows := listMonitorsCSV(t, db)
		if len(rows) != 6 {
			t.Fatalf("%d rows listed, want 6", len(rows))
		}
		r := rows[1] // M-0002, 山田 花子, companion of row 2 = M-0001
		if r[0] != "M-0002" || r[2] != "FIELD-APPLY" || r[3] != "山田 花子" || r[4] != "ヤマダ ハナコ" || r[7] != "M-0001" || r[8] != "enrolled" || r[10] != "2017-02-07" {
			t.Fatalf("row M-0002 = %q", r)
		}
		if rows[4][3] != "髙橋 誠" {
			t.Fatalf("Shift_JIS name came out as %q", rows[4][3])
		}
		if got := listMonitorsCSV(t, db, "--trial", "1"); len(got) != 4 {
			t.Fatalf("--trial 1: %d rows", len(got))
		}

		out = mustRunDB(t, db, "monitors", "withdraw", "m-2")
		if !strings.HasPrefix(out, "M-0002 withdrawn") {
			t.Fatalf("withdraw said %q", out)
		}
		w := listMonitorsCSV(t, db, "--status", "withdrawn")
		if len(w) != 1 || w[0][0] != "M-0002" || w[0][3] != "" || w[0][4] != "" || w[0][6] != "" || w[0][12] == "" || w[0][2] != "FIELD-APPLY" {
			t.Fatalf("withdrawn row = %q", w)
		}
		if got := listMonitorsCSV(t, db, "--status", "enrolled"); len(got) != 5 {
			t.Fatalf("enrolled: %d rows", len(got))
		}
		if code, _, errs := runDB(t, db, "monitors", "withdraw", "M-0099"); code != 1 || !strings.Contains(errs, "not found") {
			t.Fatalf("withdraw unknown: exit %d %q", code, errs)
		}
	})
}

func TestMonitorsImportBadFileListsEveryProblem(t *testing.T) {
	eachTrialDB(t, func(t *testing.T, db string) {
		trialWorkspace(t, db)
		code, out, errs := runDB(t, db, "monitors", "import", "../../trial/testdata/monitors_bad.csv")
		if code != 1 || out != "" {
			t.Fatalf("exit %d, stdout %q", code, out)
		}
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		want := []string{"row 3: name: required", "row 4: kana: ", "row 5: session: ", "row 6: age_band: ",
			"row 7: name: duplicate of row 2", "row 8: consent_signed_on: ", "row 8: companion_of: "}
		if len(lines) != len(want)+1 {
			t.Fatalf("stderr:\n%s", errs)
		}
		for i, w := range want {
			if !strings.HasPrefix(lines[i], w) {
				t.Errorf("line %d = %q, want %q…", i+1, lines[i], w)
			}
		}
		if last := lines[len(lines)-1]; !strings.HasPrefix(last, "jpkipilot monitors: ") || !strings.Contains(last, "nothing imported") {
			t.Errorf("last line %q", last)
		}
		if rows := listMonitorsCSV(t, db); len(rows) != 0 {
			t.Fatalf("%d monitors after a rejected file", len(rows))
		}
	})
}

func TestDemoSeedAndDashboard(t *testing.T) {
	eachTrialDB(t, func(t *testing.T, db string) {
		out := mustRunDB(t, db, "demo", "seed")
		var answered int
		if _, err := fmt.Sscanf(out, "demo data added: 3 trials, 7 sessions, 157 monitors, %d questionnaire responses\n", &answered); err != nil {
			t.Fatalf("demo seed said %q: %v", out, err)
		}
		if stored := countRows(t, db, "survey_responses"); answered == 0 || stored != answered {
			t.Fatalf("demo seed reported %d responses, the store holds %d", answered, stored)
		}
		if code, _, errs := runDB(t, db, "demo", "seed"); code != 1 || !strings.Contains(errs, "already holds trials") {
			t.Fatalf("second seed: exit %d %q", code, errs)
		}
		if rows := listMonitorsCSV(t, db, "--trial", "3"); len(rows) != 57 {
			t.Fatalf("field trial: %d monitors", len(rows))
		}
		dash := mustRunDB(t, db, "trials", "dashboard", "3")
		for _, w := range []string{"FIELD-APPLY", "FIELD-BUY", "FIELD-ENTRY", "total"} {
			if !strings.Contains(dash, w) {
				t.Errorf("dashboard lacks %s:\n%s", w, dash)
			}
		}
		list := mustRunDB(t, db, "trials", "list")
		if !strings.Contains(list, "代々木第二体育館") || !strings.Contains(list, "VENUE-2") {
			t.Errorf("trials list:\n%s", list)
		}
	})
}

func TestMonitorsUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "jp.db")
	for _, args := range [][]string{
		{"monitors"},
		{"monitors", "import"},
		{"monitors", "list", "--status", "gone"},
		{"monitors", "withdraw", "12"},
		{"monitors", "frobnicate"},
		{"trials", "add", "--kind", "bank", "--name", "x"},
		{"trials", "add-session", "--trial", "1"},
		{"demo"},
	} {
		if code, _, errs := runDB(t, db, args...); code != 2 || !strings.Contains(errs, "usage:") {
			t.Errorf("%v: exit %d, %q", args, code, errs)
		}
	}
	// A rejected trial names the field.
	if code, _, errs := runDB(t, db, "trials", "add", "--kind", "loan", "--name", "x", "--loan-days", "120"); code != 1 || !strings.Contains(errs, "loan_days") {
		t.Errorf("loan days 120: exit %d, %q", code, errs)
	}
}

// countRows counts a table's rows straight from the store.
func countRows(t *testing.T, dsn, table string) int {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
		t.Fatal(err)
	}
	return n
}
