package trial

import (
	"jpkipilot/trial/csvcell"

	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
)

// LoanCSVColumns are the columns of the loan list and reminder export. Name
// and contact are there for the reminder call, as the Loans that read them
// opened them: empty for a monitor who withdrew or whose fields the
// retention purge erased, and empty when read without the data key.
var LoanCSVColumns = []string{"loan", "monitor", "name", "contact", "phone_imei", "sim_iccid", "charger", "accessories",
	"checked_out", "checked_out_by", "due_on", "days_overdue", "checked_in", "checked_in_by", "condition", "missing"}

// WriteLoansCSV writes loans, in the order given, as CSV with a header row
// (UTF-8 with a byte-order mark so that Excel opens the Japanese right).
// Dates are the desk's calendar dates in zone (nil: JST).
func WriteLoansCSV(w io.Writer, loans []Loan, zone *time.Location) error {
	if zone == nil {
		zone = JST
	}
	if _, err := w.Write(utf8BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(LoanCSVColumns); err != nil {
		return err
	}
	for _, ln := range loans {
		in := ""
		if ln.InAt != nil {
			in = ln.InAt.In(zone).Format("2006-01-02 15:04")
		}
		charger := "no"
		if ln.Charger {
			charger = "yes"
		}
		rec := []string{FormatLoanID(ln.ID), ln.MonitorID, ln.MonitorName, ln.MonitorContact, ln.Phone, ln.SIM, charger,
			strings.Join(ln.Accessories, ", "), ln.OutAt.In(zone).Format("2006-01-02 15:04"), ln.OutStaff, ln.DueOn,
			strconv.Itoa(ln.DaysOverdue), in, ln.InStaff, ln.Notes, strings.Join(ln.Missing, ", ")}
		for i, v := range rec {
			rec[i] = csvcell.Safe(v)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
