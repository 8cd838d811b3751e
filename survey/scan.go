package survey

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"jpkipilot/trial/pii"
	"jpkipilot/trial/store"
)

// Filter selects the responses that tallies and exports cover. Responses of
// monitors who withdrew are always left out.
type Filter struct {
	TrialID   *int64
	SessionID *int64
	// Step is a trial step (the answers given without a step to its forms
	// included) or a form id (the form's answers given without a step).
	Step         string
	FormID       string
	CompleteOnly bool
}

func (f Filter) where() (string, []any) {
	conds := []string{"m.status <> 'withdrawn'"}
	var args []any
	if f.TrialID != nil {
		conds, args = append(conds, "r.trial_id = ?"), append(args, *f.TrialID)
	}
	if f.SessionID != nil {
		conds, args = append(conds, "r.session_id = ?"), append(args, *f.SessionID)
	}
	if f.Step != "" {
		// A response given without a step counts under its form's step
		// (as stageOf files it), or under its form id for other forms.
		ids := append([]string{f.Step}, stepForms(f.Step)...)
		conds = append(conds, "(r.step = ? OR (r.step = '' AND fm.form_id IN (?"+strings.Repeat(", ?", len(ids)-1)+")))")
		args = append(args, f.Step)
		for _, id := range ids {
			args = append(args, id)
		}
	}
	if f.FormID != "" {
		conds, args = append(conds, "fm.form_id = ?"), append(args, f.FormID)
	}
	if f.CompleteOnly {
		conds = append(conds, "r.completed_at IS NOT NULL")
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Describe says in words what the filter selects (for the README sheet).
func (f Filter) Describe() string {
	var parts []string
	if f.TrialID != nil {
		parts = append(parts, fmt.Sprintf("trial %d", *f.TrialID))
	}
	if f.SessionID != nil {
		parts = append(parts, fmt.Sprintf("session %d", *f.SessionID))
	}
	if f.Step != "" {
		parts = append(parts, "step "+f.Step)
	}
	if f.FormID != "" {
		parts = append(parts, "form "+f.FormID)
	}
	if f.CompleteOnly {
		parts = append(parts, "completed responses only")
	}
	if len(parts) == 0 {
		return "all responses"
	}
	return strings.Join(parts, ", ")
}

// formSteps are the steps the bundled forms belong to: a response to one
// of them given without a step (a kiosk started with no step chosen) is
// summarised under the form's step.
var formSteps = map[string]string{
	"ticket_application": "application",
	"ticket_purchase":    "purchase",
	"ticket_entry":       "entry",
	"bank_login":         "bank_login",
	"lent_phone":         "lent_phone",
	"overall":            "overall",
}

// stepForms are the ids of the forms that belong to step.
func stepForms(step string) []string {
	var out []string
	for id, s := range formSteps {
		if s == step {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// NoStage is the stage of a response given without a step to a form that
// belongs to none: summarised together, labelled "no step".
const NoStage = ""

// stageOf is what a response is summarised under: its trial step, else
// the step its form belongs to, else NoStage.
func stageOf(step, formID string) string {
	if step != "" {
		return step
	}
	return formSteps[formID]
}

var stageLabels = map[string][2]string{
	"application": {"申込", "Application"},
	"purchase":    {"購入", "Purchase"},
	"entry":       {"入場", "Entry"},
	"bank_login":  {"銀行ログイン", "Bank login"},
	"lent_phone":  {"貸出スマートフォン", "Lent phone"},
	"overall":     {"全体", "Overall"},
	NoStage:       {"（ステップなし）", "(no step)"},
}

// StageLabel names a stage in lang ("ja" or "en"); a step of no known
// name (typed on a paper form) is shown as it is.
func StageLabel(stage, lang string) string {
	if l, ok := stageLabels[stage]; ok {
		if lang == "en" {
			return l[1]
		}
		return l[0]
	}
	return stage
}

// stageRank orders stages: the trial's steps in order, then steps of no
// known name, then NoStage.
func stageRank(stage string) int {
	if stage == NoStage {
		return 101
	}
	for i, s := range []string{"application", "purchase", "entry", "bank_login", "lent_phone", "overall"} {
		if s == stage {
			return i
		}
	}
	return 100
}

func sortStages(ss []string) {
	sort.Slice(ss, func(i, j int) bool {
		ri, rj := stageRank(ss[i]), stageRank(ss[j])
		if ri != rj {
			return ri < rj
		}
		return ss[i] < ss[j]
	})
}

// Variable is one analysis variable: a question, merged across the forms
// and versions that ask it the same way (same name, type and codes).
type Variable struct {
	Name     string    // column header: the question name, or name__formid on a clash
	Question *Question // from the newest form version that asks it
	FormIDs  []string
	byRef    map[int64]*Question
	forms    map[int64]string // form ref → form id
}

// Labels returns the distinct labels the forms give the variable in lang,
// newest version first.
func (v *Variable) Labels(lang string) []string {
	var out []string
	for _, id := range v.FormIDs {
		for _, q := range v.questionsOf(id) {
			if l := q.Label.In(lang); !contains(out, l) {
				out = append(out, l)
			}
		}
	}
	return out
}

func (v *Variable) questionsOf(formID string) []*Question {
	var refs []int64
	for ref := range v.byRef {
		refs = append(refs, ref)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i] > refs[j] })
	var out []*Question
	for _, ref := range refs {
		if v.forms[ref] == formID {
			out = append(out, v.byRef[ref])
		}
	}
	return out
}

// Header is the variable's column title on Data_Labels: its label, or its
// name when the forms word it differently.
func (v *Variable) Header(lang string) string {
	if ls := v.Labels(lang); len(ls) == 1 {
		return ls[0]
	}
	return v.Name
}

// layout is the variables of a set of form versions, in order.
type layout struct {
	vars  []*Variable
	refs  map[int64]*formRef
	forms []*formRef // in display order
}

type formRef struct {
	info FormInfo
	form *Form
	vars []*Variable // the variables this version fills, with its question
	n    int         // responses in the export
}

func compatible(a, b *Question) bool {
	if a.Type != b.Type {
		return false
	}
	if a.List == nil || b.List == nil {
		return a.List == nil && b.List == nil
	}
	if len(a.List.Choices) != len(b.List.Choices) {
		return false
	}
	for i := range a.List.Choices {
		if a.List.Choices[i].Name != b.List.Choices[i].Name {
			return false
		}
	}
	return true
}

// buildLayout merges the questions of the given form versions into variables.
func buildLayout(refs []*formRef) *layout {
	sort.Slice(refs, func(i, j int) bool {
		a, b := refs[i].info, refs[j].info
		if ra, rb := bundledRank(a.ID), bundledRank(b.ID); ra != rb {
			return ra < rb
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Ref > b.Ref // newest version first: its labels win
	})
	l := &layout{refs: map[int64]*formRef{}, forms: refs}
	byName := map[string]*Variable{}
	for _, fr := range refs {
		l.refs[fr.info.Ref] = fr
		for _, q := range fr.form.Questions() {
			var v *Variable
			for _, name := range []string{q.Name, q.Name + "__" + fr.info.ID, q.Name + "__" + fr.info.ID + "_v" + fr.info.Version} {
				cand, ok := byName[name]
				if !ok {
					v = &Variable{Name: name, Question: q, byRef: map[int64]*Question{}, forms: map[int64]string{}}
					byName[name] = v
					l.vars = append(l.vars, v)
					break
				}
				if compatible(cand.Question, q) {
					v = cand
					break
				}
			}
			v.byRef[fr.info.Ref] = q
			v.forms[fr.info.Ref] = fr.info.ID
			if !contains(v.FormIDs, fr.info.ID) {
				v.FormIDs = append(v.FormIDs, fr.info.ID)
			}
			fr.vars = append(fr.vars, v)
		}
	}
	return l
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// scanRow is one response as the scan hands it out.
type scanRow struct {
	ID          int64
	Ref         *formRef
	MonitorID   string
	TrialID     sql.NullInt64
	SessionID   sql.NullInt64
	Step        string
	Mode        string
	StartedAt   time.Time
	CompletedAt sql.NullTime
	Name, Kana  string
	Answers     map[string]string // by question name of Ref's form
}

func (r *scanRow) stage() string { return stageOf(r.Step, r.Ref.info.ID) }

// reader is what the scan reads with: the store, or a read-only snapshot
// transaction on PostgreSQL.
type reader interface {
	Rebind(string) string
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// snapshot runs fn on one consistent view of the responses. On PostgreSQL,
// where other laptops save answers during an export, that is a read-only
// repeatable-read transaction, so that counts, rows and answers agree. On
// SQLite the store itself (a transaction there takes the write lock and
// would hold up the kiosk); its scan tolerates rows added meanwhile.
func (s *Service) snapshot(ctx context.Context, fn func(rd reader) error) error {
	if s.DB.Dialect != store.Postgres {
		return fn(s.DB)
	}
	tx, err := s.DB.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("survey: %w", err)
	}
	defer tx.Rollback()
	// The scan's plan (a subquery per response) is costed high enough for
	// PostgreSQL to JIT-compile it, which took over a second of a
	// 100,000-response export and saves nothing on a plan this simple.
	if _, err := tx.ExecContext(ctx, "SET LOCAL jit = off"); err != nil {
		return fmt.Errorf("survey: %w", store.MapErr(err))
	}
	return fn(tx)
}

// prepare loads the form versions used by the filtered responses and
// counts the responses.
func (s *Service) prepare(ctx context.Context, rd reader, f Filter) (*layout, int, error) {
	where, args := f.where()
	var rows []struct {
		Ref int64 `db:"form_ref"`
		N   int   `db:"n"`
	}
	q := `SELECT r.form_ref, COUNT(*) AS n FROM survey_responses r
		JOIN survey_forms fm ON fm.id = r.form_ref JOIN monitors m ON m.id = r.monitor_id` + where + ` GROUP BY r.form_ref`
	if err := rd.SelectContext(ctx, &rows, rd.Rebind(q), args...); err != nil {
		return nil, 0, fmt.Errorf("survey: %w", store.MapErr(err))
	}
	var refs []*formRef
	total := 0
	for _, r := range rows {
		info, err := s.FormInfo(ctx, r.Ref)
		if err != nil {
			return nil, 0, err
		}
		form, err := s.Form(ctx, r.Ref)
		if err != nil {
			return nil, 0, err
		}
		refs = append(refs, &formRef{info: info, form: form, n: r.N})
		total += r.N
	}
	return buildLayout(refs), total, nil
}

// scan calls fn for every filtered response in id order, with its answers,
// read in one query (one consistent read on SQLite too). The answers come
// as the one JSON object per response that the store's triggers keep
// (survey_responses.answers, migration 0210): reading 100,000 of these
// instead of 4,000,000 answer rows, or aggregating those in the query, is
// what makes a big export fast. fn must not use
// the store: on SQLite its one connection is busy with the scan.
//
// identified adds the monitors' names, opened with key: a sealed name
// without the key (pii.ErrLocked) or that does not open under it
// (pii.ErrTampered) stops the scan; ciphertext is never handed out.
//
// spare, if not nil, hands back answer maps that fn's consumers are done
// with; the scan reuses them instead of making a new one per response.
func (s *Service) scan(ctx context.Context, rd reader, f Filter, l *layout, identified bool, key *pii.Key, spare <-chan map[string]string, fn func(*scanRow) error) error {
	where, args := f.where()
	names := "'' AS name, '' AS kana"
	if identified {
		names = "m.name, m.kana"
	}
	rows, err := rd.QueryContext(ctx, rd.Rebind(`SELECT r.id, r.form_ref, r.monitor_id, r.trial_id, r.session_id, r.step, r.mode,
		r.started_at, r.completed_at, `+names+`, r.answers
		FROM survey_responses r JOIN survey_forms fm ON fm.id = r.form_ref JOIN monitors m ON m.id = r.monitor_id`+where+` ORDER BY r.id`), args...)
	if err != nil {
		return fmt.Errorf("survey: %w", store.MapErr(err))
	}
	defer rows.Close()
	size := 8
	opened := map[string][2]string{} // monitor id → name and kana
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		var (
			r       scanRow
			ref     int64
			answers sql.NullString
		)
		if err := rows.Scan(&r.ID, &ref, &r.MonitorID, &r.TrialID, &r.SessionID, &r.Step, &r.Mode, &r.StartedAt, &r.CompletedAt,
			&r.Name, &r.Kana, &answers); err != nil {
			return fmt.Errorf("survey: %w", err)
		}
		if r.Ref = l.refs[ref]; r.Ref == nil { // registered after prepare
			continue
		}
		if identified {
			n, ok := opened[r.MonitorID]
			if !ok {
				if n, err = openNames(key, r.MonitorID, r.Name, r.Kana); err != nil {
					return err
				}
				opened[r.MonitorID] = n
			}
			r.Name, r.Kana = n[0], n[1]
		}
		select {
		case r.Answers = <-spare: // a nil spare never is ready
			clear(r.Answers)
		default:
			r.Answers = make(map[string]string, size)
		}
		if answers.Valid {
			if err := decodeAnswers(answers.String, r.Answers); err != nil {
				return fmt.Errorf("survey: answers of response %d: %w", r.ID, err)
			}
		}
		size = max(size, len(r.Answers))
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("survey: %w", store.MapErr(err))
	}
	return nil
}

// openNames opens a monitor's stored name and kana (sealed or, on a store
// from before sealing, in the clear).
func openNames(key *pii.Key, monitorID, name, kana string) ([2]string, error) {
	var out [2]string
	for i, v := range []struct{ field, stored string }{{"monitors.name", name}, {"monitors.kana", kana}} {
		pt, err := key.Open(v.field, monitorID, v.stored)
		if err != nil {
			return out, fmt.Errorf("survey: identified export: the name of monitor %s: %w", monitorID, err)
		}
		out[i] = pt
	}
	return out, nil
}
