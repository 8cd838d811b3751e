package screens

import (
	"errors"
	"fmt"
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

// reasonText is a reason of the trial package in the UI language: the text
// of its code, with the values it names as A, B... A reason without a code,
// or one the translations lack, shows in English as the package wrote it.
func reasonText(code trial.ReasonCode, args []string, english string) string {
	if code == "" {
		return english
	}
	data := make(map[string]any, len(args))
	for i, a := range args {
		data[string(rune('A'+i))] = a
	}
	key := trialReasonKey(code)
	if s := lang.L(key, data); s != key {
		return s
	}
	return english
}

// trialReasonKey is the translation key of a reason code.
func trialReasonKey(code trial.ReasonCode) string { return "reason." + string(code) }

// fieldMessages turns a validation error into one line per field, in the
// UI language; other errors become a single line.
func fieldMessages(err error) map[string]string {
	var fes trial.FieldErrors
	if !errors.As(err, &fes) {
		return map[string]string{"": err.Error()}
	}
	out := map[string]string{}
	for _, fe := range fes {
		msg := reasonText(fe.Code, fe.Args, fe.Reason)
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
		lines[i] = fmt.Sprintf("%s: %s", fieldName(fe.Field), reasonText(fe.Code, fe.Args, fe.Reason))
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
