package cli

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jpkipilot/trial"
)

// loanDesk makes a loan trial with two monitors and imports the devices of
// trial/testdata.
func loanDesk(t *testing.T, db string) {
	t.Helper()
	mustRunDB(t, db, "trials", "add", "--kind", "loan", "--name", "貸出実証")
	f := filepath.Join(t.TempDir(), "m.csv")
	if err := os.WriteFile(f, []byte("氏名,フリガナ,連絡先\n山田 太郎,ヤマダ タロウ,090-1111-2222\n佐藤 花子,サトウ ハナコ,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRunDB(t, db, "monitors", "import", f, "--trial", "1")
	out := mustRunDB(t, db, "devices", "import", "../../trial/testdata/devices_utf8.csv")
	if !strings.HasPrefix(out, "imported 2 phones and 3 SIMs") {
		t.Fatalf("devices import said %q", out)
	}
}

func TestDevicesImportList(t *testing.T) {
	eachTrialDB(t, func(t *testing.T, db string) {
		loanDesk(t, db)
		out := mustRunDB(t, db, "devices", "list")
		csvOut := mustRunDB(t, db, "devices", "list", "--csv")
		for _, s := range []string{out, csvOut} {
			if strings.Contains(strings.ToUpper(s), "404142") || strings.Contains(s, "0001020304") {
				t.Fatalf("a device list shows SCP03 keys:\n%s", s)
			}
		}
		if !strings.Contains(out, "KVN 48") || !strings.Contains(out, "352099001761481") {
			t.Fatalf("devices list:\n%s", out)
		}
		recs, err := csv.NewReader(strings.NewReader(csvOut)).ReadAll()
		if err != nil || len(recs) != 6 || strings.Join(recs[0], ",") != strings.Join(deviceColumns, ",") {
			t.Fatalf("devices list --csv: %v\n%s", err, csvOut)
		}
		if r := recs[1]; r[0] != "phone" || r[1] != "352099001761481" || r[3] != "docomo" || r[6] != "ケース, 保護フィルム" {
			t.Fatalf("first device row %q", r)
		}
		// A bad file: every problem on stderr by row, exit 1, nothing added.
		code, _, errs := runDB(t, db, "devices", "import", "../../trial/testdata/devices_bad.csv")
		if code != 1 || !strings.Contains(errs, "row 2: imei:") || !strings.Contains(errs, "row 8: os:") || !strings.Contains(errs, "nothing imported") {
			t.Fatalf("bad import: exit %d\n%s", code, errs)
		}
		if code, _, _ := runDB(t, db, "devices", "list", "--kind", "tablet"); code != 2 {
			t.Fatalf("--kind tablet: exit %d", code)
		}
	})
}

func TestLoansCommands(t *testing.T) {
	eachTrialDB(t, func(t *testing.T, db string) {
		loanDesk(t, db)
		before := time.Now().In(trial.JST)
		out := mustRunDB(t, db, "loans", "checkout", "--monitor", "M-0001", "--phone", "352099001761481", "--sim", "8981101000000000019", "--staff", "田中")
		after := time.Now().In(trial.JST)
		d1, d2 := before.AddDate(0, 0, 14).Format("2006-01-02"), after.AddDate(0, 0, 14).Format("2006-01-02")
		if !strings.HasPrefix(out, "L-0001: phone 352099001761481 and SIM 8981101000000000019 lent to M-0001 by 田中, due ") ||
			!strings.Contains(out, d1) && !strings.Contains(out, d2) {
			t.Fatalf("checkout said %q (due should be %s)", out, d1)
		}
		// The same phone again: refused, exit 1 with the reason.
		code, _, errs := runDB(t, db, "loans", "checkout", "--monitor", "M-0002", "--phone", "352099001761481", "--sim", "89812000123456789017", "--staff", "田中")
		if code != 1 || !strings.Contains(errs, "already on loan") {
			t.Fatalf("second checkout: exit %d %s", code, errs)
		}
		due := time.Now().In(trial.JST).AddDate(0, 0, 3).Format("2006-01-02")
		out = mustRunDB(t, db, "loans", "checkout", "--monitor", "m-2", "--phone", "356938035643809", "--sim", "89812000123456789017", "--staff", "田中", "--due", due, "--charger=false")
		// PostgreSQL does not give back the id of the refused check-out.
		second, _, _ := strings.Cut(out, ":")
		later := time.Now().In(trial.JST).AddDate(0, 0, 30).Format("2006-01-02")
		out = mustRunDB(t, db, "loans", "extend", second, "--due", later, "--staff", "佐藤")
		if !strings.Contains(out, "until "+later) {
			t.Fatalf("extend said %q", out)
		}
		out = mustRunDB(t, db, "loans", "list")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[1], "L-0001") || !strings.Contains(lines[2], later) {
			t.Fatalf("loans list:\n%s", out)
		}
		out = mustRunDB(t, db, "loans", "checkin", "L-0001", "--staff", "鈴木", "--notes", "傷なし", "--missing", "充電器")
		if !strings.Contains(out, "L-0001 returned by M-0001") || !strings.Contains(out, "missing: 充電器") {
			t.Fatalf("checkin said %q", out)
		}
		if code, _, errs := runDB(t, db, "loans", "checkin", "L-0001", "--staff", "鈴木"); code != 1 || !strings.Contains(errs, "already checked in") {
			t.Fatalf("second checkin: exit %d %s", code, errs)
		}
		out = mustRunDB(t, db, "loans", "list", "--csv", "--monitor", "M-0001")
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\ufeff"))).ReadAll()
		if err != nil || len(recs) != 2 || recs[1][0] != "L-0001" || recs[1][2] != "山田 太郎" || recs[1][14] != "傷なし" || recs[1][15] != "充電器" {
			t.Fatalf("loans list --csv --monitor: %v %q", err, recs)
		}
		if out := mustRunDB(t, db, "loans", "list", "--overdue", "--csv"); strings.Count(out, "\n") != 1 {
			t.Fatalf("nothing is overdue, got\n%s", out)
		}
		out = mustRunDB(t, db, "loans", "history", second)
		if !strings.Contains(out, "checkout") || !strings.Contains(out, "extend") || !strings.Contains(out, "佐藤") {
			t.Fatalf("history:\n%s", out)
		}
		for _, args := range [][]string{
			{"loans", "checkout", "--monitor", "M-0001", "--phone", "352099001761481"},
			{"loans", "checkin", second},
			{"loans", "extend", second},
			{"loans", "extend", "X-1", "--due", later},
			{"loans", "list", "--remind", "-3"},
			{"loans", "lend"},
		} {
			if code, _, _ := runDB(t, db, args...); code != 2 {
				t.Errorf("%v: exit %d, want 2", args, code)
			}
		}
	})
}
