package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/store"
)

// withStore opens the store at dsn for a test's own reads and writes.
func withStore(t *testing.T, dsn string, fn func(db *store.DB)) {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fn(db)
}

// auditFive records five entries by alice on the store at dsn.
func auditFive(t *testing.T, dsn string) {
	t.Helper()
	withStore(t, dsn, func(db *store.DB) {
		ctx := audit.WithActor(context.Background(), "alice")
		for i := 1; i <= 5; i++ {
			action := audit.MonitorEdit
			if i%2 == 0 {
				action = audit.LoanCheckout
			}
			if err := audit.RecordNow(ctx, db, action, fmt.Sprintf("M-%04d", i), "status"); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestAuditVerifyIntact(t *testing.T) {
	eachTrialDB(t, func(t *testing.T, dsn string) {
		auditFive(t, dsn)
		var head string
		withStore(t, dsn, func(db *store.DB) {
			r, err := audit.Verify(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			head = r.HeadHash
		})
		code, out, errs := runDB(t, dsn, "audit", "verify")
		if code != 0 || out != "OK: 5 entries, head "+head+"\n" || errs != "" {
			t.Fatalf("verify: exit %d\n%s%s", code, out, errs)
		}
	})
}

// Each kind of tampering makes `audit verify` fail, naming the entry.
func TestAuditVerifyTampered(t *testing.T) {
	cases := []struct {
		name string
		sql  []string
		want []string
	}{
		{"edited", []string{"UPDATE audit_log SET subject = 'M-0009' WHERE seq = 3"}, []string{"entry 3: content does not match its hash"}},
		{"deleted", []string{"DELETE FROM audit_log WHERE seq = 2"}, []string{"entry 3: entries 2–2 are missing"}},
		{"reordered", []string{
			"UPDATE audit_log SET seq = 100 WHERE seq = 2",
			"UPDATE audit_log SET seq = 2 WHERE seq = 4",
			"UPDATE audit_log SET seq = 4 WHERE seq = 100"}, []string{"entry 2: does not follow", "entry 4: does not follow", "entry 5: does not follow"}},
		{"tail cut", []string{"DELETE FROM audit_log WHERE seq = 5"}, []string{"entry 4: the log ends at entry 4 but its head says 5"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachTrialDB(t, func(t *testing.T, dsn string) {
				auditFive(t, dsn)
				withStore(t, dsn, func(db *store.DB) {
					for _, q := range c.sql {
						if _, err := db.Exec(q); err != nil {
							t.Fatal(err)
						}
					}
				})
				code, out, errs := runDB(t, dsn, "audit", "verify")
				if code != 1 || !strings.Contains(errs, "the audit trail is broken") {
					t.Fatalf("verify of a tampered log: exit %d\n%s%s", code, out, errs)
				}
				for _, w := range c.want {
					if !strings.Contains(out, w) {
						t.Errorf("verify output lacks %q:\n%s", w, out)
					}
				}
				if strings.Contains(out, "OK") {
					t.Errorf("verify says OK:\n%s", out)
				}
			})
		})
	}
}

func TestAuditList(t *testing.T) {
	eachTrialDB(t, func(t *testing.T, dsn string) {
		auditFive(t, dsn)
		out := mustRunDB(t, dsn, "audit", "list")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 6 || !strings.HasPrefix(lines[0], "SEQ") || !strings.HasPrefix(lines[1], "1 ") || !strings.Contains(lines[5], "M-0005") {
			t.Fatalf("list:\n%s", out)
		}
		out = mustRunDB(t, dsn, "audit", "list", "--action", audit.LoanCheckout)
		if n := strings.Count(out, audit.LoanCheckout); n != 2 || strings.Contains(out, audit.MonitorEdit) {
			t.Fatalf("list --action loan.checkout:\n%s", out)
		}
		out = mustRunDB(t, dsn, "audit", "list", "--subject", "M-0003", "--since", "2000-01-01")
		if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "alice") {
			t.Fatalf("list --subject:\n%s", out)
		}
		out = mustRunDB(t, dsn, "audit", "list", "--limit", "2")
		if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 {
			t.Fatalf("list --limit 2:\n%s", out)
		}
		out = mustRunDB(t, dsn, "audit", "list", "--until", "2000-01-01")
		if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1 {
			t.Fatalf("list --until 2000-01-01:\n%s", out)
		}
		for _, bad := range [][]string{
			{"audit"}, {"audit", "erase"}, {"audit", "list", "--since", "yesterday"}, {"audit", "list", "--limit", "-1"},
			{"audit", "export"}, {"audit", "export", "--out", "log.pdf"}, {"audit", "verify", "extra"},
		} {
			if code, _, errs := runDB(t, dsn, bad...); code != 2 {
				t.Errorf("%q: exit %d, want 2 (usage)\n%s", bad, code, errs)
			}
		}
	})
}

func TestAuditExport(t *testing.T) {
	eachTrialDB(t, func(t *testing.T, dsn string) {
		auditFive(t, dsn)
		dir := t.TempDir()
		xf := filepath.Join(dir, "audit.xlsx")
		out := mustRunDB(t, dsn, "audit", "export", "--out", xf)
		if !strings.Contains(out, "6 entries; chain OK: 6 entries") {
			t.Fatalf("export: %s", out)
		}
		x, err := excelize.OpenFile(xf)
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		rows, _ := x.GetRows(audit.SheetLog)
		var stored []audit.Entry
		withStore(t, dsn, func(db *store.DB) {
			if stored, err = audit.List(context.Background(), db, audit.Filter{}); err != nil {
				t.Fatal(err)
			}
		})
		if len(rows)-1 != len(stored) || len(stored) != 6 || rows[6][3] != audit.Export || rows[6][9] != stored[5].Hash {
			t.Fatalf("workbook rows %q, store %d entries", rows, len(stored))
		}
		if typ, _ := x.GetCellType(audit.SheetLog, "A2"); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("seq cell type %v", typ)
		}

		cf := filepath.Join(dir, "loans.csv")
		mustRunDB(t, dsn, "audit", "export", "--out", cf, "--action", audit.LoanCheckout)
		b, err := os.ReadFile(cf)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))).ReadAll()
		if err != nil || len(recs) != 3 || recs[1][3] != audit.LoanCheckout || recs[2][6] != "M-0004" {
			t.Fatalf("csv %q, %v", recs, err)
		}
		// Both exports are in the trail, and it still verifies.
		if out := mustRunDB(t, dsn, "audit", "list", "--action", audit.Export); strings.Count(out, audit.Export) != 2 {
			t.Errorf("exports not recorded:\n%s", out)
		}
		mustRunDB(t, dsn, "audit", "verify")

		// A failed export leaves no file.
		missing := filepath.Join(dir, "no-such-dir", "a.xlsx")
		if code, _, _ := runDB(t, dsn, "audit", "export", "--out", missing); code != 1 {
			t.Errorf("export into a missing directory: exit %d", code)
		}
		if _, err := os.Stat(missing); err == nil {
			t.Error("a failed export left a file")
		}
	})
}
