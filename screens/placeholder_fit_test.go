package screens

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// clippedPlaceholders describes the empty entries whose placeholder is
// wider than the room the entry shows text in, so it is cut off.
func clippedPlaceholders(o fyne.CanvasObject) []string {
	var out []string
	walk(o, func(o fyne.CanvasObject) {
		e, ok := o.(*widget.Entry)
		if !ok || !e.Visible() || e.PlaceHolder == "" || e.Text != "" {
			return
		}
		room := e.Size().Width
		for _, c := range test.WidgetRenderer(e).Objects() {
			if sc, ok := c.(*container.Scroll); ok {
				room = sc.Size().Width // the entry less its icons
			}
		}
		need := fyne.MeasureText(e.PlaceHolder, theme.TextSize(), e.TextStyle).Width + 2*theme.InnerPadding()
		if need > room+1 {
			out = append(out, fmt.Sprintf("placeholder %q needs %.0f wide, its entry shows %.0f", e.PlaceHolder, need, room))
		}
	})
	return out
}

// Every cell of the paper-answers grid shows a hint that fits it, for
// every bundled form, in both languages: the codes that fit, then "…".
func TestTranscribeHintsFitTheirCells(t *testing.T) {
	for _, language := range Languages {
		t.Run(language, func(t *testing.T) {
			s := newSurveyStore(t)
			w := newWindow(t)
			if err := LoadTranslations(language); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { LoadTranslations("ja") })
			ts := newTranscribeScreen(w, TranscribeDeps{Trials: s.trials, Survey: s.survey, Lang: language})
			show(w, ts.content)
			for i, f := range ts.forms {
				ts.formSel.SetSelectedIndex(i)
				waitIdle()
				w.Resize(fyne.NewSize(1280, 800))
				for _, clip := range clippedPlaceholders(w.Content()) {
					t.Errorf("form %s: %s", f.ID, clip)
				}
				if hint := ts.rows[0].cells[len(ts.rows[0].cells)-1].PlaceHolder; f.ID == "ticket_entry" && hint != "" {
					t.Errorf("form %s: the comment cell hints %q", f.ID, hint)
				}
			}
		})
	}
}

// A hint cut to a width fits it and keeps the note that several codes may
// be typed; the codes it shows are whole codes of the list, or the first
// one cut with "…" when none fits whole.
func TestCellHintFitKeepsTheNote(t *testing.T) {
	newWindow(t) // the bundled theme measures the text
	h := cellHintParts{codes: []string{"where_to_hold", "read_done", "pinless_worry", "slow"}, suffix: "{{.Codes}}（複数可）"}
	note := fyne.MeasureText("…（複数可）", theme.TextSize(), fyne.TextStyle{}).Width
	for width := float32(40); width <= 520; width += 10 {
		got := h.fit(width)
		if w := fyne.MeasureText(got, theme.TextSize(), fyne.TextStyle{}).Width; w > width {
			t.Errorf("width %.0f: %q is %.0f wide", width, got, w)
		}
		if width >= note+20 && !strings.HasSuffix(got, "（複数可）") {
			t.Errorf("width %.0f: %q lost the note", width, got)
		}
		codes := strings.TrimSuffix(got, "（複数可）")
		if codes != strings.Join(h.codes, "/") && strings.Contains(codes, "/") && !strings.HasSuffix(codes, "/…") {
			t.Errorf("width %.0f: %q cuts a code when a whole one fits", width, got)
		}
	}
	if got := h.fit(1000); got != "where_to_hold/read_done/pinless_worry/slow（複数可）" {
		t.Errorf("wide enough: %q", got)
	}
	if got := (cellHintParts{plain: "YYYY-MM-DD"}).fit(1000); got != "YYYY-MM-DD" {
		t.Errorf("a date cell: %q", got)
	}
}
