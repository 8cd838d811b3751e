package survey_test

import (
	"errors"
	"strings"
	"testing"

	"jpkipilot/survey"
	"jpkipilot/survey/internal/formgen"
)

var hdr = []string{"type", "name", "label::Japanese (ja)", "label::English (en)", "required", "relevant", "constraint", "constraint_message::Japanese (ja)"}

// goodSurvey is a small valid form; tests change one thing at a time.
func goodSurvey() [][]string {
	return [][]string{
		hdr,
		{"note", "intro", "はじめに", "Intro"},
		{"select_one scale", "conv", "利便性", "Convenience", "yes"},
		{"select_multiple why", "why", "理由", "Why", "", "${conv} <= 3"},
		{"begin group", "more", "詳細", "More", "", "${conv} < 5"},
		{"integer", "days", "日数", "Days", "", "", ". >= 0 and . <= 14", "0〜14"},
		{"decimal", "fee", "手数料", "Fee"},
		{"end group"},
		{"date", "when", "日付", "Date"},
		{"text", "comment", "ご意見", "Comment"},
	}
}

func goodChoices() [][]string {
	return [][]string{
		{"list_name", "name", "label::Japanese (ja)", "label::English (en)"},
		{"scale", "1", "悪い", "Bad"}, {"scale", "2", "", "Poor"}, {"scale", "3", "普通", ""},
		{"scale", "4", "良い", "Good"}, {"scale", "5", "とても良い", "Very good"},
		{"why", "where", "場所", "Where"}, {"why", "done", "完了", "Done"},
	}
}

func goodSettings() [][]string {
	return [][]string{{"form_id", "version", "form_title"}, {"t1", "3", "Test"}}
}

