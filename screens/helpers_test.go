package screens

import (
	"context"
	"os"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial"
	"jpkipilot/trial/store/storetest"
)

func TestMain(m *testing.M) {
	// Goldens show dates; keep them independent of the machine's zone.
	time.Local = time.UTC
	os.Exit(m.Run())
}

// testClock is the service clock in screen tests, so goldens are stable.
var testClock = time.Date(2017, 1, 20, 10, 30, 0, 0, time.UTC)

// newService is the real trial service over a new SQLite file.
func newService(t *testing.T) *trial.Service {
	t.Helper()
	svc := trial.New(storetest.SQLite(t))
	svc.Now = func() time.Time { return testClock }
	return svc
}

// seeded is newService with the demo data set loaded.
func seeded(t *testing.T) *trial.Service {
	t.Helper()
	svc := newService(t)
	if _, err := svc.SeedDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	return svc
}

// newWindow starts a test app with the bundled theme in Japanese and
// returns a 1280×800 window for a screen.
func newWindow(t *testing.T) fyne.Window {
	t.Helper()
	if err := LoadTranslations("ja"); err != nil {
		t.Fatal(err)
	}
	a := test.NewTempApp(t)
	a.Settings().SetTheme(NewTheme())
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(fyne.NewSize(1280, 800))
	return w
}

// show waits for a screen's loading to finish and puts it into the
// window (laid out once, with its data: goldens do not depend on timing).
func show(w fyne.Window, o fyne.CanvasObject) {
	waitIdle()
	w.SetContent(o)
}

// waitIdle waits until every Run has delivered its result (a WaitGroup:
// an event, not a sleep). The test driver runs fyne.Do synchronously.
func waitIdle() { tasks.Wait() }

// findButton finds a button by its text on the canvas, overlays (dialogs) included.
func findButton(t *testing.T, c fyne.Canvas, text string) *widget.Button {
	t.Helper()
	var found *widget.Button
	visit := func(o fyne.CanvasObject) {
		walk(o, func(o fyne.CanvasObject) {
			if b, ok := o.(*widget.Button); ok && b.Text == text && b.Visible() {
				found = b
			}
		})
	}
	visit(c.Content())
	for _, o := range c.Overlays().List() {
		visit(o)
	}
	if found == nil {
		t.Fatalf("no button %q on the canvas", text)
	}
	return found
}

// walk visits o and everything inside it, widgets' rendered children too.
func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	fn(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(c, fn)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			walk(c, fn)
		}
	}
}
