package survey

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/width"

	"jpkipilot/trial/store"
)

// Paper forms are typed in by staff, one response a row: on the
// transcription grid (saved row by row with Transcribe) or in a workbook
// made by WriteTemplate and read back by ImportPaper, all or nothing.

// Template columns before the questions.
const (
	ColMonitor = "monitor_id"
	ColStep    = "step"
)

// Sheet names of the transcription template.
const (
	SheetPaperData      = "Data"
	SheetPaperQuestions = "Questions"
	SheetPaperCodes     = "Codes"
)

// Reasons a transcribed cell is refused (CellError.Reason), stable words the
// screens translate.
const (
	ReasonNotInteger      = "not_integer"
	ReasonNotDecimal      = "not_decimal"
	ReasonNotDate         = "not_date"
	ReasonNotChoice       = "not_choice"
	ReasonConstraint      = "constraint"
	ReasonNotAsked        = "not_asked"
	ReasonMonitorRequired = "monitor_required"
	ReasonUnknownMonitor  = "unknown_monitor"
	ReasonWithdrawn       = "withdrawn"
	ReasonUnknownColumn   = "unknown_column"
	ReasonDuplicateColumn = "duplicate_column"
	ReasonNoMonitorColumn = "no_monitor_column"
	ReasonNoData          = "no_data"
)

// CellError is one refused cell of a paper transcription.
type CellError struct {
	Row    int    // Excel row (header = 1); 0 on the grid
	Column string // the column header: monitor_id, step or a question name
	Reason string // one of the Reason… words
	Value  string // as typed
	// Message is the form's constraint_message for ReasonConstraint.
	Message Text
}

func (e CellError) Error() string {
	var b strings.Builder
	if e.Row > 0 {
		fmt.Fprintf(&b, "row %d, ", e.Row)
	}
	fmt.Fprintf(&b, "column %s: %s", e.Column, strings.ReplaceAll(e.Reason, "_", " "))
	if e.Value != "" {
		fmt.Fprintf(&b, " (%q)", e.Value)
	}
	if m := e.Message.In("en"); m != "" {
		b.WriteString(": " + m)
	}
	return b.String()
}

// CellErrors is every refused cell, in row and column order.
type CellErrors []CellError

func (es CellErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// CheckPaper checks one paper response: every typed value against its
// question's type, choices and constraint, and that it was asked (relevant)
// given the other answers. It returns the answers in stored form and the
// refused cells (Row 0), in the form's order.
func CheckPaper(f *Form, typed map[string]string) (map[string]string, CellErrors) {
	answers := map[string]string{}
	var errs CellErrors
	for _, q := range f.Questions() {
		raw := typed[q.Name]
		if q.Type == TypeSelectOne || q.Type == TypeSelectMultiple {
			// Codes typed with the IME on come full-width: ５ is 5.
			raw = width.Narrow.String(raw)
		}
		v, err := Canonical(q, raw)
		if err != nil {
			errs = append(errs, CellError{Column: q.Name, Reason: typeReason(q), Value: strings.TrimSpace(raw)})
			continue
		}
		if v != "" {
			answers[q.Name] = v
		}
	}
	for _, q := range f.Questions() {
		v, ok := answers[q.Name]
		if !ok {
			continue
		}
		if !f.Relevant(q, answers) {
			errs = append(errs, CellError{Column: q.Name, Reason: ReasonNotAsked, Value: v})
			continue
		}
		if q.Constraint != nil && !Truthy(q.Constraint, answerEnv{answers: answers, self: v}) {
			errs = append(errs, CellError{Column: q.Name, Reason: ReasonConstraint, Value: v, Message: q.ConstraintMessage})
		}
	}
	return answers, errs
}

func typeReason(q *Question) string {
	switch q.Type {
	case TypeInteger:
		return ReasonNotInteger
	case TypeDecimal:
		return ReasonNotDecimal
	case TypeDate:
		return ReasonNotDate
	}
	return ReasonNotChoice
}

// paperMonitor is what a transcription needs of a monitor.
type paperMonitor struct {
	ID        string `db:"id"`
	TrialID   int64  `db:"trial_id"`
	SessionID *int64 `db:"session_id"`
	Status    string `db:"status"`
}

// Transcribe stores one paper response to registered form version ref as
// completed (mode "paper"), answers and all in one transaction. The trial
// and session default to the monitor's. Refused cells come back as
// CellErrors and nothing is stored.
func (s *Service) Transcribe(ctx context.Context, ref int64, subj Subject, typed map[string]string) (int64, error) {
	f, err := s.Form(ctx, ref)
	if err != nil {
		return 0, err
	}
	answers, errs := CheckPaper(f, typed)
	monitors, err := s.paperMonitors(ctx, []string{subj.MonitorID})
	if err != nil {
		return 0, err
	}
	if e, ok := monitorProblem(monitors, subj.MonitorID); !ok {
		errs = append(CellErrors{e}, errs...)
	}
	if len(errs) > 0 {
		return 0, errs
	}
	var id int64
	err = s.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		var err error
		id, err = s.insertPaper(ctx, tx, ref, paperSubject(subj, monitors[subj.MonitorID]), answers)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("survey: transcribe: %w", err)
	}
	return id, nil
}

