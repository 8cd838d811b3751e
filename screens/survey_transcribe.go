package screens

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/text/width"

	"jpkipilot/survey"
	"jpkipilot/trial"
)

// TranscribeSurvey is what paper transcription needs from the survey service.
type TranscribeSurvey interface {
	Forms(ctx context.Context) ([]survey.FormInfo, error)
	Form(ctx context.Context, ref int64) (*survey.Form, error)
	Transcribe(ctx context.Context, ref int64, subj survey.Subject, typed map[string]string) (int64, error)
	ImportPaper(ctx context.Context, ref int64, r io.Reader, defaults survey.Subject) (int, error)
}

// TranscribeDeps is what the transcription screen needs besides the window.
type TranscribeDeps struct {
	Trials SurveyTrials
	Survey TranscribeSurvey
	Lang   string // labels in the template: "ja" (default) or "en"
}

type transcribeScreen struct {
	w        fyne.Window
	deps     TranscribeDeps
	forms    []survey.FormInfo
	trials   []trial.Trial
	sessions []trial.Session
	sessOpts []trial.Session

	formSel    *widget.Select
	trialSel   *widget.Select
	sessionSel *widget.Select
	stepSel    *widget.Select
	header     *fyne.Container
	rowsBox    *fyne.Container
	result     *widget.Label
	problems   []string
	errList    *widget.List

	ref     int64
	form    *survey.Form
	rows    []*paperRow
	content fyne.CanvasObject
}

// paperRow is one paper form on the grid: the monitor id, then one cell
// per question.
type paperRow struct {
	cells  []*widget.Entry
	status *widget.Label
	saved  bool
}

// NewTranscribe is the paper-form entry: a grid with one row per response
// and one column per question, typed with the keyboard (Tab or Enter moves
// on; Enter in the last cell saves the row) and saved row by row; and the
// Excel template round trip (download, fill in, import all or nothing).
func NewTranscribe(w fyne.Window, deps TranscribeDeps) fyne.CanvasObject {
	return newTranscribeScreen(w, deps).content
}

