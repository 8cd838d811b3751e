package trial

import (
	"fmt"
	"strings"
)

// ReasonCode names why the package refuses a value (a FieldError, a Problem
// of an import, a ReasonError of the IMEI, ICCID and kana checks), in a
// stable word the screens translate; the English sentence beside it is for
// the command line, CSV reports and logs. Every code is a Reason* constant
// and is in ReasonCodes.
type ReasonCode string

// The reasons. Each is given at the site that refuses the value, with the
// values the reason names (Args).
const (
	ReasonRequired               ReasonCode = "required"
	ReasonRequiredConsent        ReasonCode = "required_consent"
	ReasonRequiredKana           ReasonCode = "required_kana"
	ReasonKatakana               ReasonCode = "katakana"
	ReasonDate                   ReasonCode = "date"
	ReasonTooLong                ReasonCode = "too_long"
	ReasonNegative               ReasonCode = "negative"
	ReasonTrialKind              ReasonCode = "trial_kind"
	ReasonLoanDays               ReasonCode = "loan_days"
	ReasonKindLocked             ReasonCode = "kind_locked"
	ReasonNoTrial                ReasonCode = "no_trial"
	ReasonCodeChars              ReasonCode = "code_chars"
	ReasonCodeTaken              ReasonCode = "code_taken"
	ReasonStepRequired           ReasonCode = "step_required"
	ReasonStepUnknown            ReasonCode = "step_unknown"
	ReasonStepOnlyField          ReasonCode = "step_only_field"
	ReasonSessionMove            ReasonCode = "session_move"
	ReasonNoSession              ReasonCode = "no_session"
	ReasonUnknownSession         ReasonCode = "unknown_session"
	ReasonSessionRequired        ReasonCode = "session_required"
	ReasonSessionOtherTrial      ReasonCode = "session_other_trial"
	ReasonAgeBand                ReasonCode = "age_band"
	ReasonStatusUnknown          ReasonCode = "status_unknown"
	ReasonStatusElsewhere        ReasonCode = "status_elsewhere"
	ReasonUseWithdraw            ReasonCode = "use_withdraw"
	ReasonNewWithdrawn           ReasonCode = "new_withdrawn"
	ReasonWithdrawnNoPII         ReasonCode = "withdrawn_no_pii"
	ReasonMonitorMove            ReasonCode = "monitor_move"
	ReasonMonitorID              ReasonCode = "monitor_id"
	ReasonNoMonitor              ReasonCode = "no_monitor"
	ReasonDuplicateMonitor       ReasonCode = "duplicate_monitor"
	ReasonDuplicateRow           ReasonCode = "duplicate_row"
	ReasonSelfCompanion          ReasonCode = "self_companion"
	ReasonCompanionOtherTrial    ReasonCode = "companion_other_trial"
	ReasonCompanionRef           ReasonCode = "companion_ref"
	ReasonCompanionRow           ReasonCode = "companion_row"
	ReasonCompanionRowOtherTrial ReasonCode = "companion_row_other_trial"
	ReasonNoHeader               ReasonCode = "no_header"
	ReasonBeyondHeader           ReasonCode = "beyond_header"
	ReasonUnknownColumn          ReasonCode = "unknown_column"
	ReasonColumnTwice            ReasonCode = "column_twice"
	ReasonColumnMissing          ReasonCode = "column_missing"
	ReasonSessionColumnMissing   ReasonCode = "session_column_missing"
	ReasonColSerialMissing       ReasonCode = "col_serial_missing"
	ReasonSerialRequired         ReasonCode = "serial_required"
	ReasonPhoneAndSIM            ReasonCode = "phone_and_sim"
	ReasonDeviceKind             ReasonCode = "device_kind"
	ReasonKindMismatch           ReasonCode = "kind_mismatch"
	ReasonCarrier                ReasonCode = "carrier"
	ReasonCarrierRequired        ReasonCode = "carrier_required"
	ReasonOSRequired             ReasonCode = "os_required"
	ReasonOSUnknown              ReasonCode = "os_unknown"
	ReasonSIMNoOS                ReasonCode = "sim_no_os"
	ReasonAppletState            ReasonCode = "applet_state"
	ReasonAppletSIMOnly          ReasonCode = "applet_sim_only"
	ReasonKeysSIMOnly            ReasonCode = "keys_sim_only"
	ReasonKeysetIncomplete       ReasonCode = "keyset_incomplete"
	ReasonKVNRange               ReasonCode = "kvn_range"
	ReasonKVNSyntax              ReasonCode = "kvn_syntax"
	ReasonNotHex                 ReasonCode = "not_hex"
	ReasonAESKeyLength           ReasonCode = "aes_key_length"
	ReasonKeyLengthsDiffer       ReasonCode = "key_lengths_differ"
	ReasonSerialTaken            ReasonCode = "serial_taken"
	ReasonSerialDupRow           ReasonCode = "serial_dup_row"
	ReasonExcelShortened         ReasonCode = "excel_shortened"
	ReasonIMEIDigits             ReasonCode = "imei_digits"
	ReasonIMEILength             ReasonCode = "imei_length"
	ReasonIMEILuhn               ReasonCode = "imei_luhn"
	ReasonICCIDDigits            ReasonCode = "iccid_digits"
	ReasonICCIDLength            ReasonCode = "iccid_length"
	ReasonICCIDPrefix            ReasonCode = "iccid_prefix"
	ReasonICCIDLuhn              ReasonCode = "iccid_luhn"
	ReasonStaffRequired          ReasonCode = "staff_required"
	ReasonNotInInventory         ReasonCode = "not_in_inventory"
	ReasonDuePast                ReasonCode = "due_past"
	ReasonDueNotLater            ReasonCode = "due_not_later"
)

