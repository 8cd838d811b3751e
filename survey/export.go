package survey

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/xuri/excelize/v2"

	"jpkipilot/trial/bank"
	"jpkipilot/trial/pii"
	"jpkipilot/trial/store"
)

// ExportOptions choose what an export covers and how it is labelled.
type ExportOptions struct {
	Filter
	// Identified adds the monitors' names. Pseudonymised (false) is the
	// default. TODO(staff accounts): only a coordinator may ask for it, and
	// the export is to be logged; the role check arrives with the
	// staff-accounts issue.
	Identified bool
	// PII opens the monitors' sealed names for an identified export; an
	// identified export of sealed names without it fails with
	// pii.ErrLocked (ciphertext is never exported).
	PII        *pii.Key
	Lang       string // labels of Data_Labels and Charts: "ja" (default) or "en"
	ExportedBy string // who, for the README sheet
	// Location is the time zone dates are written in (Excel has none);
	// nil means the machine's zone.
	Location *time.Location
	// Encoding is the character set of ExportCSV: EncodingUTF8 (the
	// default, with a byte-order mark) or EncodingShiftJIS.
	Encoding string
}

// Sheet names of the export workbook, in order.
const (
	SheetReadme     = "README"
	SheetData       = "Data"
	SheetDataLabels = "Data_Labels"
	SheetCodebook   = "Codebook"
	SheetSummary    = "Summary"
	SheetCharts     = "Charts"
	SheetFreeText   = "FreeText"
)

// metaColumns start every Data row.
var metaColumns = []struct{ name, ja, en, typ string }{
	{"response_id", "回答ID", "Response id", "id"},
	{"form_id", "調査票ID", "Form id", "text"},
	{"form_version", "調査票版", "Form version", "text"},
	{"monitor_id", "モニターID（仮名）", "Monitor id (pseudonymous)", "id"},
	{"trial_id", "実証ID", "Trial id", "id"},
	{"session_id", "回ID", "Session id", "id"},
	{"step", "ステップ", "Step", "text"},
	{"mode", "回答方法", "Mode (kiosk, paper, demo)", "text"},
	{"started_at", "開始日時", "Started at", "datetime"},
	{"completed_at", "完了日時", "Completed at (empty: unfinished)", "datetime"},
}

var identifiedColumns = []struct{ name, ja, en, typ string }{
	{"name", "氏名", "Name", "text"},
	{"kana", "氏名（カナ）", "Name (kana)", "text"},
}

type exporter struct {
	opt                  ExportOptions
	lang                 string
	x                    *excelize.File
	styleHeader          int
	styleDate, styleTime int
	stylePct             int
	l                    *layout
	offset               map[*Variable]int // first column of each variable
	ncols                int
	data, labels, free   *rawSheet
	freeVals             []any
	codes                []any
	plans                map[*formRef][]colPlan
	spare                chan []any // label rows written, for reuse
	// Data_Labels rows are written by a second goroutine: the two sheets
	// cost the same, and there are two cores.
	labelRows chan []any
	labelDone chan struct{}
	labelErr  error
}

func (e *exporter) startLabels() {
	e.labelRows, e.labelDone = make(chan []any, 256), make(chan struct{})
	e.spare = make(chan []any, 300)
	go func() {
		defer close(e.labelDone)
		for vals := range e.labelRows {
			if e.labelErr == nil {
				e.labelErr = e.labels.setRow(vals)
			}
			select {
			case e.spare <- vals:
			default:
			}
		}
		if e.labelErr == nil {
			e.labelErr = e.labels.finish()
		}
	}()
}

// stopLabels waits for the Data_Labels writer and returns its error.
func (e *exporter) stopLabels() error {
	close(e.labelRows)
	<-e.labelDone
	return e.labelErr
}

// errWriterFailed stops the scan when writing a row failed; the writer's
// own error is returned.
var errWriterFailed = errors.New("survey: export: writer failed")