func monitorProblem(monitors map[string]paperMonitor, id string) (CellError, bool) {
	m, ok := monitors[id]
	switch {
	case strings.TrimSpace(id) == "":
		return CellError{Column: ColMonitor, Reason: ReasonMonitorRequired}, false
	case !ok:
		return CellError{Column: ColMonitor, Reason: ReasonUnknownMonitor, Value: id}, false
	case m.Status == "withdrawn":
		return CellError{Column: ColMonitor, Reason: ReasonWithdrawn, Value: id}, false
	}
	return CellError{}, true
}

func paperSubject(subj Subject, m paperMonitor) Subject {
	subj.Mode = "paper"
	if subj.TrialID == nil {
		id := m.TrialID
		subj.TrialID = &id
	}
	if subj.SessionID == nil {
		subj.SessionID = m.SessionID
	}
	return subj
}

func (s *Service) paperMonitors(ctx context.Context, ids []string) (map[string]paperMonitor, error) {
	out := map[string]paperMonitor{}
	const batch = 500
	for len(ids) > 0 {
		n := min(batch, len(ids))
		q, args, err := sqlx.In(`SELECT id, trial_id, session_id, status FROM monitors WHERE id IN (?)`, ids[:n])
		if err != nil {
			return nil, err
		}
		var ms []paperMonitor
		if err := s.DB.SelectContext(ctx, &ms, s.DB.Rebind(q), args...); err != nil {
			return nil, fmt.Errorf("survey: monitors: %w", store.MapErr(err))
		}
		for _, m := range ms {
			out[m.ID] = m
		}
		ids = ids[n:]
	}
	return out, nil
}

