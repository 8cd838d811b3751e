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

// reasonFormats are the reasons the trial package gives (FieldError,
// Problem and the IMEI, ICCID and kana checks), as the format strings it
// writes them with, and their translation keys. A reason is matched against
// each format (%d a number, %s %q %v any text, taken as A and B in order);
// of several matches the one with the most literal text wins, so "row 5 is
// in another trial" is not "%s is in another trial". TestEveryTrialReasonIsTranslated
// reads the trial package's source and fails on a reason missing here.
var reasonFormats = []struct{ format, key string }{
	{"required", "reason.required"},
	{"required when consent is recorded", "reason.required_consent"},
	{"required (フリガナ in katakana)", "reason.required_kana"},
	{"must be katakana (hiragana is converted), found %q", "reason.katakana"},
	{"not a date in the form YYYY-MM-DD: %q", "reason.date"},
	{"not a date (YYYY-MM-DD): %q", "reason.date"},
	{"unknown session %q", "reason.unknown_session"},
	{"required (the session code, e.g. %s)", "reason.session_required"},
	{"duplicate of row %d (same name, kana and contact)", "reason.duplicate_row"},
	{"duplicate of existing monitor %s (same name, kana and contact)", "reason.duplicate_monitor"},
	{"unknown age band %q (want one of %s)", "reason.age_band"},
	{"no monitor %s", "reason.no_monitor"},
	{"session code %q is already taken", "reason.code_taken"},
	{"must not be negative", "reason.negative"},
	{"required for a field-trial session (application, purchase or entry)", "reason.step_required"},
	{"only field-trial sessions have a step", "reason.step_only_field"},
	{"longer than %d characters", "reason.too_long"},
	{"unknown kind %q (want loan, venue or field)", "reason.trial_kind"},
	{"must be 1 to 90 days, got %d", "reason.loan_days"},
	{"must not contain spaces or commas (imports refer to sessions by code)", "reason.code_chars"},
	{"unknown step %q (want application, purchase or entry)", "reason.step_unknown"},
	{"cannot change: the trial has %d sessions", "reason.kind_locked"},
	{"a session cannot move to another trial", "reason.session_move"},
	{"no trial %d", "reason.no_trial"},
	{"no session %d", "reason.no_session"},
	{"session %d belongs to another trial", "reason.session_other_trial"},
	{"session %s belongs to another trial", "reason.session_other_trial"},
	{"%s is in another trial", "reason.companion_other_trial"},
	{"a monitor cannot be their own companion", "reason.self_companion"},
	{"a withdrawn monitor keeps no name, kana or contact", "reason.withdrawn_no_pii"},
	{"unknown status %q (want enrolled, attended, completed or withdrawn)", "reason.status_unknown"},
	{"unknown status %q", "reason.status_unknown"},
	{"a new monitor cannot be withdrawn", "reason.new_withdrawn"},
	{"a monitor cannot move to another trial", "reason.monitor_move"},
	{"change the status with SetStatus or Withdraw", "reason.status_elsewhere"},
	{"use Withdraw, which also erases the personal data", "reason.use_withdraw"},
	{"not a monitor id like M-0001: %q", "reason.monitor_id"},
	{"value in a column without a header", "reason.no_header"},
	{"value beyond the last column of the header", "reason.beyond_header"},
	{"column given twice (%s and %s)", "reason.column_twice"},
	{"unknown column (known: %s)", "reason.unknown_column"},
	{"column missing (header %s or %s)", "reason.column_missing"},
	{"column missing: name each row's session code, or import into a chosen trial", "reason.session_column_missing"},
	{"not a monitor id (M-0012) or a row number of this file: %q", "reason.companion_ref"},
	{"row %d is not a monitor row of this file", "reason.companion_row"},
	{"row %d is in another trial", "reason.companion_row_other_trial"},
	{"must be 1 to 127, got %d", "reason.kvn_range"},
	{"an AES key is 16, 24 or 32 bytes (32, 48 or 64 hex digits), got %d bytes", "reason.aes_key_length"},
	{"%d bytes, but key_enc is %d: a key set has one length", "reason.key_lengths_differ"},
	{"required for a phone: android or ios (got %q)", "reason.os_required"},
	{"only SIMs have an applet and keys", "reason.applet_sim_only"},
	{"a SIM has no OS", "reason.sim_no_os"},
	{"unknown applet state %q (blank, provisioned, wiped or unknown)", "reason.applet_state"},
	{"unknown applet state %q", "reason.applet_state"},
	{"unknown kind %q (phone or sim)", "reason.device_kind"},
	{"unknown kind %q (phone/スマートフォン or sim)", "reason.device_kind"},
	{"unknown carrier %q (docomo, KDDI/au, SoftBank or MVNO)", "reason.carrier"},
	{"required (docomo, KDDI/au, SoftBank or MVNO)", "reason.carrier_required"},
	{"unknown OS %q (android or ios)", "reason.os_unknown"},
	{"only SIMs have SCP03 keys", "reason.keys_sim_only"},
	{"%s is already in the inventory", "reason.serial_taken"},
	{"column missing: an IMEI column (phones) or an ICCID column (SIMs) is needed", "reason.col_serial_missing"},
	{"a row is a phone (IMEI) or a SIM (ICCID), not both: put the SIM on its own row", "reason.phone_and_sim"},
	{"required: the IMEI of a phone or the ICCID of a SIM", "reason.serial_required"},
	{"says %s, but the row has an %s", "reason.kind_mismatch"},
	{"missing: a key set is version, ENC, MAC and DEK together", "reason.keyset_incomplete"},
	{"%s is also on row %d", "reason.serial_dup_row"},
	{"%q looks like a number Excel shortened: format the column as text", "reason.excel_shortened"},
	{"%q looks like a number Excel shortened (ICCIDs are too long for Excel numbers): format the column as text", "reason.excel_shortened"},
	{"an IMEI is 15 digits, got %q", "reason.imei_digits"},
	{"an IMEI is 15 digits, got %d", "reason.imei_length"},
	{"IMEI %s: the check digit (last) is wrong (Luhn): a typing error?", "reason.imei_luhn"},
	{"an ICCID is 19 or 20 digits, got %q", "reason.iccid_digits"},
	{"an ICCID is 19 or 20 digits, got %d", "reason.iccid_length"},
	{"ICCID %s does not start with 89 (telecommunications)", "reason.iccid_prefix"},
	{"ICCID %s: the check digit (last) is wrong (Luhn): a typing error?", "reason.iccid_luhn"},
	{"required: who is at the desk", "reason.staff_required"},
	{"%s is before today (%s)", "reason.due_past"},
	{"%s is not in the inventory", "reason.not_in_inventory"},
	{"%s is not after the current due date %s", "reason.due_not_later"},
}