// ReasonCodes is every code, with how many values (Args) a reason of it
// names: a translation shows them as A and B. The screens hold their
// translations to it, and a test holds this package's sources to it.
var ReasonCodes = map[ReasonCode]int{
	ReasonRequired:               0,
	ReasonRequiredConsent:        0,
	ReasonRequiredKana:           0,
	ReasonKatakana:               1, // the first character that is not
	ReasonDate:                   1, // the value
	ReasonTooLong:                1, // the limit
	ReasonNegative:               0,
	ReasonTrialKind:              1, // the value
	ReasonLoanDays:               1, // the value
	ReasonKindLocked:             1, // how many sessions
	ReasonNoTrial:                1, // the trial id
	ReasonCodeChars:              0,
	ReasonCodeTaken:              1, // the code
	ReasonStepRequired:           0,
	ReasonStepUnknown:            1, // the value
	ReasonStepOnlyField:          0,
	ReasonSessionMove:            0,
	ReasonNoSession:              1, // the session id
	ReasonUnknownSession:         1, // the code
	ReasonSessionRequired:        1, // an example code
	ReasonSessionOtherTrial:      1, // the session
	ReasonAgeBand:                2, // the value, the bands
	ReasonStatusUnknown:          1, // the value
	ReasonStatusElsewhere:        0,
	ReasonUseWithdraw:            0,
	ReasonNewWithdrawn:           0,
	ReasonWithdrawnNoPII:         0,
	ReasonMonitorMove:            0,
	ReasonMonitorID:              1, // the value
	ReasonNoMonitor:              1, // the monitor id
	ReasonDuplicateMonitor:       1, // the monitor id
	ReasonDuplicateRow:           1, // the row
	ReasonSelfCompanion:          0,
	ReasonCompanionOtherTrial:    1, // the monitor id
	ReasonCompanionRef:           1, // the value
	ReasonCompanionRow:           1, // the row
	ReasonCompanionRowOtherTrial: 1, // the row
	ReasonNoHeader:               0,
	ReasonBeyondHeader:           0,
	ReasonUnknownColumn:          1, // the columns known
	ReasonColumnTwice:            2, // both columns
	ReasonColumnMissing:          2, // the first and last header spellings
	ReasonSessionColumnMissing:   0,
	ReasonColSerialMissing:       0,
	ReasonSerialRequired:         0,
	ReasonPhoneAndSIM:            0,
	ReasonDeviceKind:             1, // the value
	ReasonKindMismatch:           2, // the kind said, the serial found
	ReasonCarrier:                1, // the value
	ReasonCarrierRequired:        0,
	ReasonOSRequired:             1, // the value
	ReasonOSUnknown:              1, // the value
	ReasonSIMNoOS:                0,
	ReasonAppletState:            1, // the value
	ReasonAppletSIMOnly:          0,
	ReasonKeysSIMOnly:            0,
	ReasonKeysetIncomplete:       0,
	ReasonKVNRange:               1, // the value
	ReasonKVNSyntax:              1, // the value
	ReasonNotHex:                 0,
	ReasonAESKeyLength:           1, // the bytes
	ReasonKeyLengthsDiffer:       2, // these bytes, key_enc's
	ReasonSerialTaken:            1, // the serial
	ReasonSerialDupRow:           2, // the serial, the other row
	ReasonExcelShortened:         1, // the value
	ReasonIMEIDigits:             1, // the value
	ReasonIMEILength:             1, // the digits
	ReasonIMEILuhn:               1, // the IMEI
	ReasonICCIDDigits:            1, // the value
	ReasonICCIDLength:            1, // the digits
	ReasonICCIDPrefix:            1, // the ICCID
	ReasonICCIDLuhn:              1, // the ICCID
	ReasonStaffRequired:          0,
	ReasonNotInInventory:         1, // the serial
	ReasonDuePast:                2, // the date, today
	ReasonDueNotLater:            2, // the date, the due date
}

