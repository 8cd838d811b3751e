package screens

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/pki/jpki"
)

// NewPINPad returns a PIN callback for any card flow: called on the worker
// doing the card work, it shows the PIN pad in w (with fyne.Do) and waits
// for the person to enter the PIN or cancel. The pad says what the PIN is
// for and how many tries are left, masks what is typed and refuses a PIN
// of the wrong format before it is returned (so it never reaches the card).
// The PIN is neither stored nor logged: the entry is cleared once read.
func NewPINPad(w fyne.Window) jpki.PINFunc { return pinPadFunc(w, nil) }

type pinResult struct {
	pin string
	err error
}

// pinPadFunc is NewPINPad with a hook that sees each pad once it is shown
// (tests use it to type into the pad: an event, not a sleep).
func pinPadFunc(w fyne.Window, shown func(*pinPad)) jpki.PINFunc {
	return func(ctx context.Context, req jpki.PINRequest) (string, error) {
		ch := make(chan pinResult, 1)
		var p *pinPad
		fyne.Do(func() {
			p = newPINPad(req, func(pin string, err error) { ch <- pinResult{pin, err} })
			p.show(w)
			if shown != nil {
				shown(p)
			}
		})
		select {
		case r := <-ch:
			return r.pin, r.err
		case <-ctx.Done():
			fyne.Do(func() { p.finish("", ctx.Err()) })
			return "", ctx.Err()
		}
	}
}

// pinPad is one PIN request on screen.
type pinPad struct {
	req     jpki.PINRequest
	entry   *widget.Entry
	purpose *widget.Label
	tries   *widget.Label
	problem *widget.Label
	ok      *widget.Button
	cancel  *widget.Button
	content fyne.CanvasObject
	dlg     dialog.Dialog
	done    func(string, error)
}

func newPINPad(req jpki.PINRequest, done func(string, error)) *pinPad {
	p := &pinPad{req: req, done: done}
	p.entry = widget.NewPasswordEntry()
	p.entry.OnSubmitted = func(string) { p.submit() }
	if req.Kind == jpki.Auth {
		p.entry.SetPlaceHolder(lang.L("pinpad.auth_format"))
	} else {
		p.entry.SetPlaceHolder(lang.L("pinpad.sign_format"))
	}
	p.purpose = widget.NewLabel(lang.L("pinpad.purpose", map[string]any{"Purpose": purposeLabel(req.Purpose)}))
	p.purpose.Wrapping = textWrap()
	p.tries = widget.NewLabel(pinTriesText(req))
	if req.TriesLeft <= 1 {
		p.tries.Importance = widget.DangerImportance
	}
	p.problem = widget.NewLabel("")
	p.problem.Importance = widget.DangerImportance
	p.problem.Wrapping = fyne.TextWrapWord
	p.ok = widget.NewButtonWithIcon(lang.L("OK"), theme.ConfirmIcon(), p.submit)
	p.ok.Importance = widget.HighImportance
	p.cancel = widget.NewButtonWithIcon(lang.L("Cancel"), theme.CancelIcon(), func() { p.finish("", jpki.ErrPINCancelled) })

	// A keypad for touch screens at a venue: digits are what the auth PIN
	// is made of; the sign PIN's letters come from the keyboard.
	keys := container.NewGridWithColumns(3)
	// The keypad stops at the longest PIN; typing may go further and is
	// then refused with the reason.
	for _, k := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "", "0", "⌫"} {
		switch k {
		case "":
			keys.Add(widget.NewLabel(""))
		case "⌫":
			keys.Add(widget.NewButtonWithIcon("", theme.ContentUndoIcon(), func() {
				if t := p.entry.Text; t != "" {
					p.entry.SetText(t[:len(t)-1])
				}
			}))
		default:
			k := k
			keys.Add(widget.NewButton(k, func() {
				if max := map[jpki.Kind]int{jpki.Auth: 4, jpki.Sign: 16}[req.Kind]; len(p.entry.Text) < max {
					p.entry.SetText(p.entry.Text + k)
				}
			}))
		}
	}
	p.content = container.NewVBox(p.purpose, p.tries, p.entry, p.problem, keys,
		container.NewGridWithColumns(2, p.cancel, p.ok))
	return p
}

// pinTriesText is "tries left n of max", with a warning at the last try.
func pinTriesText(req jpki.PINRequest) string {
	data := map[string]any{"N": req.TriesLeft, "Max": req.Max}
	if req.TriesLeft <= 1 {
		return lang.L("pinpad.last_try", data)
	}
	return lang.L("pinpad.tries", data)
}

func (p *pinPad) show(w fyne.Window) {
	title := lang.L("pinpad.title_auth")
	if p.req.Kind == jpki.Sign {
		title = lang.L("pinpad.title_sign")
	}
	p.dlg = dialog.NewCustomWithoutButtons(title, p.content, w)
	p.dlg.Resize(fyne.NewSize(380, p.dlg.MinSize().Height))
	p.dlg.Show()
	w.Canvas().Focus(p.entry)
}

// submit checks the format and hands the PIN over, or says what is wrong
// and keeps the pad open.
func (p *pinPad) submit() {
	pin := p.entry.Text
	if p.req.Kind == jpki.Sign {
		pin = strings.ToUpper(pin) // the card's letters are upper case; people type either
	}
	if err := jpki.CheckPIN(p.req.Kind, pin); err != nil {
		if p.req.Kind == jpki.Auth {
			p.problem.SetText(lang.L("pinpad.auth_bad"))
		} else {
			p.problem.SetText(lang.L("pinpad.sign_bad"))
		}
		return
	}
	p.finish(pin, nil)
}

// finish closes the pad once, clearing what was typed.
func (p *pinPad) finish(pin string, err error) {
	if p.done == nil {
		return
	}
	done := p.done
	p.done = nil
	p.entry.SetText("")
	if p.dlg != nil {
		p.dlg.Hide()
	}
	done(pin, err)
}

// purposeLabel is the card client's purpose in the UI language; purposes
// the screens set themselves are already translated.
func purposeLabel(p string) string {
	key, ok := map[string]string{
		jpki.PurposeReadSignCert: "pinpad.purpose_read_sign",
		jpki.PurposeReadAuthCert: "pinpad.purpose_read_auth",
		jpki.PurposeSignAuth:     "pinpad.purpose_sign_auth",
		jpki.PurposeSignSign:     "pinpad.purpose_sign_sign",
	}[p]
	if !ok {
		return p
	}
	return lang.L(key)
}