func (s *Service) insertPaper(ctx context.Context, tx *sqlx.Tx, ref int64, subj Subject, answers map[string]string) (int64, error) {
	now := s.Now()
	var id int64
	err := tx.GetContext(ctx, &id, tx.Rebind(`INSERT INTO survey_responses
		(form_ref, monitor_id, trial_id, session_id, step, mode, started_at, updated_at, completed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		ref, subj.MonitorID, subj.TrialID, subj.SessionID, subj.Step, subj.Mode, now, now, now)
	if err != nil {
		return 0, err
	}
	for q, v := range answers {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO survey_answers (response_id, question, value, answered_at)
			VALUES (?, ?, ?, ?)`), id, q, v, now); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// templateRows is how many rows of the template get the drop-down lists.
const templateRows = 1000

// WriteTemplate writes the transcription workbook for form f: a Data sheet
// with monitor_id, step and the question names as headers (a drop-down list
// of codes on every select_one column), a Questions sheet with each
// question's wording in lang and its codes, and the Codes sheet the lists
// read from.
func WriteTemplate(w io.Writer, f *Form, lang string) error {
	x := excelize.NewFile()
	defer x.Close()
	if err := x.SetSheetName("Sheet1", SheetPaperData); err != nil {
		return err
	}
	for _, name := range []string{SheetPaperQuestions, SheetPaperCodes} {
		if _, err := x.NewSheet(name); err != nil {
			return err
		}
	}
	qs := f.Questions()
	header := []any{ColMonitor, ColStep}
	for _, q := range qs {
		header = append(header, q.Name)
	}
	if err := x.SetSheetRow(SheetPaperData, "A1", &header); err != nil {
		return err
	}
	bold, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	text, err := x.NewStyle(&excelize.Style{NumFmt: 49}) // "@": ids and codes stay text
	if err != nil {
		return err
	}
	last, _ := excelize.ColumnNumberToName(len(header))
	if err := x.SetCellStyle(SheetPaperData, "A1", last+"1", bold); err != nil {
		return err
	}
	if err := x.SetColStyle(SheetPaperData, "A:B", text); err != nil {
		return err
	}
	if err := x.SetPanes(SheetPaperData, &excelize.Panes{Freeze: true, XSplit: 1, YSplit: 1, TopLeftCell: "B2", ActivePane: "bottomRight"}); err != nil {
		return err
	}
	qrows := [][]any{{"variable", "question", "type", "required", "codes", "relevant", "constraint"}}
	codeCol := 0
	for i, q := range qs {
		col, _ := excelize.ColumnNumberToName(i + 3)
		var codes []string
		if q.List != nil {
			for _, c := range q.List.Choices {
				codes = append(codes, c.Name+"="+c.Label.In(lang))
			}
		}
		rel, con := "", ""
		if q.Relevant != nil {
			rel = q.Relevant.String()
		}
		if q.Constraint != nil {
			con = q.Constraint.String()
		}
		qrows = append(qrows, []any{q.Name, q.Label.In(lang), typeName(q), q.Required, strings.Join(codes, "; "), rel, con})
		if q.Type != TypeSelectOne {
			continue
		}
		// The codes of this list in a column of Codes, and a drop-down on
		// the question's column reading them.
		codeCol++
		cc, _ := excelize.ColumnNumberToName(codeCol)
		vals := []any{q.Name}
		for _, c := range q.List.Choices {
			vals = append(vals, c.Name)
		}
		if err := x.SetSheetCol(SheetPaperCodes, cc+"1", &vals); err != nil {
			return err
		}
		dv := excelize.NewDataValidation(true)
		dv.Sqref = fmt.Sprintf("%s2:%s%d", col, col, templateRows+1)
		dv.SetSqrefDropList(fmt.Sprintf("%s!$%s$2:$%s$%d", SheetPaperCodes, cc, cc, len(vals)))
		if err := x.AddDataValidation(SheetPaperData, dv); err != nil {
			return err
		}
		if err := x.SetColStyle(SheetPaperData, col, text); err != nil {
			return err
		}
	}
	for i, r := range qrows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := x.SetSheetRow(SheetPaperQuestions, cell, &r); err != nil {
			return err
		}
	}
	if err := x.SetCellStyle(SheetPaperQuestions, "A1", "G1", bold); err != nil {
		return err
	}
	if err := x.SetColWidth(SheetPaperQuestions, "B", "B", 60); err != nil {
		return err
	}
	return x.Write(w)
}

