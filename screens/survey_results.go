package screens

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/survey"
	"jpkipilot/trial"
	"jpkipilot/trial/pii"
)

// SurveyTrials is what the survey screens need from the trial service.
type SurveyTrials interface {
	ListTrials(ctx context.Context) ([]trial.Trial, error)
	AllSessions(ctx context.Context) ([]trial.Session, error)
}

// ResultsSurvey is what the results screen needs from the survey service.
type ResultsSurvey interface {
	Tally(ctx context.Context, f survey.Filter) (*survey.Tallies, error)
	FreeTexts(ctx context.Context, f survey.Filter) ([]survey.FreeText, error)
	Export(ctx context.Context, w io.Writer, opt survey.ExportOptions, progress func(done, total int)) error
	ExportCSV(ctx context.Context, w io.Writer, opt survey.ExportOptions, progress func(done, total int)) error
}

// ResultsDeps is what the results screen needs besides the window.
type ResultsDeps struct {
	Trials SurveyTrials
	Survey ResultsSurvey
	Lang   string // question labels: "ja" (default) or "en"
	// ExportedBy names who exports, for the README sheet (the OS user until
	// staff accounts exist).
	ExportedBy string
	// PII returns the logged-in account's data key, which opens the sealed
	// names of an identified export; nil (or a nil key) fails such an
	// export with pii.ErrLocked on a sealed store.
	PII func() *pii.Key
	// Record writes the export's audit entry (detail from
	// survey.ExportOptions.AuditDetail) before the file takes its name; an
	// export whose entry cannot be written leaves no file. Nil: no trail.
	Record func(ctx context.Context, detail string) error
}

// surveyStages are the stages the step filter offers: the ticket steps,
// then the forms outside them.
var surveyStages = []string{"application", "purchase", "entry", "bank_login", "lent_phone", "overall"}

type resultsScreen struct {
	w        fyne.Window
	deps     ResultsDeps
	trials   []trial.Trial
	sessions []trial.Session
	sessOpts []trial.Session

	trialSel   *widget.Select
	sessionSel *widget.Select
	stageSel   *widget.Select
	identified *widget.Check
	exportBtn  *widget.Button
	csvBtn     *widget.Button
	count      *widget.Label
	body       *fyne.Container

	tallies *survey.Tallies
	texts   []survey.FreeText
	rows    map[string][]string // variable → the cells shown (tests compare)
	content fyne.CanvasObject
	// saveFile asks where to save a file named name (with its extension
	// ext, ".xlsx" or ".csv") and calls onPath with the path chosen; tests
	// replace the file dialog.
	saveFile func(name, ext string, onPath func(path string))
}

// NewResults shows per-question counts, the convenience and willingness
// charts by step and the free texts, filtered by trial, session and step,
// and exports the workbook.
func NewResults(w fyne.Window, deps ResultsDeps) fyne.CanvasObject {
	return newResultsScreen(w, deps).content
}

