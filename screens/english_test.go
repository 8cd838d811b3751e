package screens

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// The whole screen follows the language chosen at start-up (--lang en).
func TestMonitorsScreenInEnglish(t *testing.T) {
	svc := seeded(t)
	newWindow(t)
	if err := LoadTranslations("en"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = LoadTranslations("ja") })
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(fyne.NewSize(1280, 800))
	s := newMonitorsScreen(w, svc)
	show(w, s.content)
	if s.count.Text != "157 of 157" || s.query.PlaceHolder != "Filter by id, name or kana" {
		t.Errorf("count %q, placeholder %q", s.count.Text, s.query.PlaceHolder)
	}
	test.AssertRendersToMarkup(t, "monitors_en.xml", w.Canvas())
}
