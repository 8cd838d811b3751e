package trial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/xuri/excelize/v2"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/pii"
	"jpkipilot/trial/store"
)

// Problem is one reason an import was rejected: the Excel row (the header
// is row 1), the column (canonical name, as in ImportColumns) and why, in
// English (Reason) and for a translation (Code and Args, as in FieldError).
type Problem struct {
	Row    int
	Field  string
	Reason string
	Code   ReasonCode
	Args   []string
}

func (p Problem) String() string {
	if p.Field == "" {
		return fmt.Sprintf("row %d: %s", p.Row, p.Reason)
	}
	return fmt.Sprintf("row %d: %s: %s", p.Row, p.Field, p.Reason)
}

// ImportError rejects a whole import: every problem of every row is listed,
// and nothing was imported.
type ImportError struct {
	Problems []Problem
}

func (e *ImportError) Error() string {
	rows := map[int]bool{}
	for _, p := range e.Problems {
		rows[p.Row] = true
	}
	if len(e.Problems) == 0 {
		return "import rejected"
	}
	return fmt.Sprintf("import rejected, nothing imported: %d problems in %d rows (first: %s)",
		len(e.Problems), len(rows), e.Problems[0])
}

// ImportColumn is a column an import understands.
type ImportColumn struct {
	Field    string   // canonical name, used in Problems
	Names    []string // header spellings accepted (matched after SearchKey folding)
	Required bool
}

// ImportColumns are the columns of a monitor import, Japanese first. The
// session column names a session by its code; it may be left out when the
// import is given a trial (ImportOptions.TrialID). companion_of names the
// monitor this one came with: an existing id (M-0012) or the Excel row
// number of another row in the same file.
var ImportColumns = []ImportColumn{
	{Field: "name", Names: []string{"氏名", "名前", "name"}, Required: true},
	{Field: "kana", Names: []string{"フリガナ", "ふりがな", "カナ", "氏名カナ", "kana", "furigana"}, Required: true},
	{Field: "age_band", Names: []string{"年代", "age_band", "age band", "age"}},
	{Field: "contact", Names: []string{"連絡先", "電話番号", "メールアドレス", "contact", "phone", "email"}},
	{Field: "session", Names: []string{"セッション", "セッションコード", "session", "session_code", "session code"}},
	{Field: "companion_of", Names: []string{"同行者", "同行元", "companion_of", "companion of", "companion"}},
	{Field: "consent_version", Names: []string{"同意書版", "同意書バージョン", "consent_version", "consent version"}},
	{Field: "consent_signed_on", Names: []string{"同意日", "consent_signed_on", "consent signed on", "consent date"}},
	{Field: "consent_staff", Names: []string{"同意確認者", "確認者", "consent_staff", "consent staff"}},
}

// ImportOptions tune an import.
type ImportOptions struct {
	// TrialID, when set, is the trial the monitors join: rows without a
	// session join it with no session, and a session of another trial is a
	// problem. When zero every row must name a session.
	TrialID int64
	// Progress, when set, is called with the rows inserted so far.
	Progress func(done, total int)
	// FileName is the file's name for the audit trail (ImportFile sets
	// it; any directory is dropped).
	FileName string
}

// ImportResult says what an import did.
type ImportResult struct {
	Count           int
	FirstID, LastID string
	Encoding        string
}

// ImportFile imports monitors from an XLSX workbook (by extension or
// content) or else a CSV file. See Import.
func (s *Service) ImportFile(ctx context.Context, path string, opt ImportOptions) (ImportResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return ImportResult{}, err
	}
	defer f.Close()
	var t *Table
	ext := strings.ToLower(filepath.Ext(path))
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return ImportResult{}, err
	}
	switch {
	case ext == ".xlsx" || ext == ".xlsm" || string(head[:n]) == "PK\x03\x04":
		t, err = ReadXLSX(f)
	case ext == ".xls" || string(head[:n]) == "\xd0\xcf\x11\xe0":
		err = errors.New("old Excel .xls workbooks cannot be read; save it as .xlsx or CSV")
	default:
		t, err = ReadCSV(f)
	}
	if err != nil {
		return ImportResult{}, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	if opt.FileName == "" {
		opt.FileName = path
	}
	return s.Import(ctx, t, opt)
}

// candidate is a parsed row waiting to be checked against the store.
type candidate struct {
	row          int
	m            Monitor
	session      string // session code as written
	companionRow int    // Excel row of the companion in the same file
	bad          bool
}