func newTranscribeScreen(w fyne.Window, deps TranscribeDeps) *transcribeScreen {
	if deps.Lang != "en" {
		deps.Lang = "ja"
	}
	s := &transcribeScreen{w: w, deps: deps}
	s.formSel = newSelect(nil, func(string) { s.formChosen() })
	s.trialSel = newSelect(nil, func(string) { s.fillSessions() })
	s.sessionSel = newSelect(nil, func(string) {
		if se := s.session(); se != nil {
			s.stepSel.SetSelected(stepName(se.Step))
		}
	})
	s.stepSel = newSelect(append([]string{stepName(trial.StepNone)}, stepNames()...), nil)
	s.stepSel.SetSelectedIndex(0)
	tmpl := widget.NewButtonWithIcon(lang.L("transcribe.template"), theme.DownloadIcon(), s.saveTemplate)
	imp := widget.NewButtonWithIcon(lang.L("transcribe.import"), theme.UploadIcon(), s.chooseImport)
	help := widget.NewLabel(lang.L("transcribe.help"))
	help.Wrapping = fyne.TextWrapWord
	s.header = container.NewGridWithColumns(1)
	s.rowsBox = container.NewVBox()
	s.result = widget.NewLabel("")
	s.result.Wrapping = fyne.TextWrapWord
	s.errList = widget.NewList(
		func() int { return len(s.problems) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(s.problems[i]) })
	form := container.New(columns{1, 2.1, 0.7, 1.5, 0.85, 1.5, 0.75, 1},
		widget.NewLabel(lang.L("kiosk.form")), s.formSel, widget.NewLabel(lang.L("field.trial")), s.trialSel,
		widget.NewLabel(lang.L("field.session")), s.sessionSel, widget.NewLabel(lang.L("kiosk.step")), s.stepSel)
	top := container.NewVBox(
		container.NewHBox(widget.NewLabelWithStyle(lang.L("nav.transcribe"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), tmpl, imp),
		help, form, s.header)
	bottom := container.NewBorder(s.result, nil, nil, nil, s.errList)
	split := container.NewVSplit(container.NewBorder(top, nil, nil, nil, container.NewVScroll(s.rowsBox)), bottom)
	split.Offset = 0.7
	s.content = split
	s.load()
	return s
}

func (s *transcribeScreen) load() {
	type loaded struct {
		forms    []survey.FormInfo
		trials   []trial.Trial
		sessions []trial.Session
	}
	Run(context.Background(), func(ctx context.Context) (loaded, error) {
		var l loaded
		infos, err := s.deps.Survey.Forms(ctx)
		if err != nil {
			return l, err
		}
		l.forms = formChoices(infos)
		if l.trials, err = s.deps.Trials.ListTrials(ctx); err != nil {
			return l, err
		}
		l.sessions, err = s.deps.Trials.AllSessions(ctx)
		return l, err
	}, func(l loaded, err error) {
		if err != nil {
			ShowError(s.w, err)
			return
		}
		s.forms, s.trials, s.sessions = l.forms, l.trials, l.sessions
		labels := make([]string, len(l.forms))
		for i, f := range l.forms {
			labels[i] = formLabel(f)
		}
		s.formSel.Options = labels
		opts := []string{lang.L("transcribe.monitors_trial")}
		for _, t := range l.trials {
			opts = append(opts, t.Name)
		}
		s.trialSel.Options = opts
		s.trialSel.SetSelectedIndex(0)
		if len(labels) > 0 {
			s.formSel.SetSelectedIndex(0)
		}
	})
}

func (s *transcribeScreen) fillSessions() {
	s.sessOpts = nil
	opts := []string{lang.L("transcribe.monitors_session")}
	if i := s.trialSel.SelectedIndex(); i > 0 && i-1 < len(s.trials) {
		for _, se := range s.sessions {
			if se.TrialID == s.trials[i-1].ID {
				s.sessOpts = append(s.sessOpts, se)
				opts = append(opts, sessionLabel(se))
			}
		}
	}
	s.sessionSel.Options = opts
	s.sessionSel.SetSelectedIndex(0)
}

func (s *transcribeScreen) session() *trial.Session {
	if i := s.sessionSel.SelectedIndex(); i > 0 && i-1 < len(s.sessOpts) {
		return &s.sessOpts[i-1]
	}
	return nil
}

// subject is the trial, session and step chosen above the grid; the
// monitor's own are used where none is chosen.
func (s *transcribeScreen) subject() survey.Subject {
	subj := survey.Subject{Step: string(stepFromName(s.stepSel.Selected)), Mode: "paper"}
	if i := s.trialSel.SelectedIndex(); i > 0 && i-1 < len(s.trials) {
		id := s.trials[i-1].ID
		subj.TrialID = &id
	}
	if se := s.session(); se != nil {
		id := se.ID
		subj.SessionID = &id
	}
	return subj
}

// formChosen loads the form's questions and starts an empty grid.
func (s *transcribeScreen) formChosen() {
	i := s.formSel.SelectedIndex()
	if i < 0 || i >= len(s.forms) {
		return
	}
	ref := s.forms[i].Ref
	Run(context.Background(), func(ctx context.Context) (*survey.Form, error) {
		return s.deps.Survey.Form(ctx, ref)
	}, func(f *survey.Form, err error) {
		if err != nil {
			ShowError(s.w, err)
			return
		}
		s.ref, s.form = ref, f
		s.rows = nil
		s.rowsBox.Objects = nil
		s.header.Objects = nil
		s.header.Layout = s.gridLayout()
		s.header.Add(boldLabel(survey.ColMonitor))
		for _, q := range f.Questions() {
			s.header.Add(boldLabel(q.Name))
		}
		s.header.Add(boldLabel(lang.L("transcribe.status")))
		s.header.Refresh()
		s.addRow()
	})
}

// gridLayout gives the monitor and each question a column, a question
// taking several codes twice the room and the row's status one and a half.
func (s *transcribeScreen) gridLayout() columns {
	qs := s.form.Questions()
	c := make(columns, len(qs)+2)
	for i := range c {
		c[i] = 1
	}
	for i, q := range qs {
		if q.Type == survey.TypeSelectMultiple {
			c[i+1] = 2
		}
	}
	c[len(qs)+1] = 1.5
	return c
}

// hintedColumns lays out a row of cells as columns does, then gives each
// cell the part of its hint that fits its width: a placeholder wider than
// its cell is cut off mid-word.
type hintedColumns struct {
	columns
	hints map[*widget.Entry]cellHintParts
}

func (h hintedColumns) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	h.columns.Layout(objs, size)
	for _, o := range objs {
		e, ok := o.(*widget.Entry)
		if !ok {
			continue
		}
		hint, ok := h.hints[e]
		if !ok {
			continue
		}
		// The text's padding and the validation icon.
		room := e.Size().Width - 2*theme.InnerPadding()
		if e.Validator != nil {
			room -= theme.IconInlineSize() + theme.LineSpacing() + theme.InnerPadding()
		}
		if ph := hint.fit(room); ph != e.PlaceHolder {
			e.SetPlaceHolder(ph)
		}
	}
}

