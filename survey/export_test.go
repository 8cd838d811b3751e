package survey_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"jpkipilot/survey"
	"jpkipilot/trial"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

var demoMonitors = [][3]string{
	{"M-0001", "山田太郎", "attended"}, {"M-0002", "鈴木花子", "attended"}, {"M-0003", "高橋翔太", "completed"},
	{"M-0004", "田中陽菜", "attended"}, {"M-0005", "伊藤大輔", "enrolled"}, {"M-0006", "渡辺美咲", "attended"},
	{"M-0007", "Kenji Yamamoto", "attended"}, {"M-0008", "中村由美", "attended"}, {"M-0009", "小林誠", "attended"},
	{"M-0010", "撤回恵子", "withdrawn"},
}

func seeded(t *testing.T, db *store.DB) (*survey.Service, fixture) {
	t.Helper()
	fx := addFixture(t, db, demoMonitors...)
	n, err := survey.SeedDemo(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if n != 16 { // 8 attended monitors (one withdrew, one not yet came) × (their step's form + overall)
		t.Fatalf("SeedDemo created %d responses, want 16", n)
	}
	if again, err := survey.SeedDemo(context.Background(), db); err != nil || again != 0 {
		t.Fatalf("second SeedDemo: %d, %v", again, err)
	}
	return survey.New(db), fx
}

func export(t *testing.T, svc *survey.Service, opt survey.ExportOptions) ([]byte, *excelize.File) {
	t.Helper()
	var buf bytes.Buffer
	var calls, lastDone, lastTotal int
	err := svc.Export(context.Background(), &buf, opt, func(done, total int) { calls++; lastDone, lastTotal = done, total })
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 || lastDone != lastTotal {
		t.Fatalf("progress: %d calls, last %d/%d", calls, lastDone, lastTotal)
	}
	x, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return buf.Bytes(), x
}

// cellKind says what a cell holds: string, number, date, datetime or empty.
func cellKind(t *testing.T, x *excelize.File, sheet, cell string) string {
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
		st, _ := x.GetStyle(id)
		if st != nil && st.CustomNumFmt != nil {
			switch *st.CustomNumFmt {
			case "yyyy-mm-dd":
				return "date"
			case "yyyy-mm-dd hh:mm:ss":
				return "datetime"
			}
		}
		return "number"
	}
	return fmt.Sprintf("type %v", typ)
}

func colOf(t *testing.T, header []string, name string) string {
	t.Helper()
	for i, h := range header {
		if h == name {
			c, _ := excelize.ColumnNumberToName(i + 1)
			return c
		}
	}
	t.Fatalf("no column %q in %v", name, header)
	return ""
}

