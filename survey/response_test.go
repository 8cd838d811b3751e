package survey_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"jpkipilot/survey"
	"jpkipilot/survey/internal/formgen"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// fixture inserts a field trial with its three step sessions and monitors
// (the trial service is another package; this is the schema it writes).
type fixture struct {
	trialID  int64
	sessions map[string]int64 // step → session id
}

func addFixture(t testing.TB, db *store.DB, monitors ...[3]string) fixture {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	fx := fixture{sessions: map[string]int64{}}
	if err := db.GetContext(ctx, &fx.trialID, db.Rebind(`INSERT INTO trials (name, kind, created_at) VALUES (?, 'field', ?) RETURNING id`), "チケットレス実証", now); err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"application", "purchase", "entry"} {
		var id int64
		if err := db.GetContext(ctx, &id, db.Rebind(`INSERT INTO sessions (trial_id, code, step, starts_on, capacity, target)
			VALUES (?, ?, ?, '2017-02-01', 30, 24) RETURNING id`), fx.trialID, "FIELD-"+strings.ToUpper(step), step); err != nil {
			t.Fatal(err)
		}
		fx.sessions[step] = id
	}
	steps := []string{"application", "purchase", "entry"}
	for i, m := range monitors { // id, name, status; sessions in turn
		if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO monitors (id, trial_id, session_id, name, contact, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), m[0], fx.trialID, fx.sessions[steps[i%3]], m[1], m[1]+"@example.jp", m[2], now, now); err != nil {
			t.Fatal(err)
		}
	}
	return fx
}

func addForm(t testing.TB, svc *survey.Service, s, c, st [][]string) survey.FormInfo {
	t.Helper()
	info, _, err := svc.AddForm(context.Background(), build(t.(*testing.T), s, c, st))
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestFormVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := survey.New(db)
		v3, added, err := svc.AddForm(ctx, build(t, goodSurvey(), goodChoices(), goodSettings()))
		if err != nil || !added {
			t.Fatalf("add: %v added=%v", err, added)
		}
		again, added, err := svc.AddForm(ctx, build(t, goodSurvey(), goodChoices(), goodSettings()))
		if err != nil || added || again.Ref != v3.Ref {
			t.Fatalf("re-add same content: %+v added=%v err=%v", again, added, err)
		}
		// The same questions in a workbook saved differently (sheets in
		// another order, a blank row) are the same version, not a conflict.
		resaved := goodSurvey()
		resaved = append(resaved[:2], append([][]string{{}}, resaved[2:]...)...)
		b, err := formgen.Workbook(formgen.Sheet{Name: "settings", Rows: goodSettings()},
			formgen.Sheet{Name: "choices", Rows: goodChoices()}, formgen.Sheet{Name: "survey", Rows: resaved})
		if err != nil {
			t.Fatal(err)
		}
		if again, added, err := svc.AddForm(ctx, b); err != nil || added || again.Ref != v3.Ref {
			t.Fatalf("re-saved workbook: %+v added=%v err=%v", again, added, err)
		}
		changed := goodSurvey()
		changed[2][2] = "使いやすさ"
		if _, _, err := svc.AddForm(ctx, build(t, changed, goodChoices(), goodSettings())); !errors.Is(err, survey.ErrVersionConflict) {
			t.Fatalf("same version, new content: %v", err)
		}
		st := goodSettings()
		st[1][1] = "4"
		v4, added, err := svc.AddForm(ctx, build(t, changed, goodChoices(), st))
		if err != nil || !added {
			t.Fatalf("new version: %v", err)
		}
		latest, err := svc.Latest(ctx, "t1")
		if err != nil || latest.Ref != v4.Ref {
			t.Fatalf("latest = %+v, %v", latest, err)
		}
		all, err := svc.Forms(ctx)
		if err != nil || len(all) != 2 {
			t.Fatalf("forms = %+v, %v", all, err)
		}
	})
}

