package trial

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// FieldError is one invalid field. Field is the column name used by imports
// and the list ("name", "kana", "age_band", "session", ...), so a screen can
// put the message beside the right entry; Code and Args are the reason for
// a translation, Reason is it in English.
type FieldError struct {
	Field  string
	Reason string     // in English
	Code   ReasonCode // what the screens translate
	Args   []string   // the values the reason names, as Reason writes them
}

func (e FieldError) Error() string { return e.Field + ": " + e.Reason }

// FieldErrors is every invalid field of one record. Validate methods return
// it (or nil); use errors.As to get at the fields.
type FieldErrors []FieldError

func (es FieldErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Has reports whether field is among the errors.
func (es FieldErrors) Has(field string) bool {
	for _, e := range es {
		if e.Field == field {
			return true
		}
	}
	return false
}

func (es *FieldErrors) add(field string, code ReasonCode, format string, a ...any) {
	*es = append(*es, fieldErr(field, code, format, a...))
}

func (es FieldErrors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// ErrWithdrawn is returned when an edit would put personal data or a new
// status back on a withdrawn monitor: withdrawal is final.
var ErrWithdrawn = errors.New("the monitor has withdrawn: personal data was erased and cannot be entered again")

// Limits on free text, in characters.
const (
	maxName    = 100
	maxContact = 200
	maxText    = 500
)

// KnownKind reports whether k is one of Kinds.
func KnownKind(k Kind) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// KnownStep reports whether s is one of Steps (not StepNone).
func KnownStep(s Step) bool {
	for _, x := range Steps {
		if x == s {
			return true
		}
	}
	return false
}

// KnownStatus reports whether s is one of Statuses.
func KnownStatus(s Status) bool {
	for _, x := range Statuses {
		if x == s {
			return true
		}
	}
	return false
}

// KnownAgeBand reports whether b is one of AgeBands.
func KnownAgeBand(b string) bool {
	for _, x := range AgeBands {
		if x == b {
			return true
		}
	}
	return false
}

// Validate checks a trial before it is saved (it trims the name first).
func (t *Trial) Validate() error {
	var es FieldErrors
	t.Name = strings.TrimSpace(t.Name)
	switch {
	case t.Name == "":
		es.add("name", ReasonRequired, "required")
	case utf8.RuneCountInString(t.Name) > maxName:
		es.add("name", ReasonTooLong, "longer than %d characters", maxName)
	}
	if !KnownKind(t.Kind) {
		es.add("kind", ReasonTrialKind, "unknown kind %q (want loan, venue or field)", t.Kind)
	}
	if t.LoanDays < 1 || t.LoanDays > 90 {
		es.add("loan_days", ReasonLoanDays, "must be 1 to 90 days, got %d", t.LoanDays)
	}
	if utf8.RuneCountInString(t.Notes) > 10*maxText {
		es.add("notes", ReasonTooLong, "longer than %d characters", 10*maxText)
	}
	t.RetainUntil = strings.TrimSpace(t.RetainUntil)
	if t.RetainUntil != "" && !ValidDate(t.RetainUntil) {
		es.add("retain_until", ReasonDate, "not a date in the form YYYY-MM-DD: %q", t.RetainUntil)
	}
	return es.err()
}

// ValidDate reports whether s is a real calendar date written YYYY-MM-DD.
func ValidDate(s string) bool {
	if len(s) != 10 {
		return false
	}
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}

// Validate checks a session against its trial's kind: field-trial sessions
// name their step, other sessions have none. It trims the code (folding
// full-width letters to ASCII) and the venue.
func (s *Session) Validate(kind Kind) error {
	var es FieldErrors
	s.Code = strings.TrimSpace(fold(s.Code))
	s.Venue = strings.TrimSpace(s.Venue)
	switch {
	case s.Code == "":
		es.add("code", ReasonRequired, "required")
	case utf8.RuneCountInString(s.Code) > 40:
		es.add("code", ReasonTooLong, "longer than %d characters", 40)
	case strings.ContainsAny(s.Code, " \t\r\n,"):
		es.add("code", ReasonCodeChars, "must not contain spaces or commas (imports refer to sessions by code)")
	}
	if !ValidDate(s.StartsOn) {
		es.add("starts_on", ReasonDate, "not a date in the form YYYY-MM-DD: %q", s.StartsOn)
	}
	if utf8.RuneCountInString(s.Venue) > maxText {
		es.add("venue", ReasonTooLong, "longer than %d characters", maxText)
	}
	if s.Capacity < 0 {
		es.add("capacity", ReasonNegative, "must not be negative")
	}
	if s.Target < 0 {
		es.add("target", ReasonNegative, "must not be negative")
	}
	if kind == KindField {
		if !KnownStep(s.Step) {
			if s.Step == StepNone {
				es.add("step", ReasonStepRequired, "required for a field-trial session (application, purchase or entry)")
			} else {
				es.add("step", ReasonStepUnknown, "unknown step %q (want application, purchase or entry)", s.Step)
			}
		}
	} else if s.Step != StepNone {
		es.add("step", ReasonStepOnlyField, "only field-trial sessions have a step")
	}
	return es.err()
}

// Normalize tidies what a person typed: trims spaces, turns the kana into
// full-width katakana (hiragana and half-width katakana are converted) and
// maps Japanese age-band spellings ("20代", "70歳以上") to AgeBands. Invalid
// kana is left as typed for Validate to report.
func (m *Monitor) Normalize() {
	m.Name = collapseSpaces(m.Name)
	m.Contact = strings.TrimSpace(m.Contact)
	if k, err := NormalizeKana(m.Kana); err == nil {
		m.Kana = k
	} else {
		m.Kana = strings.TrimSpace(m.Kana)
	}
	m.AgeBand = NormalizeAgeBand(m.AgeBand)
	m.Consent.FormVersion = strings.TrimSpace(m.Consent.FormVersion)
	m.Consent.SignedOn = strings.TrimSpace(m.Consent.SignedOn)
	m.Consent.Staff = strings.TrimSpace(m.Consent.Staff)
	if m.CompanionOf != nil {
		id := strings.TrimSpace(*m.CompanionOf)
		if id == "" {
			m.CompanionOf = nil
		} else {
			if n, ok := ParseMonitorID(id); ok {
				id = FormatMonitorID(n)
			}
			m.CompanionOf = &id
		}
	}
}

// Validate checks a monitor's own fields (call Normalize first). Whether its
// session and companion exist is checked by the Service. A withdrawn monitor
// must carry no personal data.
func (m *Monitor) Validate() error { return m.validate(true) }

// validate is Validate; with personal false the name, kana and contact are
// not checked (an edit that keeps stored fields it could not open, or a
// monitor whose fields the retention purge erased).
func (m *Monitor) validate(personal bool) error {
	var es FieldErrors
	if m.TrialID == 0 {
		es.add("trial", ReasonRequired, "required")
	}
	if !personal {
		// kept as stored
	} else if m.Status == StatusWithdrawn {
		if m.Name != "" || m.Kana != "" || m.Contact != "" {
			es.add("name", ReasonWithdrawnNoPII, "a withdrawn monitor keeps no name, kana or contact")
		}
	} else {
		switch {
		case m.Name == "":
			es.add("name", ReasonRequired, "required")
		case utf8.RuneCountInString(m.Name) > maxName:
			es.add("name", ReasonTooLong, "longer than %d characters", maxName)
		}
		if m.Kana == "" {
			es.add("kana", ReasonRequiredKana, "required (フリガナ in katakana)")
		} else if _, r := normalizeKana(m.Kana); r != nil {
			es = append(es, r.on("kana"))
		} else if utf8.RuneCountInString(m.Kana) > maxName {
			es.add("kana", ReasonTooLong, "longer than %d characters", maxName)
		}
		if utf8.RuneCountInString(m.Contact) > maxContact {
			es.add("contact", ReasonTooLong, "longer than %d characters", maxContact)
		}
	}
	if m.AgeBand != "" && !KnownAgeBand(m.AgeBand) {
		es.add("age_band", ReasonAgeBand, "unknown age band %q (want one of %s)", m.AgeBand, strings.Join(AgeBands, ", "))
	}
	if !KnownStatus(m.Status) {
		es.add("status", ReasonStatusUnknown, "unknown status %q (want enrolled, attended, completed or withdrawn)", m.Status)
	}
	if m.CompanionOf != nil {
		if _, ok := ParseMonitorID(*m.CompanionOf); !ok {
			es.add("companion_of", ReasonMonitorID, "not a monitor id like M-0001: %q", *m.CompanionOf)
		} else if *m.CompanionOf == m.ID {
			es.add("companion_of", ReasonSelfCompanion, "a monitor cannot be their own companion")
		}
	}
	if err := m.Consent.validate(); err != nil {
		es = append(es, err.(FieldErrors)...)
	}
	return es.err()
}

// validate checks a consent record: either empty, or version and date given.
func (c Consent) validate() error {
	var es FieldErrors
	if c.FormVersion == "" && c.SignedOn == "" && c.Staff == "" {
		return nil
	}
	if c.FormVersion == "" {
		es.add("consent_version", ReasonRequiredConsent, "required when consent is recorded")
	} else if utf8.RuneCountInString(c.FormVersion) > 40 {
		es.add("consent_version", ReasonTooLong, "longer than %d characters", 40)
	}
	if c.SignedOn == "" {
		es.add("consent_signed_on", ReasonRequiredConsent, "required when consent is recorded")
	} else if !ValidDate(c.SignedOn) {
		es.add("consent_signed_on", ReasonDate, "not a date in the form YYYY-MM-DD: %q", c.SignedOn)
	}
	if utf8.RuneCountInString(c.Staff) > maxName {
		es.add("consent_staff", ReasonTooLong, "longer than %d characters", maxName)
	}
	return es.err()
}

// NormalizeAgeBand maps common spellings to AgeBands: "20代" and "20" →
// "20s", "70代", "70歳以上", "70代以上", "70s" → "70+". Anything else is
// returned trimmed, for Validate to reject.
func NormalizeAgeBand(s string) string {
	s = strings.ToLower(fold(s))
	s = strings.ReplaceAll(s, " ", "")
	if s == "" || KnownAgeBand(s) {
		return s
	}
	t := s
	for _, suf := range []string{"代以上", "歳以上", "以上", "代", "歳", "s"} {
		t = strings.TrimSuffix(t, suf)
	}
	switch t {
	case "10", "20", "30", "40", "50", "60":
		return t + "s"
	case "70", "80", "90", "70+":
		return "70+"
	}
	return s
}

// ParseMonitorID reads a monitor id ("M-0012", "m-12", "Ｍ－００１２") and
// returns its number.
func ParseMonitorID(s string) (int64, bool) {
	s = strings.ToUpper(strings.TrimSpace(fold(s)))
	rest, ok := strings.CutPrefix(s, "M")
	if !ok {
		return 0, false
	}
	rest = strings.TrimPrefix(rest, "-")
	if rest == "" || len(rest) > 12 {
		return 0, false
	}
	var n int64
	for _, r := range rest {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int64(r-'0')
	}
	return n, n > 0
}

// FormatMonitorID is the pseudonymous id of the n-th monitor: M-0001 … M-9999,
// then M-10000 and on.
func FormatMonitorID(n int64) string { return fmt.Sprintf("M-%04d", n) }
