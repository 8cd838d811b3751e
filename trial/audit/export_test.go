package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

var tokyo = time.FixedZone("JST", 9*3600)

// seed records a mix of actions by two actors.
func seed(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	for i, e := range []struct{ actor, action, subject, detail string }{
		{"alice", audit.Login, "alice", ""},
		{"alice", audit.MonitorEnrol, "M-0001", "trial 1"},
		{"alice", audit.MonitorEdit, "M-0001", "contact"},
		{"bob", audit.LoanCheckout, "L-3", "device D-07"},
		{"alice", audit.CertIssue, "1f2e3d", "auth M-0001"},
		{"=HYPERLINK(\"x\")", audit.LoginFailed, "-1", "@sum"},
	} {
		if err := audit.RecordNow(audit.WithActor(ctx, e.actor), db, e.action, e.subject, e.detail); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
}

func openXLSX(t *testing.T, b []byte) *excelize.File {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

// kind says what a cell holds: string, number, datetime or empty.
func kind(t *testing.T, x *excelize.File, sheet, cell string) string {
	t.Helper()
	raw, err := x.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if raw == "" {
		return "empty"
	}
	typ, _ := x.GetCellType(sheet, cell)
	switch typ {
	case excelize.CellTypeInlineString, excelize.CellTypeSharedString:
		return "string"
	case excelize.CellTypeUnset, excelize.CellTypeNumber:
		if _, err := strconv.ParseFloat(raw, 64); err != nil {
			t.Fatalf("%s!%s: unparsable number %q", sheet, cell, raw)
		}
		id, _ := x.GetCellStyle(sheet, cell)
		if st, _ := x.GetStyle(id); st != nil && st.CustomNumFmt != nil && *st.CustomNumFmt == "yyyy-mm-dd hh:mm:ss" {
			return "datetime"
		}
		return "number"
	}
	return "other"
}

func readme(t *testing.T, x *excelize.File) map[string]string {
	t.Helper()
	rows, err := x.GetRows(audit.SheetReadme)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, r := range rows {
		if len(r) == 2 {
			if r[0] == "problem" {
				m["problem"] += r[1] + "\n"
				continue
			}
			m[r[0]] = r[1]
		}
	}
	return m
}

func TestExportXLSX(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seed(t, db)
		ctx := audit.WithActor(context.Background(), "carol")
		var buf bytes.Buffer
		res, err := audit.ExportXLSX(ctx, db, &buf, audit.ExportOptions{Location: tokyo})
		if err != nil {
			t.Fatal(err)
		}
		// The store after the export: six entries and the export's own.
		all, err := audit.List(ctx, db, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 7 || res.Entries != len(all) {
			t.Fatalf("store has %d entries, export wrote %d", len(all), res.Entries)
		}
		last := all[len(all)-1]
		if last.Action != audit.Export || last.Actor != "carol" || !strings.Contains(last.Detail, "xlsx") {
			t.Errorf("the export was not recorded as itself: %+v", last)
		}
		x := openXLSX(t, buf.Bytes())
		if got := x.GetSheetList(); strings.Join(got, ",") != "README,Log" {
			t.Fatalf("sheets %v", got)
		}
		rows, err := x.GetRows(audit.SheetLog)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(rows[0], ",") != strings.Join(audit.ExportColumns, ",") {
			t.Fatalf("header %v", rows[0])
		}
		if len(rows)-1 != len(all) {
			t.Fatalf("Log has %d rows, the store %d entries", len(rows)-1, len(all))
		}
		for i, e := range all {
			r := i + 2
			cell := func(col string) string { return col + strconv.Itoa(r) }
			if k := kind(t, x, audit.SheetLog, cell("A")); k != "number" {
				t.Errorf("row %d seq is %s", r, k)
			}
			if k := kind(t, x, audit.SheetLog, cell("B")); k != "datetime" {
				t.Errorf("row %d time is %s", r, k)
			}
			raw, _ := x.GetCellValue(audit.SheetLog, cell("B"), excelize.Options{RawCellValue: true})
			f, _ := strconv.ParseFloat(raw, 64)
			// Excel's serial (days since 1899-12-30) of the wall clock in
			// Tokyo, to the millisecond: a serial is a float of days.
			wall := e.At.In(tokyo)
			want := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), time.UTC)
			serial := float64(want.Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC))) / float64(24*time.Hour)
			if math.Abs(f-serial) > float64(time.Millisecond)/float64(24*time.Hour) {
				t.Errorf("row %d time serial %v, want %v (%v)", r, f, serial, want)
			}
			got := rows[i+1]
			if got[0] != strconv.FormatInt(e.Seq, 10) || got[2] != e.Actor || got[3] != e.Action || got[6] != e.Subject ||
				got[7] != e.Detail || got[8] != e.PrevHash || got[9] != e.Hash {
				t.Errorf("row %d = %q, entry %+v", r, got, e)
			}
			for _, c := range []string{"C", "D", "E", "F", "G", "I", "J"} {
				if k := kind(t, x, audit.SheetLog, cell(c)); k != "string" {
					t.Errorf("row %d column %s is %s", r, c, k)
				}
			}
		}
		if rows[1][4] != "ログイン" || rows[1][5] != "logged in" {
			t.Errorf("labels of login: %q %q", rows[1][4], rows[1][5])
		}
		// A subject made of digits stays text (a serial "1f2e3d", a "-1").
		m := readme(t, x)
		rep, err := audit.Verify(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if m["entries"] != "7" || m["exported by"] != "carol" || !strings.HasPrefix(m["chain"], "OK: 7 entries") ||
			m["head hash"] != rep.HeadHash || m["head seq"] != "7" || m["filter"] != "none (every entry)" {
			t.Errorf("README %v, head %s", m, rep.HeadHash)
		}
		if k := kind(t, x, audit.SheetReadme, "B2"); k != "datetime" {
			t.Errorf("README export time is %s", k)
		}
		if k := kind(t, x, audit.SheetReadme, "B6"); k != "number" {
			t.Errorf("README entry count is %s", k)
		}
	})
}

