package survey_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/xuri/excelize/v2"

	"jpkipilot/survey"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// paperStore is a trial with monitors and the bundled forms registered.
func paperStore(t testing.TB, db *store.DB) (*survey.Service, map[string]survey.FormInfo) {
	addFixture(t, db, [3]string{"M-0001", "山田太郎", "attended"}, [3]string{"M-0002", "佐藤花子", "attended"},
		[3]string{"M-0003", "鈴木一郎", "withdrawn"})
	svc := survey.New(db)
	infos, err := svc.AddBundled(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]survey.FormInfo{}
	for _, in := range infos {
		byID[in.ID] = in
	}
	return svc, byID
}

func cellReasons(t *testing.T, err error) map[[2]any]string {
	t.Helper()
	var ce survey.CellErrors
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not CellErrors", err)
	}
	out := map[[2]any]string{}
	for _, e := range ce {
		out[[2]any{e.Row, e.Column}] = e.Reason
	}
	return out
}

func responseCount(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.GetContext(context.Background(), &n, `SELECT COUNT(*) FROM survey_responses`); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTranscribeStoresACompletedPaperResponse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, forms := paperStore(t, db)
		entry := forms["ticket_entry"].Ref
		// Codes as typed on paper: full-width digits, a hidden question answered.
		_, err := svc.Transcribe(ctx, entry, survey.Subject{MonitorID: "M-0001", Step: "entry"},
			map[string]string{"entry_method": "bus", "convenience": "５", "willingness": "5", "reasons": "slow"})
		got := cellReasons(t, err)
		if got[[2]any{0, "entry_method"}] != survey.ReasonNotChoice || got[[2]any{0, "reasons"}] != survey.ReasonNotAsked || len(got) != 2 {
			t.Fatalf("refused cells %v, want entry_method not a choice and reasons not asked", got)
		}
		if n := responseCount(t, db); n != 0 {
			t.Fatalf("a refused transcription stored %d responses", n)
		}
		if _, err := svc.Transcribe(ctx, entry, survey.Subject{MonitorID: "M-0003"}, map[string]string{"convenience": "1"}); cellReasons(t, err)[[2]any{0, "monitor_id"}] != survey.ReasonWithdrawn {
			t.Fatalf("withdrawn monitor: %v", err)
		}
		id, err := svc.Transcribe(ctx, entry, survey.Subject{MonitorID: "M-0001", Step: "entry"},
			map[string]string{"entry_method": "card", "convenience": "５", "willingness": "2", "reasons": "where_to_hold card_loss", "comment": "  "})
		if err != nil {
			t.Fatal(err)
		}
		r, err := svc.Response(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"entry_method": "card", "convenience": "5", "willingness": "2", "reasons": "where_to_hold card_loss"}
		if len(r.Answers) != len(want) {
			t.Errorf("answers %v, want %v", r.Answers, want)
		}
		for k, v := range want {
			if r.Answers[k] != v {
				t.Errorf("%s = %q, want %q", k, r.Answers[k], v)
			}
		}
		if r.Mode != "paper" || r.CompletedAt == nil || r.TrialID == nil || r.SessionID == nil || r.Step != "entry" {
			t.Errorf("response %+v: want a completed paper response in the monitor's trial and session", r)
		}
	})
}