// Export writes the analysts' workbook for the filtered responses to w: the
// sheets README, Data (codes), Data_Labels, Codebook, Summary, Charts and
// FreeText, and, when the store has them for the filter's trial, Loans,
// Gate (entry-gate decisions) and BankLogin (bank attempts and the login
// summary). IDs are text, dates are dates, numbers are numbers. progress,
// if not nil, is called with responses done of total. Cancelling ctx stops
// the export; nothing is written to w then.
func (s *Service) Export(ctx context.Context, w io.Writer, opt ExportOptions, progress func(done, total int)) error {
	if opt.Location == nil {
		opt.Location = time.Local
	}
	lang := opt.Lang
	if lang != "en" {
		lang = "ja"
	}
	trialName := ""
	if opt.TrialID != nil {
		if err := s.DB.GetContext(ctx, &trialName, s.DB.Rebind(`SELECT name FROM trials WHERE id = ?`), *opt.TrialID); err != nil {
			return fmt.Errorf("survey: trial %d: %w", *opt.TrialID, store.MapErr(err))
		}
	}
	var (
		e        *exporter
		tallies  *Tallies
		loans    []loanRow
		gate     []gateRow
		attempts []bank.Attempt
	)
	err := s.snapshot(ctx, func(rd reader) error {
		l, total, err := s.prepare(ctx, rd, opt.Filter)
		if err != nil {
			return err
		}
		e = &exporter{opt: opt, lang: lang, x: excelize.NewFile(), l: l}
		if err := e.setup(); err != nil {
			return fmt.Errorf("survey: export: %w", err)
		}
		t := newTallier(l)
		done := 0
		if progress != nil {
			progress(0, total)
		}
		e.startLabels()
		// Three stages on their own goroutines: the scan reads the store
		// and tallies, this writer writes Data and FreeText, the labels
		// goroutine writes Data_Labels; each raw sheet compresses on a
		// goroutine of its own.
		rows := make(chan scanRow, 512)
		spare := make(chan map[string]string, 512+8) // answer maps written, for the scan to reuse
		werr := make(chan error, 1)
		var failed atomic.Bool
		go func() {
			var err error
			for r := range rows {
				if err != nil {
					continue // drain until the scan stops
				}
				if err = e.writeResponse(&r); err != nil {
					failed.Store(true)
					continue
				}
				select {
				case spare <- r.Answers:
				default:
				}
				done++
				if progress != nil && (done%500 == 0 || done == total) {
					progress(done, total)
				}
			}
			werr <- err
		}()
		err = s.scan(ctx, rd, opt.Filter, l, opt.Identified, opt.PII, spare, func(r *scanRow) error {
			if failed.Load() {
				return errWriterFailed
			}
			t.add(r)
			rows <- *r // the writer hands its Answers map back on spare once written
			return nil
		})
		close(rows)
		if wer := <-werr; wer != nil {
			err = wer
		}
		if lerr := e.stopLabels(); err == nil {
			err = lerr
		}
		if err != nil {
			return err
		}
		tallies = t.finish()
		if loans, err = readLoans(ctx, rd, opt.Filter); err != nil {
			return err
		}
		if gate, err = readGate(ctx, rd, opt.Filter); err != nil {
			return err
		}
		attempts, err = readBank(ctx, rd, opt.Filter)
		return err
	})
	if e != nil {
		defer e.x.Close()
		defer e.data.close()
		defer e.labels.close()
		defer e.free.close()
	}
	if err != nil {
		return err
	}
	if err := e.data.finish(); err != nil {
		return fmt.Errorf("survey: export: %w", err)
	}
	if err := e.free.finish(); err != nil {
		return fmt.Errorf("survey: export: %w", err)
	}
	if err := e.writeLoans(loans, s.Now()); err != nil {
		return fmt.Errorf("survey: export loans: %w", err)
	}
	if err := e.writeGate(gate); err != nil {
		return fmt.Errorf("survey: export gate decisions: %w", err)
	}
	if err := e.writeBank(attempts); err != nil {
		return fmt.Errorf("survey: export bank attempts: %w", err)
	}
	if err := e.writeReadme(s.Now(), trialName, tallies.Responses, len(loans) > 0, len(gate) > 0, len(attempts) > 0); err != nil {
		return err
	}
	if err := e.writeCodebook(tallies); err != nil {
		return err
	}
	if err := e.writeSummary(tallies); err != nil {
		return err
	}
	if err := e.writeCharts(tallies); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := writeWorkbook(e.x, w, e.data, e.labels, e.free); err != nil {
		return fmt.Errorf("survey: export: %w", err)
	}
	return nil
}