type reasonPattern struct {
	re      *regexp.Regexp
	key     string
	literal int // characters of literal text: the more, the more specific
}

var reasonPatterns = func() []reasonPattern {
	out := make([]reasonPattern, len(reasonFormats))
	for i, f := range reasonFormats {
		re, literal := formatRegexp(f.format)
		out[i] = reasonPattern{re: re, key: f.key, literal: literal}
	}
	return out
}()

// formatRegexp turns a fmt format into a regular expression matching its
// output, with a group per verb, and counts its literal characters.
func formatRegexp(format string) (*regexp.Regexp, int) {
	var b strings.Builder
	literal := 0
	b.WriteString("^")
	for i := 0; i < len(format); i++ {
		if format[i] == '%' && i+1 < len(format) {
			i++
			switch format[i] {
			case 'd':
				b.WriteString(`(-?\d+)`)
			case '%':
				b.WriteString("%")
				literal++
			default: // s, q, v
				b.WriteString(`(.+?)`)
			}
			continue
		}
		j := strings.IndexByte(format[i:], '%')
		if j < 0 {
			j = len(format) - i
		}
		b.WriteString(regexp.QuoteMeta(format[i : i+j]))
		literal += j
		i += j - 1
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String()), literal
}

// reasonText is a reason of the trial package in the UI language; one it
// does not know shows as it is.
func reasonText(r string) string {
	best, bestLit := []string(nil), -1
	key := ""
	for _, p := range reasonPatterns {
		if p.literal <= bestLit {
			continue
		}
		if m := p.re.FindStringSubmatch(r); m != nil {
			best, bestLit, key = m, p.literal, p.key
		}
	}
	if best == nil {
		return r
	}
	data := map[string]any{}
	for i, name := range []string{"A", "B"} {
		if len(best) > i+1 {
			data[name] = best[i+1]
		}
	}
	return lang.L(key, data)
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
