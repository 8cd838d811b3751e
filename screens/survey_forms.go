package screens

import (
	"context"
	"errors"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/survey"
)

// FormsSurvey lists and registers questionnaires.
type FormsSurvey interface {
	Forms(ctx context.Context) ([]survey.FormInfo, error)
	AddForm(ctx context.Context, src []byte) (survey.FormInfo, bool, error)
}

type formsScreen struct {
	w        fyne.Window
	svc      FormsSurvey
	forms    []survey.FormInfo
	problems []string
	list     *widget.List
	errList  *widget.List
	result   *widget.Label
	content  fyne.CanvasObject
}

// NewForms lists the registered questionnaires and their versions and adds
// one from an XLSForm workbook; a refused workbook lists every problem by
// sheet, row and column.
func NewForms(w fyne.Window, svc FormsSurvey) fyne.CanvasObject {
	return newFormsScreen(w, svc).content
}

var formColumns = columns{1.6, 0.7, 3, 1.2}

func newFormsScreen(w fyne.Window, svc FormsSurvey) *formsScreen {
	s := &formsScreen{w: w, svc: svc}
	s.list = widget.NewList(
		func() int { return len(s.forms) },
		func() fyne.CanvasObject {
			return container.New(formColumns, widget.NewLabel(""), widget.NewLabel(""), widget.NewLabel(""), widget.NewLabel(""))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			f := s.forms[i]
			cells := o.(*fyne.Container).Objects
			cells[0].(*widget.Label).SetText(f.ID)
			cells[1].(*widget.Label).SetText(f.Version)
			cells[2].(*widget.Label).SetText(clipText(f.Title, 34))
			cells[3].(*widget.Label).SetText(f.AddedAt.Local().Format("2006-01-02 15:04"))
		})
	s.errList = widget.NewList(
		func() int { return len(s.problems) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(s.problems[i]) })
	s.result = widget.NewLabel("")
	s.result.Wrapping = fyne.TextWrapWord
	add := widget.NewButtonWithIcon(lang.L("forms.add"), theme.ContentAddIcon(), s.chooseFile)
	add.Importance = widget.HighImportance
	help := widget.NewLabel(lang.L("forms.help"))
	help.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(
		container.NewHBox(widget.NewLabelWithStyle(lang.L("nav.forms"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), add),
		help,
		container.New(formColumns, boldLabel(lang.L("forms.id")), boldLabel(lang.L("forms.version")),
			boldLabel(lang.L("forms.title")), boldLabel(lang.L("forms.added"))))
	errs := container.NewBorder(s.result, nil, nil, nil, s.errList)
	split := container.NewVSplit(container.NewBorder(top, nil, nil, nil, s.list), errs)
	split.Offset = 0.55
	s.content = split
	s.load()
	return s
}

func (s *formsScreen) load() {
	Run(context.Background(), func(ctx context.Context) ([]survey.FormInfo, error) {
		return s.svc.Forms(ctx)
	}, func(fs []survey.FormInfo, err error) {
		if err != nil {
			ShowError(s.w, err)
			return
		}
		s.forms = fs
		s.list.Refresh()
	})
}

func (s *formsScreen) chooseFile() {
	chooseAndRead(s.w, []string{".xlsx", ".XLSX"}, 64<<20, s.add)
}

type addedForm struct {
	info  survey.FormInfo
	added bool
}

// add registers the workbook src (read from file name).
func (s *formsScreen) add(name string, src []byte) {
	s.problems = nil
	s.errList.Refresh()
	s.result.Importance = widget.MediumImportance
	s.result.SetText(lang.L("forms.checking", map[string]any{"File": name}))
	Run(context.Background(), func(ctx context.Context) (addedForm, error) {
		info, added, err := s.svc.AddForm(ctx, src)
		return addedForm{info, added}, err
	}, func(a addedForm, err error) {
		var fe survey.FormErrors
		switch {
		case errors.As(err, &fe):
			s.result.Importance = widget.DangerImportance
			s.result.SetText(lang.L("forms.refused", map[string]any{"File": name, "N": len(fe)}))
			for _, e := range fe {
				s.problems = append(s.problems, formProblem(e))
			}
		case errors.Is(err, survey.ErrVersionConflict):
			s.result.Importance = widget.DangerImportance
			s.result.SetText(lang.L("forms.version_conflict", map[string]any{"Err": err.Error()}))
		case err != nil:
			s.result.Importance = widget.DangerImportance
			s.result.SetText(lang.L("forms.failed", map[string]any{"Err": err.Error()}))
		case a.added:
			s.result.Importance = widget.SuccessImportance
			s.result.SetText(lang.L("forms.added_ok", map[string]any{"ID": a.info.ID, "Version": a.info.Version}))
		default:
			s.result.Importance = widget.MediumImportance
			s.result.SetText(lang.L("forms.same", map[string]any{"ID": a.info.ID, "Version": a.info.Version}))
		}
		s.errList.Refresh()
		if a.added {
			s.load() // last: its result arrives on its own
		}
	})
}

// formProblem is "sheet survey · row 5 · column type: message".
func formProblem(e survey.FormError) string {
	out := lang.L("forms.sheet", map[string]any{"Sheet": e.Sheet})
	if e.Row > 0 {
		out += " · " + lang.L("import.row", map[string]any{"N": strconv.Itoa(e.Row)})
	}
	if e.Column != "" {
		out += " · " + lang.L("forms.column", map[string]any{"Column": e.Column})
	}
	return out + ": " + e.Msg
}
