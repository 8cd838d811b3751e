package survey_test

import (
	"context"
	"testing"

	"jpkipilot/survey"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// TestScanKeepsAnswersExact: the export reads each response's answers
// packed as one JSON object; text with quotes, backslashes, control
// characters, JSON-looking text and characters outside the BMP comes back
// exactly as it was saved, on both stores.
func TestScanKeepsAnswersExact(t *testing.T) {
	texts := []string{
		`"引用"と\バックスラッシュ\n（文字として）`,
		"改行\n二行目\tタブ\r復帰",
		"制御文字\x01\x1f\x7f",
		`{"convenience":"5"}`,
		"null",
		"絵文字😀と𠮷野家、\u2028行区切り",
		"<b>&amp;</b>",
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, fx := seeded(t, db)
		info, err := svc.Latest(ctx, "ticket_entry")
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64]string{}
		for _, text := range texts {
			r, err := svc.Start(ctx, info.Ref, survey.Subject{MonitorID: "M-0003", TrialID: &fx.trialID, Step: "entry"})
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.SaveAnswer(ctx, r.ID, "comment", text); err != nil {
				t.Fatal(err)
			}
			if err := svc.SaveAnswer(ctx, r.ID, "convenience", "2"); err != nil {
				t.Fatal(err)
			}
			want[r.ID] = text
		}
		free, err := svc.FreeTexts(ctx, survey.Filter{TrialID: &fx.trialID})
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]string{}
		for _, ft := range free {
			if _, ok := want[ft.ResponseID]; ok {
				got[ft.ResponseID] = ft.Text
			}
		}
		for id, w := range want {
			if got[id] != w {
				t.Errorf("response %d: text %q, saved %q", id, got[id], w)
			}
		}
		tl, err := svc.Tally(ctx, survey.Filter{TrialID: &fx.trialID, Step: "entry"})
		if err != nil {
			t.Fatal(err)
		}
		if n := tl.Stage("entry", "convenience").Counts[1]; n < len(texts) {
			t.Errorf("entry × convenience has %d answers of 2, want at least %d", n, len(texts))
		}
	})
}