// addRow appends an empty row and puts the cursor in it.
func (s *transcribeScreen) addRow() {
	qs := s.form.Questions()
	r := &paperRow{status: widget.NewLabel("")}
	r.status.Wrapping = fyne.TextWrapWord
	objs := []fyne.CanvasObject{}
	hints := map[*widget.Entry]cellHintParts{}
	for i := 0; i <= len(qs); i++ {
		e := widget.NewEntry()
		if i == 0 {
			e.SetPlaceHolder("M-0001")
		} else {
			q := qs[i-1]
			hints[e] = cellHint(q)
			e.SetPlaceHolder(hints[e].String())
			e.Validator = func(v string) error {
				if _, err := survey.Canonical(q, width.Narrow.String(v)); err != nil {
					return errors.New(typeMessage(q))
				}
				return nil
			}
		}
		col := i
		e.OnSubmitted = func(string) { s.enter(r, col) }
		r.cells = append(r.cells, e)
		objs = append(objs, e)
	}
	objs = append(objs, r.status)
	s.rows = append(s.rows, r)
	s.rowsBox.Add(container.New(hintedColumns{s.gridLayout(), hints}, objs...))
	s.rowsBox.Refresh()
	s.w.Canvas().Focus(r.cells[0])
}

// cellHintParts is what a cell takes: the codes of a choice list (with a
// note when several may be typed), or the type.
type cellHintParts struct {
	codes  []string
	suffix string // "{{.Codes}} (several)" around the codes, or ""
	plain  string
}

func (h cellHintParts) String() string { return h.with(h.codes, false) }

func (h cellHintParts) with(codes []string, cut bool) string {
	if h.codes == nil {
		return h.plain
	}
	s := strings.Join(codes, "/")
	if cut {
		s += "/…"
	}
	if h.suffix != "" {
		s = strings.Replace(h.suffix, "{{.Codes}}", s, 1)
	}
	return s
}

// fit is the hint shortened to width: the codes that fit, then "…", the
// note on several codes kept; a type is cut with "…".
func (h cellHintParts) fit(width float32) string {
	fits := func(s string) bool {
		return fyne.MeasureText(s, theme.TextSize(), fyne.TextStyle{}).Width <= width
	}
	if full := h.String(); fits(full) {
		return full
	}
	if h.codes != nil {
		for n := len(h.codes) - 1; n >= 1; n-- {
			if s := h.with(h.codes[:n], true); fits(s) {
				return s
			}
		}
	}
	// Not even one code: cut the text, the note on several codes kept.
	cut := func(s string) string { return s }
	whole := h.plain
	if h.codes != nil {
		whole = strings.Join(h.codes, "/")
		cut = func(s string) string { return strings.Replace(h.suffix, "{{.Codes}}", s, 1) }
		if h.suffix == "" {
			cut = func(s string) string { return s }
		}
	}
	runes := []rune(whole)
	for n := len(runes) - 1; n > 0; n-- {
		if s := cut(string(runes[:n]) + "…"); fits(s) {
			return s
		}
	}
	return ""
}

