package screens

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial"
)

// newSelect is widget.NewSelect with the placeholder in the UI language
// (Fyne's own "(Select one)" is not translated).
func newSelect(options []string, changed func(string)) *widget.Select {
	s := widget.NewSelect(options, changed)
	s.PlaceHolder = lang.L("(Select one)")
	return s
}

// Display names of the trial's enumerations, looked up when called so the
// language in force applies.

func kindName(k trial.Kind) string { return lang.L("kind." + string(k)) }

func stepName(s trial.Step) string {
	if s == trial.StepNone {
		return lang.L("step.none")
	}
	return lang.L("step." + string(s))
}

func statusName(s trial.Status) string { return lang.L("status." + string(s)) }

// fieldName names a field of a FieldError; unknown fields show as they are.
func fieldName(f string) string {
	if s := lang.L("field." + f); s != "field."+f {
		return s
	}
	return f
}

// kindFromName and friends map a Select's label back to the value.
func kindFromName(name string) trial.Kind {
	for _, k := range trial.Kinds {
		if kindName(k) == name {
			return k
		}
	}
	return ""
}

func stepFromName(name string) trial.Step {
	for _, s := range trial.Steps {
		if stepName(s) == name {
			return s
		}
	}
	return trial.StepNone
}

func statusFromName(name string) trial.Status {
	for _, s := range trial.Statuses {
		if statusName(s) == name {
			return s
		}
	}
	return ""
}

func kindNames() []string {
	out := make([]string, len(trial.Kinds))
	for i, k := range trial.Kinds {
		out[i] = kindName(k)
	}
	return out
}

func stepNames() []string {
	out := make([]string, len(trial.Steps))
	for i, s := range trial.Steps {
		out[i] = stepName(s)
	}
	return out
}

func statusNames() []string {
	out := make([]string, len(trial.Statuses))
	for i, s := range trial.Statuses {
		out[i] = statusName(s)
	}
	return out
}

// reasons translates the reasons the trial package gives most often (in
// English); A and B are the pattern's groups. Others show as they are.
var reasons = []struct {
	re  *regexp.Regexp
	key string
}{
	{regexp.MustCompile(`^required$`), "reason.required"},
	{regexp.MustCompile(`^required when consent is recorded$`), "reason.required_consent"},
	{regexp.MustCompile(`^required \(フリガナ in katakana\)$`), "reason.required_kana"},
	{regexp.MustCompile(`^must be katakana \(hiragana is converted\), found (.+)$`), "reason.katakana"},
	{regexp.MustCompile(`^not a date in the form YYYY-MM-DD: (.+)$`), "reason.date"},
	{regexp.MustCompile(`^unknown session (.+)$`), "reason.unknown_session"},
	{regexp.MustCompile(`^required \(the session code, e\.g\. (.+)\)$`), "reason.session_required"},
	{regexp.MustCompile(`^duplicate of row (\d+) \(same name, kana and contact\)$`), "reason.duplicate_row"},
	{regexp.MustCompile(`^duplicate of existing monitor (\S+) \(same name, kana and contact\)$`), "reason.duplicate_monitor"},
	{regexp.MustCompile(`^unknown age band (.+) \(want one of (.+)\)$`), "reason.age_band"},
	{regexp.MustCompile(`^no monitor (.+)$`), "reason.no_monitor"},
	{regexp.MustCompile(`^session code (.+) is already taken$`), "reason.code_taken"},
	{regexp.MustCompile(`^must not be negative$`), "reason.negative"},
	{regexp.MustCompile(`^required for a field-trial session`), "reason.step_required"},
	{regexp.MustCompile(`^only field-trial sessions have a step$`), "reason.step_only_field"},
	{regexp.MustCompile(`^longer than (\d+) characters$`), "reason.too_long"},
}

func reasonText(r string) string {
	for _, x := range reasons {
		m := x.re.FindStringSubmatch(r)
		if m == nil {
			continue
		}
		data := map[string]any{}
		if len(m) > 1 {
			data["A"] = m[1]
		}
		if len(m) > 2 {
			data["B"] = m[2]
		}
		return lang.L(x.key, data)
	}
	return r
}

// fieldMessages turns a validation error into one line per field, in the
// UI language; other errors become a single line.
func fieldMessages(err error) map[string]string {
	var fes trial.FieldErrors
	if !errors.As(err, &fes) {
		return map[string]string{"": err.Error()}
	}
	out := map[string]string{}
	for _, fe := range fes {
		msg := reasonText(fe.Reason)
		if prev, ok := out[fe.Field]; ok {
			msg = prev + "; " + msg
		}
		out[fe.Field] = msg
	}
	return out
}

// errorText is a validation error as lines "field: reason".
func errorText(err error) string {
	var fes trial.FieldErrors
	if !errors.As(err, &fes) {
		return err.Error()
	}
	lines := make([]string, len(fes))
	for i, fe := range fes {
		lines[i] = fmt.Sprintf("%s: %s", fieldName(fe.Field), reasonText(fe.Reason))
	}
	return strings.Join(lines, "\n")
}

// clipText shortens s to about maxEm em: wide (CJK, full-width) characters
// count one em, others about half. The cut is marked with "…".
func clipText(s string, maxEm float64) string {
	width := 0.0
	for i, r := range s {
		w := 0.55
		if isWide(r) {
			w = 1
		}
		if width+w > maxEm {
			return s[:i] + "…"
		}
		width += w
	}
	return s
}

// isWide reports characters drawn about one em wide: CJK ideographs, kana,
// full-width forms and CJK punctuation.
func isWide(r rune) bool {
	return r >= 0x1100 && (r <= 0x115F || (r >= 0x2E80 && r <= 0xA4CF) ||
		(r >= 0xAC00 && r <= 0xD7A3) || (r >= 0xF900 && r <= 0xFAFF) ||
		(r >= 0xFE30 && r <= 0xFE4F) || (r >= 0xFF00 && r <= 0xFF60) || (r >= 0xFFE0 && r <= 0xFFE6))
}