func newResultsScreen(w fyne.Window, deps ResultsDeps) *resultsScreen {
	if deps.Lang != "en" {
		deps.Lang = "ja"
	}
	s := &resultsScreen{w: w, deps: deps}
	s.saveFile = s.saveDialog
	s.trialSel = newSelect([]string{lang.L("results.all_trials")}, func(string) { s.fillSessions(); s.load() })
	s.trialSel.SetSelectedIndex(0)
	s.sessionSel = newSelect([]string{lang.L("results.all_sessions")}, func(string) { s.load() })
	s.sessionSel.SetSelectedIndex(0)
	stages := []string{lang.L("results.all_steps")}
	for _, st := range surveyStages {
		stages = append(stages, survey.StageLabel(st, deps.Lang))
	}
	s.stageSel = newSelect(stages, func(string) { s.load() })
	s.stageSel.SetSelectedIndex(0)
	s.identified = widget.NewCheck(lang.L("results.identified"), nil)
	s.exportBtn = widget.NewButtonWithIcon(lang.L("results.export"), theme.DocumentSaveIcon(), func() {
		s.confirmIdentified(func() {
			s.saveFile(lang.L("results.export_file_name"), ".xlsx", s.export)
		})
	})
	s.exportBtn.Importance = widget.HighImportance
	s.csvBtn = widget.NewButtonWithIcon(lang.L("results.export_csv"), theme.DocumentSaveIcon(), func() {
		s.confirmIdentified(s.chooseCSVEncoding)
	})
	s.count = widget.NewLabel("")
	s.body = container.NewVBox()
	// The exports beside the title, the filters below sharing the width:
	// on one row they were wider than the window.
	top := container.NewVBox(
		container.NewBorder(nil, nil,
			container.NewHBox(widget.NewLabelWithStyle(lang.L("nav.results"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), s.count),
			container.NewHBox(s.identified, s.exportBtn, s.csvBtn)),
		container.NewGridWithColumns(3, s.trialSel, s.sessionSel, s.stageSel))
	s.content = container.NewBorder(top, nil, nil, nil, container.NewVScroll(s.body))
	s.loadTrials()
	return s
}

func (s *resultsScreen) loadTrials() {
	type loaded struct {
		trials   []trial.Trial
		sessions []trial.Session
	}
	Run(context.Background(), func(ctx context.Context) (loaded, error) {
		var l loaded
		var err error
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
		s.trials, s.sessions = l.trials, l.sessions
		opts := []string{lang.L("results.all_trials")}
		for _, t := range l.trials {
			opts = append(opts, t.Name)
		}
		s.trialSel.Options = opts
		s.trialSel.Refresh()
		s.load()
	})
}

func (s *resultsScreen) fillSessions() {
	if s.sessionSel == nil {
		return // still being built
	}
	s.sessOpts = nil
	opts := []string{lang.L("results.all_sessions")}
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

// filter is what the selects choose.
func (s *resultsScreen) filter() survey.Filter {
	var f survey.Filter
	if i := s.trialSel.SelectedIndex(); i > 0 && i-1 < len(s.trials) {
		id := s.trials[i-1].ID
		f.TrialID = &id
	}
	if i := s.sessionSel.SelectedIndex(); i > 0 && i-1 < len(s.sessOpts) {
		id := s.sessOpts[i-1].ID
		f.SessionID = &id
	}
	if i := s.stageSel.SelectedIndex(); i > 0 && i-1 < len(surveyStages) {
		f.Step = surveyStages[i-1]
	}
	return f
}

func (s *resultsScreen) load() {
	if s.count == nil || s.body == nil {
		return // still being built
	}
	f := s.filter()
	type loaded struct {
		tallies *survey.Tallies
		texts   []survey.FreeText
	}
	s.count.SetText(lang.L("results.loading"))
	Run(context.Background(), func(ctx context.Context) (loaded, error) {
		var l loaded
		var err error
		if l.tallies, err = s.deps.Survey.Tally(ctx, f); err != nil {
			return l, err
		}
		l.texts, err = s.deps.Survey.FreeTexts(ctx, f)
		return l, err
	}, func(l loaded, err error) {
		if err != nil {
			s.count.SetText("")
			ShowError(s.w, err)
			return
		}
		s.tallies, s.texts = l.tallies, l.texts
		s.show()
	})
}

var resultColumns = columns{1.4, 3.2, 0.5, 0.8, 2.6, 0.6, 0.8, 0.9}

// show draws the tallies: charts, the per-question table, the free texts.
func (s *resultsScreen) show() {
	t := s.tallies
	s.count.SetText(lang.L("results.count", map[string]any{"N": t.Responses}))
	s.body.Objects = nil
	s.rows = map[string][]string{}
	if t.Responses == 0 {
		s.body.Add(widget.NewLabel(lang.L("results.none")))
		s.body.Refresh()
		return
	}
	for _, name := range []string{"convenience", "willingness"} {
		if c := s.chart(name); c != nil {
			s.body.Add(c)
		}
	}
	s.body.Add(boldLabel(lang.L("results.per_question")))
	s.body.Add(container.New(resultColumns, boldLabel(lang.L("results.variable")), boldLabel(lang.L("results.question")),
		boldLabel("n"), boldLabel(lang.L("results.missing")), boldLabel(lang.L("results.counts")),
		boldLabel(lang.L("results.mean")), boldLabel(lang.L("results.median")), boldLabel(lang.L("results.top2"))))
	for _, tl := range t.Variables {
		cells := resultCells(tl, s.deps.Lang)
		s.rows[tl.Variable.Name] = cells
		objs := make([]fyne.CanvasObject, len(cells))
		for i, c := range cells {
			l := widget.NewLabel(c)
			if i == 1 || i == 4 {
				l.Wrapping = fyne.TextWrapWord
			}
			objs[i] = l
		}
		s.body.Add(container.New(resultColumns, objs...))
	}
	s.body.Add(widget.NewSeparator())
	s.body.Add(boldLabel(lang.L("results.free_text", map[string]any{"N": len(s.texts)})))
	for _, ft := range s.texts {
		l := widget.NewLabel(fmt.Sprintf("%s · %s · %s: %s", survey.StageLabel(ft.Stage, s.deps.Lang), ft.MonitorID, ft.Variable, ft.Text))
		l.Wrapping = fyne.TextWrapWord
		s.body.Add(l)
	}
	s.body.Refresh()
}

// resultCells are one variable's row: name, question, n, missing, counts
// per code, mean, median and top-2-box % (blank where they do not apply).
func resultCells(tl *survey.Tally, language string) []string {
	q := tl.Variable.Question
	var counts []string
	if q.List != nil {
		for _, c := range q.List.Choices {
			counts = append(counts, fmt.Sprintf("%s:%d", c.Name, tl.Counts[c.Name]))
		}
	}
	num := func(ok bool, x float64) string {
		if !ok {
			return ""
		}
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
	top2 := ""
	if tl.HasTop2 {
		top2 = strconv.FormatFloat(tl.Top2, 'f', 1, 64) + "%"
	}
	// The newest wording; the forms that ask it may word it differently.
	label := ""
	if ls := tl.Variable.Labels(language); len(ls) > 0 {
		label = clipText(ls[0], 24)
		if len(ls) > 1 {
			label += " " + lang.L("results.more_wordings", map[string]any{"N": len(ls) - 1})
		}
	}
	return []string{tl.Variable.Name, label, strconv.Itoa(tl.N), strconv.Itoa(tl.Missing),
		strings.Join(counts, "  "), num(tl.HasMean, tl.Mean), num(tl.HasMean, tl.Median), top2}
}

// scaleColours run from the lowest answer (red) to the highest (green).
var scaleColours = [5]color.NRGBA{
	{0xd7, 0x30, 0x27, 0xff}, {0xfc, 0x8d, 0x59, 0xff}, {0xe0, 0xe0, 0xe0, 0xff}, {0x91, 0xcf, 0x60, 0xff}, {0x1a, 0x98, 0x50, 0xff},
}

// chart is a 100% stacked bar per step of a 1–5 scale variable, drawn with
// rectangles; nil when no step has answers.
func (s *resultsScreen) chart(name string) fyne.CanvasObject {
	var stages []*survey.StageTally
	for _, st := range s.tallies.Stages {
		if st.Variable.Name == name {
			stages = append(stages, st)
		}
	}
	if len(stages) == 0 {
		return nil
	}
	q := stages[0].Variable.Question
	box := container.NewVBox(boldLabel(lang.L("results.chart_" + name)))
	legend := container.NewHBox()
	for i, c := range q.List.Choices {
		sw := canvas.NewRectangle(scaleColours[i])
		sw.SetMinSize(fyne.NewSize(14, 14))
		legend.Add(container.NewCenter(sw))
		legend.Add(widget.NewLabel(c.Name + " " + c.Label.In(s.deps.Lang)))
	}
	for _, st := range stages {
		segs := make([]fyne.CanvasObject, 5)
		weights := make(columns, 5)
		for i, n := range st.Counts {
			rect := canvas.NewRectangle(scaleColours[i])
			label := ""
			if n > 0 {
				label = strconv.Itoa(n)
			}
			txt := canvas.NewText(label, color.Black)
			txt.Alignment = fyne.TextAlignCenter
			segs[i] = container.NewStack(rect, container.NewCenter(txt))
			weights[i] = float32(n)
		}
		bar := container.New(stackedBar(weights), segs...)
		info := widget.NewLabel(lang.L("results.stage_info", map[string]any{"N": st.N,
			"Mean": strconv.FormatFloat(st.Mean, 'f', 2, 64), "Top2": strconv.FormatFloat(st.Top2, 'f', 1, 64)}))
		row := container.New(resultChartRow, widget.NewLabel(survey.StageLabel(st.Stage, s.deps.Lang)), bar, info)
		box.Add(row)
	}
	box.Add(legend)
	box.Add(widget.NewSeparator())
	return box
}

var resultChartRow = columns{1.2, 5, 2}

// stackedBar lays its objects side by side, each as wide as its share of
// the total weight (the count of its answer), 28 px high, no gaps; objects
// with no weight take no room.
type stackedBar []float32

func (b stackedBar) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(100, 28) }

func (b stackedBar) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	var total float32
	for _, w := range b {
		total += w
	}
	x := float32(0)
	y := (size.Height - 28) / 2
	for i, o := range objs {
		w := float32(0)
		if total > 0 && i < len(b) {
			w = size.Width * b[i] / total
		}
		o.Move(fyne.NewPos(x, y))
		o.Resize(fyne.NewSize(w, 28))
		if w == 0 {
			o.Hide()
		} else {
			o.Show()
		}
		x += w
	}
}

// confirmIdentified runs then at once for a pseudonymised export, and
// after a confirmation for an identified one (monitors' names).
func (s *resultsScreen) confirmIdentified(then func()) {
	if !s.identified.Checked {
		then()
		return
	}
	// TODO(staff accounts): only a coordinator may export names, and the
	// export is to be logged; until roles exist a confirmation stands in.
	dialog.ShowConfirm(lang.L("results.identified_title"), lang.L("results.identified_confirm"), func(ok bool) {
		if ok {
			then()
		}
	}, s.w)
}

// chooseCSVEncoding asks for the CSV's character set, then where to save.
func (s *resultsScreen) chooseCSVEncoding() {
	encodings := []string{survey.EncodingUTF8, survey.EncodingShiftJIS}
	labels := []string{lang.L("results.csv_utf8"), lang.L("results.csv_sjis")}
	radio := widget.NewRadioGroup(labels, nil)
	radio.Required = true
	radio.SetSelected(labels[0])
	note := widget.NewLabel(lang.L("results.csv_note"))
	note.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomConfirm(lang.L("results.csv_title"), lang.L("results.csv_choose_file"), lang.L("Cancel"),
		container.NewVBox(radio, note), func(ok bool) {
			if !ok {
				return
			}
			enc := encodings[0]
			for i, l := range labels {
				if radio.Selected == l {
					enc = encodings[i]
				}
			}
			s.saveFile(lang.L("results.export_file_name"), ".csv", func(path string) { s.exportCSV(path, enc) })
		}, s.w)
	d.Resize(fyne.NewSize(560, d.MinSize().Height))
	d.Show()
}

func (s *resultsScreen) saveDialog(name, ext string, onPath func(path string)) {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil {
			ShowError(s.w, err)
			return
		}
		if wc == nil {
			return // cancelled
		}
		path := wc.URI().Path()
		wc.Close()
		onPath(path)
	}, s.w)
	d.SetFileName(name + ext)
	d.SetFilter(storage.NewExtensionFileFilter([]string{ext}))
	d.Resize(fyne.NewSize(900, 600))
	d.Show()
}