func build(t *testing.T, survey, choices, settings [][]string) []byte {
	t.Helper()
	sheets := []formgen.Sheet{{Name: "survey", Rows: survey}}
	if choices != nil {
		sheets = append(sheets, formgen.Sheet{Name: "choices", Rows: choices})
	}
	if settings != nil {
		sheets = append(sheets, formgen.Sheet{Name: "settings", Rows: settings})
	}
	b, err := formgen.Workbook(sheets...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadXLSFormGood(t *testing.T) {
	f, err := survey.ParseXLSForm(build(t, goodSurvey(), goodChoices(), goodSettings()))
	if err != nil {
		t.Fatal(err)
	}
	if f.ID != "t1" || f.Version != "3" || f.Title != "Test" {
		t.Fatalf("settings = %q %q %q", f.ID, f.Version, f.Title)
	}
	var names []string
	for _, q := range f.Questions() {
		names = append(names, q.Name+":"+string(q.Type))
	}
	if got := strings.Join(names, " "); got != "conv:select_one why:select_multiple days:integer fee:decimal when:date comment:text" {
		t.Fatalf("questions = %s", got)
	}
	conv := f.Question("conv")
	if !conv.Required || !conv.IsScale5() || conv.Label.In("en") != "Convenience" || conv.Label.In("ja") != "利便性" || conv.Row != 3 {
		t.Fatalf("conv = %+v", conv)
	}
	if c, _ := conv.List.Choice("2"); c.Label.In("ja") != "Poor" { // falls back to the other language
		t.Fatalf("choice 2 label in ja = %q", c.Label.In("ja"))
	}
	days := f.Question("days")
	if days.Group == nil || days.Group.Name != "more" || days.ConstraintMessage.In("ja") != "0〜14" {
		t.Fatalf("days = %+v", days)
	}
	// Group relevance applies to its children.
	if f.Relevant(days, map[string]string{"conv": "5"}) || !f.Relevant(days, map[string]string{"conv": "4"}) {
		t.Fatal("group relevant not applied to its question")
	}
	if f.Relevant(f.Question("why"), map[string]string{"conv": "4"}) {
		t.Fatal("why relevant with conv 4")
	}
}

func TestReadXLSFormPlainLabelAndUnderscoreGroups(t *testing.T) {
	s := [][]string{{"Type", "Name", "Label", "Required"},
		{"begin_group", "g", ""}, {"text", "a", "A", "TRUE"}, {"end_group"}}
	f, err := survey.ParseXLSForm(build(t, s, nil, goodSettings()))
	if err != nil {
		t.Fatal(err)
	}
	if q := f.Question("a"); !q.Required || q.Label.In("ja") != "A" || q.Group.Name != "g" {
		t.Fatalf("a = %+v", q)
	}
}

// Each kind of mistake is refused with the sheet, the Excel row and the column.
func TestReadXLSFormRefusals(t *testing.T) {
	type change func(s, c, st *[][]string)
	set := func(sheet *[][]string, row, col int, v string) {
		for len((*sheet)[row-1]) <= col {
			(*sheet)[row-1] = append((*sheet)[row-1], "")
		}
		(*sheet)[row-1][col] = v
	}
	cases := []struct {
		name   string
		change change
		want   string // the error line
	}{
		{"unknown type", func(s, c, st *[][]string) { set(s, 7, 0, "geopoint") }, `sheet survey, row 7, column type: unknown type "geopoint"`},
		{"missing list", func(s, c, st *[][]string) { set(s, 3, 0, "select_one nolist") }, `sheet survey, row 3, column type: choice list "nolist" is not on the choices sheet`},
		{"select without list", func(s, c, st *[][]string) { set(s, 3, 0, "select_one") }, `sheet survey, row 3, column type: select_one needs a choice list name`},
		{"duplicate name", func(s, c, st *[][]string) { set(s, 10, 1, "conv") }, `sheet survey, row 10, column name: duplicate name "conv" (first on row 3)`},
		{"bad name chars", func(s, c, st *[][]string) { set(s, 9, 1, "日付 x") }, `sheet survey, row 9, column name: "日付 x" must start with a letter`},
		{"empty name", func(s, c, st *[][]string) { set(s, 9, 1, "") }, `sheet survey, row 9, column name: empty`},
		{"end without begin", func(s, c, st *[][]string) { *s = append(*s, []string{"end_group"}) }, `sheet survey, row 11, column type: end_group without a matching begin_group`},
		{"begin without end", func(s, c, st *[][]string) { set(s, 8, 0, "text"); set(s, 8, 1, "x"); set(s, 8, 2, "X") }, `sheet survey, row 5, column type: begin_group "more" has no matching end_group`},
		{"relevant does not parse", func(s, c, st *[][]string) { set(s, 4, 5, "${conv} <= ") }, `sheet survey, row 4, column relevant: "${conv} <=" does not parse`},
		{"relevant unknown field", func(s, c, st *[][]string) { set(s, 4, 5, "${convx} <= 3") }, `sheet survey, row 4, column relevant: "${convx} <= 3" refers to ${convx}, which is not a field`},
		{"relevant refers to a note", func(s, c, st *[][]string) { set(s, 4, 5, "${intro} = 1") }, `refers to ${intro}, a note, which has no value`},
		{"relevant uses dot", func(s, c, st *[][]string) { set(s, 4, 5, ". = 1") }, `sheet survey, row 4, column relevant: ". = 1" uses '.'`},
		{"constraint does not parse", func(s, c, st *[][]string) { set(s, 6, 6, ". >= 0 and") }, `sheet survey, row 6, column constraint: ". >= 0 and" does not parse`},
		{"constraint unknown field", func(s, c, st *[][]string) { set(s, 6, 6, ". <= ${max}") }, `sheet survey, row 6, column constraint: ". <= ${max}" refers to ${max}`},
		{"missing label", func(s, c, st *[][]string) { set(s, 10, 2, ""); set(s, 10, 3, "") }, `sheet survey, row 10, column label: "comment" has no label`},
		{"bad required", func(s, c, st *[][]string) { set(s, 3, 4, "maybe") }, `sheet survey, row 3, column required: "maybe" is not yes or no`},
		{"choices duplicate", func(s, c, st *[][]string) { *c = append(*c, []string{"why", "where", "again", "again"}) }, `sheet choices, row 9, column name: duplicate choice "where" in list "why" (first on row 7)`},
		{"choice without label", func(s, c, st *[][]string) { set(c, 8, 2, ""); set(c, 8, 3, "") }, `sheet choices, row 8, column label: choice "done" of list "why" has no label`},
		{"choice name with space", func(s, c, st *[][]string) { set(c, 8, 1, "not done") }, `sheet choices, row 8, column name: "not done" holds a space`},
		{"choice without list", func(s, c, st *[][]string) { set(c, 8, 0, "") }, `sheet choices, row 8, column list_name: empty`},
		{"settings without version", func(s, c, st *[][]string) { set(st, 2, 1, "") }, `sheet settings, row 2, column version: empty`},
		{"settings without form_id column", func(s, c, st *[][]string) { *st = [][]string{{"version"}, {"1"}} }, `sheet settings, row 1, column form_id: missing column`},
		{"no settings sheet", func(s, c, st *[][]string) { *st = nil }, `sheet settings: the workbook has no "settings" sheet`},
		{"no label column", func(s, c, st *[][]string) {
			for i, row := range *s {
				var kept []string
				for j, v := range row {
					if j != 2 && j != 3 {
						kept = append(kept, v)
					}
				}
				(*s)[i] = kept
			}
		}, `sheet survey, row 1, column label: missing column`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c, st := goodSurvey(), goodChoices(), goodSettings()
			tc.change(&s, &c, &st)
			_, err := survey.ParseXLSForm(build(t, s, c, st))
			var fe survey.FormErrors
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want FormErrors", err)
			}
			for _, e := range fe {
				if strings.Contains(e.Error(), tc.want) {
					return
				}
			}
			t.Fatalf("errors:\n%v\nwant one containing:\n%s", err, tc.want)
		})
	}
}

