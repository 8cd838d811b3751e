package survey

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/store"
)

// SeedDemo answers the bundled questionnaires for every demo monitor in the
// store who has attended (enrolled-only and withdrawn monitors are left
// out), so that results, charts and the export
// can be seen at once: field-trial monitors answer their step's form, loan
// monitors the lent-phone and bank-login forms, venue monitors the bank-login
// form, and everyone the overall form. The answers follow the seed's findings
// (not knowing where to hold the card or when reading finished, worry about
// PIN-less checks and losing the card). It is deterministic per monitor and
// skips forms a monitor has already answered, so running it again adds
// nothing. It returns the number of responses created.
func SeedDemo(ctx context.Context, db *store.DB) (int, error) {
	svc := New(db)
	infos, err := svc.AddBundled(ctx)
	if err != nil {
		return 0, err
	}
	forms := map[string]*Form{}
	refs := map[string]int64{}
	for _, info := range infos {
		f, err := svc.Form(ctx, info.Ref)
		if err != nil {
			return 0, err
		}
		forms[info.ID], refs[info.ID] = f, info.Ref
	}
	var monitors []struct {
		ID        string  `db:"id"`
		TrialID   int64   `db:"trial_id"`
		SessionID *int64  `db:"session_id"`
		Kind      string  `db:"kind"`
		Step      *string `db:"step"`
		StartsOn  *string `db:"starts_on"`
	}
	if err := db.SelectContext(ctx, &monitors, `SELECT m.id, m.trial_id, m.session_id, t.kind, s.step, s.starts_on
		FROM monitors m JOIN trials t ON t.id = m.trial_id LEFT JOIN sessions s ON s.id = m.session_id
		WHERE m.status IN ('attended', 'completed') ORDER BY m.id`); err != nil {
		return 0, fmt.Errorf("survey: demo: %w", store.MapErr(err))
	}
	var have []struct {
		Monitor string `db:"monitor_id"`
		FormID  string `db:"form_id"`
	}
	if err := db.SelectContext(ctx, &have, `SELECT DISTINCT r.monitor_id, f.form_id FROM survey_responses r JOIN survey_forms f ON f.id = r.form_ref`); err != nil {
		return 0, fmt.Errorf("survey: demo: %w", store.MapErr(err))
	}
	answered := map[[2]string]bool{}
	for _, h := range have {
		answered[[2]string{h.Monitor, h.FormID}] = true
	}
	jst := time.FixedZone("JST", 9*3600)
	created := 0
	err = db.Tx(ctx, func(tx *sqlx.Tx) error {
		for _, m := range monitors {
			step := ""
			if m.Step != nil {
				step = *m.Step
			}
			var ids []string
			switch m.Kind {
			case "field":
				switch step {
				case "application":
					ids = []string{"ticket_application"}
				case "purchase":
					ids = []string{"ticket_purchase"}
				case "entry":
					ids = []string{"ticket_entry"}
				}
			case "loan":
				ids = []string{"lent_phone", "bank_login"}
			case "venue":
				ids = []string{"bank_login"}
			}
			ids = append(ids, "overall")
			day := time.Date(2017, 2, 1, 10, 0, 0, 0, jst)
			if m.StartsOn != nil {
				if d, err := time.ParseInLocation("2006-01-02", *m.StartsOn, jst); err == nil {
					day = d.Add(10 * time.Hour)
				}
			}
			for i, id := range ids {
				f := forms[id]
				if f == nil || answered[[2]string{m.ID, id}] {
					continue
				}
				rng := demoRand(m.ID + "/" + id)
				started := day.Add(time.Duration(rng.IntN(6*60)+i*15) * time.Minute).UTC()
				answers, complete := demoAnswers(rng, f, stageOf(step, id), day)
				updated := started.Add(time.Duration(2+rng.IntN(6)) * time.Minute)
				var completed *time.Time
				if complete {
					completed = &updated
				}
				var rid int64
				respStep := step
				if id == "overall" || m.Kind != "field" {
					respStep = ""
				}
				if err := tx.GetContext(ctx, &rid, tx.Rebind(`INSERT INTO survey_responses
					(form_ref, monitor_id, trial_id, session_id, step, mode, started_at, updated_at, completed_at)
					VALUES (?, ?, ?, ?, ?, 'demo', ?, ?, ?) RETURNING id`),
					refs[id], m.ID, m.TrialID, m.SessionID, respStep, started, updated, completed); err != nil {
					return err
				}
				for _, q := range f.Questions() {
					v, ok := answers[q.Name]
					if !ok {
						continue
					}
					if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO survey_answers (response_id, question, value, answered_at)
						VALUES (?, ?, ?, ?)`), rid, q.Name, v, updated); err != nil {
						return err
					}
				}
				created++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("survey: demo: %w", err)
	}
	return created, nil
}

func demoRand(key string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(key))
	s := h.Sum64()
	return rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
}

// demoBase is the mean convenience per stage: entry by holding the card
// (PIN-less) was quick; application suffered from not knowing where to hold
// the card; paying at the register from not knowing when reading finished.
var demoBase = map[string]float64{
	"application": 3.5, "purchase": 3.3, "entry": 4.1, "bank_login": 3.8, "lent_phone": 3.6, "overall": 3.9,
}

var demoReasonP = map[string]float64{
	"where_to_hold": 0.45, "read_done": 0.35, "pinless_worry": 0.25, "card_loss": 0.3, "slow": 0.12, "other": 0.06,
}

var demoComments = []string{
	"カードをかざす場所がスマートフォンのどこなのか分かりにくかった。",
	"読み取りが終わったのか分からず、何度もかざし直した。音や振動で知らせてほしい。",
	"PINなしで入場できるのは早くて便利だが、何を確認しているのか説明があると安心できる。",
	"カードを持ち歩くと紛失が心配。スマートフォンだけで済むとよい。",
	"思っていたより簡単だった。",
	"ワンタイムパスワードより早くログインできた。",
	"レジでかざす位置の表示があると助かる。",
	"手帳型のケースだと読み取りにくかった。",
	"It was quicker than typing a password.",
	"",
}

func clamp5(x float64) int { return int(math.Max(1, math.Min(5, math.Round(x)))) }

// demoAnswers answers f in order, honouring relevant and constraints; about
// one in twelve is left unfinished part-way.
func demoAnswers(rng *rand.Rand, f *Form, stage string, day time.Time) (map[string]string, bool) {
	answers := map[string]string{}
	base, ok := demoBase[stage]
	if !ok {
		base = 3.7
	}
	conv := clamp5(base + rng.NormFloat64()*0.9)
	qs := f.Questions()
	stopAt := len(qs)
	complete := rng.IntN(12) != 0
	if !complete {
		stopAt = 1 + rng.IntN(max(1, len(qs)-1))
	}
	for i, q := range qs {
		if i >= stopAt {
			break
		}
		if !f.Relevant(q, answers) {
			continue
		}
		v := demoValue(rng, q, stage, conv, answers, day)
		if v == "" {
			continue
		}
		v, err := Canonical(q, v)
		if err != nil || q.Constraint != nil && !Truthy(q.Constraint, answerEnv{answers: answers, self: v}) {
			continue
		}
		answers[q.Name] = v
	}
	if complete && len(MissingRequired(f, answers)) > 0 {
		complete = false
	}
	return answers, complete
}

func demoValue(rng *rand.Rand, q *Question, stage string, conv int, answers map[string]string, day time.Time) string {
	switch q.Name {
	case "convenience":
		return strconv.Itoa(conv)
	case "otp_convenience":
		return strconv.Itoa(clamp5(3.1 + rng.NormFloat64()*0.9))
	case "willingness":
		return strconv.Itoa(clamp5(float64(conv) + 0.2 + rng.NormFloat64()*0.7))
	case "prefer", "safer":
		switch {
		case conv >= 4 && rng.Float64() < 0.75:
			return "card"
		case rng.Float64() < 0.5:
			return "otp"
		}
		return "either"
	case "entry_method":
		if rng.Float64() < 0.6 {
			return "card"
		}
		return "phone"
	case "reasons":
		var picked []string
		for _, c := range q.List.Choices {
			p := demoReasonP[c.Name]
			if c.Name == "pinless_worry" && (stage == "entry" || answers["entry_method"] == "card") {
				p = 0.45
			}
			if rng.Float64() < p {
				picked = append(picked, c.Name)
			}
		}
		if len(picked) == 0 {
			picked = []string{q.List.Choices[rng.IntN(min(4, len(q.List.Choices)))].Name}
		}
		return strings.Join(picked, " ")
	case "reasons_other":
		return "スマートフォンのケースを外す必要があった。"
	case "troubles":
		if rng.Float64() < 0.5 {
			return "none"
		}
		return q.List.Choices[rng.IntN(len(q.List.Choices)-1)].Name
	case "days_used":
		if rng.Float64() < 0.05 {
			return "0"
		}
		return strconv.Itoa(8 + rng.IntN(7))
	case "returned_on":
		return day.AddDate(0, 0, 14).Format("2006-01-02")
	case "fee_yen":
		return []string{"0", "0", "10", "20", "50", "100"}[rng.IntN(6)]
	case "comment":
		if rng.Float64() < 0.45 {
			return demoComments[rng.IntN(len(demoComments))]
		}
		return ""
	}
	switch q.Type {
	case TypeSelectOne:
		return q.List.Choices[rng.IntN(len(q.List.Choices))].Name
	case TypeSelectMultiple:
		return q.List.Choices[rng.IntN(len(q.List.Choices))].Name
	case TypeInteger:
		return strconv.Itoa(rng.IntN(10))
	case TypeDecimal:
		return strconv.Itoa(rng.IntN(100))
	case TypeDate:
		return day.Format("2006-01-02")
	}
	return ""
}