// cellHint shows what a cell takes: the codes of a choice list, or the type.
func cellHint(q *survey.Question) cellHintParts {
	if q.List != nil {
		var h cellHintParts
		for _, c := range q.List.Choices {
			h.codes = append(h.codes, c.Name)
		}
		if q.Type == survey.TypeSelectMultiple {
			h.suffix = lang.L("transcribe.multi_hint", map[string]any{"Codes": "{{.Codes}}"})
		}
		return h
	}
	switch q.Type {
	case survey.TypeDate:
		return cellHintParts{plain: "YYYY-MM-DD"}
	case survey.TypeInteger, survey.TypeDecimal:
		return cellHintParts{plain: "123"}
	}
	return cellHintParts{}
}

// enter moves to the next cell, or saves the row from its last cell.
func (s *transcribeScreen) enter(r *paperRow, col int) {
	if col+1 < len(r.cells) {
		s.w.Canvas().Focus(r.cells[col+1])
		return
	}
	s.saveRow(r)
}

func (s *transcribeScreen) saveRow(r *paperRow) {
	if r.saved {
		return
	}
	qs := s.form.Questions()
	typed := map[string]string{}
	for i, q := range qs {
		typed[q.Name] = r.cells[i+1].Text
	}
	subj := s.subject()
	subj.MonitorID = strings.TrimSpace(width.Narrow.String(r.cells[0].Text))
	ref := s.ref
	r.status.Importance = widget.LowImportance
	r.status.SetText(lang.L("kiosk.saving"))
	Run(context.Background(), func(ctx context.Context) (int64, error) {
		return s.deps.Survey.Transcribe(ctx, ref, subj, typed)
	}, func(id int64, err error) {
		var ce survey.CellErrors
		switch {
		case errors.As(err, &ce):
			var lines []string
			for _, e := range ce {
				lines = append(lines, e.Column+": "+cellReason(e, s.deps.Lang))
				for i, q := range qs {
					if q.Name == e.Column {
						r.cells[i+1].SetValidationError(errors.New(cellReason(e, s.deps.Lang)))
					}
				}
				if e.Column == survey.ColMonitor {
					r.cells[0].SetValidationError(errors.New(cellReason(e, s.deps.Lang)))
				}
			}
			r.status.Importance = widget.DangerImportance
			r.status.SetText(strings.Join(lines, "\n"))
			s.rowsBox.Refresh()
		case err != nil:
			r.status.Importance = widget.DangerImportance
			r.status.SetText(err.Error())
		default:
			r.saved = true
			for _, c := range r.cells {
				c.Disable()
			}
			r.status.Importance = widget.SuccessImportance
			r.status.SetText(lang.L("transcribe.saved", map[string]any{"ID": id}))
			s.addRow()
		}
	})
}

