package survey

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/xuri/excelize/v2"
)

// ReadXLSForm reads and validates an XLSForm workbook. An invalid form
// returns FormErrors naming sheet, row and column of every problem found.
func ReadXLSForm(r io.Reader) (f *Form, err error) {
	// A damaged workbook must be refused, not crash the kiosk: excelize is
	// not hardened against every malformed part.
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, fmt.Errorf("the workbook could not be read: %v", p)
		}
	}()
	x, err := excelize.OpenReader(r)
	if err != nil {
		return nil, fmt.Errorf("not an .xlsx workbook: %w", err)
	}
	defer x.Close()
	sheets := map[string][][]string{}
	names := map[string]string{}
	for _, name := range x.GetSheetList() {
		key := strings.ToLower(strings.TrimSpace(name))
		if key != "survey" && key != "choices" && key != "settings" {
			continue
		}
		rows, err := x.GetRows(name)
		if err != nil {
			return nil, fmt.Errorf("sheet %s: %w", name, err)
		}
		sheets[key], names[key] = rows, name
	}
	rd := &formReader{sheets: sheets, names: names}
	f = rd.read()
	if len(rd.errs) > 0 {
		return nil, rd.errs
	}
	return f, nil
}

// ParseXLSForm is ReadXLSForm over bytes.
func ParseXLSForm(b []byte) (*Form, error) { return ReadXLSForm(bytes.NewReader(b)) }

type formReader struct {
	sheets map[string][][]string
	names  map[string]string
	errs   FormErrors
}

func (rd *formReader) errf(sheet string, row int, col, format string, a ...any) {
	if n, ok := rd.names[sheet]; ok {
		sheet = n
	}
	rd.errs = append(rd.errs, FormError{Sheet: sheet, Row: row, Column: col, Msg: fmt.Sprintf(format, a...)})
}

// header is one parsed header cell: label::Japanese (ja) → base "label",
// lang "ja", text as written.
type header struct {
	base, lang, text string
}

var versionRE = regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)

var langCodeRE = regexp.MustCompile(`\(([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)?)\)\s*$`)

var languageNames = map[string]string{"japanese": "ja", "english": "en", "日本語": "ja"}

func parseHeader(s string) header {
	s = strings.TrimSpace(s)
	h := header{text: s}
	base, lang, hasLang := strings.Cut(s, "::")
	h.base = strings.ToLower(strings.TrimSpace(base))
	h.base = strings.ReplaceAll(h.base, " ", "_")
	if hasLang {
		lang = strings.TrimSpace(lang)
		if m := langCodeRE.FindStringSubmatch(lang); m != nil {
			h.lang = strings.ToLower(m[1])
		} else if code, ok := languageNames[strings.ToLower(lang)]; ok {
			h.lang = code
		} else {
			h.lang = strings.ToLower(lang)
		}
	}
	return h
}

// table is a sheet with its headers; cell values are trimmed.
type table struct {
	key     string
	headers []header
	rows    [][]string // data rows; rows[i] is Excel row i+2
}

func (t *table) col(base string) int {
	for i, h := range t.headers {
		if h.base == base && h.lang == "" {
			return i
		}
	}
	return -1
}

func (t *table) get(row []string, base string) string {
	i := t.col(base)
	if i < 0 || i >= len(row) {
		return ""
	}
	return strings.TrimSpace(row[i])
}

// text collects a translated column (label, hint, ...) from its plain and
// language columns.
func (t *table) text(row []string, base string) Text {
	out := Text{}
	for i, h := range t.headers {
		if h.base == base && i < len(row) {
			if v := strings.TrimSpace(row[i]); v != "" {
				out[h.lang] = v
			}
		}
	}
	return out
}

func (t *table) has(base string) bool {
	for _, h := range t.headers {
		if h.base == base {
			return true
		}
	}
	return false
}

