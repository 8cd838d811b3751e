package screens

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/xuri/excelize/v2"

	"jpkipilot/survey"
)

// withDemoAnswers is newSurveyStore with the demo answers filled in.
func withDemoAnswers(t *testing.T) *surveyStore {
	t.Helper()
	s := newSurveyStore(t)
	n, err := survey.SeedDemo(context.Background(), s.db)
	if err != nil || n < 50 {
		t.Fatalf("demo answers: %d, %v", n, err)
	}
	return s
}

// checkRows compares the results screen's rows with the survey tallies.
func checkRows(t *testing.T, rs *resultsScreen, want *survey.Tallies) {
	t.Helper()
	if rs.tallies.Responses != want.Responses || len(rs.rows) != len(want.Variables) {
		t.Fatalf("screen shows %d responses and %d variables, tallies %d and %d",
			rs.tallies.Responses, len(rs.rows), want.Responses, len(want.Variables))
	}
	for _, tl := range want.Variables {
		cells := rs.rows[tl.Variable.Name]
		if cells == nil {
			t.Errorf("variable %s missing from the screen", tl.Variable.Name)
			continue
		}
		if cells[2] != strconv.Itoa(tl.N) || cells[3] != strconv.Itoa(tl.Missing) {
			t.Errorf("%s: n %s missing %s, tallies n %d missing %d", tl.Variable.Name, cells[2], cells[3], tl.N, tl.Missing)
		}
		for code, n := range tl.Counts {
			if !strings.Contains(" "+cells[4]+" ", fmt.Sprintf(" %s:%d ", code, n)) {
				t.Errorf("%s: counts %q lack %s:%d", tl.Variable.Name, cells[4], code, n)
			}
		}
		if tl.HasMean && (cells[5] != fmt.Sprintf("%.2f", tl.Mean) || cells[6] != fmt.Sprintf("%.2f", tl.Median)) {
			t.Errorf("%s: mean %s median %s, tallies %.4f %.4f", tl.Variable.Name, cells[5], cells[6], tl.Mean, tl.Median)
		}
		if tl.HasTop2 && cells[7] != fmt.Sprintf("%.1f%%", tl.Top2) {
			t.Errorf("%s: top-2 %s, tallies %.3f", tl.Variable.Name, cells[7], tl.Top2)
		}
	}
}

// bars finds the stacked bars drawn, in order, as their answer counts.
func bars(c fyne.Canvas) [][]float32 {
	var out [][]float32
	walk(c.Content(), func(o fyne.CanvasObject) {
		if ct, ok := o.(*fyne.Container); ok {
			if b, ok := ct.Layout.(stackedBar); ok {
				out = append(out, b)
			}
		}
	})
	return out
}

func TestResultsEqualTheTallies(t *testing.T) {
	s := withDemoAnswers(t)
	w := newWindow(t)
	rs := newResultsScreen(w, ResultsDeps{Trials: s.trials, Survey: s.survey})
	show(w, rs.content)
	all, err := s.survey.Tally(context.Background(), survey.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, rs, all)
	// The charts: one bar per step of convenience, then of willingness,
	// each split as the step's answers 1..5.
	var want [][]float32
	for _, name := range []string{"convenience", "willingness"} {
		for _, st := range all.Stages {
			if st.Variable.Name == name {
				var b []float32
				for _, n := range st.Counts {
					b = append(b, float32(n))
				}
				want = append(want, b)
			}
		}
	}
	got := bars(w.Canvas())
	if len(got) != len(want) || len(want) < 6 {
		t.Fatalf("%d bars drawn, want %d", len(got), len(want))
	}
	for i := range want {
		if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
			t.Errorf("bar %d: %v, want %v", i, got[i], want[i])
		}
	}
	texts, err := s.survey.FreeTexts(context.Background(), survey.Filter{})
	if err != nil || len(rs.texts) != len(texts) || len(texts) == 0 {
		t.Errorf("free texts shown %d, stored %d (%v)", len(rs.texts), len(texts), err)
	}

	// The step filter narrows to the entry step.
	selectThen(rs.stageSel, survey.StageLabel("entry", "ja"))
	entry, err := s.survey.Tally(context.Background(), survey.Filter{Step: "entry"})
	if err != nil {
		t.Fatal(err)
	}
	if entry.Responses >= all.Responses || entry.Responses == 0 {
		t.Fatalf("entry step: %d of %d responses", entry.Responses, all.Responses)
	}
	checkRows(t, rs, entry)
	test.AssertRendersToMarkup(t, "survey_results_entry.xml", w.Canvas())
}

