package screens

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial"
)

// ImportService imports monitors from a CSV or XLSX file, all or nothing.
type ImportService interface {
	ListTrials(ctx context.Context) ([]trial.Trial, error)
	ImportFile(ctx context.Context, path string, opt trial.ImportOptions) (trial.ImportResult, error)
}

type importScreen struct {
	w        fyne.Window
	svc      ImportService
	trials   []trial.Trial
	trialSel *widget.Select
	result   *widget.Label
	problems []trial.Problem
	list     *widget.List
	content  fyne.CanvasObject
}

// NewImport imports monitors from a file chosen in a file dialog, with
// progress and Cancel. A rejected file lists every problem, row by row.
func NewImport(w fyne.Window, svc ImportService) fyne.CanvasObject {
	return newImportScreen(w, svc).content
}

func newImportScreen(w fyne.Window, svc ImportService) *importScreen {
	s := &importScreen{w: w, svc: svc}
	s.trialSel = newSelect([]string{lang.L("import.trial_from_session")}, nil)
	s.trialSel.SetSelectedIndex(0)
	open := widget.NewButtonWithIcon(lang.L("import.choose"), theme.FolderOpenIcon(), s.chooseFile)
	open.Importance = widget.HighImportance
	var cols []string
	for _, c := range trial.ImportColumns {
		name := c.Names[0]
		if c.Required {
			name += lang.L("import.required_mark")
		}
		cols = append(cols, name)
	}
	help := widget.NewLabel(lang.L("import.help", map[string]any{"Columns": strings.Join(cols, "、")}))
	help.Wrapping = textWrap()
	s.result = widget.NewLabel("")
	s.result.Wrapping = fyne.TextWrapWord
	s.list = widget.NewList(
		func() int { return len(s.problems) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(problemText(s.problems[i])) })
	form := widget.NewForm(widget.NewFormItem(lang.L("import.trial"), s.trialSel))
	top := container.NewVBox(
		widget.NewLabelWithStyle(lang.L("nav.import"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		help, form, container.NewHBox(open), s.result)
	s.content = container.NewBorder(top, nil, nil, nil, s.list)
	s.loadTrials()
	return s
}

// problemText is "row N · field · reason" in the UI language.
func problemText(p trial.Problem) string {
	row := lang.L("import.row", map[string]any{"N": p.Row})
	if p.Field == "" {
		return row + " · " + reasonText(p.Code, p.Args, p.Reason)
	}
	return row + " · " + fieldName(p.Field) + " · " + reasonText(p.Code, p.Args, p.Reason)
}

func (s *importScreen) loadTrials() {
	Run(context.Background(), func(ctx context.Context) ([]trial.Trial, error) {
		return s.svc.ListTrials(ctx)
	}, func(ts []trial.Trial, err error) {
		if err != nil {
			ShowError(s.w, err)
			return
		}
		s.trials = ts
		opts := []string{lang.L("import.trial_from_session")}
		for _, t := range ts {
			opts = append(opts, t.Name)
		}
		s.trialSel.Options = opts
		s.trialSel.SetSelectedIndex(0)
	})
}

func (s *importScreen) chooseFile() {
	choosePath(s.w, []string{".csv", ".xlsx", ".CSV", ".XLSX"}, s.importFile)
}

// importFile imports path on a worker behind a progress dialog.
func (s *importScreen) importFile(path string) {
	opt := trial.ImportOptions{}
	if i := s.trialSel.SelectedIndex(); i > 0 && i-1 < len(s.trials) {
		opt.TrialID = s.trials[i-1].ID
	}
	s.problems = nil
	s.list.Refresh()
	s.result.Importance = widget.MediumImportance
	s.result.SetText(lang.L("import.running", map[string]any{"File": path}))
	var res trial.ImportResult
	RunWithProgress(s.w, lang.L("import.progress_title"), func(ctx context.Context, progress Progress) error {
		opt.Progress = progress
		var err error
		res, err = s.svc.ImportFile(ctx, path, opt)
		return err
	}, func(err error) { s.done(path, res, err) })
}

func (s *importScreen) done(path string, res trial.ImportResult, err error) {
	var ie *trial.ImportError
	switch {
	case err == nil:
		s.result.Importance = widget.SuccessImportance
		s.result.SetText(lang.L("import.ok", map[string]any{
			"N": res.Count, "First": res.FirstID, "Last": res.LastID, "Encoding": res.Encoding}))
	case errors.As(err, &ie):
		s.problems = ie.Problems
		rows := map[int]bool{}
		for _, p := range ie.Problems {
			rows[p.Row] = true
		}
		s.result.Importance = widget.DangerImportance
		s.result.SetText(lang.L("import.rejected", map[string]any{"N": len(ie.Problems), "Rows": len(rows)}))
	case errors.Is(err, context.Canceled):
		s.result.Importance = widget.WarningImportance
		s.result.SetText(lang.L("import.cancelled"))
	default:
		s.result.Importance = widget.DangerImportance
		s.result.SetText(lang.L("import.failed", map[string]any{"Err": fmt.Sprint(err)}))
	}
	s.list.Refresh()
}
