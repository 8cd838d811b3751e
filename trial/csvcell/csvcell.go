// Package csvcell keeps text that people typed (free-text answers, notes,
// names, logins) from being taken for a formula when a CSV the app wrote is
// opened in a spreadsheet ("CSV injection": a cell "=HYPERLINK(...)" or
// "@SUM(...)" runs when the file is opened).
package csvcell

// Safe returns s with an apostrophe in front when it starts with a
// character a spreadsheet reads as the start of a formula (=, +, -, @) or
// with a tab or carriage return, which some spreadsheets skip before
// looking for one. Excel shows the apostrophe's cell as the text after it.
// Numbers the app writes itself (a negative decimal answer) are not passed
// through Safe: they are meant to be numbers.
func Safe(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