func (s *resultsScreen) exportOptions() survey.ExportOptions {
	opt := survey.ExportOptions{Filter: s.filter(), Identified: s.identified.Checked, Lang: s.deps.Lang, ExportedBy: s.deps.ExportedBy}
	if opt.Identified && s.deps.PII != nil {
		opt.PII = s.deps.PII()
	}
	return opt
}

// export writes the workbook to path behind a progress bar with Cancel. It
// writes beside path and renames, so a failed or cancelled export leaves no
// partial workbook.
func (s *resultsScreen) export(path string) {
	opt := s.exportOptions()
	s.runExport(lang.L("results.export"), path, func(ctx context.Context, w io.Writer, progress Progress) error {
		return s.audited(ctx, opt, "xlsx", progress, func(progress Progress) error { return s.deps.Survey.Export(ctx, w, opt, progress) })
	})
}

// audited runs write, then records the export in the audit trail (before
// exportTo gives the file its name): the trail knows every file made.
func (s *resultsScreen) audited(ctx context.Context, opt survey.ExportOptions, format string, progress Progress, write func(Progress) error) error {
	responses := 0
	count := func(done, total int) {
		responses = total
		progress(done, total)
	}
	if err := write(count); err != nil {
		return err
	}
	if s.deps.Record == nil {
		return nil
	}
	if err := s.deps.Record(ctx, opt.AuditDetail(format, responses)); err != nil {
		return fmt.Errorf("%s: %w", lang.L("results.export_not_audited"), err)
	}
	return nil
}

