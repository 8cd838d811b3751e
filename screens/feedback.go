package screens

import (
	"context"
	"errors"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// readFeedback tells the person holding the card that reading has finished
// (the trial found people could not tell). It flashes a band in green or
// red and asks the reader to beep and light up. Fyne has no audio, so a
// reader that cannot beep (or a virtual one) gets the flash alone, and the
// band says so.
type readFeedback struct {
	band    *canvas.Rectangle
	label   *widget.Label
	content fyne.CanvasObject
	anim    *fyne.Animation
}

func newReadFeedback() *readFeedback {
	f := &readFeedback{band: canvas.NewRectangle(color.Transparent), label: widget.NewLabel("")}
	f.label.Wrapping = fyne.TextWrapWord
	f.label.TextStyle.Bold = true
	f.band.CornerRadius = theme.InputRadiusSize()
	f.content = container.NewStack(f.band, container.NewPadded(f.label))
	return f
}

// busy shows that the card is being read: keep holding it.
func (f *readFeedback) busy() {
	if f.anim != nil {
		f.anim.Stop()
	}
	f.band.FillColor = color.Transparent
	f.band.Refresh()
	f.label.Importance = widget.MediumImportance
	f.label.SetText(lang.L("feedback.reading"))
}

// finish signals the end of a read on the UI goroutine: ok or not, with
// signal the reader's own beep/light request (run on a worker); its answer
// decides the wording.
func (f *readFeedback) finish(ok bool, signal func(ctx context.Context) error) {
	c := theme.Color(theme.ColorNameSuccess)
	msg := "feedback.done"
	if !ok {
		c, msg = theme.Color(theme.ColorNameError), "feedback.failed"
	}
	f.flash(c)
	f.label.SetText(lang.L(msg))
	if signal == nil {
		return
	}
	Run(context.Background(), func(ctx context.Context) (struct{}, error) {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		return struct{}{}, signal(ctx)
	}, func(_ struct{}, err error) {
		switch {
		case err == nil:
			f.label.SetText(lang.L(msg) + " " + lang.L("feedback.reader_signalled"))
		case errors.Is(err, ErrNoReaderFeedback):
			f.label.SetText(lang.L(msg) + " " + lang.L("feedback.visual_only"))
		default:
			f.label.SetText(lang.L(msg) + " " + lang.L("feedback.signal_failed", map[string]any{"Err": err.Error()}))
		}
	})
}

// flash fills the band with c and fades it to a light tint that stays,
// so a glance later still shows how the read went.
func (f *readFeedback) flash(c color.Color) {
	if f.anim != nil {
		f.anim.Stop()
	}
	r, g, b, _ := c.RGBA()
	full := color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 0xFF}
	tint := full
	tint.A = 0x50
	f.anim = canvas.NewColorRGBAAnimation(full, tint, 900*time.Millisecond, func(c color.Color) {
		f.band.FillColor = c
		f.band.Refresh()
	})
	f.anim.Start()
}