// Blank rows keep Excel row numbers right.
func TestReadXLSFormRowNumbersSkipBlankRows(t *testing.T) {
	s := goodSurvey()
	s = append(s[:3], append([][]string{{}, {}}, s[3:]...)...)
	s[len(s)-1][0] = "bogus"
	_, err := survey.ParseXLSForm(build(t, s, goodChoices(), goodSettings()))
	if err == nil || !strings.Contains(err.Error(), "sheet survey, row 12, column type: unknown type \"bogus\"") {
		t.Fatalf("err = %v", err)
	}
}

func TestReadXLSFormNotAWorkbook(t *testing.T) {
	if _, err := survey.ParseXLSForm([]byte("type,name\n")); err == nil || !strings.Contains(err.Error(), "not an .xlsx") {
		t.Fatalf("err = %v", err)
	}
}

func TestBundledFormsLoad(t *testing.T) {
	forms, err := survey.Bundled()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, f := range forms {
		ids[f.ID] = true
		for _, name := range []string{"convenience", "willingness", "comment"} {
			if f.Question(name) == nil {
				t.Errorf("%s has no %s", f.ID, name)
			}
		}
		if q := f.Question("convenience"); q != nil && !q.IsScale5() {
			t.Errorf("%s convenience is not a 1–5 scale", f.ID)
		}
		for _, q := range f.Questions() {
			if q.Label["ja"] == "" || q.Label["en"] == "" {
				t.Errorf("%s %s lacks a Japanese or English label", f.ID, q.Name)
			}
		}
	}
	for _, id := range []string{"ticket_application", "ticket_purchase", "ticket_entry", "bank_login", "lent_phone", "overall"} {
		if !ids[id] {
			t.Errorf("bundled form %s missing", id)
		}
	}
	app := forms[0]
	for _, f := range forms {
		if f.ID == "ticket_application" {
			app = f
		}
	}
	why := app.Question("reasons")
	for _, code := range []string{"where_to_hold", "read_done", "pinless_worry", "card_loss"} {
		if _, ok := why.List.Choice(code); !ok {
			t.Errorf("reasons lacks the seed's finding %s", code)
		}
	}
}