// writeWorkbook writes x to w as a zip compressed at flate.BestSpeed,
// straight to w. excelize's own Write builds the whole zip in a buffer
// first (tens of MiB for a big export) and compresses at the default level,
// which took a third of a 100,000-response export; BestSpeed compresses the
// repetitive sheet XML about as well. (excelize's Zip64 header fix-up, for
// parts over 4 GiB, works on that buffer and is skipped here: the sheets of
// a pilot trial are far from that size.)
func writeWorkbook(x *excelize.File, w io.Writer, raw ...*rawSheet) error {
	x.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(w)
		zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(out, flate.BestSpeed)
		})
		z := &zipSwap{zw: zw, raw: map[string]*rawSheet{}}
		for _, rs := range raw {
			z.raw[rs.path] = rs
		}
		return z
	})
	return x.Write(io.Discard) // the zip went to w; excelize's buffer is empty
}

func (e *exporter) setup() error {
	x := e.x
	if err := x.SetSheetName("Sheet1", SheetReadme); err != nil {
		return err
	}
	for _, name := range []string{SheetData, SheetDataLabels, SheetCodebook, SheetSummary, SheetCharts, SheetFreeText} {
		if _, err := x.NewSheet(name); err != nil {
			return err
		}
	}
	var err error
	if e.styleHeader, err = x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}}); err != nil {
		return err
	}
	dateFmt, timeFmt, pctFmt := "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss", "0.0"
	if e.styleDate, err = x.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt}); err != nil {
		return err
	}
	if e.styleTime, err = x.NewStyle(&excelize.Style{CustomNumFmt: &timeFmt}); err != nil {
		return err
	}
	if e.stylePct, err = x.NewStyle(&excelize.Style{CustomNumFmt: &pctFmt}); err != nil {
		return err
	}

	// Columns: meta, names when identified, then each variable (a
	// select_multiple adds one 0/1 column per choice).
	var codeHdr, labelHdr []any
	hdr := func(code, label string) {
		codeHdr = append(codeHdr, excelize.Cell{StyleID: e.styleHeader, Value: code})
		labelHdr = append(labelHdr, excelize.Cell{StyleID: e.styleHeader, Value: label})
	}
	for _, c := range metaColumns {
		hdr(c.name, c.name)
	}
	if e.opt.Identified {
		for _, c := range identifiedColumns {
			hdr(c.name, c.name)
		}
	}
	e.offset = map[*Variable]int{}
	for _, v := range e.l.vars {
		e.offset[v] = len(codeHdr)
		label := v.Header(e.lang)
		hdr(v.Name, label)
		if v.Question.Type == TypeSelectMultiple {
			for _, c := range v.Question.List.Choices {
				hdr(v.Name+"/"+c.Name, label+": "+c.Label.In(e.lang))
			}
		}
	}
	e.ncols = len(codeHdr)
	e.codes = make([]any, e.ncols)
	e.plans = map[*formRef][]colPlan{}

	path, err := sheetPath(x, SheetData)
	if err != nil {
		return err
	}
	if e.data, err = newRawSheet(path, e.ncols, 14); err != nil {
		return err
	}
	if path, err = sheetPath(x, SheetDataLabels); err != nil {
		return err
	}
	if e.labels, err = newRawSheet(path, e.ncols, 18); err != nil {
		return err
	}
	if path, err = sheetPath(x, SheetFreeText); err != nil {
		return err
	}
	if e.free, err = newRawSheet(path, 7, 14, 14, 14, 14, 14, 14, 80); err != nil {
		return err
	}
	if err := e.data.setRow(codeHdr); err != nil {
		return err
	}
	if err := e.labels.setRow(labelHdr); err != nil {
		return err
	}
	var freeHdr []any
	for _, h := range []string{"response_id", "monitor_id", "form_id", "step", "variable", "question", "text"} {
		freeHdr = append(freeHdr, excelize.Cell{StyleID: e.styleHeader, Value: h})
	}
	return e.free.setRow(freeHdr)
}

