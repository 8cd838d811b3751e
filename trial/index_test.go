package trial_test

import (
	"testing"
	"time"

	"jpkipilot/trial"
)

func TestIndexFilter(t *testing.T) {
	s1, s2 := int64(1), int64(2)
	ms := []trial.Monitor{
		{ID: "M-0001", TrialID: 1, SessionID: &s1, Name: "山田 太郎", Kana: "ヤマダ タロウ", Status: trial.StatusEnrolled},
		{ID: "M-0002", TrialID: 1, SessionID: &s2, Name: "山本 花子", Kana: "ヤマモト ハナコ", Status: trial.StatusAttended},
		{ID: "M-0003", TrialID: 2, Name: "John Smith", Kana: "ジョン スミス", Status: trial.StatusEnrolled},
		{ID: "M-0012", TrialID: 2, Name: "佐藤 一郎", Kana: "サトウ イチロウ", Status: trial.StatusCompleted},
	}
	ix := trial.NewIndex(ms)
	ids := func(f trial.Filter) string {
		var out string
		for _, i := range ix.Filter(f) {
			out += ix.At(i).ID + " "
		}
		return out
	}
	cases := []struct {
		f    trial.Filter
		want string
	}{
		{trial.Filter{}, "M-0001 M-0002 M-0003 M-0012 "},
		{trial.Filter{Query: "やま"}, "M-0001 M-0002 "},
		{trial.Filter{Query: "ﾔﾏﾀﾞ"}, "M-0001 "},
		{trial.Filter{Query: "山田太郎"}, "M-0001 "},
		{trial.Filter{Query: "JOHN"}, "M-0003 "},
		{trial.Filter{Query: "ｍ－００１２"}, "M-0012 "},
		{trial.Filter{Query: "12"}, "M-0012 "},
		{trial.Filter{Query: "0001山田"}, ""}, // a match never straddles two fields (id, name)
		{trial.Filter{TrialID: 2}, "M-0003 M-0012 "},
		{trial.Filter{SessionID: 2}, "M-0002 "},
		{trial.Filter{Status: trial.StatusEnrolled, Query: "ジョン"}, "M-0003 "},
		{trial.Filter{Status: trial.StatusWithdrawn}, ""},
	}
	for _, c := range cases {
		if got := ids(c.f); got != c.want {
			t.Errorf("Filter(%+v) = %q, want %q", c.f, got, c.want)
		}
	}
	// After a withdrawal the erased name no longer matches; a new monitor does.
	at := time.Now()
	ix.Put(trial.Monitor{ID: "M-0001", TrialID: 1, SessionID: &s1, Status: trial.StatusWithdrawn, WithdrawnAt: &at})
	ix.Put(trial.Monitor{ID: "M-0013", TrialID: 1, Name: "山田 次郎", Kana: "ヤマダ ジロウ", Status: trial.StatusEnrolled})
	if got := ids(trial.Filter{Query: "やまだ"}); got != "M-0013 " {
		t.Errorf("after Put: %q", got)
	}
	if got := ids(trial.Filter{Status: trial.StatusWithdrawn}); got != "M-0001 " || ix.Len() != 5 {
		t.Errorf("withdrawn after Put: %q, len %d", got, ix.Len())
	}
	// The index copied its input: the caller's slice is untouched.
	if ms[0].Name != "山田 太郎" {
		t.Fatal("NewIndex changed the caller's slice")
	}
}
