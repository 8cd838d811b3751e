package screens

import (
	"context"
	"io"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
)

// choosePath shows a file-open dialog limited to exts and hands the chosen
// file's path to got (on the UI goroutine); Cancel does nothing.
func choosePath(w fyne.Window, exts []string, got func(path string)) {
	showOpen(w, exts, func(r fyne.URIReadCloser) {
		path := r.URI().Path()
		r.Close()
		got(path)
	})
}

// chooseAndRead shows a file-open dialog limited to exts, reads the chosen
// file (at most limit bytes) off the UI goroutine, and hands its name and
// bytes to got on the UI goroutine; Cancel does nothing, a read error is shown.
func chooseAndRead(w fyne.Window, exts []string, limit int64, got func(name string, b []byte)) {
	showOpen(w, exts, func(r fyne.URIReadCloser) {
		name := r.URI().Name()
		Run(context.Background(), func(ctx context.Context) ([]byte, error) {
			defer r.Close()
			return io.ReadAll(io.LimitReader(r, limit))
		}, func(b []byte, err error) {
			if err != nil {
				ShowError(w, err)
				return
			}
			got(name, b)
		})
	})
}

func showOpen(w fyne.Window, exts []string, chosen func(r fyne.URIReadCloser)) {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			ShowError(w, err)
			return
		}
		if r == nil {
			return // cancelled
		}
		chosen(r)
	}, w)
	d.SetFilter(storage.NewExtensionFileFilter(exts))
	d.Resize(fyne.NewSize(900, 600))
	d.Show()
}
