package survey

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"jpkipilot/trial"
	"jpkipilot/trial/store"
)

// SheetLoans lists the phone loans, when the store has any.
const SheetLoans = "Loans"

// LoansHeader is the first row of the Loans sheet.
var LoansHeader = []string{"loan_id", "monitor_id", "trial_id", "phone_model", "phone_os", "phone_carrier", "sim_carrier",
	"checked_out_at", "due_on", "checked_in_at", "days_overdue", "extended", "extensions", "missing_items"}

// loanRow is one loan as the export shows it: pseudonymised (no names,
// contacts, staff or free-text notes, which may name people).
type loanRow struct {
	ID           int64         `db:"id"`
	MonitorID    string        `db:"monitor_id"`
	TrialID      sql.NullInt64 `db:"trial_id"`
	Model        string        `db:"model"`
	OS           string        `db:"os"`
	PhoneCarrier string        `db:"phone_carrier"`
	SIMCarrier   string        `db:"sim_carrier"`
	OutAt        time.Time     `db:"out_at"`
	DueOn        string        `db:"due_on"`
	InAt         sql.NullTime  `db:"in_at"`
	Extensions   int           `db:"extensions"`
	Missing      string        `db:"missing"`
}

// readLoans reads the loans of the filter's trial (all loans without one),
// leaving out those of monitors who withdrew, as the responses are.
func readLoans(ctx context.Context, rd reader, f Filter) ([]loanRow, error) {
	q := `SELECT l.id, l.monitor_id, m.trial_id, p.model, p.os, p.carrier AS phone_carrier, s.carrier AS sim_carrier,
		l.out_at, l.due_on, l.in_at, l.missing,
		(SELECT COUNT(*) FROM loan_events e WHERE e.loan_id = l.id AND e.kind = 'extend') AS extensions
		FROM loans l JOIN devices p ON p.id = l.phone_id JOIN devices s ON s.id = l.sim_id JOIN monitors m ON m.id = l.monitor_id
		WHERE m.status <> 'withdrawn'`
	var args []any
	if f.TrialID != nil {
		q += " AND m.trial_id = ?"
		args = append(args, *f.TrialID)
	}
	var rows []loanRow
	if err := rd.SelectContext(ctx, &rows, rd.Rebind(q+" ORDER BY l.id"), args...); err != nil {
		return nil, fmt.Errorf("survey: export loans: %w", store.MapErr(err))
	}
	return rows, nil
}

// writeLoans adds the Loans sheet. Days overdue: for an open loan, days
// past its due date as of the export day; for a returned one, how many
// days late it came back (0: on time).
func (e *exporter) writeLoans(loans []loanRow, now time.Time) error {
	if len(loans) == 0 {
		return nil
	}
	if _, err := e.x.NewSheet(SheetLoans); err != nil {
		return err
	}
	day := func(t time.Time) time.Time {
		y, m, d := t.In(e.opt.Location).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	hdr := make([]any, len(LoansHeader))
	for i, h := range LoansHeader {
		hdr[i] = h
	}
	rows := [][]any{hdr}
	for _, ln := range loans {
		row := []any{trial.FormatLoanID(ln.ID), ln.MonitorID, nil, ln.Model, ln.OS, ln.PhoneCarrier, ln.SIMCarrier,
			excelize.Cell{StyleID: e.styleTime, Value: e.wall(ln.OutAt)}, ln.DueOn, nil, 0, 0, ln.Extensions,
			strings.Join(strings.Split(ln.Missing, "\n"), "; ")}
		if ln.TrialID.Valid {
			row[2] = idText(ln.TrialID.Int64)
		}
		if d, err := time.Parse("2006-01-02", ln.DueOn); err == nil {
			row[8] = excelize.Cell{StyleID: e.styleDate, Value: d}
		}
		asOf := day(now)
		if ln.InAt.Valid {
			row[9] = excelize.Cell{StyleID: e.styleTime, Value: e.wall(ln.InAt.Time)}
			asOf = day(ln.InAt.Time)
		}
		row[10] = trial.DaysOverdue(ln.DueOn, asOf)
		if ln.Extensions > 0 {
			row[11] = 1
		}
		rows = append(rows, row)
	}
	if err := e.setRows(SheetLoans, rows); err != nil {
		return err
	}
	if err := e.boldRow(SheetLoans, 1, len(LoansHeader)); err != nil {
		return err
	}
	if err := e.x.SetColWidth(SheetLoans, "A", "N", 16); err != nil {
		return err
	}
	return e.x.SetPanes(SheetLoans, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
}