// ReasonError is a value refused before it belongs to a field: the IMEI,
// ICCID and kana checks return one. Error is the reason in English.
type ReasonError struct {
	Code   ReasonCode
	Args   []string // the values the reason names, as Reason writes them
	Reason string   // in English
}

func (e *ReasonError) Error() string { return e.Reason }

// reasonf is a reason: code, and the English text format with a. It and
// its wrappers (fieldErr, problem, FieldErrors.add) are where codes are
// given; a test checks each site gives a Reason* constant.
func reasonf(code ReasonCode, format string, a ...any) *ReasonError {
	return &ReasonError{Code: code, Args: reasonArgs(format, a), Reason: fmt.Sprintf(format, a...)}
}

// err is e as an error, nil when e is.
func (e *ReasonError) err() error {
	if e == nil {
		return nil
	}
	return e
}

// on is the reason as field's FieldError.
func (e *ReasonError) on(field string) FieldError {
	return FieldError{Field: field, Reason: e.Reason, Code: e.Code, Args: e.Args}
}

// fieldErr is the FieldError of field: code, in English format with a.
func fieldErr(field string, code ReasonCode, format string, a ...any) FieldError {
	return reasonf(code, format, a...).on(field)
}

// problem is the Problem of field on row: code, in English format with a.
func problem(row int, field string, code ReasonCode, format string, a ...any) Problem {
	return fieldErr(field, code, format, a...).at(row)
}

// at is the field's reason as a Problem of row.
func (e FieldError) at(row int) Problem {
	return Problem{Row: row, Field: e.Field, Reason: e.Reason, Code: e.Code, Args: e.Args}
}

// reasonArgs are the values of a, each written as format writes it (a %q
// value with its quotes), so a translation shows them as the English does.
func reasonArgs(format string, a []any) []string {
	var out []string
	for i := 0; i < len(format) && len(out) < len(a); i++ {
		if format[i] != '%' {
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("+-# 0123456789.", format[j]) >= 0 {
			j++
		}
		if j == len(format) {
			break
		}
		if format[j] != '%' {
			out = append(out, fmt.Sprintf(format[i:j+1], a[len(out)]))
		}
		i = j
	}
	return out
}
