package screens

import (
	"context"
	"errors"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// findProgress finds the progress bar of the dialog on the canvas.
func findProgress(c fyne.Canvas) *widget.ProgressBar {
	var bar *widget.ProgressBar
	for _, o := range c.Overlays().List() {
		walk(o, func(o fyne.CanvasObject) {
			if b, ok := o.(*widget.ProgressBar); ok {
				bar = b
			}
		})
	}
	return bar
}

func TestRunWithProgressReportsAndCancels(t *testing.T) {
	w := newWindow(t)
	halfway := make(chan struct{})
	var got error
	done := make(chan struct{})
	RunWithProgress(w, "テスト", func(ctx context.Context, progress Progress) error {
		progress(50, 100)
		close(halfway)
		<-ctx.Done() // runs until cancelled
		return ctx.Err()
	}, func(err error) {
		got = err
		close(done)
	})
	<-halfway
	bar := findProgress(w.Canvas())
	if bar == nil || bar.Value != 0.5 {
		t.Fatalf("progress bar %+v after 50 of 100", bar)
	}
	test.Tap(findButton(t, w.Canvas(), "キャンセル"))
	<-done
	waitIdle()
	if !errors.Is(got, context.Canceled) {
		t.Fatalf("onDone got %v, want context.Canceled", got)
	}
	if n := len(w.Canvas().Overlays().List()); n != 0 {
		t.Errorf("%d dialogs still open after the work ended", n)
	}
}

func TestShowErrorIgnoresCancellation(t *testing.T) {
	w := newWindow(t)
	ShowError(w, context.Canceled)
	ShowError(w, nil)
	if n := len(w.Canvas().Overlays().List()); n != 0 {
		t.Fatalf("a cancelled operation showed %d error dialogs", n)
	}
	ShowError(w, errors.New("database is locked"))
	if n := len(w.Canvas().Overlays().List()); n != 1 {
		t.Fatalf("%d dialogs for a real error, want 1", n)
	}
}