func TestExportWorkbook(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, fx := seeded(t, db)
		// One response with known answers, answered in the kiosk.
		info, err := svc.Latest(ctx, "ticket_entry")
		if err != nil {
			t.Fatal(err)
		}
		entry := fx.sessions["entry"]
		r, err := svc.Start(ctx, info.Ref, survey.Subject{MonitorID: "M-0001", TrialID: &fx.trialID, SessionID: &entry, Step: "entry"})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range [][2]string{{"entry_method", "card"}, {"convenience", "2"}, {"willingness", "4"},
			{"reasons", "pinless_worry where_to_hold"}, {"comment", "読み取り完了が分かりにくい"}} {
			if err := svc.SaveAnswer(ctx, r.ID, a[0], a[1]); err != nil {
				t.Fatal(err)
			}
		}
		raw, x := export(t, svc, survey.ExportOptions{Filter: survey.Filter{TrialID: &fx.trialID}, ExportedBy: "tester"})

		want := []string{"README", "Data", "Data_Labels", "Codebook", "Summary", "Charts", "FreeText"}
		if got := x.GetSheetList(); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("sheets = %v", got)
		}
		data, err := x.GetRows("Data")
		if err != nil {
			t.Fatal(err)
		}
		labels, _ := x.GetRows("Data_Labels")
		if len(data) != 18 || len(labels) != 18 { // header + 17 responses
			t.Fatalf("Data has %d rows, Data_Labels %d; want 18", len(data), len(labels))
		}
		hdr := data[0]
		for i, h := range []string{"response_id", "form_id", "form_version", "monitor_id", "trial_id", "session_id", "step", "mode", "started_at", "completed_at"} {
			if hdr[i] != h {
				t.Fatalf("Data header %d = %q, want %q (%v)", i, hdr[i], h, hdr)
			}
		}
		for _, h := range []string{"name", "kana", "contact"} {
			for _, got := range hdr {
				if got == h {
					t.Fatalf("pseudonymised export has a %q column", h)
				}
			}
		}
		// Find our known response's row.
		row := 0
		for i, rw := range data {
			if rw[0] == strconv.FormatInt(r.ID, 10) {
				row = i + 1
			}
		}
		if row == 0 {
			t.Fatalf("response %d not in Data", r.ID)
		}
		cell := func(col string) string { return fmt.Sprintf("%s%d", colOf(t, hdr, col), row) }
		get := func(sheet, col string) string {
			v, _ := x.GetCellValue(sheet, cell(col), excelize.Options{RawCellValue: true})
			return v
		}
		kinds := map[string]string{
			"response_id": "string", "monitor_id": "string", "trial_id": "string", "session_id": "string",
			"started_at": "datetime", "completed_at": "empty", "convenience": "number", "willingness": "number",
			"reasons": "string", "reasons/pinless_worry": "number", "reasons/read_done": "number",
			"entry_method": "string", "comment": "string",
		}
		for col, want := range kinds {
			if got := cellKind(t, x, "Data", cell(col)); got != want {
				t.Errorf("Data %s (%s) is %s, want %s", col, cell(col), got, want)
			}
		}
		for col, want := range map[string]string{"monitor_id": "M-0001", "trial_id": strconv.FormatInt(fx.trialID, 10),
			"convenience": "2", "reasons": "where_to_hold pinless_worry", "reasons/where_to_hold": "1",
			"reasons/pinless_worry": "1", "reasons/read_done": "0", "reasons/card_loss": "0", "entry_method": "card"} {
			if got := get("Data", col); got != want {
				t.Errorf("Data %s = %q, want %q", col, got, want)
			}
		}
		// Data_Labels: same shape, labels.
		if len(labels[0]) != len(hdr) {
			t.Fatalf("Data_Labels has %d columns, Data %d", len(labels[0]), len(hdr))
		}
		for col, want := range map[string]string{"convenience": "やや不便", "entry_method": "マイナンバーカード（PINなし）",
			"reasons": "かざす場所がわからない; PINなし認証が不安", "reasons/where_to_hold": "1", "monitor_id": "M-0001"} {
			if got := get("Data_Labels", col); got != want {
				t.Errorf("Data_Labels %s = %q, want %q", col, got, want)
			}
		}
		for name, want := range map[string]string{
			"entry_method": "入場に使ったものはどれですか。", // one form: its label
			"convenience":  "convenience",     // worded differently per form: its name
		} {
			if c, _ := excelize.ColumnNameToNumber(colOf(t, hdr, name)); labels[0][c-1] != want {
				t.Errorf("Data_Labels header of %s = %q, want %q", name, labels[0][c-1], want)
			}
		}
		// A date answer is a date: the lent-phone form is not in this trial,
		// so check the date type on the whole-store export below.

		// Codebook counts equal the tallies and the store.
		tallies, err := svc.Tally(ctx, survey.Filter{TrialID: &fx.trialID})
		if err != nil {
			t.Fatal(err)
		}
		cb, _ := x.GetRows("Codebook")
		if strings.Join(cb[0], ",") != strings.Join(survey.CodebookHeader, ",") {
			t.Fatalf("Codebook header %v", cb[0])
		}
		seen := 0
		for _, rw := range cb[1:] {
			tl := tallies.Var(rw[0])
			if tl == nil {
				continue
			}
			seen++
			if rw[7] != strconv.Itoa(tl.N) || rw[8] != strconv.Itoa(tl.Missing) || rw[9] != strconv.Itoa(tl.Skipped) {
				t.Errorf("Codebook %s n/missing/skipped = %s/%s/%s, tally %d/%d/%d", rw[0], rw[7], rw[8], rw[9], tl.N, tl.Missing, tl.Skipped)
			}
		}
		if seen != len(tallies.Variables) {
			t.Errorf("Codebook has %d of %d variables", seen, len(tallies.Variables))
		}
		var stored int
		if err := db.GetContext(ctx, &stored, `SELECT COUNT(*) FROM survey_answers a JOIN survey_responses r ON r.id = a.response_id
			JOIN monitors m ON m.id = r.monitor_id WHERE a.question = 'convenience' AND m.status <> 'withdrawn'`); err != nil {
			t.Fatal(err)
		}
		if tallies.Var("convenience").N != stored {
			t.Errorf("convenience n = %d, store has %d answers", tallies.Var("convenience").N, stored)
		}
		// Summary: one row per step × scale, its n matching the tallies.
		sum, _ := x.GetRows("Summary", excelize.Options{RawCellValue: true})
		found := false
		for _, rw := range sum[1:] {
			st := tallies.Stage(rw[0], rw[2])
			if st == nil {
				t.Errorf("Summary row %v has no tally", rw)
				continue
			}
			if rw[4] != strconv.Itoa(st.N) {
				t.Errorf("Summary %s %s n = %s, tally %d", rw[0], rw[2], rw[4], st.N)
			}
			if top2, _ := strconv.ParseFloat(rw[7], 64); math.Abs(top2-st.Top2) > 0.01 {
				t.Errorf("Summary %s %s top2_pct = %q, tally %.2f", rw[0], rw[2], rw[7], st.Top2)
			}
			if rw[0] == "entry" && rw[2] == "convenience" {
				found = true
			}
		}
		if !found {
			t.Errorf("Summary lacks entry × convenience: %v", sum)
		}
		for _, c := range []string{"E2", "F2", "G2", "H2"} { // n, mean, median, top2_pct
			if k := cellKind(t, x, "Summary", c); k != "number" {
				t.Errorf("Summary %s is %s, want number", c, k)
			}
		}
		if k := cellKind(t, x, "README", "B4"); k != "datetime" {
			t.Errorf("README export time is %s, want datetime", k)
		}
		// FreeText lists our comment.
		free, _ := x.GetRows("FreeText")
		if !containsRow(free, "読み取り完了が分かりにくい") {
			t.Errorf("FreeText lacks the comment: %v", free)
		}
		// README names the trial, the filter and the form versions.
		readme, _ := x.GetRows("README")
		for _, want := range []string{"チケットレス実証", "trial " + strconv.FormatInt(fx.trialID, 10), "ticket_entry", "Pseudonymised", "tester"} {
			if !containsRow(readme, want) {
				t.Errorf("README lacks %q", want)
			}
		}
		// Charts: native chart parts, drawn on the Charts sheet.
		assertCharts(t, raw, x)
		// No monitor name anywhere in a pseudonymised export.
		assertNoNames(t, raw, demoMonitors)
	})
}

