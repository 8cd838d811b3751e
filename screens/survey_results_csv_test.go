package screens

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/text/encoding/japanese"

	"jpkipilot/survey"
	"jpkipilot/trial/pii"
)

// overlayRadio finds the radio group of the dialog on top.
func overlayRadio(t *testing.T, c fyne.Canvas) *widget.RadioGroup {
	t.Helper()
	var found *widget.RadioGroup
	if top := c.Overlays().Top(); top != nil {
		walk(top, func(o fyne.CanvasObject) {
			if r, ok := o.(*widget.RadioGroup); ok && found == nil {
				found = r
			}
		})
	}
	if found == nil {
		t.Fatal("no radio group in a dialog")
	}
	return found
}

// csvResults opens the results screen on the demo answers with the file
// dialog replaced: "saving" picks path.
func csvResults(t *testing.T, path string) (*surveyStore, fyne.Window, *resultsScreen, *[]string) {
	t.Helper()
	s := withDemoAnswers(t)
	w := newWindow(t)
	rs := newResultsScreen(w, ResultsDeps{Trials: s.trials, Survey: s.survey, ExportedBy: "staff"})
	show(w, rs.content)
	var asked []string
	rs.saveFile = func(name, ext string, onPath func(string)) {
		asked = append(asked, name+ext)
		onPath(path)
	}
	return s, w, rs, &asked
}

// exportCSVThroughDialog taps the CSV button, picks the encoding labelled
// choice and confirms.
func exportCSVThroughDialog(t *testing.T, w fyne.Window, choice string) {
	t.Helper()
	tapButton(t, w, lang.L("results.export_csv"))
	radio := overlayRadio(t, w.Canvas())
	if radio.Selected != lang.L("results.csv_utf8") {
		t.Fatalf("the encoding dialog starts at %q, want UTF-8", radio.Selected)
	}
	radio.SetSelected(choice)
	tapButton(t, w, lang.L("results.csv_choose_file"))
}

// TestResultsCSVExport: the CSV button asks for the encoding and writes
// exactly what survey.ExportCSV writes for the screen's filter: UTF-8 with
// a byte-order mark by default, Shift_JIS when chosen.
func TestResultsCSVExport(t *testing.T) {
	for _, tc := range []struct {
		choice, encoding string
	}{
		{"results.csv_utf8", survey.EncodingUTF8},
		{"results.csv_sjis", survey.EncodingShiftJIS},
	} {
		t.Run(tc.encoding, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "results.csv")
			s, w, rs, asked := csvResults(t, path)
			selectThen(rs.stageSel, survey.StageLabel("entry", "ja"))
			exportCSVThroughDialog(t, w, lang.L(tc.choice))
			if len(*asked) != 1 || !strings.HasSuffix((*asked)[0], ".csv") {
				t.Fatalf("save dialog asked for %v, want one .csv file", *asked)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := s.survey.ExportCSV(context.Background(), &want, survey.ExportOptions{Filter: survey.Filter{Step: "entry"}, Encoding: tc.encoding}, nil); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("the screen wrote %d bytes, survey.ExportCSV %d for the entry step", len(got), want.Len())
			}
			text := string(got)
			if tc.encoding == survey.EncodingUTF8 {
				if !strings.HasPrefix(text, "\uFEFF") {
					t.Fatal("UTF-8 CSV without a byte-order mark")
				}
				text = strings.TrimPrefix(text, "\uFEFF")
			} else {
				if strings.HasPrefix(text, "\uFEFF") {
					t.Fatal("Shift_JIS CSV with a UTF-8 byte-order mark")
				}
				if text, err = japanese.ShiftJIS.NewDecoder().String(text); err != nil {
					t.Fatalf("not Shift_JIS: %v", err)
				}
			}
			recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs)-1 != rs.tallies.Responses || recs[0][0] != "response_id" {
				t.Fatalf("CSV has %d responses (header %v), the screen counts %d", len(recs)-1, recs[0][:3], rs.tallies.Responses)
			}
			if rs.tallies.Responses == 0 {
				t.Fatal("no responses at the entry step")
			}
		})
	}
}

// TestResultsCSVShiftJISRefusedLeavesNoFile: a comment Shift_JIS cannot
// hold fails the Shift_JIS export with the screen's message, and no file
// is left where the analyst chose to save.
func TestResultsCSVShiftJISRefusedLeavesNoFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.csv")
	s, w, _, _ := csvResults(t, path)
	ctx := context.Background()
	info, err := s.survey.Latest(ctx, "overall")
	if err != nil {
		t.Fatal(err)
	}
	m := s.attendedMonitor(t)
	r, err := s.survey.Start(ctx, info.Ref, survey.Subject{MonitorID: m.ID})
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.survey.Form(ctx, info.Ref)
	if err != nil {
		t.Fatal(err)
	}
	saved := false
	for _, q := range f.Questions() {
		if q.Type == survey.TypeText {
			if err := s.survey.SaveAnswer(ctx, r.ID, q.Name, "読み取りが速い🙂"); err != nil {
				t.Fatal(err)
			}
			saved = true
			break
		}
	}
	if !saved {
		t.Fatal("the overall form has no text question")
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil { // the file dialog creates it empty
		t.Fatal(err)
	}
	exportCSVThroughDialog(t, w, lang.L("results.csv_sjis"))
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a refused export left %s (%v)", path, err)
	}
	var msg string
	walk(w.Canvas().Overlays().Top(), func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && strings.Contains(l.Text, "U+1F642") {
			msg = l.Text
		}
	})
	want := strings.SplitN(lang.L("results.csv_no_sjis", map[string]any{"Err": ""}), "\n", 2)[0]
	if !strings.Contains(msg, want) {
		t.Fatalf("error dialog says %q, want the screen's message %q naming the character", msg, want)
	}
}

// TestResultsIdentifiedExportOpensSealedNames: the results screen hands
// the logged-in account's data key to the export, so an identified CSV of
// sealed names holds the names, not their ciphertext.
func TestResultsIdentifiedExportOpensSealedNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.csv")
	s, _, rs, _ := csvResults(t, path)
	ctx := context.Background()
	m := s.attendedMonitor(t)
	key, err := pii.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := key.Seal("monitors.name", m.ID, m.Name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE monitors SET name = ? WHERE id = ?`), sealed, m.ID); err != nil {
		t.Fatal(err)
	}
	rs.deps.PII = func() *pii.Key { return key }
	rs.identified.SetChecked(true)
	rs.exportCSV(path, survey.EncodingUTF8)
	waitIdle()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte(m.Name)) || bytes.Contains(got, []byte(pii.Prefix)) {
		t.Fatalf("identified CSV: name %q in the clear %v, sealed text %v", m.Name, bytes.Contains(got, []byte(m.Name)), bytes.Contains(got, []byte(pii.Prefix)))
	}
}