// Answers saved one at a time are on disk: a store closed without
// completing and opened again resumes with every answer, under the form
// version it was started with.
func TestAnswersSurviveReopen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		addFixture(t, db, [3]string{"M-0001", "山田太郎", "attended"})
		svc := survey.New(db)
		v3 := addForm(t, svc, goodSurvey(), goodChoices(), goodSettings())
		r, err := svc.Start(ctx, v3.Ref, survey.Subject{MonitorID: "M-0001", Step: "entry"})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range [][2]string{{"conv", "2"}, {"why", "done where"}, {"days", "１２"}, {"comment", "かざす場所が分かりにくい"}} {
			if err := svc.SaveAnswer(ctx, r.ID, a[0], a[1]); err != nil {
				t.Fatalf("save %s: %v", a[0], err)
			}
		}
		// A newer version registered meanwhile does not change this response.
		st := goodSettings()
		st[1][1] = "4"
		addForm(t, svc, goodSurvey(), goodChoices(), st)
		where := db.Where
		db.Close()

		db2, err := store.Open(ctx, where)
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		svc2 := survey.New(db2)
		got, err := svc2.Resume(ctx, "M-0001", "t1")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != r.ID || got.FormVersion != "3" || got.Step != "entry" || got.CompletedAt != nil {
			t.Fatalf("resumed %+v", got)
		}
		want := map[string]string{"conv": "2", "why": "where done", "days": "12", "comment": "かざす場所が分かりにくい"}
		for k, v := range want {
			if got.Answers[k] != v {
				t.Errorf("answer %s = %q, want %q", k, got.Answers[k], v)
			}
		}
		if len(got.Answers) != len(want) {
			t.Errorf("answers = %v", got.Answers)
		}
		open, err := svc2.Unfinished(ctx)
		if err != nil || len(open) != 1 || open[0].ID != r.ID || open[0].MonitorID != "M-0001" {
			t.Fatalf("unfinished = %+v, %v", open, err)
		}
		if err := svc2.Complete(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if open, err := svc2.Unfinished(ctx); err != nil || len(open) != 0 {
			t.Fatalf("unfinished after completion = %+v, %v", open, err)
		}
		if _, err := svc2.Resume(ctx, "M-0001", "t1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("resume after completion: %v", err)
		}
		if err := svc2.SaveAnswer(ctx, r.ID, "conv", "5"); !errors.Is(err, survey.ErrCompleted) {
			t.Fatalf("answer after completion: %v", err)
		}
	})
}

func TestAnswerValidationAndSkipLogic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		addFixture(t, db, [3]string{"M-0001", "山田太郎", "attended"}, [3]string{"M-0002", "鈴木花子", "withdrawn"})
		svc := survey.New(db)
		v := addForm(t, svc, goodSurvey(), goodChoices(), goodSettings())
		if _, err := svc.Start(ctx, v.Ref, survey.Subject{MonitorID: "M-0002"}); err == nil || !strings.Contains(err.Error(), "withdrawn") {
			t.Fatalf("start for a withdrawn monitor: %v", err)
		}
		if _, err := svc.Start(ctx, v.Ref, survey.Subject{MonitorID: "M-9999"}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("start for an unknown monitor: %v", err)
		}
		r, err := svc.Start(ctx, v.Ref, survey.Subject{MonitorID: "M-0001"})
		if err != nil {
			t.Fatal(err)
		}
		refused := []struct{ q, v, msg string }{
			{"conv", "6", `"6" is not a choice of list scale`},
			{"why", "where nowhere", `"nowhere" is not a choice`},
			{"days", "1.5", "not a whole number"},
			{"fee", "abc", "not a number"},
			{"when", "2017/02/01", "not a date"},
			{"intro", "x", "not a question"},
			{"nosuch", "x", "not a question"},
			{"why", "where", "is not asked given the earlier answers"}, // conv unanswered
		}
		for _, c := range refused {
			err := svc.SaveAnswer(ctx, r.ID, c.q, c.v)
			var ae *survey.AnswerError
			if !errors.As(err, &ae) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("SaveAnswer(%s, %q) = %v, want %q", c.q, c.v, err, c.msg)
			}
		}
		must := func(q, v string) {
			t.Helper()
			if err := svc.SaveAnswer(ctx, r.ID, q, v); err != nil {
				t.Fatalf("SaveAnswer(%s, %q): %v", q, v, err)
			}
		}
		must("conv", "2")
		must("why", "where")
		must("days", "3")
		err = svc.SaveAnswer(ctx, r.ID, "days", "20")
		var ae *survey.AnswerError
		if !errors.As(err, &ae) || ae.Message.In("ja") != "0〜14" {
			t.Fatalf("constraint: %v", err)
		}
		// Required at completion only.
		must("conv", "")
		var me *survey.MissingError
		if err := svc.Complete(ctx, r.ID); !errors.As(err, &me) || strings.Join(me.Questions, ",") != "conv" {
			t.Fatalf("complete without conv: %v", err)
		}
		// Clearing conv hid `why` (${conv} <= 3) and the group holding
		// days (${conv} < 5): a comparison with an unanswered number is false.
		got, _ := svc.Response(ctx, r.ID)
		if len(got.Answers) != 0 {
			t.Errorf("answers kept after conv was cleared: %v", got.Answers)
		}
		must("conv", "2")
		must("why", "where done")
		must("days", "4")
		must("conv", "5") // hides why (conv <= 3) and the group holding days (conv < 5)
		got, _ = svc.Response(ctx, r.ID)
		if len(got.Answers) != 1 || got.Answers["conv"] != "5" {
			t.Fatalf("answers after conv=5: %v, want only conv", got.Answers)
		}
		if err := svc.Complete(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAddBundled(t *testing.T) {
	db := storetest.SQLite(t)
	svc := survey.New(db)
	ctx := context.Background()
	first, err := svc.AddBundled(ctx)
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.AddBundled(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 6 || len(again) != 6 || first[0].ID != "ticket_application" || first[0].Ref != again[0].Ref {
		t.Fatalf("bundled: %+v then %+v", first, again)
	}
}