func containsRow(rows [][]string, s string) bool {
	for _, r := range rows {
		for _, c := range r {
			if strings.Contains(c, s) {
				return true
			}
		}
	}
	return false
}

// assertCharts checks the xlsx zip holds chart parts and that the Charts
// sheet's drawing refers to them.
func assertCharts(t *testing.T, raw []byte, x *excelize.File) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	charts := 0
	files := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = string(b)
		if strings.HasPrefix(f.Name, "xl/charts/chart") && strings.HasSuffix(f.Name, ".xml") {
			charts++
			if !strings.Contains(string(b), "percentStacked") {
				t.Errorf("%s is not a stacked bar chart", f.Name)
			}
		}
	}
	if charts < 2 {
		t.Fatalf("%d chart parts, want at least 2 (convenience, willingness)", charts)
	}
	idx, _ := x.GetSheetIndex("Charts")
	rels := files[fmt.Sprintf("xl/worksheets/_rels/sheet%d.xml.rels", idx+1)]
	if !strings.Contains(rels, "drawing") {
		t.Fatalf("Charts sheet has no drawing: %q", rels)
	}
	drawings := 0
	for name, body := range files {
		if strings.HasPrefix(name, "xl/drawings/_rels/") && strings.Contains(body, "charts/chart") {
			drawings++
		}
	}
	if drawings == 0 {
		t.Fatal("no drawing refers to a chart")
	}
}

// assertNoNames greps every part of the xlsx for the monitors' names.
func assertNoNames(t *testing.T, raw []byte, monitors [][3]string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		for _, m := range monitors {
			for _, needle := range []string{m[1], m[1] + "@example.jp"} {
				if bytes.Contains(b, []byte(needle)) {
					t.Errorf("%s contains %q", f.Name, needle)
				}
			}
		}
	}
}

