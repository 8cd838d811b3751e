package screens

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

type storeProblem struct {
	dsn     *widget.Entry
	result  *widget.Label
	testBtn *widget.Button
	save    *widget.Button
	content fyne.CanvasObject
}

// NewStoreProblem is shown instead of the main window when the store cannot
// be opened: it says why and lets the coordinator test and save another
// store location (used from the next start). fromFlag says the failing
// location came from --db or JPKIPILOT_DB, which override the saved one.
func NewStoreProblem(w fyne.Window, openErr error, dsn string, fromFlag bool, prefs fyne.Preferences, test StoreTester, quit func()) fyne.CanvasObject {
	return newStoreProblem(openErr, dsn, fromFlag, prefs, test, quit).content
}

func newStoreProblem(openErr error, dsn string, fromFlag bool, prefs fyne.Preferences, test StoreTester, quit func()) *storeProblem {
	p := &storeProblem{dsn: widget.NewEntry(), result: widget.NewLabel("")}
	p.dsn.SetText(dsn)
	p.dsn.SetPlaceHolder(lang.L("settings.dsn_placeholder"))
	p.result.Wrapping = fyne.TextWrapWord
	why := widget.NewLabel(lang.L("store_problem.why", map[string]any{"Err": openErr.Error()}))
	why.Wrapping = fyne.TextWrapWord
	why.Importance = widget.DangerImportance
	hint := lang.L("store_problem.hint")
	if fromFlag {
		hint += "\n" + lang.L("store_problem.flag")
	}
	hintLabel := widget.NewLabel(hint)
	hintLabel.Wrapping = fyne.TextWrapWord
	p.testBtn = widget.NewButton(lang.L("settings.test"), func() {
		dsn := strings.TrimSpace(p.dsn.Text)
		if missing := missingSQLiteFile(dsn); missing != "" {
			p.result.SetText(lang.L("settings.test_no_file", map[string]any{"Path": missing}))
			return
		}
		p.testBtn.Disable()
		p.result.SetText(lang.L("settings.testing"))
		Run(context.Background(), func(ctx context.Context) (string, error) { return test(ctx, dsn) },
			func(found string, err error) {
				p.testBtn.Enable()
				if err != nil {
					p.result.SetText(lang.L("settings.test_failed", map[string]any{"Err": err.Error()}))
					return
				}
				p.result.SetText(lang.L("settings.test_ok", map[string]any{"Found": found}))
			})
	})
	p.save = widget.NewButtonWithIcon(lang.L("store_problem.save_quit"), theme.DocumentSaveIcon(), func() {
		prefs.SetString(PrefStoreDSN, strings.TrimSpace(p.dsn.Text))
		if quit != nil {
			quit()
		}
	})
	p.save.Importance = widget.HighImportance
	p.content = container.NewPadded(container.NewVBox(
		widget.NewLabelWithStyle(lang.L("store_problem.title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		why, hintLabel,
		container.NewBorder(nil, nil, widget.NewLabel(lang.L("settings.store")), p.testBtn, p.dsn),
		p.result, container.NewHBox(p.save)))
	return p
}