func TestExportFiltered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seed(t, db)
		ctx := context.Background()
		var buf bytes.Buffer
		res, err := audit.ExportXLSX(ctx, db, &buf, audit.ExportOptions{Filter: audit.Filter{Subject: "M-0001"}, By: "dave (OS user)"})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := audit.List(ctx, db, audit.Filter{Subject: "M-0001"})
		x := openXLSX(t, buf.Bytes())
		rows, _ := x.GetRows(audit.SheetLog)
		if res.Entries != 2 || len(want) != 2 || len(rows) != 3 || rows[1][6] != "M-0001" || rows[2][3] != audit.MonitorEdit {
			t.Fatalf("filtered export: %d entries, rows %q", res.Entries, rows)
		}
		m := readme(t, x)
		if m["filter"] != "subject=M-0001" || m["entries"] != "2" || m["entries in the log"] != "7" || m["exported by"] != "dave (OS user)" {
			t.Errorf("README %v", m)
		}
	})
}

// A tampered log still exports, and says so on its first sheet.
func TestExportBrokenChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seed(t, db)
		if _, err := db.Exec("UPDATE audit_log SET detail = 'device D-99' WHERE seq = 4"); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		res, err := audit.ExportXLSX(context.Background(), db, &buf, audit.ExportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Chain.OK() {
			t.Fatal("export reports an intact chain")
		}
		m := readme(t, openXLSX(t, buf.Bytes()))
		if !strings.HasPrefix(m["chain"], "BROKEN: 1 problems") || !strings.Contains(m["problem"], "entry 4:") {
			t.Errorf("README %v", m)
		}
	})
}

func TestExportCSV(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seed(t, db)
		ctx := context.Background()
		var buf bytes.Buffer
		res, err := audit.ExportCSV(ctx, db, &buf, audit.ExportOptions{Location: tokyo})
		if err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		if !bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
			t.Fatal("no UTF-8 BOM")
		}
		recs, err := csv.NewReader(bytes.NewReader(b[3:])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		all, _ := audit.List(ctx, db, audit.Filter{})
		if len(recs)-1 != len(all) || res.Entries != len(all) || len(all) != 7 {
			t.Fatalf("CSV has %d rows, store %d entries, result %d", len(recs)-1, len(all), res.Entries)
		}
		for i, e := range all {
			r := recs[i+1]
			seq, _ := strconv.ParseInt(r[0], 10, 64)
			at, err := time.Parse(time.RFC3339Nano, r[1])
			if err != nil {
				t.Fatalf("row %d time %q: %v", i+1, r[1], err)
			}
			if !strings.HasSuffix(r[1], "+09:00") {
				t.Errorf("row %d time %q is not in the export's zone", i+1, r[1])
			}
			// The file is exact: the entry's hash can be recomputed from it.
			got := audit.Entry{Seq: seq, At: at, Actor: strings.TrimPrefix(r[2], "'"), Action: r[3],
				Subject: strings.TrimPrefix(r[6], "'"), Detail: strings.TrimPrefix(r[7], "'"), PrevHash: r[8], Hash: r[9]}
			if got.Sum() != e.Hash || got.Hash != e.Hash {
				t.Errorf("row %d does not recompute to its hash: %q", i+1, r)
			}
		}
		if r := recs[6]; r[2] != `'=HYPERLINK("x")` || r[6] != "'-1" || r[7] != "'@sum" || r[4] != "ログイン失敗" {
			t.Errorf("formula-looking cells not defused: %q", r)
		}
	})
}

// Every action constant has a Japanese and an English label.
func TestActionLabelsCoverEveryAction(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "audit.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			for i, name := range v.Names {
				lit, ok := v.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING || name.Name == "Genesis" || name.Name == "Anonymous" {
					continue
				}
				action, _ := strconv.Unquote(lit.Value)
				n++
				if audit.ActionLabel(action, "ja") == action || audit.ActionLabel(action, "en") == action { // a missing label returns the action itself
					t.Errorf("action %s (%q) has no label", name.Name, action)
				}
			}
		}
	}
	if n < 20 {
		t.Fatalf("found only %d action constants in audit.go", n)
	}
}