func TestExportIdentifiedAndTypedDates(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	svc, fx := seeded(t, db)
	// A lent-phone response has a date and an integer.
	info, err := svc.Latest(ctx, "lent_phone")
	if err != nil {
		t.Fatal(err)
	}
	r, err := svc.Start(ctx, info.Ref, survey.Subject{MonitorID: "M-0002", TrialID: &fx.trialID})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range [][2]string{{"days_used", "12"}, {"returned_on", "2017-01-30"}, {"convenience", "4"}, {"troubles", "battery nfc_off"}} {
		if err := svc.SaveAnswer(ctx, r.ID, a[0], a[1]); err != nil {
			t.Fatal(err)
		}
	}
	raw, x := export(t, svc, survey.ExportOptions{Identified: true, Lang: "en"})
	data, _ := x.GetRows("Data")
	hdr := data[0]
	row := 0
	for i, rw := range data {
		if rw[0] == strconv.FormatInt(r.ID, 10) {
			row = i + 1
		}
	}
	at := func(col string) string { return fmt.Sprintf("%s%d", colOf(t, hdr, col), row) }
	if got := cellKind(t, x, "Data", at("returned_on")); got != "date" {
		t.Errorf("returned_on is %s, want date", got)
	}
	if v, _ := x.GetCellValue("Data", at("returned_on")); v != "2017-01-30" {
		t.Errorf("returned_on shows %q", v)
	}
	if got := cellKind(t, x, "Data", at("days_used")); got != "number" {
		t.Errorf("days_used is %s, want number", got)
	}
	if v, _ := x.GetCellValue("Data", at("name")); v != "鈴木花子" {
		t.Errorf("identified export name = %q", v)
	}
	labels, _ := x.GetRows("Data_Labels")
	if !containsRow(labels, "Battery drained quickly; NFC was switched off") {
		t.Error("English labels missing from Data_Labels")
	}
	readme, _ := x.GetRows("README")
	if !containsRow(readme, "IDENTIFIED") {
		t.Error("README does not say the export is identified")
	}
	// The withdrawn monitor is left out even of an identified export.
	if bytes.Contains(raw, []byte("M-0010")) {
		t.Error("export holds the withdrawn monitor M-0010")
	}
}

