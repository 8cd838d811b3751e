package survey

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/text/width"

	"jpkipilot/trial/store"
)

// Subject is who answers and in which part of the trial.
type Subject struct {
	MonitorID string // pseudonymous id, M-0001 …
	TrialID   *int64
	SessionID *int64
	Step      string // trial.Step for ticket steps; free for other forms
	Mode      string // kiosk (default), paper or demo
}

// Response is one questionnaire filled in (or being filled in) by a monitor.
type Response struct {
	ID          int64      `db:"id"`
	FormRef     int64      `db:"form_ref"`
	FormID      string     `db:"form_id"`
	FormVersion string     `db:"version"`
	MonitorID   string     `db:"monitor_id"`
	TrialID     *int64     `db:"trial_id"`
	SessionID   *int64     `db:"session_id"`
	Step        string     `db:"step"`
	Mode        string     `db:"mode"`
	StartedAt   time.Time  `db:"started_at"`
	UpdatedAt   time.Time  `db:"updated_at"`
	CompletedAt *time.Time `db:"completed_at"`
	// Answers by question name; select_multiple as space-separated codes.
	Answers map[string]string `db:"-"`
}

// ErrCompleted refuses changes to a completed response.
var ErrCompleted = errors.New("the questionnaire is already completed")

// AnswerError is an answer refused by its question.
type AnswerError struct {
	Question string
	Msg      string
	// Message is the form's constraint_message, when the constraint failed.
	Message Text
}

func (e *AnswerError) Error() string {
	if m := e.Message.In("en"); m != "" {
		return fmt.Sprintf("question %s: %s (%s)", e.Question, e.Msg, m)
	}
	return fmt.Sprintf("question %s: %s", e.Question, e.Msg)
}

// MissingError lists required questions left unanswered at completion.
type MissingError struct{ Questions []string }

func (e *MissingError) Error() string {
	return "required questions are unanswered: " + strings.Join(e.Questions, ", ")
}