func TestResultsExportWritesTheWorkbook(t *testing.T) {
	s := withDemoAnswers(t)
	w := newWindow(t)
	rs := newResultsScreen(w, ResultsDeps{Trials: s.trials, Survey: s.survey, ExportedBy: "staff"})
	show(w, rs.content)
	path := filepath.Join(t.TempDir(), "results.xlsx")
	rs.export(path)
	waitIdle()
	x, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := x.GetRows(survey.SheetData)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows)-1 != rs.tallies.Responses {
		t.Errorf("Data sheet has %d rows, the screen counts %d responses", len(rows)-1, rs.tallies.Responses)
	}
	names, _ := x.GetRows(survey.SheetData)
	for _, h := range names[0] {
		if h == "name" {
			t.Error("a pseudonymised export has a name column")
		}
	}
}

// xlsform builds a workbook from sheets of rows.
func xlsform(t *testing.T, sheets map[string][][]string) []byte {
	t.Helper()
	x := excelize.NewFile()
	defer x.Close()
	first := true
	for _, name := range []string{"survey", "choices", "settings"} {
		rows, ok := sheets[name]
		if !ok {
			continue
		}
		if first {
			x.SetSheetName("Sheet1", name)
			first = false
		} else {
			x.NewSheet(name)
		}
		for i, r := range rows {
			vals := make([]any, len(r))
			for j, v := range r {
				vals[j] = v
			}
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			x.SetSheetRow(name, cell, &vals)
		}
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFormsScreenListsAndRefuses(t *testing.T) {
	s := newSurveyStore(t)
	w := newWindow(t)
	fs := newFormsScreen(w, s.survey)
	show(w, fs.content)
	if len(fs.forms) != 6 {
		t.Fatalf("%d forms listed, want the 6 bundled", len(fs.forms))
	}
	bad := xlsform(t, map[string][][]string{
		"survey":   {{"type", "name", "label"}, {"select_one nolist", "q1", "Q1"}, {"integr", "q2", "Q2"}},
		"settings": {{"form_id", "version"}, {"pilot_extra", "1"}},
	})
	fs.add("bad.xlsx", bad)
	waitIdle()
	if len(fs.problems) < 2 {
		t.Fatalf("problems %v, want one per bad row", fs.problems)
	}
	for _, want := range []string{"シート survey · 2 行目 · 列 type", "シート survey · 3 行目 · 列 type"} {
		found := false
		for _, p := range fs.problems {
			found = found || strings.HasPrefix(p, want)
		}
		if !found {
			t.Errorf("no problem starting %q in %v", want, fs.problems)
		}
	}
	test.AssertRendersToMarkup(t, "survey_forms_errors.xml", w.Canvas())

	good := xlsform(t, map[string][][]string{
		"survey":   {{"type", "name", "label::Japanese (ja)"}, {"integer", "visits", "来場回数"}},
		"settings": {{"form_id", "version", "form_title"}, {"pilot_extra", "1", "追加調査"}},
	})
	fs.add("good.xlsx", good)
	waitIdle()
	if len(fs.problems) != 0 || len(fs.forms) != 7 {
		t.Fatalf("after a good form: problems %v, %d forms", fs.problems, len(fs.forms))
	}
}

func TestTranscribeGridSavesRowByRow(t *testing.T) {
	s := newSurveyStore(t)
	m := s.attendedMonitor(t)
	w := newWindow(t)
	ts := newTranscribeScreen(w, TranscribeDeps{Trials: s.trials, Survey: s.survey})
	show(w, ts.content)
	for i, f := range ts.forms {
		if f.ID == "ticket_entry" {
			ts.formSel.SetSelectedIndex(i)
		}
	}
	waitIdle()
	// Columns: monitor, entry_method, convenience, willingness, reasons, reasons_other, comment.
	row := ts.rows[0]
	if len(row.cells) != 7 {
		t.Fatalf("%d cells, want monitor + 6 questions", len(row.cells))
	}
	if w.Canvas().Focused() != row.cells[0] {
		t.Fatal("the cursor is not in the new row's first cell")
	}
	typeCell := func(i int, text string) {
		test.Type(row.cells[i], text)
		row.cells[i].TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		waitIdle()
	}
	typeCell(0, m.ID)
	if w.Canvas().Focused() != row.cells[1] {
		t.Fatal("Enter did not move to the next cell")
	}
	typeCell(1, "bus")
	typeCell(2, "6")
	typeCell(3, "5")
	typeCell(4, "slow")
	typeCell(5, "")
	// Enter in the last cell saves the row. (Called directly: Fyne's test
	// driver runs the worker's fyne.Do on the worker goroutine, which would
	// race with the key event still refreshing the entry.)
	ts.enter(row, 6)
	waitIdle()
	if row.saved || !strings.Contains(row.status.Text, "entry_method: 選択肢のコードではありません（bus）") ||
		!strings.Contains(row.status.Text, "convenience: 選択肢のコードではありません（6）") {
		t.Fatalf("bad row: saved %v, status %q", row.saved, row.status.Text)
	}
	test.AssertRendersToMarkup(t, "survey_transcribe_errors.xml", w.Canvas())
	tl, _ := s.survey.Tally(context.Background(), survey.Filter{FormID: "ticket_entry"})
	if tl.Responses != 0 {
		t.Fatalf("a refused row stored %d responses", tl.Responses)
	}

	row.cells[1].SetText("card")
	row.cells[2].SetText("２") // typed with the IME on
	row.cells[4].SetText("")
	ts.saveRow(row)
	waitIdle()
	if !row.saved || len(ts.rows) != 2 || w.Canvas().Focused() != ts.rows[1].cells[0] {
		t.Fatalf("good row: saved %v, %d rows, status %q", row.saved, len(ts.rows), row.status.Text)
	}
	// Convenience 2: the reasons are asked now; left empty on paper.
	tl, err := s.survey.Tally(context.Background(), survey.Filter{FormID: "ticket_entry"})
	if err != nil {
		t.Fatal(err)
	}
	if tl.Responses != 1 || tl.Var("convenience").Counts["2"] != 1 || tl.Var("willingness").Counts["5"] != 1 || tl.Var("reasons").Missing != 1 {
		t.Errorf("stored: %d responses, convenience %v, willingness %v, reasons missing %d", tl.Responses,
			tl.Var("convenience").Counts, tl.Var("willingness").Counts, tl.Var("reasons").Missing)
	}
}

func TestTranscribeImportNamesRowsAndStoresNothing(t *testing.T) {
	s := newSurveyStore(t)
	m := s.attendedMonitor(t)
	w := newWindow(t)
	ts := newTranscribeScreen(w, TranscribeDeps{Trials: s.trials, Survey: s.survey})
	show(w, ts.content)
	for i, f := range ts.forms {
		if f.ID == "overall" {
			ts.formSel.SetSelectedIndex(i)
		}
	}
	waitIdle()
	var buf bytes.Buffer
	if err := survey.WriteTemplate(&buf, ts.form, "ja"); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for cell, v := range map[string]any{"A2": m.ID, "C2": "4", "D2": "5", "A3": m.ID, "C3": "9", "F3": -5} {
		x.SetCellValue(survey.SheetPaperData, cell, v)
	}
	var out bytes.Buffer
	x.Write(&out)
	x.Close()
	ts.importFile("overall.xlsx", out.Bytes())
	waitIdle()
	want := []string{"3 行目 · 列 convenience · 選択肢のコードではありません（9）", "3 行目 · 列 fee_yen · 0以上の金額をご記入ください。 (-5)"}
	if len(ts.problems) != len(want) {
		t.Fatalf("problems %q, want %q", ts.problems, want)
	}
	for i := range want {
		if ts.problems[i] != want[i] {
			t.Errorf("problem %d: %q, want %q", i, ts.problems[i], want[i])
		}
	}
	tl, _ := s.survey.Tally(context.Background(), survey.Filter{FormID: "overall"})
	if tl.Responses != 0 {
		t.Errorf("a refused file stored %d responses", tl.Responses)
	}
}

// selectThen chooses option in sel and then runs its change handler, as a
// user's choice does. (Fyne's test driver runs a worker's fyne.Do on the
// worker goroutine; SetSelected would still be refreshing the select when
// the handler's work reports back.)
func selectThen(sel *widget.Select, option string) {
	changed := sel.OnChanged
	sel.OnChanged = nil
	sel.SetSelected(option)
	sel.OnChanged = changed
	changed(option)
	waitIdle()
}

// The GUI's export is in the audit trail (what, how many, identified or
// not), and an export the trail refuses leaves no file.
func TestResultsExportIsAudited(t *testing.T) {
	s := withDemoAnswers(t)
	w := newWindow(t)
	var details []string
	refuse := false
	rs := newResultsScreen(w, ResultsDeps{Trials: s.trials, Survey: s.survey, ExportedBy: "staff",
		Record: func(ctx context.Context, detail string) error {
			if refuse {
				return errors.New("database is locked")
			}
			details = append(details, detail)
			return nil
		}})
	show(w, rs.content)
	dir := t.TempDir()
	rs.export(filepath.Join(dir, "a.xlsx"))
	waitIdle()
	rs.exportCSV(filepath.Join(dir, "a.csv"), survey.EncodingUTF8)
	waitIdle()
	want := fmt.Sprintf("identified no; %d responses", rs.tallies.Responses)
	if len(details) != 2 || !strings.HasPrefix(details[0], "format xlsx; "+want) || !strings.HasPrefix(details[1], "format csv utf-8; "+want) {
		t.Fatalf("audit details %q, want xlsx then csv with %q", details, want)
	}
	refuse = true
	path := filepath.Join(dir, "refused.xlsx")
	rs.export(path)
	waitIdle()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("an export the audit trail refused left a file: %v", err)
	}
	if len(details) != 2 {
		t.Fatalf("details grew to %q", details)
	}
}
