package screens

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// Page is one entry of the main window's navigation. Make builds the page
// afresh each time it is shown, so it always shows the store's current state.
type Page struct {
	ID    PageID // its line in the access table (Access)
	Title string
	Icon  fyne.Resource
	Make  func() fyne.CanvasObject
}

// Shell is the main window's content: navigation on the left, the selected
// page on the right.
type Shell struct {
	pages   []Page
	nav     *widget.List
	content *fyne.Container
	current int
	split   *container.Split
}

// NewShell builds the navigation for pages and shows the first one.
func NewShell(pages []Page) *Shell {
	s := &Shell{pages: pages, content: container.NewStack(), current: -1}
	s.nav = widget.NewList(
		func() int { return len(s.pages) },
		func() fyne.CanvasObject {
			return container.NewHBox(widget.NewIcon(nil), widget.NewLabel("ダッシュボード（仮）"))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			row := o.(*fyne.Container)
			row.Objects[0].(*widget.Icon).SetResource(s.pages[i].Icon)
			row.Objects[1].(*widget.Label).SetText(s.pages[i].Title)
		})
	s.nav.OnSelected = func(i widget.ListItemID) { s.show(i) }
	s.split = container.NewHSplit(s.nav, s.content)
	s.split.Offset = 0.16
	if len(pages) > 0 {
		s.nav.Select(0)
	}
	return s
}

// Object is the shell's canvas object.
func (s *Shell) Object() fyne.CanvasObject { return s.split }

// Select shows page i, as a click on its navigation entry does.
func (s *Shell) Select(i int) { s.nav.Select(i) }

// Reload builds the page shown again, e.g. after the demo data went in.
func (s *Shell) Reload() { s.show(s.current) }

func (s *Shell) show(i int) {
	if i < 0 || i >= len(s.pages) {
		return
	}
	s.current = i
	s.content.Objects = []fyne.CanvasObject{s.pages[i].Make()}
	s.content.Refresh()
}
