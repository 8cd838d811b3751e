package screens

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"

	"jpkipilot/trial"
)

// Every reason code of the trial package has a text in Japanese and in
// English, and the text shows each value a reason of that code names (and
// none it does not). trial's TestEveryReasonSiteGivesACodeConstant holds
// the package's sources to trial.ReasonCodes.
func TestEveryTrialReasonIsTranslated(t *testing.T) {
	t.Cleanup(func() { _ = LoadTranslations("ja") })
	if len(trial.ReasonCodes) < 40 {
		t.Fatalf("trial.ReasonCodes holds only %d codes", len(trial.ReasonCodes))
	}
	for _, language := range Languages {
		if err := LoadTranslations(language); err != nil {
			t.Fatal(err)
		}
		for code, n := range trial.ReasonCodes {
			args := make([]string, n)
			for i := range args {
				args[i] = fmt.Sprintf("«%c%d»", 'A'+i, 4711+i)
			}
			english := "untranslated " + string(code)
			got := reasonText(code, args, english)
			if got == english {
				t.Errorf("%s.json: reason %q has no text (%s)", language, code, trialReasonKey(code))
				continue
			}
			for _, a := range args {
				if !strings.Contains(got, a) {
					t.Errorf("%s: %s = %q lacks the value %s", language, trialReasonKey(code), got, a)
				}
			}
			if strings.Contains(got, "<no value>") {
				t.Errorf("%s: %s = %q shows a value reasons of %q do not give (%d given)", language, trialReasonKey(code), got, code, n)
			}
			if language == "ja" && !hasJapanese(got) {
				t.Errorf("ja: %s = %q is not Japanese", trialReasonKey(code), got)
			}
		}
	}
}

// No reason.* text is left over from a code the trial package dropped.
func TestEveryReasonTextHasACode(t *testing.T) {
	for _, file := range []string{"ja.json", "en.json"} {
		for k := range loadJSON(t, file) {
			code, ok := strings.CutPrefix(k, "reason.")
			if !ok {
				continue
			}
			if _, known := trial.ReasonCodes[trial.ReasonCode(code)]; !known {
				t.Errorf("%s: %s is the text of no trial.ReasonCode", file, k)
			}
		}
	}
}

// Reasons the trial package really gives read in Japanese with their
// values as the English writes them, quotes included; one without a code
// shows as it is.
func TestTrialReasonsInJapanese(t *testing.T) {
	if err := LoadTranslations("ja"); err != nil {
		t.Fatal(err)
	}
	m := trial.Monitor{TrialID: 1, Name: "山田 太郎", Kana: "やまだ x", AgeBand: "teen", Status: trial.StatusEnrolled}
	got := errorText(m.Validate())
	want := "よみがな: カタカナで入力してください（ひらがなは自動で変換されます）。使えない文字: 'x'\n" +
		"年代: 年代 \"teen\" は使えません（" + strings.Join(trial.AgeBands, ", ") + " のいずれか）"
	if got != want {
		t.Errorf("monitor errors:\n got %q\nwant %q", got, want)
	}

	d := trial.Device{Kind: trial.KindSIM, Serial: "8981101000000000018", Carrier: trial.CarrierDocomo, AppletState: trial.AppletBlank}
	if got := fieldMessages(d.Validate())["iccid"]; got != "ICCID 8981101000000000018 の最後のチェックデジットが合いません（Luhn）。入力の誤りではありませんか" {
		t.Errorf("ICCID Luhn: %q", got)
	}

	p := trial.Problem{Row: 12, Field: "companion_of", Reason: "row 3 is in another trial", Code: trial.ReasonCompanionRowOtherTrial, Args: []string{"3"}}
	if got := problemText(p); got != "12 行目 · 同伴元 · 3 行目は別の実証のモニターです" {
		t.Errorf("problem: %q", got)
	}

	// Column letters are the values, so Japanese reads "A 列", not "column A 列".
	p = trial.Problem{Row: 1, Field: "name", Reason: "column given twice (column A and column C)", Code: trial.ReasonColumnTwice, Args: []string{"A", "C"}}
	if got, want := problemText(p), "1 行目 · "+fieldName("name")+" · 同じ列が 2 回あります（A 列と C 列）"; got != want {
		t.Errorf("column twice:\n got %q\nwant %q", got, want)
	}

	fes := trial.FieldErrors{{Field: "name", Reason: "something new"}}
	if got := errorText(fes); got != fieldName("name")+": something new" {
		t.Errorf("a reason without a code became %q", got)
	}
	if got := errorText(errors.New("plain")); got != "plain" {
		t.Errorf("a plain error became %q", got)
	}
}

func hasJapanese(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han) {
			return true
		}
	}
	return false
}
