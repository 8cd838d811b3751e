package screens

import (
	"fmt"
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
