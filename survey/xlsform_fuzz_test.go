package survey_test

import (
	"errors"
	"testing"

	"jpkipilot/survey"
	"jpkipilot/survey/internal/formgen"
)

// Arbitrary bytes never crash the reader: they are a form or an error.
func FuzzReadXLSFormBytes(f *testing.F) {
	srcs, err := survey.BundledSources()
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range srcs {
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, b []byte) {
		form, err := survey.ParseXLSForm(b)
		if err == nil && len(form.Questions()) == 0 {
			t.Fatal("accepted a form without questions")
		}
	})
}

// Arbitrary cell contents give a valid form or errors that name a sheet;
// an accepted form's expressions refer only to its own fields.
func FuzzReadXLSFormCells(f *testing.F) {
	f.Add("select_one scale", "conv", "${other} = 1", ". < 3", "yes")
	f.Add("begin group", "g", "selected(${other}, 'a')", "", "no")
	f.Add("integer", "1bad", "${", "count-selected(.)", "maybe")
	f.Add("end_group", "", "", "", "")
	f.Fuzz(func(t *testing.T, typ, name, relevant, constraint, required string) {
		b, err := formgen.Workbook(
			formgen.Sheet{Name: "survey", Rows: [][]string{
				{"type", "name", "label", "relevant", "constraint", "required"},
				{"integer", "other", "Other"},
				{typ, name, "Label", relevant, constraint, required},
			}},
			formgen.Sheet{Name: "choices", Rows: [][]string{{"list_name", "name", "label"}, {"scale", "1", "One"}, {"scale", "2", "Two"}}},
			formgen.Sheet{Name: "settings", Rows: [][]string{{"form_id", "version"}, {"f", "1"}}},
		)
		if err != nil {
			t.Skip() // a cell excelize will not store (too long, bad XML characters)
		}
		form, err := survey.ParseXLSForm(b)
		var fe survey.FormErrors
		if err != nil {
			if !errors.As(err, &fe) || len(fe) == 0 {
				t.Fatalf("error without sheet/row/column: %v", err)
			}
			for _, e := range fe {
				if e.Sheet == "" {
					t.Fatalf("error names no sheet: %v", e)
				}
			}
			return
		}
		for _, q := range form.Items {
			for _, e := range []survey.Expr{q.Relevant, q.Constraint} {
				if e == nil {
					continue
				}
				for _, ref := range survey.Refs(e) {
					if target := form.Question(ref); target == nil || !target.Answerable() {
						t.Fatalf("accepted %s referring to %s", e, ref)
					}
				}
			}
		}
	})
}