func TestExportCancelled(t *testing.T) {
	db := storetest.SQLite(t)
	svc, _ := seeded(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	var buf bytes.Buffer
	err := svc.Export(ctx, &buf, survey.ExportOptions{}, func(done, total int) {
		if done == 0 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if buf.Len() != 0 {
		t.Fatalf("a cancelled export wrote %d bytes", buf.Len())
	}
}

func TestTallyScaleStatistics(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	fx := addFixture(t, db, demoMonitors[:4]...)
	svc := survey.New(db)
	infos, err := svc.AddBundled(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ref := infos[2].Ref // ticket_entry
	entry := fx.sessions["entry"]
	// convenience 1, 4, 5, 5 → mean 3.75, median 4.5, top-2-box 75 %.
	for i, conv := range []string{"1", "4", "5", "5"} {
		r, err := svc.Start(ctx, ref, survey.Subject{MonitorID: demoMonitors[i][0], SessionID: &entry, Step: "entry"})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.SaveAnswer(ctx, r.ID, "convenience", conv); err != nil {
			t.Fatal(err)
		}
		if conv == "1" {
			if err := svc.SaveAnswer(ctx, r.ID, "reasons", "where_to_hold read_done"); err != nil {
				t.Fatal(err)
			}
		}
	}
	tl, err := svc.Tally(ctx, survey.Filter{Step: "entry"})
	if err != nil {
		t.Fatal(err)
	}
	c := tl.Var("convenience")
	if c.N != 4 || c.Mean != 3.75 || c.Median != 4.5 || !c.HasTop2 || c.Top2 != 75 || c.Counts["5"] != 2 {
		t.Fatalf("convenience tally %+v", c)
	}
	w := tl.Var("willingness")
	if w.N != 0 || w.Missing != 4 {
		t.Fatalf("willingness n=%d missing=%d, want 0/4", w.N, w.Missing)
	}
	// reasons is asked only when convenience or willingness <= 3: the
	// unanswered willingness keeps it hidden for the three who rated 4–5.
	rs := tl.Var("reasons")
	if rs.N != 1 || rs.Counts["where_to_hold"] != 1 || rs.Counts["read_done"] != 1 || rs.Skipped != 3 {
		t.Fatalf("reasons tally %+v", rs)
	}
	st := tl.Stage("entry", "convenience")
	if st == nil || st.N != 4 || st.Counts != [5]int{1, 0, 0, 1, 2} || st.Top2 != 75 {
		t.Fatalf("entry × convenience %+v", st)
	}
}

// On the trial service's own demo data, every attended monitor gets the
// forms of their trial, and every seeded answer is one the kiosk would
// have accepted.
func TestSeedDemoOnTrialDemo(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	if _, err := trial.New(db).SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := survey.SeedDemo(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var want int
	if err := db.GetContext(ctx, &want, `SELECT COALESCE(SUM(CASE t.kind WHEN 'loan' THEN 3 ELSE 2 END), 0)
		FROM monitors m JOIN trials t ON t.id = m.trial_id WHERE m.status IN ('attended', 'completed')`); err != nil {
		t.Fatal(err)
	}
	if n != want || n == 0 {
		t.Fatalf("SeedDemo created %d responses, want %d", n, want)
	}
	var withdrawn int
	if err := db.GetContext(ctx, &withdrawn, `SELECT COUNT(*) FROM survey_responses r JOIN monitors m ON m.id = r.monitor_id
		WHERE m.status IN ('withdrawn', 'enrolled')`); err != nil || withdrawn != 0 {
		t.Fatalf("%d responses for withdrawn or absent monitors (%v)", withdrawn, err)
	}
	svc := survey.New(db)
	var ids []int64
	if err := db.SelectContext(ctx, &ids, `SELECT id FROM survey_responses`); err != nil {
		t.Fatal(err)
	}
	completed := 0
	for _, id := range ids {
		r, err := svc.Response(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		f, err := svc.Form(ctx, r.FormRef)
		if err != nil {
			t.Fatal(err)
		}
		for name, v := range r.Answers {
			q := f.Question(name)
			if q == nil {
				t.Fatalf("response %d answers unknown %s", id, name)
			}
			if c, err := survey.Canonical(q, v); err != nil || c != v {
				t.Fatalf("response %d %s = %q: %v", id, name, v, err)
			}
			if !f.Relevant(q, r.Answers) {
				t.Fatalf("response %d answers hidden question %s", id, name)
			}
		}
		if r.CompletedAt != nil {
			completed++
			if m := survey.MissingRequired(f, r.Answers); len(m) > 0 {
				t.Fatalf("completed response %d lacks %v", id, m)
			}
		}
	}
	if completed == len(ids) || completed < len(ids)*3/4 {
		t.Fatalf("%d of %d completed; want most, not all (the kiosk leaves some unfinished)", completed, len(ids))
	}
	tl, err := svc.Tally(ctx, survey.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, stage := range []string{"application", "purchase", "entry", "bank_login", "lent_phone", "overall"} {
		if tl.Stage(stage, "convenience") == nil || tl.Stage(stage, "willingness") == nil {
			t.Errorf("no convenience/willingness summary for %s", stage)
		}
	}
	if again, err := survey.SeedDemo(ctx, db); err != nil || again != 0 {
		t.Fatalf("second run: %d, %v", again, err)
	}
}

// An empty store still gives a complete workbook that says so.
func TestExportEmpty(t *testing.T) {
	db := storetest.SQLite(t)
	_, x := export(t, survey.New(db), survey.ExportOptions{})
	if got := len(x.GetSheetList()); got != 7 {
		t.Fatalf("%d sheets", got)
	}
	data, _ := x.GetRows("Data")
	if len(data) != 1 || data[0][0] != "response_id" {
		t.Fatalf("Data = %v", data)
	}
	charts, _ := x.GetRows("Charts")
	if !containsRow(charts, "No 1–5 scale answers") {
		t.Fatalf("Charts = %v", charts)
	}
}

// On a shared PostgreSQL, answers saved by another laptop while an export
// runs do not make its rows disagree with its counts: the export reads one
// snapshot.
func TestExportSnapshotOnPostgres(t *testing.T) {
	db := storetest.Postgres(t)
	ctx := context.Background()
	svc, _ := seeded(t, db)
	info, err := svc.Latest(ctx, "overall")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	var total int
	err = svc.Export(ctx, &buf, survey.ExportOptions{}, func(done, tot int) {
		if done != 0 {
			return
		}
		total = tot
		other := survey.New(db) // another laptop on the same database
		r, err := other.Start(ctx, info.Ref, survey.Subject{MonitorID: "M-0002"})
		if err != nil {
			t.Error(err)
			return
		}
		if err := other.SaveAnswer(ctx, r.ID, "convenience", "5"); err != nil {
			t.Error(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	data, _ := x.GetRows("Data")
	if len(data)-1 != total || total != 16 {
		t.Fatalf("Data has %d responses, the export counted %d, want 16", len(data)-1, total)
	}
	tl, err := svc.Tally(ctx, survey.Filter{})
	if err != nil || tl.Responses != 17 {
		t.Fatalf("after the export the store has %v responses (%v), want 17", tl.Responses, err)
	}
}