// wall turns an instant into the wall-clock time of the export's zone.
func (e *exporter) wall(t time.Time) time.Time {
	l := t.In(e.opt.Location)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
}

func idText(n int64) string { return strconv.FormatInt(n, 10) }

// colPlan is how one variable of one form version fills its columns:
// worked out once per form version, not once per answer.
type colPlan struct {
	v   *Variable
	q   *Question
	col int
	// choices of a select_one or select_multiple: the code and label
	// values, boxed once; idx maps the version's codes to the variable's
	// 0/1 columns (select_multiple).
	code, label map[string]any
	idx         map[string]int
	// Boxed once: the variable's name and question label (FreeText), and
	// per distinct answer the cells of a select_multiple or a date.
	name, question any
	multi          map[string]*multiCells
	dates          map[string]any
}

// multiCells are the cells of one select_multiple answer: the codes, the
// joined labels and the 0/1 columns set.
type multiCells struct {
	codes, labels any
	on            []int
}

// planCacheMax bounds the per-answer caches of a plan: answers that keep
// differing are then worked out each time.
const planCacheMax = 4096

func (e *exporter) plan(fr *formRef) []colPlan {
	if p, ok := e.plans[fr]; ok {
		return p
	}
	var out []colPlan
	for _, v := range fr.vars {
		q := v.byRef[fr.info.Ref]
		cp := colPlan{v: v, q: q, col: e.offset[v], name: v.Name, question: q.Label.In(e.lang),
			multi: map[string]*multiCells{}, dates: map[string]any{}}
		if q.List != nil {
			cp.code, cp.label = map[string]any{}, map[string]any{}
			numeric := q.List.Numeric()
			for _, c := range q.List.Choices {
				if numeric {
					x, _ := strconv.ParseFloat(c.Name, 64)
					cp.code[c.Name] = x
				} else {
					cp.code[c.Name] = c.Name
				}
				cp.label[c.Name] = c.Label.In(e.lang)
			}
			if q.Type == TypeSelectMultiple {
				cp.idx = map[string]int{}
				for i, c := range v.Question.List.Choices {
					cp.idx[c.Name] = i
				}
			}
		}
		out = append(out, cp)
	}
	e.plans[fr] = out
	return out
}

