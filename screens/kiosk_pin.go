package screens

import (
	"context"
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial/staff"
)

// askStaffPIN asks for a staff PIN and calls ok (UI goroutine) once
// checker accepts it: any enabled coordinator's or venue staff account's
// PIN. The check (argon2id, throttled and audited by the staff service)
// runs off the UI goroutine; a wrong PIN keeps the dialog open. Without a
// checker nobody gets through: a kiosk is never left without a PIN.
func askStaffPIN(w fyne.Window, checker KioskStaff, title string, ok func()) {
	pin := widget.NewPasswordEntry()
	pin.SetPlaceHolder(lang.L("kiosk.pin_placeholder"))
	result := widget.NewLabel("")
	result.Importance = widget.DangerImportance
	result.Wrapping = fyne.TextWrapWord
	var d dialog.Dialog
	var okBtn *widget.Button
	submit := func() {
		entered := pin.Text
		pin.SetText("")
		if entered == "" || okBtn.Disabled() {
			return
		}
		okBtn.Disable()
		Run(context.Background(), func(ctx context.Context) (staff.Account, error) {
			if checker == nil {
				return staff.Account{}, errNoStaffPIN
			}
			return checker.CheckPIN(ctx, entered)
		}, func(_ staff.Account, err error) {
			okBtn.Enable()
			if err != nil {
				result.SetText(pinError(err))
				w.Canvas().Focus(pin)
				return
			}
			d.Hide()
			ok()
		})
	}
	pin.OnSubmitted = func(string) { submit() }
	okBtn = widget.NewButton(lang.L("OK"), submit)
	okBtn.Importance = widget.HighImportance
	cancel := widget.NewButton(lang.L("Cancel"), func() { d.Hide() })
	d = dialog.NewCustomWithoutButtons(title, container.NewVBox(
		widget.NewLabel(lang.L("kiosk.pin_prompt")), pin, result, container.NewGridWithColumns(2, cancel, okBtn)), w)
	d.Resize(fyne.NewSize(420, d.MinSize().Height))
	d.Show()
	w.Canvas().Focus(pin)
}

var errNoStaffPIN = errors.New("no staff accounts to check the PIN against")

// pinError says why a staff PIN was refused, with the wait when throttled.
func pinError(err error) string {
	if errors.Is(err, staff.ErrBadLogin) || errors.Is(err, staff.ErrBadPIN) {
		return lang.L("kiosk.pin_wrong")
	}
	return LoginError(err)
}

// askPIN asks for a staff PIN to leave or reset the kiosk.
func (k *Kiosk) askPIN(title string, ok func()) { askStaffPIN(k.w, k.deps.Staff, title, ok) }