// parseTable turns a table into monitors without looking at the store:
// header mapping, normalisation and each row's own validation. Problems are
// in row order. It is the part of Import a fuzzer can drive.
func parseTable(t *Table, sessionRequired bool) ([]candidate, []Problem) {
	var probs []Problem
	col := map[string]int{}
	known := map[string]string{}
	for _, c := range ImportColumns {
		for _, n := range c.Names {
			known[SearchKey(n)] = c.Field
		}
	}
	var unnamed []int
	for i, h := range t.Header {
		key := SearchKey(strings.TrimPrefix(h, "\ufeff"))
		if key == "" {
			unnamed = append(unnamed, i)
			continue
		}
		f, ok := known[key]
		switch {
		case !ok:
			probs = append(probs, problem(1, h, ReasonUnknownColumn, "unknown column (known: %s)", knownColumns()))
		case col[f] != 0:
			probs = append(probs, problem(1, f, ReasonColumnTwice, "column given twice (column %s and column %s)", columnLetters(col[f]-1), columnLetters(i)))
		default:
			col[f] = i + 1 // 0 means absent
		}
	}
	for _, c := range ImportColumns {
		if col[c.Field] == 0 && (c.Required || c.Field == "session" && sessionRequired) {
			p := problem(1, c.Field, ReasonColumnMissing, "column missing (header %s or %s)", c.Names[0], c.Names[len(c.Names)-1])
			if c.Field == "session" {
				p = problem(1, c.Field, ReasonSessionColumnMissing, "column missing: name each row's session code, or import into a chosen trial")
			}
			probs = append(probs, p)
		}
	}
	if len(probs) > 0 {
		return nil, probs
	}
	cell := func(r TableRow, field string) string {
		i := col[field] - 1
		if i < 0 || i >= len(r.Cells) {
			return ""
		}
		return strings.TrimSpace(r.Cells[i])
	}
	cands := make([]candidate, 0, len(t.Rows))
	for _, r := range t.Rows {
		c := candidate{row: r.Row}
		pass := func(fe FieldError) {
			probs = append(probs, fe.at(r.Row))
			c.bad = true
		}
		add := func(field string, code ReasonCode, format string, a ...any) {
			pass(fieldErr(field, code, format, a...))
		}
		for _, i := range unnamed {
			if i < len(r.Cells) && strings.TrimSpace(r.Cells[i]) != "" {
				add(excelColumn(i), ReasonNoHeader, "value in a column without a header")
			}
		}
		if len(r.Cells) > len(t.Header) {
			for i := len(t.Header); i < len(r.Cells); i++ {
				if strings.TrimSpace(r.Cells[i]) != "" {
					add(excelColumn(i), ReasonBeyondHeader, "value beyond the last column of the header")
					break
				}
			}
		}
		m := Monitor{
			TrialID: -1, // resolved from the session later; -1 passes Validate
			Name:    cell(r, "name"),
			Kana:    cell(r, "kana"),
			AgeBand: cell(r, "age_band"),
			Contact: cell(r, "contact"),
			Status:  StatusEnrolled,
			Consent: Consent{
				FormVersion: cell(r, "consent_version"),
				SignedOn:    cell(r, "consent_signed_on"),
				Staff:       cell(r, "consent_staff"),
			},
		}
		if d, ok := parseDate(m.Consent.SignedOn, t.serialDates); ok {
			m.Consent.SignedOn = d
		}
		if comp := cell(r, "companion_of"); comp != "" {
			if n, ok := ParseMonitorID(comp); ok {
				id := FormatMonitorID(n)
				m.CompanionOf = &id
			} else if n, ok := parseRowRef(comp); ok {
				c.companionRow = n
			} else {
				add("companion_of", ReasonCompanionRef, "not a monitor id (M-0012) or a row number of this file: %q", comp)
			}
		}
		c.session = fold(cell(r, "session"))
		m.Normalize()
		if err := m.Validate(); err != nil {
			for _, fe := range err.(FieldErrors) {
				pass(fe)
			}
		}
		c.m = m
		cands = append(cands, c)
	}
	return cands, probs
}

// parseRowRef reads a reference to an Excel row: "5", "row 5", "#5",
// "5行目", "５".
func parseRowRef(s string) (int, bool) {
	k := SearchKey(s)
	for _, p := range []string{"row", "#", "行"} {
		k = strings.TrimPrefix(k, p)
	}
	k = strings.TrimSuffix(strings.TrimSuffix(k, "行目"), "行")
	n, err := strconv.Atoi(k)
	return n, err == nil && n > 0
}

