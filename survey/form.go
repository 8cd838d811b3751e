// Package survey is the trial's questionnaires: XLSForm definitions (read
// with excelize), a versioned forms registry in the store, responses saved
// answer by answer, tallies, and the analysts' Excel export. It imports no
// Fyne; the kiosk and results screens sit on top of it.
package survey

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Type is a question type of the supported XLSForm subset.
type Type string

const (
	TypeSelectOne      Type = "select_one"
	TypeSelectMultiple Type = "select_multiple"
	TypeInteger        Type = "integer"
	TypeDecimal        Type = "decimal"
	TypeText           Type = "text"
	TypeDate           Type = "date"
	TypeNote           Type = "note"
	TypeGroup          Type = "begin_group"
)

// Text is a label in several languages, keyed by language code ("ja", "en";
// "" for a plain `label` column).
type Text map[string]string

// In returns the text in lang, falling back to the plain column, then
// Japanese, then English, then any language.
func (t Text) In(lang string) string {
	for _, l := range []string{lang, "", "ja", "en"} {
		if s := t[l]; s != "" {
			return s
		}
	}
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if t[k] != "" {
			return t[k]
		}
	}
	return ""
}

func (t Text) empty() bool { return t.In("") == "" }

// Choice is one option of a choice list.
type Choice struct {
	Name  string // the code stored in answers
	Label Text
}

// List is a named choice list of the `choices` sheet.
type List struct {
	Name    string
	Choices []Choice
}

// Choice returns the choice with code name.
func (l *List) Choice(name string) (Choice, bool) {
	for _, c := range l.Choices {
		if c.Name == name {
			return c, true
		}
	}
	return Choice{}, false
}

// Numeric reports whether every code is a number (a rating scale), so that
// codes are exported as numbers and get a mean and median.
func (l *List) Numeric() bool {
	if len(l.Choices) == 0 {
		return false
	}
	for _, c := range l.Choices {
		if _, err := strconv.ParseFloat(c.Name, 64); err != nil {
			return false
		}
	}
	return true
}

// Scale5 reports whether the codes are exactly 1..5 (a five-point scale,
// which gets a top-2-box percentage).
func (l *List) Scale5() bool {
	if len(l.Choices) != 5 {
		return false
	}
	for i, c := range l.Choices {
		if c.Name != strconv.Itoa(i+1) {
			return false
		}
	}
	return true
}

// Question is one row of the `survey` sheet: a question, a note or a group.
type Question struct {
	Type     Type
	List     *List // select_one / select_multiple
	Name     string
	Label    Text
	Hint     Text
	Required bool
	// Relevant and Constraint are nil when the cell is empty.
	Relevant          Expr
	Constraint        Expr
	ConstraintMessage Text
	Group             *Question // enclosing group, nil at top level
	Row               int       // Excel row on the survey sheet
}

// Answerable reports whether the question takes an answer (not a note or group).
func (q *Question) Answerable() bool { return q.Type != TypeNote && q.Type != TypeGroup }

// IsScale5 reports a 1–5 rating question.
func (q *Question) IsScale5() bool { return q.Type == TypeSelectOne && q.List.Scale5() }

// Numeric reports whether answers are numbers (integer, decimal, or a
// select_one with numeric codes).
func (q *Question) Numeric() bool {
	return q.Type == TypeInteger || q.Type == TypeDecimal || q.Type == TypeSelectOne && q.List.Numeric()
}

// Form is a parsed, valid questionnaire.
type Form struct {
	ID      string // settings form_id
	Version string // settings version
	Title   string // settings form_title
	// Items are the survey rows in order: questions, notes and group
	// openings (group ends are implied by Question.Group).
	Items []*Question
	Lists map[string]*List
}

// Question returns the item called name.
func (f *Form) Question(name string) *Question {
	for _, q := range f.Items {
		if q.Name == name {
			return q
		}
	}
	return nil
}

// Questions returns the answerable questions in order.
func (f *Form) Questions() []*Question {
	var out []*Question
	for _, q := range f.Items {
		if q.Answerable() {
			out = append(out, q)
		}
	}
	return out
}

// Relevant reports whether q is shown given the answers: its own relevant
// expression and every enclosing group's hold.
func (f *Form) Relevant(q *Question, answers map[string]string) bool {
	env := answerEnv{answers: answers}
	for x := q; x != nil; x = x.Group {
		if x.Relevant != nil && !Truthy(x.Relevant, env) {
			return false
		}
	}
	return true
}

// Hash identifies the form's content (not its file bytes): two workbooks
// that define the same questions hash the same.
func (f *Form) Hash() string {
	type choiceDoc struct {
		Name  string
		Label Text
	}
	type itemDoc struct {
		Type, List, Name, Group        string
		Label, Hint, ConstraintMessage Text
		Required                       bool
		Relevant, Constraint           string
	}
	doc := struct {
		ID, Version, Title string
		Items              []itemDoc
		Lists              map[string][]choiceDoc
	}{ID: f.ID, Version: f.Version, Title: f.Title, Lists: map[string][]choiceDoc{}}
	for _, q := range f.Items {
		d := itemDoc{Type: string(q.Type), Name: q.Name, Label: q.Label, Hint: q.Hint,
			ConstraintMessage: q.ConstraintMessage, Required: q.Required}
		if q.List != nil {
			d.List = q.List.Name
		}
		if q.Group != nil {
			d.Group = q.Group.Name
		}
		if q.Relevant != nil {
			d.Relevant = q.Relevant.String()
		}
		if q.Constraint != nil {
			d.Constraint = q.Constraint.String()
		}
		doc.Items = append(doc.Items, d)
	}
	for n, l := range f.Lists {
		for _, c := range l.Choices {
			doc.Lists[n] = append(doc.Lists[n], choiceDoc{c.Name, c.Label})
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err) // plain strings and maps only
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

type answerEnv struct {
	answers map[string]string
	self    string
}

func (e answerEnv) Lookup(name string) string { return e.answers[name] }
func (e answerEnv) Self() string              { return e.self }

var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-]*$`)

// validName reports an XLSForm name: a letter or underscore, then letters,
// digits, underscores, dots or hyphens.
func validName(s string) bool { return nameRE.MatchString(s) }

// FormError is one problem of an XLSForm workbook.
type FormError struct {
	Sheet  string
	Row    int    // Excel row number (header = 1); 0 when the whole sheet is meant
	Column string // header name; "" when the whole row is meant
	Msg    string
}

func (e FormError) Error() string {
	var b strings.Builder
	b.WriteString("sheet " + e.Sheet)
	if e.Row > 0 {
		fmt.Fprintf(&b, ", row %d", e.Row)
	}
	if e.Column != "" {
		b.WriteString(", column " + e.Column)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// FormErrors is every problem found in a workbook, in sheet and row order.
type FormErrors []FormError

func (es FormErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}