// Start opens a new response to registered form version ref.
func (s *Service) Start(ctx context.Context, ref int64, subj Subject) (*Response, error) {
	if _, err := s.Form(ctx, ref); err != nil {
		return nil, err
	}
	if subj.Mode == "" {
		subj.Mode = "kiosk"
	}
	var status string
	if err := s.DB.GetContext(ctx, &status, s.DB.Rebind(`SELECT status FROM monitors WHERE id = ?`), subj.MonitorID); err != nil {
		return nil, fmt.Errorf("survey: monitor %s: %w", subj.MonitorID, store.MapErr(err))
	}
	if status == "withdrawn" {
		return nil, fmt.Errorf("survey: monitor %s has withdrawn from the trial", subj.MonitorID)
	}
	now := s.Now()
	var id int64
	err := s.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		return tx.GetContext(ctx, &id, tx.Rebind(`INSERT INTO survey_responses
			(form_ref, monitor_id, trial_id, session_id, step, mode, started_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			ref, subj.MonitorID, subj.TrialID, subj.SessionID, subj.Step, subj.Mode, now, now)
	})
	if err != nil {
		return nil, fmt.Errorf("survey: start: %w", err)
	}
	return s.Response(ctx, id)
}

const responseCols = `r.id, r.form_ref, f.form_id, f.version, r.monitor_id, r.trial_id, r.session_id,
	r.step, r.mode, r.started_at, r.updated_at, r.completed_at`

// Response returns response id with its answers.
func (s *Service) Response(ctx context.Context, id int64) (*Response, error) {
	var r Response
	err := s.DB.GetContext(ctx, &r, s.DB.Rebind(`SELECT `+responseCols+`
		FROM survey_responses r JOIN survey_forms f ON f.id = r.form_ref WHERE r.id = ?`), id)
	if err != nil {
		return nil, fmt.Errorf("survey: response %d: %w", id, store.MapErr(err))
	}
	r.Answers, err = loadAnswers(ctx, s.DB, s.DB.Rebind, id)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// Resume returns the monitor's unfinished response to formID (any version),
// the newest if there are several; ErrNotFound when there is none.
func (s *Service) Resume(ctx context.Context, monitorID, formID string) (*Response, error) {
	var id int64
	err := s.DB.GetContext(ctx, &id, s.DB.Rebind(`SELECT r.id FROM survey_responses r
		JOIN survey_forms f ON f.id = r.form_ref
		WHERE r.monitor_id = ? AND f.form_id = ? AND r.completed_at IS NULL
		ORDER BY r.id DESC LIMIT 1`), monitorID, formID)
	if err != nil {
		return nil, fmt.Errorf("survey: resume %s for %s: %w", formID, monitorID, store.MapErr(err))
	}
	return s.Response(ctx, id)
}

// Unfinished lists the responses not yet completed, newest first, without
// their answers: what a kiosk reopened after a crash offers to resume.
func (s *Service) Unfinished(ctx context.Context) ([]Response, error) {
	var out []Response
	err := s.DB.SelectContext(ctx, &out, `SELECT `+responseCols+`
		FROM survey_responses r JOIN survey_forms f ON f.id = r.form_ref
		JOIN monitors m ON m.id = r.monitor_id
		WHERE r.completed_at IS NULL AND m.status <> 'withdrawn' ORDER BY r.updated_at DESC, r.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("survey: unfinished responses: %w", store.MapErr(err))
	}
	return out, nil
}

type queryer interface {
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

func loadAnswers(ctx context.Context, q queryer, rebind func(string) string, id int64) (map[string]string, error) {
	var rows []struct {
		Question string `db:"question"`
		Value    string `db:"value"`
	}
	if err := q.SelectContext(ctx, &rows, rebind(`SELECT question, value FROM survey_answers WHERE response_id = ?`), id); err != nil {
		return nil, fmt.Errorf("survey: answers of response %d: %w", id, store.MapErr(err))
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.Question] = r.Value
	}
	return out, nil
}

// SaveAnswer validates and stores one answer at once, in its own
// transaction, so that a crash loses nothing already answered. An empty
// value clears the answer. Answers to questions that the new answer hides
// (relevant no longer true) are cleared in the same transaction.
func (s *Service) SaveAnswer(ctx context.Context, responseID int64, question, value string) error {
	var ref int64
	if err := s.DB.GetContext(ctx, &ref, s.DB.Rebind(`SELECT form_ref FROM survey_responses WHERE id = ?`), responseID); err != nil {
		return fmt.Errorf("survey: response %d: %w", responseID, store.MapErr(err))
	}
	f, err := s.Form(ctx, ref)
	if err != nil {
		return err
	}
	q := f.Question(question)
	if q == nil || !q.Answerable() {
		return &AnswerError{Question: question, Msg: "not a question of form " + f.ID}
	}
	value, err = Canonical(q, value)
	if err != nil {
		return err
	}
	now := s.Now()
	return s.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		// On PostgreSQL the response is locked first, so two laptops
		// answering it at once take turns: each checks skip logic and
		// constraints against the other's committed answers.
		lock := ""
		if s.DB.Dialect == store.Postgres {
			lock = " FOR UPDATE"
		}
		var completed *time.Time
		if err := tx.GetContext(ctx, &completed, tx.Rebind(`SELECT completed_at FROM survey_responses WHERE id = ?`+lock), responseID); err != nil {
			return err
		}
		if completed != nil {
			return fmt.Errorf("survey: response %d: %w", responseID, ErrCompleted)
		}
		answers, err := loadAnswers(ctx, tx, tx.Rebind, responseID)
		if err != nil {
			return err
		}
		if value == "" {
			delete(answers, question)
		} else {
			answers[question] = value
			if !f.Relevant(q, answers) {
				return &AnswerError{Question: question, Msg: "is not asked given the earlier answers (relevant: " + relevantSrc(q) + ")"}
			}
			if q.Constraint != nil && !Truthy(q.Constraint, answerEnv{answers: answers, self: value}) {
				return &AnswerError{Question: question, Msg: fmt.Sprintf("%q fails the constraint %s", value, q.Constraint), Message: q.ConstraintMessage}
			}
		}
		if value == "" {
			_, err = tx.ExecContext(ctx, tx.Rebind(`DELETE FROM survey_answers WHERE response_id = ? AND question = ?`), responseID, question)
		} else {
			_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO survey_answers (response_id, question, value, answered_at)
				VALUES (?, ?, ?, ?) ON CONFLICT (response_id, question)
				DO UPDATE SET value = excluded.value, answered_at = excluded.answered_at`), responseID, question, value, now)
		}
		if err != nil {
			return err
		}
		for _, hidden := range hiddenAnswers(f, answers) {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM survey_answers WHERE response_id = ? AND question = ?`), responseID, hidden); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE survey_responses SET updated_at = ? WHERE id = ?`), now, responseID)
		return err
	})
}

func relevantSrc(q *Question) string {
	for x := q; x != nil; x = x.Group {
		if x.Relevant != nil {
			return x.Relevant.String()
		}
	}
	return ""
}

// hiddenAnswers removes from answers, and returns, the answers to questions
// no longer relevant; repeated because clearing one can hide another.
func hiddenAnswers(f *Form, answers map[string]string) []string {
	var out []string
	for changed := true; changed; {
		changed = false
		for _, q := range f.Questions() {
			if _, ok := answers[q.Name]; ok && !f.Relevant(q, answers) {
				delete(answers, q.Name)
				out = append(out, q.Name)
				changed = true
			}
		}
	}
	return out
}

// Complete marks the response finished once every relevant required
// question has an answer.
func (s *Service) Complete(ctx context.Context, responseID int64) error {
	r, err := s.Response(ctx, responseID)
	if err != nil {
		return err
	}
	if r.CompletedAt != nil {
		return nil
	}
	f, err := s.Form(ctx, r.FormRef)
	if err != nil {
		return err
	}
	if missing := MissingRequired(f, r.Answers); len(missing) > 0 {
		return &MissingError{Questions: missing}
	}
	now := s.Now()
	return s.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE survey_responses SET completed_at = ?, updated_at = ? WHERE id = ? AND completed_at IS NULL`), now, now, responseID)
		return err
	})
}

