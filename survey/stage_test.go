package survey_test

import (
	"context"
	"slices"
	"testing"

	"jpkipilot/survey"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// stagelessAnswers stores, through the kiosk's calls, an entry-form answer
// given without a step (convenience 2), one given at the entry step
// (convenience 4) and an answer to a form of no step (the test form t1,
// conv 5).
func stagelessAnswers(t *testing.T, db *store.DB) *survey.Service {
	t.Helper()
	ctx := context.Background()
	fx := addFixture(t, db, demoMonitors[:3]...)
	svc := survey.New(db)
	if _, err := svc.AddBundled(ctx); err != nil {
		t.Fatal(err)
	}
	entry, err := svc.Latest(ctx, "ticket_entry")
	if err != nil {
		t.Fatal(err)
	}
	custom := addForm(t, svc, goodSurvey(), goodChoices(), goodSettings())
	for _, a := range []struct {
		ref             int64
		monitor, step   string
		question, value string
	}{
		{entry.Ref, "M-0001", "", "convenience", "2"},
		{entry.Ref, "M-0002", "entry", "convenience", "4"},
		{custom.Ref, "M-0003", "", "conv", "5"},
	} {
		r, err := svc.Start(ctx, a.ref, survey.Subject{MonitorID: a.monitor, TrialID: &fx.trialID, Step: a.step, Mode: "kiosk"})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.SaveAnswer(ctx, r.ID, a.question, a.value); err != nil {
			t.Fatal(err)
		}
	}
	return svc
}

// An answer given without a step is summarised under the step its form
// belongs to, and one to a form of no step under "no step": never under a
// raw form id such as ticket_entry.
func TestTallyFilesAnswersWithoutAStepUnderTheirFormsStep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := stagelessAnswers(t, db)
		all, err := svc.Tally(ctx, survey.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if st := all.Stage("entry", "convenience"); st == nil || st.N != 2 || st.Counts != [5]int{0, 1, 0, 1, 0} {
			t.Fatalf("entry × convenience %+v, want the answers with and without a step", st)
		}
		if st := all.Stage(survey.NoStage, "conv"); st == nil || st.N != 1 || st.Counts[4] != 1 {
			t.Fatalf("no step × conv %+v", st)
		}
		var stages []string
		for _, st := range all.Stages {
			stages = append(stages, st.Stage)
		}
		if slices.Contains(stages, "ticket_entry") || slices.Contains(stages, "t1") {
			t.Fatalf("stages %q name a form", stages)
		}
		if stages[len(stages)-1] != survey.NoStage {
			t.Errorf("stages %q: no step is not last", stages)
		}

		// The step filter shows what the summary files under the step.
		entry, err := svc.Tally(ctx, survey.Filter{Step: "entry"})
		if err != nil {
			t.Fatal(err)
		}
		if entry.Responses != 2 || entry.Var("convenience").N != 2 {
			t.Fatalf("entry step: %d responses, convenience n %d; want 2 and 2", entry.Responses, entry.Var("convenience").N)
		}
		// A form id still selects that form's answers given without a step.
		t1, err := svc.Tally(ctx, survey.Filter{Step: "t1"})
		if err != nil {
			t.Fatal(err)
		}
		if t1.Responses != 1 || t1.Var("conv").N != 1 {
			t.Fatalf("step t1: %d responses", t1.Responses)
		}
	})
}

func TestStageLabelNamesNoStage(t *testing.T) {
	for _, c := range []struct{ stage, lang, want string }{
		{"entry", "ja", "入場"},
		{"entry", "en", "Entry"},
		{survey.NoStage, "ja", "（ステップなし）"},
		{survey.NoStage, "en", "(no step)"},
		{"venue_b", "en", "venue_b"}, // a step typed on a paper form
	} {
		if got := survey.StageLabel(c.stage, c.lang); got != c.want {
			t.Errorf("StageLabel(%q, %s) = %q, want %q", c.stage, c.lang, got, c.want)
		}
	}
}

// The Summary and Charts sheets label the steps as the results page does.
func TestExportSummaryLabelsAnswersWithoutAStep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := stagelessAnswers(t, db)
		for _, c := range []struct{ lang, entry, none string }{
			{"ja", "入場", "（ステップなし）"},
			{"en", "Entry", "(no step)"},
		} {
			_, x := export(t, svc, survey.ExportOptions{Lang: c.lang})
			rows, err := x.GetRows(survey.SheetSummary)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][2]string{} // variable → step, step_label
			for _, row := range rows[1:] {
				got[row[2]] = [2]string{row[0], row[1]}
			}
			if got["convenience"] != [2]string{"entry", c.entry} || got["conv"] != [2]string{"", c.none} {
				t.Errorf("%s Summary: convenience %q, conv %q; want entry/%s and blank/%s", c.lang, got["convenience"], got["conv"], c.entry, c.none)
			}
			charts, err := x.GetRows(survey.SheetCharts)
			if err != nil {
				t.Fatal(err)
			}
			var steps []string
			for _, row := range charts {
				if len(row) > 0 {
					steps = append(steps, row[0])
				}
			}
			if !slices.Contains(steps, c.entry) || !slices.Contains(steps, c.none) || slices.Contains(steps, "ticket_entry") {
				t.Errorf("%s Charts sheet steps %q: want %s and %s, no form id", c.lang, steps, c.entry, c.none)
			}
		}
	})
}