// ImportPaper reads a filled-in template (WriteTemplate's Data sheet, or
// the first sheet) and stores each row as a completed paper response to
// form version ref, all or nothing: any refused cell refuses the file, and
// CellErrors names every one by Excel row and column. Empty rows are
// skipped; the step column, when empty, takes defaults.Step, and trial and
// session default to defaults', then the monitor's. It returns the number
// of responses stored.
func (s *Service) ImportPaper(ctx context.Context, ref int64, r io.Reader, defaults Subject) (int, error) {
	f, err := s.Form(ctx, ref)
	if err != nil {
		return 0, err
	}
	x, err := excelize.OpenReader(r)
	if err != nil {
		return 0, fmt.Errorf("survey: not an .xlsx workbook: %w", err)
	}
	defer x.Close()
	sheet := SheetPaperData
	if idx, _ := x.GetSheetIndex(sheet); idx < 0 {
		sheet = x.GetSheetName(0)
	}
	rows, err := x.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return 0, fmt.Errorf("survey: sheet %s: %w", sheet, err)
	}
	if len(rows) == 0 {
		return 0, CellErrors{{Row: 1, Column: ColMonitor, Reason: ReasonNoMonitorColumn}}
	}
	// Map the header.
	var errs CellErrors
	cols := map[int]string{}
	seen := map[string]bool{}
	for i, h := range rows[0] {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		known := h == ColMonitor || h == ColStep
		if q := f.Question(h); q != nil && q.Answerable() {
			known = true
		}
		switch {
		case !known:
			errs = append(errs, CellError{Row: 1, Column: h, Reason: ReasonUnknownColumn})
		case seen[h]:
			errs = append(errs, CellError{Row: 1, Column: h, Reason: ReasonDuplicateColumn})
		default:
			seen[h] = true
			cols[i] = h
		}
	}
	if !seen[ColMonitor] {
		errs = append(errs, CellError{Row: 1, Column: ColMonitor, Reason: ReasonNoMonitorColumn})
	}
	if len(errs) > 0 {
		return 0, errs
	}
	type paperRow struct {
		row     int
		subj    Subject
		answers map[string]string
	}
	var todo []paperRow
	var ids []string
	for i, cells := range rows[1:] {
		typed := map[string]string{}
		blank := true
		for j, c := range cells {
			name, ok := cols[j]
			if !ok || strings.TrimSpace(c) == "" {
				continue
			}
			blank = false
			if q := f.Question(name); q != nil && q.Type == TypeDate {
				c = excelDate(c)
			}
			typed[name] = c
		}
		if blank {
			continue
		}
		subj := defaults
		subj.MonitorID = strings.TrimSpace(typed[ColMonitor])
		if st := strings.TrimSpace(typed[ColStep]); st != "" {
			subj.Step = st
		}
		todo = append(todo, paperRow{row: i + 2, subj: subj, answers: typed})
		ids = append(ids, subj.MonitorID)
	}
	if len(todo) == 0 {
		return 0, CellErrors{{Row: 2, Column: ColMonitor, Reason: ReasonNoData}}
	}
	monitors, err := s.paperMonitors(ctx, ids)
	if err != nil {
		return 0, err
	}
	for i := range todo {
		p := &todo[i]
		answers, cellErrs := CheckPaper(f, p.answers)
		if e, ok := monitorProblem(monitors, p.subj.MonitorID); !ok {
			cellErrs = append(CellErrors{e}, cellErrs...)
		}
		for _, e := range cellErrs {
			e.Row = p.row
			errs = append(errs, e)
		}
		p.answers = answers
		p.subj = paperSubject(p.subj, monitors[p.subj.MonitorID])
	}
	if len(errs) > 0 {
		return 0, errs
	}
	err = s.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		for _, p := range todo {
			if err := ctx.Err(); err != nil {
				return err
			}
			if _, err := s.insertPaper(ctx, tx, ref, p.subj, p.answers); err != nil {
				return fmt.Errorf("row %d: %w", p.row, err)
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return 0, err
		}
		return 0, fmt.Errorf("survey: import paper answers: %w", err)
	}
	return len(todo), nil
}

// excelDate turns a date cell's serial number into YYYY-MM-DD; text is
// left as typed (Canonical checks it).
func excelDate(c string) string {
	serial, err := strconv.ParseFloat(strings.TrimSpace(c), 64)
	if err != nil || serial < 1 || serial > 2958465 {
		return c
	}
	t, err := excelize.ExcelDateToTime(serial, false)
	if err != nil {
		return c
	}
	return t.Format("2006-01-02")
}