// MissingRequired lists the relevant required questions without an answer.
func MissingRequired(f *Form, answers map[string]string) []string {
	var out []string
	for _, q := range f.Questions() {
		if q.Required && answers[q.Name] == "" && f.Relevant(q, answers) {
			out = append(out, q.Name)
		}
	}
	return out
}

// Canonical checks value against q's type and returns the form it is stored
// in: numbers and dates with full-width digits narrowed, select_multiple
// codes de-duplicated in list order. "" means no answer.
func Canonical(q *Question, value string) (string, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return "", nil
	}
	bad := func(format string, a ...any) (string, error) {
		return "", &AnswerError{Question: q.Name, Msg: fmt.Sprintf(format, a...)}
	}
	switch q.Type {
	case TypeInteger:
		n, err := strconv.ParseInt(width.Narrow.String(v), 10, 64)
		if err != nil {
			return bad("%q is not a whole number", value)
		}
		return strconv.FormatInt(n, 10), nil
	case TypeDecimal:
		x, err := strconv.ParseFloat(width.Narrow.String(v), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return bad("%q is not a number", value)
		}
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case TypeDate:
		d, err := time.Parse("2006-01-02", width.Narrow.String(v))
		if err != nil {
			return bad("%q is not a date (YYYY-MM-DD)", value)
		}
		return d.Format("2006-01-02"), nil
	case TypeSelectOne:
		if _, ok := q.List.Choice(v); !ok {
			return bad("%q is not a choice of list %s", v, q.List.Name)
		}
		return v, nil
	case TypeSelectMultiple:
		picked := map[string]bool{}
		for _, c := range strings.Fields(v) {
			if _, ok := q.List.Choice(c); !ok {
				return bad("%q is not a choice of list %s", c, q.List.Name)
			}
			picked[c] = true
		}
		var codes []string
		for _, c := range q.List.Choices {
			if picked[c.Name] {
				codes = append(codes, c.Name)
			}
		}
		return strings.Join(codes, " "), nil
	case TypeText:
		return v, nil
	}
	return bad("a %s takes no answer", q.Type)
}