// fill puts a response's codes and labels into codes and texts (both
// e.ncols long, cleared) and calls freeText for each text answer.
func (e *exporter) fill(r *scanRow, codes, texts []any, freeText func(p *colPlan, val any) error) error {
	codes[0] = idText(r.ID)
	codes[1] = r.Ref.info.ID
	codes[2] = r.Ref.info.Version
	codes[3] = r.MonitorID
	if r.TrialID.Valid {
		codes[4] = idText(r.TrialID.Int64)
	}
	if r.SessionID.Valid {
		codes[5] = idText(r.SessionID.Int64)
	}
	codes[6] = r.Step
	codes[7] = r.Mode
	codes[8] = excelize.Cell{StyleID: e.styleTime, Value: e.wall(r.StartedAt)}
	if r.CompletedAt.Valid {
		codes[9] = excelize.Cell{StyleID: e.styleTime, Value: e.wall(r.CompletedAt.Time)}
	}
	nmeta := len(metaColumns)
	if e.opt.Identified {
		codes[10], codes[11] = r.Name, r.Kana
		nmeta += len(identifiedColumns)
	}
	copy(texts, codes[:nmeta])
	plans := e.plan(r.Ref)
	for pi := range plans {
		p := &plans[pi]
		val := r.Answers[p.q.Name]
		if val == "" {
			continue
		}
		col := p.col
		switch p.q.Type {
		case TypeSelectOne:
			if c, ok := p.code[val]; ok {
				codes[col], texts[col] = c, p.label[val]
			} else { // a code the list does not have: kept as it is
				var boxed any = val
				codes[col], texts[col] = boxed, boxed
			}
		case TypeSelectMultiple:
			m := p.multi[val]
			if m == nil {
				m = p.multiCells(val)
				if len(p.multi) < planCacheMax {
					p.multi[val] = m
				}
			}
			codes[col], texts[col] = m.codes, m.labels
			for i := range len(p.v.Question.List.Choices) {
				codes[col+1+i], texts[col+1+i] = 0, 0
			}
			for _, i := range m.on {
				codes[col+1+i], texts[col+1+i] = 1, 1
			}
		case TypeInteger:
			n, _ := strconv.ParseInt(val, 10, 64)
			var boxed any = n
			codes[col], texts[col] = boxed, boxed
		case TypeDecimal:
			x, _ := strconv.ParseFloat(val, 64)
			var boxed any = x
			codes[col], texts[col] = boxed, boxed
		case TypeDate:
			cell, ok := p.dates[val]
			if !ok {
				if d, err := time.Parse("2006-01-02", val); err == nil {
					cell = excelize.Cell{StyleID: e.styleDate, Value: d}
				} else {
					cell = val
				}
				if len(p.dates) < planCacheMax {
					p.dates[val] = cell
				}
			}
			codes[col], texts[col] = cell, cell
		default:
			var boxed any = val // once for both rows
			codes[col], texts[col] = boxed, boxed
			if freeText != nil {
				if err := freeText(p, boxed); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (e *exporter) writeResponse(r *scanRow) error {
	codes := e.codes
	clear(codes)
	var texts []any // goes to the labels goroutine, which hands it back
	select {
	case texts = <-e.spare:
		clear(texts)
	default:
		texts = make([]any, e.ncols)
	}
	var monitor, formID, stage any // boxed once per response
	err := e.fill(r, codes, texts, func(p *colPlan, val any) error {
		if monitor == nil {
			monitor, formID, stage = r.MonitorID, r.Ref.info.ID, r.stage()
		}
		e.freeVals = append(e.freeVals[:0], codes[0], monitor, formID, stage, p.name, p.question, val)
		return e.free.setRow(e.freeVals)
	})
	if err != nil {
		return err
	}
	e.labelRows <- texts
	return e.data.setRow(codes)
}

// setRows writes small sheets cell by cell; an excelize.Cell value (which
// only the StreamWriter understands) is written as its value and style.
func (e *exporter) setRows(sheet string, rows [][]any) error {
	for i, row := range rows {
		for j, v := range row {
			if v == nil {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			style := 0
			if c, ok := v.(excelize.Cell); ok {
				v, style = c.Value, c.StyleID
			}
			if err := e.x.SetCellValue(sheet, cell, v); err != nil {
				return fmt.Errorf("survey: export %s: %w", sheet, err)
			}
			if style != 0 {
				if err := e.x.SetCellStyle(sheet, cell, cell, style); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (e *exporter) boldRow(sheet string, row, ncols int) error {
	a, _ := excelize.CoordinatesToCellName(1, row)
	b, _ := excelize.CoordinatesToCellName(ncols, row)
	return e.x.SetCellStyle(sheet, a, b, e.styleHeader)
}

func (e *exporter) writeReadme(now time.Time, trialName string, responses int, loans, gate, bankLogin bool) error {
	o := e.opt
	trial := "all trials / すべての実証"
	if o.TrialID != nil {
		trial = fmt.Sprintf("%d %s", *o.TrialID, trialName)
	}
	who := o.ExportedBy
	if who == "" {
		who = "(unknown)"
	}
	privacy := "Pseudonymised: monitors appear only by their pseudonymous id (M-0001 …); names and contacts are not in this file. " +
		"仮名化済み：モニターは仮名ID（M-0001 …）のみで示し、氏名・連絡先は含みません。"
	if o.Identified {
		privacy = "IDENTIFIED: this file holds monitors' names. Keep it under the trial's data-protection rules and delete it when done. " +
			"記名版：モニターの氏名を含みます。個人情報として管理し、用済み後は削除してください。"
	}
	rows := [][]any{
		{"jpkipilot survey export / アンケート結果"},
		{},
		{"Trial / 実証", trial},
		{"Exported at / 出力日時", excelize.Cell{StyleID: e.styleTime, Value: e.wall(now)}},
		{"Time zone of dates / 日時のタイムゾーン", e.opt.Location.String()},
		{"Exported by / 出力者", who},
		{"Filters / 条件", o.Filter.Describe()},
		{"Responses / 回答数", responses},
		{"Withdrawn monitors / 同意撤回者", "Responses of monitors who withdrew are left out. 同意を撤回したモニターの回答は含みません。"},
		{"Privacy / 個人情報", privacy},
		{"Labels language / ラベル言語", e.lang},
		{},
		{"Sheets / シート", ""},
		{SheetData, "One row per response; codes; variable names as headers; select_multiple as the codes plus one 0/1 column per choice (empty when unanswered)."},
		{SheetDataLabels, "Same shape as Data with question and choice labels."},
		{SheetCodebook, "Every variable: question (ja/en), type, code=label pairs, n, missing (asked, unanswered), skipped (not asked), distribution."},
		{SheetSummary, "Per step × 1–5 scale: n, mean, median, top-2-box % (4 or 5)."},
		{SheetCharts, "Stacked bars of the 1–5 scales by step."},
		{SheetFreeText, "Every free-text answer."},
	}
	if loans {
		rows = append(rows, []any{SheetLoans, "Every phone loan (no names): monitor id, phone model/OS, carriers, check-out, due and check-in dates, " +
			"days overdue (open: as of the export day; returned: days late), extensions, missing items."})
	}
	if gate {
		rows = append(rows, []any{SheetGate, "Every entry-gate decision: time, event, gate, monitor id (holder of the trial CA certificate read; " +
			"empty for other certificates, which a trial filter leaves out), method (card without PIN, phone with PIN), admit/deny, " +
			"reason code and label, decision time in ms (card detected to decision), APDUs sent, age of the CRL used in seconds."})
	}
	if bankLogin {
		rows = append(rows, []any{SheetBankLogin, "Every bank registration and login attempt: time, trial, monitor id, kind, method, " +
			"ok (1/0), reason code and label, duration in ms, tries (this one and the failed ones before it). " +
			"To the right: per trial and method, logins, successes, success % and median ms of the successful logins."})
	}
	rows = append(rows, [][]any{
		{},
		{"Form versions / 調査票の版", "", "", ""},
		{"form_id", "version", "title", "responses"},
	}...)
	formsHeader := len(rows)
	for _, fr := range e.l.forms {
		rows = append(rows, []any{fr.info.ID, fr.info.Version, fr.info.Title, fr.n})
	}
	if err := e.setRows(SheetReadme, rows); err != nil {
		return err
	}
	if err := e.x.SetCellStyle(SheetReadme, "A1", "A1", e.styleHeader); err != nil {
		return err
	}
	if err := e.boldRow(SheetReadme, formsHeader, 4); err != nil {
		return err
	}
	if err := e.x.SetColWidth(SheetReadme, "A", "A", 34); err != nil {
		return err
	}
	return e.x.SetColWidth(SheetReadme, "B", "B", 100)
}

// CodebookHeader is the first row of the Codebook sheet.
var CodebookHeader = []string{"variable", "question_ja", "question_en", "type", "list", "codes", "forms",
	"n", "missing", "skipped", "mean", "median", "top2_pct", "distribution"}

func typeName(q *Question) string {
	if q.List != nil {
		return string(q.Type) + " " + q.List.Name
	}
	return string(q.Type)
}

func (e *exporter) writeCodebook(t *Tallies) error {
	var rows [][]any
	hdr := make([]any, len(CodebookHeader))
	for i, h := range CodebookHeader {
		hdr[i] = h
	}
	rows = append(rows, hdr)
	meta := metaColumns
	if e.opt.Identified {
		meta = append(meta[:len(meta):len(meta)], identifiedColumns...)
	}
	for _, c := range meta {
		rows = append(rows, []any{c.name, c.ja, c.en, c.typ, "", "", "", t.Responses})
	}
	for _, tl := range t.Variables {
		v, q := tl.Variable, tl.Variable.Question
		var codes, dist []string
		if q.List != nil {
			for _, c := range q.List.Choices {
				codes = append(codes, c.Name+"="+c.Label.In(e.lang))
				n := tl.Counts[c.Name]
				pct := 0.0
				if tl.N > 0 {
					pct = 100 * float64(n) / float64(tl.N)
				}
				dist = append(dist, fmt.Sprintf("%s: %d (%.1f%%)", c.Name, n, pct))
			}
		}
		row := []any{v.Name, strings.Join(v.Labels("ja"), " | "), strings.Join(v.Labels("en"), " | "), typeName(q), listName(q), strings.Join(codes, "; "),
			strings.Join(v.FormIDs, " "), tl.N, tl.Missing, tl.Skipped, nil, nil, nil, strings.Join(dist, "; ")}
		if tl.HasMean {
			row[10], row[11] = round2(tl.Mean), round2(tl.Median)
		}
		if tl.HasTop2 {
			row[12] = excelize.Cell{StyleID: e.stylePct, Value: round2(tl.Top2)}
		}
		rows = append(rows, row)
		if q.Type == TypeSelectMultiple {
			for _, c := range q.List.Choices {
				n := tl.Counts[c.Name]
				rows = append(rows, []any{v.Name + "/" + c.Name, v.Header("ja") + ": " + c.Label.In("ja"), v.Header("en") + ": " + c.Label.In("en"),
					"0/1", "", "1=selected; 0=not selected", strings.Join(v.FormIDs, " "), tl.N, tl.Missing, tl.Skipped,
					nil, nil, nil, fmt.Sprintf("1: %d; 0: %d", n, tl.N-n)})
			}
		}
	}
	if err := e.setRows(SheetCodebook, rows); err != nil {
		return err
	}
	if err := e.boldRow(SheetCodebook, 1, len(CodebookHeader)); err != nil {
		return err
	}
	if err := e.x.SetColWidth(SheetCodebook, "A", "G", 22); err != nil {
		return err
	}
	return e.x.SetPanes(SheetCodebook, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
}

func listName(q *Question) string {
	if q.List == nil {
		return ""
	}
	return q.List.Name
}

// SummaryHeader is the first row of the Summary sheet.
var SummaryHeader = []string{"step", "step_label", "variable", "question", "n", "mean", "median", "top2_pct", "n_1", "n_2", "n_3", "n_4", "n_5"}

func (e *exporter) writeSummary(t *Tallies) error {
	hdr := make([]any, len(SummaryHeader))
	for i, h := range SummaryHeader {
		hdr[i] = h
	}
	rows := [][]any{hdr}
	for _, st := range t.Stages {
		row := []any{st.Stage, StageLabel(st.Stage, e.lang), st.Variable.Name, st.Variable.Header(e.lang), st.N,
			round2(st.Mean), round2(st.Median), excelize.Cell{StyleID: e.stylePct, Value: round2(st.Top2)}}
		for _, c := range st.Counts {
			row = append(row, c)
		}
		rows = append(rows, row)
	}
	if err := e.setRows(SheetSummary, rows); err != nil {
		return err
	}
	if err := e.x.SetColWidth(SheetSummary, "A", "D", 20); err != nil {
		return err
	}
	return e.boldRow(SheetSummary, 1, len(SummaryHeader))
}

// scaleTitles name the seed's two scales on the charts.
var scaleTitles = map[string][2]string{
	"convenience": {"利便性（ステップ別）", "Convenience by step"},
	"willingness": {"利用意向（ステップ別）", "Willingness to use by step"},
}

// chartVars orders the scales to chart: convenience and willingness first.
func chartVars(t *Tallies) []*Variable {
	var out []*Variable
	seen := map[*Variable]bool{}
	for _, pass := range []func(v *Variable) bool{
		func(v *Variable) bool { return v.Name == "convenience" },
		func(v *Variable) bool { return v.Name == "willingness" },
		func(v *Variable) bool { return true },
	} {
		for _, st := range t.Stages {
			if !seen[st.Variable] && pass(st.Variable) {
				seen[st.Variable] = true
				out = append(out, st.Variable)
			}
		}
	}
	return out
}

// writeCharts puts, for each 1–5 scale, a table of answers by step and a
// native percent-stacked bar chart of it on the Charts sheet (a sheet that
// is not streamed, so the charts are kept).
func (e *exporter) writeCharts(t *Tallies) error {
	const sheet = SheetCharts
	row := 1
	noVary := false
	if len(t.Stages) == 0 {
		return e.x.SetCellValue(sheet, "A1", "No 1–5 scale answers to chart. / グラフにする5段階評価の回答がありません。")
	}
	for _, v := range chartVars(t) {
		q := v.Question
		title := v.Header(e.lang)
		if t, ok := scaleTitles[v.Name]; ok {
			title = t[0]
			if e.lang == "en" {
				title = t[1]
			}
		}
		if title != v.Name {
			title += " (" + v.Name + ")"
		}
		if err := e.x.SetCellValue(sheet, fmt.Sprintf("A%d", row), title); err != nil {
			return err
		}
		hdrRow := row + 1
		hdr := []any{"step"}
		for _, c := range q.List.Choices {
			hdr = append(hdr, c.Name+" "+c.Label.In(e.lang))
		}
		hdr = append(hdr, "n")
		if err := e.x.SetSheetRow(sheet, fmt.Sprintf("A%d", hdrRow), &hdr); err != nil {
			return err
		}
		if err := e.boldRow(sheet, hdrRow, len(hdr)); err != nil {
			return err
		}
		r := hdrRow
		for _, st := range t.Stages {
			if st.Variable != v {
				continue
			}
			r++
			vals := []any{StageLabel(st.Stage, e.lang)}
			for _, c := range st.Counts {
				vals = append(vals, c)
			}
			vals = append(vals, st.N)
			if err := e.x.SetSheetRow(sheet, fmt.Sprintf("A%d", r), &vals); err != nil {
				return err
			}
		}
		var series []excelize.ChartSeries
		for i := range q.List.Choices {
			col, _ := excelize.ColumnNumberToName(i + 2)
			series = append(series, excelize.ChartSeries{
				Name:       fmt.Sprintf("%s!$%s$%d", sheet, col, hdrRow),
				Categories: fmt.Sprintf("%s!$A$%d:$A$%d", sheet, hdrRow+1, r),
				Values:     fmt.Sprintf("%s!$%s$%d:$%s$%d", sheet, col, hdrRow+1, col, r),
			})
		}
		chart := &excelize.Chart{
			Type:      excelize.BarPercentStacked,
			Series:    series,
			Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: title}}},
			Legend:    excelize.ChartLegend{Position: "bottom"},
			Dimension: excelize.ChartDimension{Width: 640, Height: 300},
			PlotArea:  excelize.ChartPlotArea{ShowVal: true},
			// One colour per answer, and the first step on top.
			VaryColors: &noVary,
			XAxis:      excelize.ChartAxis{ReverseOrder: true},
		}
		if err := e.x.AddChart(sheet, fmt.Sprintf("I%d", row), chart); err != nil {
			return fmt.Errorf("survey: export chart %s: %w", v.Name, err)
		}
		row = max(r+2, row+17)
	}
	return e.x.SetColWidth(sheet, "A", "A", 20)
}

// multiCells works out the cells of a select_multiple answer.
func (p *colPlan) multiCells(val string) *multiCells {
	m := &multiCells{codes: val}
	var labels strings.Builder
	for code := range strings.FieldsSeq(val) {
		if labels.Len() > 0 {
			labels.WriteString("; ")
		}
		if l, ok := p.label[code]; ok {
			labels.WriteString(l.(string))
		}
		// The variable's own list decides the columns: a version with
		// the same codes fills the same ones.
		if i, ok := p.idx[code]; ok {
			m.on = append(m.on, i)
		}
	}
	m.labels = labels.String()
	return m
}