// template writes the transcription template of form ref and returns it opened.
func template(t *testing.T, svc *survey.Service, ref int64) *excelize.File {
	t.Helper()
	f, err := svc.Form(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := survey.WriteTemplate(&buf, f, "ja"); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

func workbookBytes(t *testing.T, x *excelize.File) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPaperTemplateHeadersAndDropDowns(t *testing.T) {
	svc, forms := paperStore(t, storetest.SQLite(t))
	x := template(t, svc, forms["lent_phone"].Ref)
	rows, err := x.GetRows(survey.SheetPaperData)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"monitor_id", "step", "days_used", "returned_on", "convenience", "willingness", "troubles", "reasons", "comment"}
	if len(rows) != 1 || len(rows[0]) != len(want) {
		t.Fatalf("template header %v, want %v", rows, want)
	}
	for i := range want {
		if rows[0][i] != want[i] {
			t.Errorf("column %d is %q, want %q", i+1, rows[0][i], want[i])
		}
	}
	dvs, err := x.GetDataValidations(survey.SheetPaperData)
	if err != nil {
		t.Fatal(err)
	}
	lists := map[string]string{}
	for _, dv := range dvs {
		lists[dv.Sqref] = dv.Formula1
	}
	// convenience (E) and willingness (F) are the select_one columns.
	if len(lists) != 2 || lists["E2:E1001"] == "" || lists["F2:F1001"] == "" {
		t.Fatalf("drop-down lists %v, want one on E and one on F", lists)
	}
	codes, err := x.GetCols(survey.SheetPaperCodes)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 2 || codes[0][0] != "convenience" || len(codes[0]) != 6 || codes[0][5] != "5" {
		t.Errorf("Codes sheet %v", codes)
	}
}

func TestImportPaperAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, forms := paperStore(t, db)
		lent := forms["lent_phone"].Ref
		x := template(t, svc, lent)
		set := func(cell string, v any) {
			if err := x.SetCellValue(survey.SheetPaperData, cell, v); err != nil {
				t.Fatal(err)
			}
		}
		// Row 2 good, row 3 empty (skipped), row 4 with three faults.
		for _, c := range [][2]any{{"A2", "M-0001"}, {"C2", 5}, {"E2", "4"}, {"F2", "5"}, {"G2", "none"}, {"I2", "よかった"},
			{"A4", "M-0009"}, {"C4", 20}, {"E4", "6"}, {"G4", "battery none"}} {
			set(c[0].(string), c[1])
		}
		wantDate := excelizeDate(t, x, "D2")
		_, err := svc.ImportPaper(ctx, lent, bytes.NewReader(workbookBytes(t, x)), survey.Subject{Step: ""})
		got := cellReasons(t, err)
		want := map[[2]any]string{
			{4, "monitor_id"}:  survey.ReasonUnknownMonitor,
			{4, "days_used"}:   survey.ReasonConstraint,
			{4, "convenience"}: survey.ReasonNotChoice,
			{4, "troubles"}:    survey.ReasonConstraint,
		}
		if len(got) != len(want) {
			t.Errorf("refused cells %v, want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("row %v column %v: %q, want %q", k[0], k[1], got[k], v)
			}
		}
		if n := responseCount(t, db); n != 0 {
			t.Fatalf("a refused file stored %d responses", n)
		}

		// Fixed: both rows go in.
		for _, c := range [][2]any{{"A4", "M-0002"}, {"C4", 0}, {"E4", ""}, {"G4", ""}} {
			set(c[0].(string), c[1])
		}
		n, err := svc.ImportPaper(ctx, lent, bytes.NewReader(workbookBytes(t, x)), survey.Subject{Step: ""})
		if err != nil || n != 2 {
			t.Fatalf("import: %d, %v; want 2 responses", n, err)
		}
		tl, err := svc.Tally(ctx, survey.Filter{FormID: "lent_phone"})
		if err != nil {
			t.Fatal(err)
		}
		if tl.Responses != 2 || tl.Var("convenience").N != 1 || tl.Var("convenience").Counts["4"] != 1 || tl.Var("days_used").N != 2 {
			t.Errorf("after import: %d responses, convenience %+v", tl.Responses, tl.Var("convenience"))
		}
		var dates []string
		if err := db.SelectContext(ctx, &dates, `SELECT value FROM survey_answers WHERE question = 'returned_on'`); err != nil {
			t.Fatal(err)
		}
		if len(dates) != 1 || dates[0] != wantDate {
			t.Errorf("returned_on stored as %v, want [%s] (an Excel date cell)", dates, wantDate)
		}
		r, err := svc.Resume(ctx, "M-0001", "lent_phone")
		if err == nil {
			t.Errorf("a paper response is open for resuming: %+v", r)
		}
	})
}

// excelizeDate puts 2017-01-20 into cell as a real Excel date and checks it
// is read back as that date.
func excelizeDate(t *testing.T, x *excelize.File, cell string) string {
	t.Helper()
	style, err := x.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.SetCellFloat(survey.SheetPaperData, cell, 42755, 0, 64); err != nil { // 2017-01-20
		t.Fatal(err)
	}
	if err := x.SetCellStyle(survey.SheetPaperData, cell, cell, style); err != nil {
		t.Fatal(err)
	}
	return "2017-01-20"
}

func TestImportPaperRefusesUnknownColumns(t *testing.T) {
	svc, forms := paperStore(t, storetest.SQLite(t))
	x := excelize.NewFile()
	defer x.Close()
	row := []any{"monitor", "convenience", "convenience", "colour"}
	x.SetSheetRow("Sheet1", "A1", &row)
	_, err := svc.ImportPaper(context.Background(), forms["ticket_entry"].Ref, bytes.NewReader(workbookBytes(t, x)), survey.Subject{})
	got := cellReasons(t, err)
	want := map[[2]any]string{{1, "monitor"}: survey.ReasonUnknownColumn, {1, "convenience"}: survey.ReasonDuplicateColumn,
		{1, "colour"}: survey.ReasonUnknownColumn, {1, "monitor_id"}: survey.ReasonNoMonitorColumn}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%v: %q, want %q (all %v)", k, got[k], v, got)
		}
	}
}

// FuzzImportPaper: any bytes are refused with an error or imported; never a panic.
func FuzzImportPaper(f *testing.F) {
	db := storetest.SQLite(f)
	svc, forms := paperStore(f, db)
	ref := forms["ticket_entry"].Ref
	form, err := svc.Form(context.Background(), ref)
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := survey.WriteTemplate(&buf, form, "en"); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x03\x04 not really a zip"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = svc.ImportPaper(context.Background(), ref, bytes.NewReader(b), survey.Subject{})
	})
}

func TestFreeTextsFollowTheFilter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, forms := paperStore(t, db)
		for _, c := range []struct {
			form, monitor, step, text string
		}{
			{"ticket_entry", "M-0001", "entry", "かざす場所が分からなかった"},
			{"ticket_purchase", "M-0002", "purchase", "レジで戸惑った"},
			{"ticket_entry", "M-0002", "entry", ""},
		} {
			answers := map[string]string{"convenience": "4", "willingness": "4", "comment": c.text}
			if c.form == "ticket_entry" {
				answers["entry_method"] = "card"
			}
			if _, err := svc.Transcribe(ctx, forms[c.form].Ref, survey.Subject{MonitorID: c.monitor, Step: c.step}, answers); err != nil {
				t.Fatal(err)
			}
		}
		all, err := svc.FreeTexts(ctx, survey.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		entry, err := svc.FreeTexts(ctx, survey.Filter{Step: "entry"})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || len(entry) != 1 || entry[0].Text != "かざす場所が分からなかった" || entry[0].MonitorID != "M-0001" ||
			entry[0].Variable != "comment" || entry[0].Stage != "entry" {
			t.Errorf("all %+v\nentry %+v", all, entry)
		}
	})
}
