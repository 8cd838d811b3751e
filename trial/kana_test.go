package trial_test

import (
	"errors"
	"strings"
	"testing"

	"jpkipilot/trial"
)

func TestNormalizeKana(t *testing.T) {
	good := []struct{ in, want string }{
		{"ヤマダ タロウ", "ヤマダ タロウ"},
		{"やまだ　たろう", "ヤマダ タロウ"},        // hiragana and the ideographic space
		{"ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ"},       // half-width, voicing mark composed
		{"  ｻﾄｳ   ｲﾁﾛｳ ", "サトウ イチロウ"}, // spaces collapsed and trimmed
		{"スズキ・ジョージ", "スズキ・ジョージ"},
		{"ゔぁいおりん", "ヴァイオリン"},
		{"ヰヱヲヵヶ", "ヰヱヲヵヶ"},
	}
	for _, c := range good {
		got, err := trial.NormalizeKana(c.in)
		if err != nil || got != c.want {
			t.Errorf("NormalizeKana(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"Yamada", "山田", "ヤマダ1", "ヤマダ-タロウ", "ヤマダ（タロウ）", "ｙａｍａｄａ"} {
		if _, err := trial.NormalizeKana(in); err == nil {
			t.Errorf("NormalizeKana(%q) accepted", in)
		} else if !strings.Contains(err.Error(), "katakana") {
			t.Errorf("NormalizeKana(%q) error %q does not say katakana", in, err)
		}
	}
}

func TestSearchKeyFoldsWidthKanaCaseAndSpaces(t *testing.T) {
	groups := [][]string{
		{"ヤマダ タロウ", "やまだたろう", "ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ　タロウ"},
		{"M-0012", "m-0012", "ｍ－００１２"},
		{"山田 太郎", "山田　太郎", "山田太郎"},
	}
	for _, g := range groups {
		want := trial.SearchKey(g[0])
		for _, s := range g[1:] {
			if got := trial.SearchKey(s); got != want {
				t.Errorf("SearchKey(%q) = %q, want %q (as for %q)", s, got, want, g[0])
			}
		}
	}
	if trial.SearchKey("ヤマダ") == trial.SearchKey("ヤマモト") {
		t.Fatal("different names fold together")
	}
}

func TestParseMonitorID(t *testing.T) {
	for in, want := range map[string]int64{"M-0012": 12, "m-12": 12, "Ｍ－００１２": 12, "M0003": 3, "M-10000": 10000} {
		n, ok := trial.ParseMonitorID(in)
		if !ok || n != want {
			t.Errorf("ParseMonitorID(%q) = %d, %v; want %d", in, n, ok, want)
		}
	}
	for _, in := range []string{"", "12", "M-", "M-0", "X-0001", "M-12a", "M--1"} {
		if _, ok := trial.ParseMonitorID(in); ok {
			t.Errorf("ParseMonitorID(%q) accepted", in)
		}
	}
	if trial.FormatMonitorID(7) != "M-0007" || trial.FormatMonitorID(12345) != "M-12345" {
		t.Fatal("FormatMonitorID")
	}
}

func TestNormalizeAgeBand(t *testing.T) {
	for in, want := range map[string]string{"20代": "20s", "２０代": "20s", "30s": "30s", "70歳以上": "70+",
		"70代以上": "70+", "80代": "70+", "70+": "70+", "10代": "10s", "": ""} {
		if got := trial.NormalizeAgeBand(in); got != want {
			t.Errorf("NormalizeAgeBand(%q) = %q, want %q", in, got, want)
		}
	}
	if got := trial.NormalizeAgeBand("teen"); trial.KnownAgeBand(got) {
		t.Errorf("NormalizeAgeBand(teen) = %q, a known band", got)
	}
}

func fieldsOf(t *testing.T, err error) trial.FieldErrors {
	t.Helper()
	var fe trial.FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not FieldErrors", err)
	}
	return fe
}

func TestTrialValidate(t *testing.T) {
	ok := trial.Trial{Name: "会場実証", Kind: trial.KindVenue, LoanDays: 14}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := trial.Trial{Name: "  ", Kind: "bank", LoanDays: 91}
	fe := fieldsOf(t, bad.Validate())
	for _, f := range []string{"name", "kind", "loan_days"} {
		if !fe.Has(f) {
			t.Errorf("%v does not name %s", fe, f)
		}
	}
	bad = trial.Trial{Name: "x", Kind: trial.KindLoan, LoanDays: 0}
	if fe := fieldsOf(t, bad.Validate()); !fe.Has("loan_days") {
		t.Errorf("loan days 0 accepted: %v", fe)
	}
}

func TestSessionValidate(t *testing.T) {
	se := trial.Session{Code: "FIELD-ENTRY", Step: trial.StepEntry, StartsOn: "2017-03-11", Capacity: 30, Target: 22}
	if err := se.Validate(trial.KindField); err != nil {
		t.Fatal(err)
	}
	if fe := fieldsOf(t, se.Validate(trial.KindVenue)); !fe.Has("step") {
		t.Errorf("venue session with a step accepted: %v", fe)
	}
	se.Step = ""
	if fe := fieldsOf(t, se.Validate(trial.KindField)); !fe.Has("step") {
		t.Errorf("field session without a step accepted: %v", fe)
	}
	bad := trial.Session{Code: "A B", StartsOn: "2017-02-30", Capacity: -1, Target: -2}
	fe := fieldsOf(t, bad.Validate(trial.KindLoan))
	for _, f := range []string{"code", "starts_on", "capacity", "target"} {
		if !fe.Has(f) {
			t.Errorf("%v does not name %s", fe, f)
		}
	}
	for _, d := range []string{"2017-3-11", "17-03-11", "2017/03/11", "2017-13-01", ""} {
		if trial.ValidDate(d) {
			t.Errorf("ValidDate(%q)", d)
		}
	}
}

func TestMonitorValidate(t *testing.T) {
	m := trial.Monitor{TrialID: 1, Name: "山田 花子", Kana: "やまだ はなこ", AgeBand: "40代", Status: trial.StatusEnrolled}
	m.Normalize()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if m.Kana != "ヤマダ ハナコ" || m.AgeBand != "40s" {
		t.Fatalf("normalised to kana %q age %q", m.Kana, m.AgeBand)
	}
	bad := trial.Monitor{TrialID: 1, Kana: "Yamada", AgeBand: "teen", Status: "lost",
		Consent: trial.Consent{FormVersion: "v1", SignedOn: "2017/01/01"}}
	bad.Normalize()
	fe := fieldsOf(t, bad.Validate())
	for _, f := range []string{"name", "kana", "age_band", "status", "consent_signed_on"} {
		if !fe.Has(f) {
			t.Errorf("%v does not name %s", fe, f)
		}
	}
	w := trial.Monitor{TrialID: 1, Status: trial.StatusWithdrawn, Name: "山田"}
	if fe := fieldsOf(t, w.Validate()); !fe.Has("name") {
		t.Errorf("withdrawn monitor with a name accepted: %v", fe)
	}
}