// exportCSV writes the Data sheet as CSV in encoding (survey.EncodingUTF8
// or survey.EncodingShiftJIS) to path, as export does the workbook.
func (s *resultsScreen) exportCSV(path, encoding string) {
	opt := s.exportOptions()
	opt.Encoding = encoding
	s.runExport(lang.L("results.export_csv"), path, func(ctx context.Context, w io.Writer, progress Progress) error {
		return s.audited(ctx, opt, "csv "+encoding, progress, func(progress Progress) error { return s.deps.Survey.ExportCSV(ctx, w, opt, progress) })
	})
}

func (s *resultsScreen) runExport(title, path string, write func(ctx context.Context, w io.Writer, progress Progress) error) {
	RunWithProgress(s.w, lang.L("results.exporting"), func(ctx context.Context, progress Progress) error {
		return exportTo(ctx, path, func(w io.Writer) error { return write(ctx, w, progress) })
	}, func(err error) {
		if errors.Is(err, survey.ErrNoShiftJIS) {
			err = errors.New(lang.L("results.csv_no_sjis", map[string]any{"Err": err.Error()}))
		}
		if err != nil {
			ShowError(s.w, err)
			return
		}
		dialog.ShowInformation(title, lang.L("results.exported", map[string]any{"Path": path}), s.w)
	})
}

// exportTo runs write into a temporary file beside path and renames it
// over path once write succeeded; otherwise nothing is left behind (the
// empty file the save dialog created included).
func exportTo(ctx context.Context, path string, write func(w io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".export-*.xlsx")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		if fi, serr := os.Stat(path); serr == nil && fi.Size() == 0 {
			os.Remove(path)
		}
		return err
	}
	return os.Rename(tmp.Name(), path)
}
