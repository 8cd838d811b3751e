package screens

import (
	"context"
	"errors"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"
)

// tasks counts work in flight so that tests can wait for it (an event, not a sleep).
var tasks sync.WaitGroup

// Run runs work on a worker goroutine and hands its result to onDone on the
// UI goroutine (one fyne.Do). Database and card work never runs in a tap
// handler: the handler calls Run and returns.
func Run[T any](ctx context.Context, work func(ctx context.Context) (T, error), onDone func(T, error)) {
	tasks.Add(1)
	go func() {
		defer tasks.Done()
		v, err := work(ctx)
		fyne.Do(func() { onDone(v, err) })
	}()
}

// Progress reports how far long work has got: done of total units.
type Progress func(done, total int)

// RunWithProgress runs work on a worker goroutine behind a modal dialog with
// a progress bar and a Cancel button that cancels work's context. onDone gets
// work's error on the UI goroutine (context.Canceled after Cancel).
func RunWithProgress(w fyne.Window, title string, work func(ctx context.Context, progress Progress) error, onDone func(error)) {
	ctx, cancel := context.WithCancel(context.Background())
	bar := widget.NewProgressBar()
	status := widget.NewLabel(lang.L("async.working"))
	var cancelBtn *widget.Button
	cancelBtn = widget.NewButton(lang.L("Cancel"), func() {
		cancel()
		cancelBtn.Disable()
		status.SetText(lang.L("async.cancelling"))
	})
	d := dialog.NewCustomWithoutButtons(title, container.NewVBox(status, bar, cancelBtn), w)
	d.Resize(fyne.NewSize(420, d.MinSize().Height))
	d.Show()

	var mu sync.Mutex
	last := -1.0
	progress := func(done, total int) {
		if total <= 0 {
			return
		}
		f := float64(done) / float64(total)
		mu.Lock()
		// Redraw at most once per percent: a 10,000-row import must not
		// queue 10,000 UI updates.
		if f-last < 0.01 && f < 1 {
			mu.Unlock()
			return
		}
		last = f
		mu.Unlock()
		fyne.Do(func() { bar.SetValue(f) })
	}
	Run(ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, work(ctx, progress)
	}, func(_ struct{}, err error) {
		cancel()
		d.Hide()
		onDone(err)
	})
}

// ShowError shows err in a dialog; a cancelled operation is not an error.
func ShowError(w fyne.Window, err error) {
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	dialog.ShowError(err, w)
}