func blank(row []string) bool {
	for _, c := range row {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func (rd *formReader) table(key string, required bool) *table {
	rows, ok := rd.sheets[key]
	if !ok {
		if required {
			rd.errf(key, 0, "", "the workbook has no %q sheet", key)
		}
		return nil
	}
	if len(rows) == 0 {
		rd.errf(key, 1, "", "the header row is empty")
		return nil
	}
	t := &table{key: key, rows: rows[1:]}
	for _, h := range rows[0] {
		t.headers = append(t.headers, parseHeader(h))
	}
	return t
}

func (rd *formReader) read() *Form {
	f := &Form{Lists: map[string]*List{}}
	rd.readSettings(f)
	rd.readChoices(f)
	rd.readSurvey(f)
	return f
}

func (rd *formReader) readSettings(f *Form) {
	t := rd.table("settings", true)
	if t == nil {
		return
	}
	var row []string
	if len(t.rows) > 0 {
		row = t.rows[0]
	}
	f.ID = t.get(row, "form_id")
	f.Version = t.get(row, "version")
	f.Title = t.get(row, "form_title")
	for _, c := range []struct{ base, val string }{{"form_id", f.ID}, {"version", f.Version}} {
		switch {
		case !t.has(c.base):
			rd.errf("settings", 1, c.base, "missing column (forms are registered by form_id and version)")
		case c.val == "":
			rd.errf("settings", 2, c.base, "empty (forms are registered by form_id and version)")
		case !versionRE.MatchString(c.val) || c.base == "form_id" && !validName(c.val):
			rd.errf("settings", 2, c.base, "%q must be letters, digits, '_', '.' or '-'", c.val)
		}
	}
	if f.Title == "" {
		f.Title = f.ID
	}
}

func (rd *formReader) readChoices(f *Form) {
	t := rd.table("choices", false)
	if t == nil {
		return
	}
	listCol := "list_name"
	for _, c := range []string{listCol, "name"} {
		if !t.has(c) {
			rd.errf("choices", 1, c, "missing column")
		}
	}
	if !t.has("label") {
		rd.errf("choices", 1, "label", "missing column (label, or label::Japanese (ja) / label::English (en))")
	}
	firstRow := map[[2]string]int{}
	for i, row := range t.rows {
		excelRow := i + 2
		if blank(row) {
			continue
		}
		list, name, label := t.get(row, listCol), t.get(row, "name"), t.text(row, "label")
		switch {
		case list == "":
			rd.errf("choices", excelRow, listCol, "empty")
			continue
		case !validName(list):
			rd.errf("choices", excelRow, listCol, "%q must start with a letter or '_' and hold only letters, digits, '_', '.' or '-'", list)
			continue
		case name == "":
			rd.errf("choices", excelRow, "name", "empty")
			continue
		case strings.ContainsAny(name, " \t\n"):
			rd.errf("choices", excelRow, "name", "%q holds a space (select_multiple stores codes separated by spaces)", name)
			continue
		}
		key := [2]string{list, name}
		if prev, dup := firstRow[key]; dup {
			rd.errf("choices", excelRow, "name", "duplicate choice %q in list %q (first on row %d)", name, list, prev)
			continue
		}
		firstRow[key] = excelRow
		if label.empty() {
			rd.errf("choices", excelRow, "label", "choice %q of list %q has no label", name, list)
		}
		l := f.Lists[list]
		if l == nil {
			l = &List{Name: list}
			f.Lists[list] = l
		}
		l.Choices = append(l.Choices, Choice{Name: name, Label: label})
	}
}

func normType(s string) string {
	s = strings.Join(strings.Fields(strings.ToLower(s)), " ")
	switch s {
	case "begin group":
		return "begin_group"
	case "end group":
		return "end_group"
	}
	return s
}

func (rd *formReader) readSurvey(f *Form) {
	t := rd.table("survey", true)
	if t == nil {
		return
	}
	for _, c := range []string{"type", "name"} {
		if !t.has(c) {
			rd.errf("survey", 1, c, "missing column")
		}
	}
	if !t.has("label") {
		rd.errf("survey", 1, "label", "missing column (label, or label::Japanese (ja) / label::English (en))")
	}
	if !t.has("type") || !t.has("name") {
		return
	}
	type pending struct {
		q                    *Question
		relevant, constraint string
	}
	var items []pending
	byName := map[string]*Question{}
	var open []*Question // open groups
	for i, row := range t.rows {
		excelRow := i + 2
		if blank(row) {
			continue
		}
		typ := normType(t.get(row, "type"))
		name := t.get(row, "name")
		if typ == "" {
			rd.errf("survey", excelRow, "type", "empty (the row has content)")
			continue
		}
		if typ == "end_group" {
			if len(open) == 0 {
				rd.errf("survey", excelRow, "type", "end_group without a matching begin_group")
			} else {
				open = open[:len(open)-1]
			}
			continue
		}
		q := &Question{Name: name, Row: excelRow, Label: t.text(row, "label"), Hint: t.text(row, "hint"),
			ConstraintMessage: t.text(row, "constraint_message")}
		if len(open) > 0 {
			q.Group = open[len(open)-1]
		}
		word, list, _ := strings.Cut(typ, " ")
		switch Type(word) {
		case TypeSelectOne, TypeSelectMultiple:
			q.Type = Type(word)
			list = strings.TrimSpace(list)
			if list == "" {
				rd.errf("survey", excelRow, "type", "%s needs a choice list name, e.g. %q", word, word+" scale5")
				continue
			}
			l, ok := f.Lists[list]
			if !ok {
				rd.errf("survey", excelRow, "type", "choice list %q is not on the choices sheet", list)
				continue
			}
			q.List = l
		case TypeInteger, TypeDecimal, TypeText, TypeDate, TypeNote, TypeGroup:
			if list != "" {
				rd.errf("survey", excelRow, "type", "unknown type %q", typ)
				continue
			}
			q.Type = Type(word)
		default:
			rd.errf("survey", excelRow, "type", "unknown type %q (supported: select_one LIST, select_multiple LIST, integer, decimal, text, date, note, begin_group, end_group)", typ)
			continue
		}
		switch {
		case name == "":
			rd.errf("survey", excelRow, "name", "empty")
			continue
		case !validName(name):
			rd.errf("survey", excelRow, "name", "%q must start with a letter or '_' and hold only letters, digits, '_', '.' or '-'", name)
			continue
		}
		if prev, dup := byName[name]; dup {
			rd.errf("survey", excelRow, "name", "duplicate name %q (first on row %d)", name, prev.Row)
			continue
		}
		byName[name] = q
		if q.Type != TypeGroup && q.Label.empty() {
			rd.errf("survey", excelRow, "label", "%q has no label", name)
		}
		switch req := strings.ToLower(t.get(row, "required")); req {
		case "yes", "true", "1", "true()":
			q.Required = true
		case "", "no", "false", "0", "false()":
		default:
			rd.errf("survey", excelRow, "required", "%q is not yes or no", t.get(row, "required"))
		}
		items = append(items, pending{q, t.get(row, "relevant"), t.get(row, "constraint")})
		f.Items = append(f.Items, q)
		if q.Type == TypeGroup {
			open = append(open, q)
		}
	}
	for _, g := range open {
		rd.errf("survey", g.Row, "type", "begin_group %q has no matching end_group", g.Name)
	}
	// Expressions last: they may refer to fields defined further down.
	for _, p := range items {
		if p.relevant != "" {
			p.q.Relevant = rd.expr(p.q, "relevant", p.relevant, byName, false)
		}
		if p.constraint != "" {
			if !p.q.Answerable() {
				rd.errf("survey", p.q.Row, "constraint", "a %s takes no answer to constrain", p.q.Type)
				continue
			}
			p.q.Constraint = rd.expr(p.q, "constraint", p.constraint, byName, true)
		}
	}
	if len(f.Questions()) == 0 && len(rd.errs) == 0 {
		rd.errf("survey", 0, "", "the form has no questions")
	}
}

func (rd *formReader) expr(q *Question, col, src string, byName map[string]*Question, selfOK bool) Expr {
	e, err := ParseExpr(src)
	if err != nil {
		rd.errf("survey", q.Row, col, "%q does not parse: %v", src, err)
		return nil
	}
	if !selfOK && usesSelf(e) {
		rd.errf("survey", q.Row, col, "%q uses '.', which only a constraint may (refer to fields as ${name})", src)
		return nil
	}
	for _, ref := range Refs(e) {
		target, ok := byName[ref]
		switch {
		case !ok:
			rd.errf("survey", q.Row, col, "%q refers to ${%s}, which is not a field of this form", src, ref)
			return nil
		case !target.Answerable():
			rd.errf("survey", q.Row, col, "%q refers to ${%s}, a %s, which has no value", src, ref, target.Type)
			return nil
		case col == "relevant" && target == q:
			rd.errf("survey", q.Row, col, "%q refers to the question itself", src)
			return nil
		}
	}
	return e
}