// cellReason is a refused cell's reason in the UI language.
func cellReason(e survey.CellError, language string) string {
	v := map[string]any{"Value": e.Value}
	switch e.Reason {
	case survey.ReasonNotInteger:
		return lang.L("transcribe.reason.not_integer", v)
	case survey.ReasonNotDecimal:
		return lang.L("transcribe.reason.not_decimal", v)
	case survey.ReasonNotDate:
		return lang.L("transcribe.reason.not_date", v)
	case survey.ReasonNotChoice:
		return lang.L("transcribe.reason.not_choice", v)
	case survey.ReasonConstraint:
		if m := e.Message.In(language); m != "" {
			return m + " (" + e.Value + ")"
		}
		return lang.L("transcribe.reason.constraint", v)
	case survey.ReasonNotAsked:
		return lang.L("transcribe.reason.not_asked", v)
	case survey.ReasonMonitorRequired:
		return lang.L("transcribe.reason.monitor_required", v)
	case survey.ReasonUnknownMonitor:
		return lang.L("transcribe.reason.unknown_monitor", v)
	case survey.ReasonWithdrawn:
		return lang.L("transcribe.reason.withdrawn", v)
	case survey.ReasonUnknownColumn:
		return lang.L("transcribe.reason.unknown_column", v)
	case survey.ReasonDuplicateColumn:
		return lang.L("transcribe.reason.duplicate_column", v)
	case survey.ReasonNoMonitorColumn:
		return lang.L("transcribe.reason.no_monitor_column", v)
	case survey.ReasonNoData:
		return lang.L("transcribe.reason.no_data", v)
	}
	return e.Error()
}

// saveTemplate writes the form's Excel template to a file the user picks.
func (s *transcribeScreen) saveTemplate() {
	if s.form == nil {
		return
	}
	f, language := s.form, s.deps.Lang
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil {
			ShowError(s.w, err)
			return
		}
		if wc == nil {
			return
		}
		path := wc.URI().Path()
		wc.Close()
		Run(context.Background(), func(ctx context.Context) (struct{}, error) {
			return struct{}{}, exportTo(ctx, path, func(w io.Writer) error { return survey.WriteTemplate(w, f, language) })
		}, func(_ struct{}, err error) {
			if err != nil {
				ShowError(s.w, err)
				return
			}
			s.result.Importance = widget.SuccessImportance
			s.result.SetText(lang.L("transcribe.template_saved", map[string]any{"Path": path}))
		})
	}, s.w)
	d.SetFileName(fmt.Sprintf("%s-%s-paper.xlsx", f.ID, f.Version))
	d.SetFilter(storage.NewExtensionFileFilter([]string{".xlsx"}))
	d.Resize(fyne.NewSize(900, 600))
	d.Show()
}

func (s *transcribeScreen) chooseImport() {
	if s.form == nil {
		return
	}
	chooseAndRead(s.w, []string{".xlsx", ".XLSX"}, 256<<20, s.importFile)
}

// importFile imports a filled-in template, all or nothing.
func (s *transcribeScreen) importFile(name string, b []byte) {
	ref, subj := s.ref, s.subject()
	s.problems = nil
	s.errList.Refresh()
	var n int
	RunWithProgress(s.w, lang.L("transcribe.importing"), func(ctx context.Context, progress Progress) error {
		var err error
		n, err = s.deps.Survey.ImportPaper(ctx, ref, bytes.NewReader(b), subj)
		return err
	}, func(err error) {
		var ce survey.CellErrors
		switch {
		case errors.As(err, &ce):
			rows := map[int]bool{}
			for _, e := range ce {
				rows[e.Row] = true
				s.problems = append(s.problems, lang.L("import.row", map[string]any{"N": e.Row})+" · "+
					lang.L("forms.column", map[string]any{"Column": e.Column})+" · "+cellReason(e, s.deps.Lang))
			}
			s.result.Importance = widget.DangerImportance
			s.result.SetText(lang.L("transcribe.import_refused", map[string]any{"File": name, "N": len(ce), "Rows": len(rows)}))
		case errors.Is(err, context.Canceled):
			s.result.Importance = widget.WarningImportance
			s.result.SetText(lang.L("import.cancelled"))
		case err != nil:
			s.result.Importance = widget.DangerImportance
			s.result.SetText(lang.L("transcribe.import_failed", map[string]any{"Err": err.Error()}))
		default:
			s.result.Importance = widget.SuccessImportance
			s.result.SetText(lang.L("transcribe.imported", map[string]any{"File": name, "N": n}))
		}
		s.errList.Refresh()
	})
}