func knownColumns() string {
	var names []string
	for _, c := range ImportColumns {
		names = append(names, c.Names[0]+"/"+c.Field)
	}
	return strings.Join(names, ", ")
}

// excelColumn names a 0-based column as a field: 0 → "column A", 26 → "column AA".
func excelColumn(i int) string { return "column " + columnLetters(i) }

// columnLetters is the spreadsheet letters of 0-based column i ("A", "AB").
func columnLetters(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

// parseDate reads the dates people type: 2017-01-23, 2017/1/23, 2017.1.23,
// 2017年1月23日, and (in an XLSX) Excel date serials.
func parseDate(s string, serial bool) (string, bool) {
	s = strings.TrimSpace(fold(s))
	if s == "" {
		return "", false
	}
	if serial {
		if f, err := strconv.ParseFloat(s, 64); err == nil && f > 1 && f < 2958466 {
			if t, err := excelize.ExcelDateToTime(f, false); err == nil {
				return t.Format("2006-01-02"), true
			}
		}
	}
	parts := strings.Split(dateSeparators.Replace(s), "-")
	if len(parts) != 3 {
		return "", false
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return "", false
		}
		n[i] = v
	}
	t := time.Date(n[0], time.Month(n[1]), n[2], 0, 0, 0, 0, time.UTC)
	if t.Year() != n[0] || int(t.Month()) != n[1] || t.Day() != n[2] || n[0] < 1900 {
		return "", false
	}
	return t.Format("2006-01-02"), true
}

var dateSeparators = strings.NewReplacer("/", "-", ".", "-", "年", "-", "月", "-", "日", "")

// dupKey identifies a person within a trial: name, kana and contact folded.
func dupKey(trialID int64, name, kana, contact string) string {
	return strconv.FormatInt(trialID, 10) + "\x00" + SearchKey(name) + "\x00" + SearchKey(kana) + "\x00" + SearchKey(contact)
}

// importBatch is how many rows go into one INSERT: few round trips, and
// 1000 rows × 15 columns stay under SQLite's 32,766 and PostgreSQL's 65,535
// parameters; progress and cancellation act between batches.
const importBatch = 1000

// Import checks every row of t and, only if all are good, inserts them in one
// transaction. A bad file returns an *ImportError listing every problem
// (missing name, bad kana, unknown session, unknown age band, duplicates
// within the file or of an existing monitor of the trial — same name, kana
// and contact) and changes nothing. The ids of a good file are reserved in
// one counter update committed before the insert, so a cancelled or failed
// insert (ctx cancelled, database busy) rolls back every monitor but never
// lets those ids be given again.
//
// Names, kana and contacts are sealed with the service's key (spread over
// the CPUs); on a sealed store an import without the key fails with
// pii.ErrLocked before anything is checked. The insert's transaction
// records one audit.MonitorImport entry: the count, the ids and the file
// name, never a person.
func (s *Service) Import(ctx context.Context, t *Table, opt ImportOptions) (ImportResult, error) {
	res := ImportResult{Encoding: t.Encoding}
	if s.PII == nil {
		if req, err := pii.Required(ctx, s.DB); err != nil {
			return res, err
		} else if req {
			return res, fmt.Errorf("import: %w", pii.ErrLocked)
		}
	}
	cands, probs := parseTable(t, opt.TrialID == 0)
	if len(probs) > 0 && cands == nil {
		return res, &ImportError{Problems: probs}
	}
	if len(cands) == 0 {
		return res, fmt.Errorf("the file has a header but no monitors")
	}
	more, err := s.checkImport(ctx, cands, opt)
	if err != nil {
		return res, err
	}
	if probs = append(probs, more...); len(probs) > 0 {
		sort.SliceStable(probs, func(i, j int) bool { return probs[i].Row < probs[j].Row })
		return res, &ImportError{Problems: probs}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}

	var first int64
	err = s.tx(ctx, func(tx *sqlx.Tx) error {
		var e error
		first, e = allocateIDs(ctx, tx, len(cands))
		return e
	})
	if err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	now := s.now()
	byRow := make(map[int]string, len(cands))
	for i := range cands {
		c := &cands[i]
		c.m.ID = FormatMonitorID(first + int64(i))
		c.m.CreatedAt, c.m.UpdatedAt = now, now
		byRow[c.row] = c.m.ID
	}
	total := len(cands)
	ms := make([]Monitor, len(cands))
	for i := range cands {
		c := &cands[i]
		if c.companionRow != 0 {
			id := byRow[c.companionRow]
			c.m.CompanionOf = &id
		}
		ms[i] = c.m
	}
	res.FirstID, res.LastID = cands[0].m.ID, cands[total-1].m.ID
	ctx = s.actor(ctx)
	err = s.tx(ctx, func(tx *sqlx.Tx) error {
		w, err := modeFor(ctx, tx, s.PII)
		if err != nil {
			return err
		}
		if err := w.sealMonitors(ms); err != nil {
			return err
		}
		if err := insertMonitors(ctx, tx, ms, opt.Progress); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.MonitorImport, res.FirstID+"–"+res.LastID, importDetail(total, opt.FileName))
	})
	if err != nil {
		return ImportResult{Encoding: t.Encoding}, fmt.Errorf("import: nothing imported: %w", err)
	}
	res.Count = total
	return res, nil
}

