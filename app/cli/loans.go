package cli

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"jpkipilot/trial"
	"jpkipilot/trial/audit"
	"jpkipilot/trial/csvcell"
)

func init() {
	register(&Command{
		Name:    "devices",
		Usage:   "devices import FILE | list [--csv] [--kind phone|sim] [--free]",
		Summary: "import phones and SIMs from CSV/XLSX (all or nothing), list them (keys are never shown)",
		Run:     runDevices,
	})
	register(&Command{
		Name: "loans",
		Usage: "loans checkout --monitor M --phone IMEI --sim ICCID --staff NAME [--due YYYY-MM-DD] [--charger=false] [--accessories A,B] | " +
			"checkin LOAN --staff NAME [--notes N] [--missing A,B] | extend LOAN --due YYYY-MM-DD [--staff NAME] | " +
			"list [--overdue] [--remind DAYS] [--open] [--monitor M] [--device SERIAL] [--csv] | history LOAN",
		Summary: "lend phone + SIM bundles to monitors, extend, take them back; overdue loans first",
		Run:     runLoans,
	})
}

func runDevices(env *Env, args []string) error {
	if len(args) == 0 {
		return Usagef("say what to do: import or list")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("devices "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var asCSV, free *bool
	var kind *string
	if sub == "list" {
		asCSV = fs.Bool("csv", false, "CSV with a header row")
		free = fs.Bool("free", false, "only devices not on loan")
		kind = fs.String("kind", "", "phone or sim")
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	switch sub {
	case "import":
		if len(pos) != 1 {
			return Usagef("devices import takes one FILE (.csv or .xlsx)")
		}
		return devicesImport(env, pos[0])
	case "list":
		if len(pos) != 0 {
			return Usagef("devices list takes no arguments, got %q", pos[0])
		}
		k := trial.DeviceKind(*kind)
		if k != "" && k != trial.KindPhone && k != trial.KindSIM {
			return Usagef("--kind must be phone or sim")
		}
		return devicesList(env, trial.DeviceFilter{Kind: k, Free: *free}, *asCSV)
	}
	return Usagef("unknown devices command %q (import, list)", sub)
}

func devicesImport(env *Env, path string) error {
	desk, done, err := openDesk(env)
	if err != nil {
		return err
	}
	defer done()
	res, err := desk.ImportDevicesFile(env.Ctx, path)
	var ie *trial.ImportError
	if errors.As(err, &ie) {
		for _, p := range ie.Problems {
			fmt.Fprintln(env.Stderr, p)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "imported %d phones and %d SIMs from %s (%s)\n", res.Phones, res.SIMs, path, res.Encoding)
	return nil
}

// deviceColumns are the columns of `devices list --csv`: the import's
// names, so a list can be edited and imported into another store — without
// the keys, which no list carries.
var deviceColumns = []string{"kind", "imei", "iccid", "carrier", "model", "os", "accessories", "applet_state",
	"key_version", "notes", "loan", "monitor", "due_on"}

func devicesList(env *Env, f trial.DeviceFilter, asCSV bool) error {
	desk, done, err := openDesk(env)
	if err != nil {
		return err
	}
	defer done()
	ds, err := desk.ListDevices(env.Ctx, f)
	if err != nil {
		return err
	}
	row := func(d trial.Device) []string {
		imei, iccid, kvn, loan, mon, due := "", "", "", "", "", ""
		if d.Kind == trial.KindPhone {
			imei = d.Serial
		} else {
			iccid = d.Serial
		}
		if d.KeyVersion != 0 {
			kvn = strconv.Itoa(d.KeyVersion)
		}
		if d.Loan != nil {
			loan, mon, due = trial.FormatLoanID(d.Loan.ID), d.Loan.MonitorID, d.Loan.DueOn
		}
		return []string{string(d.Kind), imei, iccid, string(d.Carrier), d.Model, string(d.OS),
			strings.Join(d.Accessories, ", "), string(d.AppletState), kvn, d.Notes, loan, mon, due}
	}
	if asCSV {
		w := csv.NewWriter(env.Stdout)
		if err := w.Write(deviceColumns); err != nil {
			return err
		}
		for _, d := range ds {
			rec := row(d)
			for i, v := range rec { // typed text must not run as a formula
				rec[i] = csvcell.Safe(v)
			}
			if err := w.Write(rec); err != nil {
				return err
			}
		}
		w.Flush()
		return w.Error()
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tIMEI/ICCID\tCARRIER\tMODEL\tOS/APPLET\tKEYS\tSTATUS")
	for _, d := range ds {
		osApplet, keys, status := string(d.OS), "-", "free"
		if d.Kind == trial.KindSIM {
			osApplet = string(d.AppletState)
			if d.KeyVersion != 0 {
				keys = fmt.Sprintf("KVN %d", d.KeyVersion)
			}
		}
		if d.Loan != nil {
			status = fmt.Sprintf("%s to %s, due %s", trial.FormatLoanID(d.Loan.ID), d.Loan.MonitorID, d.Loan.DueOn)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Kind, d.Serial, d.Carrier, d.Model, osApplet, keys, status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "%d devices\n", len(ds))
	return nil
}

func runLoans(env *Env, args []string) error {
	if len(args) == 0 {
		return Usagef("say what to do: checkout, checkin, extend, list or history")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("loans "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	str := func(name, usage string) *string { return fs.String(name, "", usage) }
	switch sub {
	case "checkout":
		monitor, phone, sim, staff, due := str("monitor", "monitor id"), str("phone", "IMEI"), str("sim", "ICCID"), str("staff", "who lends"), str("due", "YYYY-MM-DD")
		charger := fs.Bool("charger", true, "a charger goes with the phone")
		acc := str("accessories", "other items, comma separated")
		pos, err := parseInterleaved(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 0 {
			return Usagef("loans checkout takes only flags, got %q", pos[0])
		}
		for _, f := range []struct{ name, v string }{{"monitor", *monitor}, {"phone", *phone}, {"sim", *sim}, {"staff", *staff}} {
			if strings.TrimSpace(f.v) == "" {
				return Usagef("--%s is required", f.name)
			}
		}
		return loansCheckout(env, trial.Checkout{MonitorID: *monitor, Phone: *phone, SIM: *sim, Staff: *staff, DueOn: *due,
			Charger: *charger, Accessories: trial.SplitItems(*acc)})
	case "checkin", "extend", "history":
		staff, due, notes, missing := str("staff", "who"), str("due", "YYYY-MM-DD"), str("notes", "condition"), str("missing", "items not returned")
		pos, err := parseInterleaved(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return Usagef("loans %s takes one loan id (L-0001)", sub)
		}
		id, ok := trial.ParseLoanID(pos[0])
		if !ok {
			return Usagef("%q is not a loan id like L-0001", pos[0])
		}
		switch sub {
		case "checkin":
			if strings.TrimSpace(*staff) == "" {
				return Usagef("--staff is required")
			}
			return loansCheckin(env, id, trial.Return{Staff: *staff, Notes: *notes, Missing: trial.SplitItems(*missing)})
		case "extend":
			if strings.TrimSpace(*due) == "" {
				return Usagef("--due is required (the new last day, YYYY-MM-DD)")
			}
			return loansExtend(env, id, *due, *staff)
		}
		return loansHistory(env, id)
	case "list":
		overdue, open, asCSV := fs.Bool("overdue", false, "only overdue loans"), fs.Bool("open", false, "only loans not returned"), fs.Bool("csv", false, "CSV")
		remind := fs.Int("remind", -1, "open loans due within DAYS, overdue ones included")
		monitor, device := str("monitor", "one monitor's loans"), str("device", "one device's loans")
		pos, err := parseInterleaved(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 0 {
			return Usagef("loans list takes no arguments, got %q", pos[0])
		}
		f := trial.LoanFilter{Overdue: *overdue, Open: *open, MonitorID: *monitor, Device: *device}
		if *remind >= 0 {
			f.DueWithin = remind
		} else if *remind != -1 {
			return Usagef("--remind wants a number of days (0 or more)")
		}
		return loansList(env, f, *asCSV)
	}
	return Usagef("unknown loans command %q (checkout, checkin, extend, list, history)", sub)
}

func loansCheckout(env *Env, c trial.Checkout) error {
	desk, done, err := openDesk(env)
	if err != nil {
		return err
	}
	defer done()
	ln, err := desk.Checkout(env.Ctx, c)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: phone %s and SIM %s lent to %s by %s, due %s\n",
		trial.FormatLoanID(ln.ID), ln.Phone, ln.SIM, ln.MonitorID, ln.OutStaff, ln.DueOn)
	return nil
}

func loansCheckin(env *Env, id int64, r trial.Return) error {
	desk, done, err := openDesk(env)
	if err != nil {
		return err
	}
	defer done()
	ln, err := desk.Checkin(env.Ctx, id, r)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s returned by %s (taken back by %s)", trial.FormatLoanID(ln.ID), ln.MonitorID, ln.InStaff)
	if len(ln.Missing) > 0 {
		fmt.Fprintf(env.Stdout, "; missing: %s", strings.Join(ln.Missing, ", "))
	}
	fmt.Fprintln(env.Stdout)
	return nil
}

func loansExtend(env *Env, id int64, due, staff string) error {
	desk, done, err := openDesk(env)
	if err != nil {
		return err
	}
	defer done()
	ln, err := desk.Extend(env.Ctx, id, due, staff)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: %s keeps phone %s until %s\n", trial.FormatLoanID(ln.ID), ln.MonitorID, ln.Phone, ln.DueOn)
	return nil
}

func loansHistory(env *Env, id int64) error {
	desk, done, err := openDesk(env)
	if err != nil {
		return err
	}
	defer done()
	if _, err := desk.GetLoan(env.Ctx, id); err != nil {
		return err
	}
	evs, err := desk.History(env.Ctx, id)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN\tWHAT\tSTAFF\tDUE\tDETAIL")
	for _, e := range evs {
		due := e.DueAfter
		if e.DueBefore != "" {
			due = e.DueBefore + " → " + e.DueAfter
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.At.In(trial.JST).Format("2006-01-02 15:04"), e.Kind, e.Staff, due, e.Detail)
	}
	return tw.Flush()
}

func loansList(env *Env, f trial.LoanFilter, asCSV bool) error {
	desk, done, err := openDesk(env)
	if err != nil {
		return err
	}
	defer done()
	ls, err := desk.ListLoans(env.Ctx, f)
	if err != nil {
		return err
	}
	if asCSV {
		// The CSV carries names and contacts for reminders: an identified
		// export, audited before it is written.
		d := fmt.Sprintf("format csv; identified yes; %d loans", len(ls))
		for _, x := range []struct {
			on   bool
			what string
		}{{f.Overdue, "overdue"}, {f.Open, "open"}, {f.DueWithin != nil, "due soon"}, {f.MonitorID != "", "monitor " + f.MonitorID}, {f.Device != "", "device " + f.Device}} {
			if x.on {
				d += "; " + x.what
			}
		}
		if err := audit.RecordNow(env.Ctx, desk.DB, audit.Export, "loans", d); err != nil {
			return fmt.Errorf("not exported: the audit trail did not take the entry: %w", err)
		}
		return trial.WriteLoansCSV(env.Stdout, ls, desk.Zone)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOAN\tMONITOR\tPHONE\tSIM\tOUT\tDUE\tSTATUS")
	for _, ln := range ls {
		status := "out"
		switch {
		case !ln.Open():
			status = "returned " + ln.InAt.In(desk.Zone).Format("2006-01-02")
			if len(ln.Missing) > 0 {
				status += ", missing " + strings.Join(ln.Missing, ", ")
			}
		case ln.DaysOverdue > 0:
			status = fmt.Sprintf("OVERDUE %d days", ln.DaysOverdue)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", trial.FormatLoanID(ln.ID), ln.MonitorID, ln.Phone, ln.SIM,
			ln.OutAt.In(desk.Zone).Format("2006-01-02"), ln.DueOn, status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "%d loans\n", len(ls))
	return nil
}
