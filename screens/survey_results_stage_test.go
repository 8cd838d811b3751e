package screens

import (
	"context"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/survey"
)

// chartStepLabels are the step names in front of the results page's bars.
func chartStepLabels(rs *resultsScreen) []string {
	var out []string
	walk(rs.body, func(o fyne.CanvasObject) {
		if row, ok := o.(*fyne.Container); ok && len(row.Objects) == 3 {
			if _, ok := row.Objects[1].(*fyne.Container); !ok {
				return
			}
			if bar, ok := row.Objects[1].(*fyne.Container).Layout.(stackedBar); ok && bar != nil {
				out = append(out, row.Objects[0].(*widget.Label).Text)
			}
		}
	})
	return out
}

// A kiosk answer given without a step shows under its form's step, and an
// answer to a form of no step under "no step", in the charts and the free
// texts: never as a raw form id.
func TestResultsNameAnswersWithoutAStep(t *testing.T) {
	for _, c := range []struct{ lang, entry, none string }{
		{"ja", "入場", "（ステップなし）"},
		{"en", "Entry", "(no step)"},
	} {
		t.Run(c.lang, func(t *testing.T) {
			s := newSurveyStore(t)
			ctx := context.Background()
			m := s.attendedMonitor(t)
			entry, err := s.survey.Latest(ctx, "ticket_entry")
			if err != nil {
				t.Fatal(err)
			}
			extra, _, err := s.survey.AddForm(ctx, xlsform(t, map[string][][]string{
				"survey": {{"type", "name", "label::Japanese (ja)", "label::English (en)"},
					{"select_one scale", "convenience", "使いやすさ", "Ease"}, {"text", "note", "ご意見", "Comments"}},
				"choices": {{"list_name", "name", "label::Japanese (ja)", "label::English (en)"},
					{"scale", "1", "悪い", "Bad"}, {"scale", "2", "やや悪い", "Poor"}, {"scale", "3", "普通", "Fair"},
					{"scale", "4", "良い", "Good"}, {"scale", "5", "とても良い", "Very good"}},
				"settings": {{"form_id", "version", "form_title"}, {"pilot_extra", "1", "追加調査"}},
			}))
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range []struct {
				ref     int64
				answers [][2]string
			}{
				{entry.Ref, [][2]string{{"convenience", "4"}, {"comment", "かざす場所が分かった"}}},
				{extra.Ref, [][2]string{{"convenience", "5"}, {"note", "説明が丁寧"}}},
			} {
				// The kiosk started with no step chosen.
				r, err := s.survey.Start(ctx, a.ref, survey.Subject{MonitorID: m.ID, Mode: "kiosk"})
				if err != nil {
					t.Fatal(err)
				}
				for _, qa := range a.answers {
					if err := s.survey.SaveAnswer(ctx, r.ID, qa[0], qa[1]); err != nil {
						t.Fatal(err)
					}
				}
			}
			w := newWindow(t)
			rs := newResultsScreen(w, ResultsDeps{Trials: s.trials, Survey: s.survey, Lang: c.lang})
			show(w, rs.content)
			if got := chartStepLabels(rs); !slices.Equal(got, []string{c.entry, c.none}) {
				t.Errorf("chart rows %q, want %q then %q", got, c.entry, c.none)
			}
			var texts []string
			walk(rs.body, func(o fyne.CanvasObject) {
				if l, ok := o.(*widget.Label); ok && strings.Contains(l.Text, " · "+m.ID+" · ") {
					texts = append(texts, l.Text)
				}
			})
			want := []string{c.entry + " · " + m.ID + " · comment: かざす場所が分かった", c.none + " · " + m.ID + " · note: 説明が丁寧"}
			slices.Sort(texts)
			slices.Sort(want)
			if !slices.Equal(texts, want) {
				t.Errorf("free texts %q, want %q", texts, want)
			}

			// The entry step filter keeps the answer the chart files under it.
			selectThen(rs.stageSel, survey.StageLabel("entry", c.lang))
			if rs.tallies.Responses != 1 || chartStepLabels(rs)[0] != c.entry {
				t.Errorf("entry step: %d responses, chart rows %q", rs.tallies.Responses, chartStepLabels(rs))
			}
		})
	}
}