// importDetail is the audit detail of an import: how many, from which file
// (its name only, not where it was).
func importDetail(n int, file string) string {
	d := fmt.Sprintf("%d monitors", n)
	if file = filepath.Base(strings.ReplaceAll(file, `\`, "/")); file != "" && file != "." && file != "/" {
		d += " from " + file
	}
	return d
}

// checkImport resolves sessions, trials, companions and duplicates against
// the store and returns the problems found.
func (s *Service) checkImport(ctx context.Context, cands []candidate, opt ImportOptions) ([]Problem, error) {
	var probs []Problem
	add := func(c *candidate, field string, code ReasonCode, format string, a ...any) {
		probs = append(probs, problem(c.row, field, code, format, a...))
		c.bad = true
	}
	sessions, err := s.AllSessions(ctx)
	if err != nil {
		return nil, err
	}
	byCode := map[string]Session{}
	for _, se := range sessions {
		byCode[strings.ToUpper(se.Code)] = se
	}
	if opt.TrialID != 0 {
		if _, err := s.GetTrial(ctx, opt.TrialID); err != nil {
			return nil, err
		}
	}
	trials := map[int64]bool{}
	for i := range cands {
		c := &cands[i]
		c.m.TrialID = opt.TrialID
		if c.session == "" {
			if opt.TrialID == 0 {
				add(c, "session", ReasonSessionRequired, "required (the session code, e.g. %s)", exampleCode(sessions))
			}
		} else if se, ok := byCode[strings.ToUpper(c.session)]; !ok {
			add(c, "session", ReasonUnknownSession, "unknown session %q", c.session)
		} else if opt.TrialID != 0 && se.TrialID != opt.TrialID {
			add(c, "session", ReasonSessionOtherTrial, "session %s belongs to another trial", se.Code)
		} else {
			id := se.ID
			c.m.SessionID, c.m.TrialID = &id, se.TrialID
		}
		if c.m.TrialID != 0 {
			trials[c.m.TrialID] = true
		}
	}

	// Duplicates: same person (name, kana, contact) twice in the file, or
	// already enrolled in the trial and not withdrawn.
	existing := map[string]string{}
	for tid := range trials {
		people, err := existingPeople(ctx, s.DB, s.PII, tid)
		if err != nil {
			return nil, err
		}
		for k, id := range people {
			existing[k] = id
		}
	}
	seen := map[string]int{}
	rowAt := map[int]*candidate{}
	for i := range cands {
		c := &cands[i]
		rowAt[c.row] = c
		if c.m.Name == "" || c.m.TrialID == 0 {
			continue
		}
		k := dupKey(c.m.TrialID, c.m.Name, c.m.Kana, c.m.Contact)
		if id, ok := existing[k]; ok {
			add(c, "name", ReasonDuplicateMonitor, "duplicate of existing monitor %s (same name, kana and contact)", id)
		} else if r, ok := seen[k]; ok {
			add(c, "name", ReasonDuplicateRow, "duplicate of row %d (same name, kana and contact)", r)
		} else {
			seen[k] = c.row
		}
	}

	// Companions: another row of this file or an existing monitor, in the
	// same trial. Existing ones are looked up a few hundred at a time.
	var refs []string
	for i := range cands {
		if c := &cands[i]; c.companionRow == 0 && c.m.CompanionOf != nil {
			refs = append(refs, *c.m.CompanionOf)
		}
	}
	trialOf := map[string]int64{}
	for lo := 0; lo < len(refs); lo += 500 {
		var rows []struct {
			ID      string `db:"id"`
			TrialID int64  `db:"trial_id"`
		}
		q, args, err := sqlx.In("SELECT id, trial_id FROM monitors WHERE id IN (?)", refs[lo:min(lo+500, len(refs))])
		if err != nil {
			return nil, err
		}
		if err := s.DB.SelectContext(ctx, &rows, s.DB.Rebind(q), args...); err != nil {
			return nil, store.MapErr(err)
		}
		for _, r := range rows {
			trialOf[r.ID] = r.TrialID
		}
	}
	for i := range cands {
		c := &cands[i]
		switch {
		case c.companionRow != 0:
			o, ok := rowAt[c.companionRow]
			switch {
			case c.companionRow == c.row:
				add(c, "companion_of", ReasonSelfCompanion, "a monitor cannot be their own companion")
			case !ok:
				add(c, "companion_of", ReasonCompanionRow, "row %d is not a monitor row of this file", c.companionRow)
			case o.m.TrialID != c.m.TrialID && o.m.TrialID != 0 && c.m.TrialID != 0:
				add(c, "companion_of", ReasonCompanionRowOtherTrial, "row %d is in another trial", c.companionRow)
			}
		case c.m.CompanionOf != nil:
			tid, ok := trialOf[*c.m.CompanionOf]
			switch {
			case !ok:
				add(c, "companion_of", ReasonNoMonitor, "no monitor %s", *c.m.CompanionOf)
			case c.m.TrialID != 0 && tid != c.m.TrialID:
				add(c, "companion_of", ReasonCompanionOtherTrial, "%s is in another trial", *c.m.CompanionOf)
			}
		}
	}
	return probs, nil
}

func exampleCode(ss []Session) string {
	if len(ss) == 0 {
		return "LOAN-1"
	}
	return ss[0].Code
}

// insertMonitors inserts monitors whose ids are allocated, importBatch rows
// per statement, then links companions (so a row may name a later one).
func insertMonitors(ctx context.Context, tx *sqlx.Tx, ms []Monitor, progress func(done, total int)) error {
	total := len(ms)
	if progress != nil {
		progress(0, total)
	}
	for lo := 0; lo < total; lo += importBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+importBatch, total)
		if tx.DriverName() == "pgx" {
			if err := insertBatchPostgres(ctx, tx, ms[lo:hi]); err != nil {
				return err
			}
			if progress != nil {
				progress(hi, total)
			}
			continue
		}
		var q strings.Builder
		q.WriteString("INSERT INTO monitors (" + monitorCols + ") VALUES ")
		args := make([]any, 0, (hi-lo)*15)
		for i := lo; i < hi; i++ {
			if i > lo {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			m := ms[i]
			m.CompanionOf = nil // linked below, once every row exists
			args = append(args, monitorArgs(&m)...)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(q.String()), args...); err != nil {
			return err
		}
		if progress != nil {
			progress(hi, total)
		}
	}
	stmt, err := tx.PreparexContext(ctx, tx.Rebind("UPDATE monitors SET companion_of = ? WHERE id = ?"))
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := range ms {
		if ms[i].CompanionOf == nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := stmt.ExecContext(ctx, *ms[i].CompanionOf, ms[i].ID); err != nil {
			return err
		}
	}
	return nil
}

// insertBatchPostgres inserts monitors with one statement over column
// arrays: PostgreSQL parses 14 parameters instead of 14 per row.
func insertBatchPostgres(ctx context.Context, tx *sqlx.Tx, ms []Monitor) error {
	n := len(ms)
	var (
		ids, names, kanas, bands, contacts, statuses = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		versions, signed, staff                      = make([]string, n), make([]string, n), make([]string, n)
		trials                                       = make([]int64, n)
		sessions                                     = make([]*int64, n)
		withdrawn                                    = make([]*time.Time, n)
		created, updated                             = make([]time.Time, n), make([]time.Time, n)
	)
	for i := range ms {
		m := &ms[i]
		ids[i], trials[i], sessions[i], names[i], kanas[i], bands[i], contacts[i] = m.ID, m.TrialID, m.SessionID, m.Name, m.Kana, m.AgeBand, m.Contact
		statuses[i], versions[i], signed[i], staff[i] = string(m.Status), m.Consent.FormVersion, m.Consent.SignedOn, m.Consent.Staff
		withdrawn[i], created[i], updated[i] = m.WithdrawnAt, m.CreatedAt, m.UpdatedAt
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO monitors (id, trial_id, session_id, name, kana, age_band, contact, status,
		consent_version, consent_signed_on, consent_staff, withdrawn_at, created_at, updated_at)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
			$9::text[], $10::text[], $11::text[], $12::timestamptz[], $13::timestamptz[], $14::timestamptz[])`,
		ids, trials, sessions, names, kanas, bands, contacts, statuses, versions, signed, staff, withdrawn, created, updated)
	return err
}
