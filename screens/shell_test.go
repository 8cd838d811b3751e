package screens

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

func TestShellShowsTheSelectedPage(t *testing.T) {
	w := newWindow(t)
	built := map[string]int{}
	page := func(name string) Page {
		return Page{Title: name, Make: func() fyne.CanvasObject {
			built[name]++
			return widget.NewLabel("page " + name)
		}}
	}
	s := NewShell([]Page{page("A"), page("B")})
	w.SetContent(s.Object())
	if got := s.content.Objects[0].(*widget.Label).Text; got != "page A" || built["A"] != 1 {
		t.Fatalf("first page shown: %q (built %v)", got, built)
	}
	s.Select(1)
	if got := s.content.Objects[0].(*widget.Label).Text; got != "page B" {
		t.Fatalf("after selecting B: %q", got)
	}
	// Coming back rebuilds the page, so it shows the store as it is now.
	s.Select(0)
	if built["A"] != 2 {
		t.Errorf("page A built %d times, want 2", built["A"])
	}
	// Selecting the page shown does nothing in a List: Reload rebuilds it.
	s.Select(0)
	s.Reload()
	if built["A"] != 3 {
		t.Errorf("after Reload page A built %d times, want 3", built["A"])
	}
}
