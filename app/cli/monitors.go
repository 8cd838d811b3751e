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
	"time"

	"jpkipilot/trial"
	"jpkipilot/trial/audit"
	"jpkipilot/trial/csvcell"
)

func init() {
	register(&Command{
		Name:    "monitors",
		Usage:   "monitors import FILE [--trial ID] | list [--csv] [--trial ID] [--status S] [--query Q] | withdraw ID | purge-expired",
		Summary: "import monitors from CSV/XLSX (all or nothing), list them, record a withdrawal, erase personal fields past the retention date",
		Run:     runMonitors,
	})
}

func runMonitors(env *Env, args []string) error {
	if len(args) == 0 {
		return Usagef("say what to do: import, list, withdraw or purge-expired")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("monitors "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	trialID := fs.Int64("trial", 0, "trial id")
	var asCSV *bool
	var status, query *string
	if sub == "list" {
		asCSV = fs.Bool("csv", false, "CSV with a header row")
		status = fs.String("status", "", "enrolled, attended, completed or withdrawn")
		query = fs.String("query", "", "id, name or kana contains")
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if *trialID < 0 {
		return Usagef("--trial wants a trial id (a positive number)")
	}
	switch sub {
	case "import":
		if len(pos) != 1 {
			return Usagef("monitors import takes one FILE (.csv or .xlsx)")
		}
		return monitorsImport(env, pos[0], *trialID)
	case "list":
		if len(pos) != 0 {
			return Usagef("monitors list takes no arguments, got %q", pos[0])
		}
		st := trial.Status(*status)
		if st != "" && !trial.KnownStatus(st) {
			return Usagef("unknown status %q (enrolled, attended, completed, withdrawn)", *status)
		}
		return monitorsList(env, trial.Filter{TrialID: *trialID, Status: st, Query: *query}, *asCSV)
	case "withdraw":
		if len(pos) != 1 {
			return Usagef("monitors withdraw takes one monitor id (M-0012)")
		}
		if _, ok := trial.ParseMonitorID(pos[0]); !ok {
			return Usagef("%q is not a monitor id like M-0012", pos[0])
		}
		return monitorsWithdraw(env, pos[0])
	case "purge-expired":
		if len(pos) != 0 || *trialID != 0 {
			return Usagef("monitors purge-expired takes no arguments: it purges every trial past its retention date")
		}
		return monitorsPurge(env)
	}
	return Usagef("unknown monitors command %q (import, list, withdraw, purge-expired)", sub)
}

func monitorsImport(env *Env, path string, trialID int64) error {
	svc, done, err := openTrialStore(env)
	if err != nil {
		return err
	}
	defer done()
	res, err := svc.ImportFile(env.Ctx, path, trial.ImportOptions{TrialID: trialID})
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
	fmt.Fprintf(env.Stdout, "imported %d monitors (%s … %s) from %s (%s)\n", res.Count, res.FirstID, res.LastID, path, res.Encoding)
	return nil
}

// monitorColumns are the columns of `monitors list --csv`; the personal and
// session columns carry the import's names so a list can be edited and
// imported elsewhere.
var monitorColumns = []string{"id", "trial_id", "session", "name", "kana", "age_band", "contact", "companion_of",
	"status", "consent_version", "consent_signed_on", "consent_staff", "withdrawn_at"}

func monitorsList(env *Env, f trial.Filter, asCSV bool) error {
	svc, done, err := openTrialStore(env)
	if err != nil {
		return err
	}
	defer done()
	ms, err := svc.ListMonitors(env.Ctx, f)
	if err != nil {
		return err
	}
	sessions, err := svc.AllSessions(env.Ctx)
	if err != nil {
		return err
	}
	code := map[int64]string{}
	for _, se := range sessions {
		code[se.ID] = se.Code
	}
	row := func(m trial.Monitor) []string {
		sess, comp, wd := "", "", ""
		if m.SessionID != nil {
			sess = code[*m.SessionID]
		}
		if m.CompanionOf != nil {
			comp = *m.CompanionOf
		}
		if m.WithdrawnAt != nil {
			wd = m.WithdrawnAt.UTC().Format(time.RFC3339)
		}
		return []string{m.ID, strconv.FormatInt(m.TrialID, 10), sess, m.Name, m.Kana, m.AgeBand, m.Contact, comp,
			string(m.Status), m.Consent.FormVersion, m.Consent.SignedOn, m.Consent.Staff, wd}
	}
	if asCSV {
		// A CSV of names and contacts is an identified export: it goes to
		// the audit trail before a line is written (filters named, never
		// the query text, which may be a name).
		d := fmt.Sprintf("format csv; identified yes; %d monitors", len(ms))
		if f.TrialID != 0 {
			d += fmt.Sprintf("; trial %d", f.TrialID)
		}
		if f.Status != "" {
			d += "; status " + string(f.Status)
		}
		if f.Query != "" {
			d += "; filtered by a search"
		}
		if err := audit.RecordNow(env.Ctx, svc.DB, audit.Export, "monitors", d); err != nil {
			return fmt.Errorf("not exported: the audit trail did not take the entry: %w", err)
		}
		w := csv.NewWriter(env.Stdout)
		if err := w.Write(monitorColumns); err != nil {
			return err
		}
		for _, m := range ms {
			rec := row(m)
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
	fmt.Fprintln(tw, "ID\tTRIAL\tSESSION\tNAME\tKANA\tAGE\tSTATUS\tCONSENT")
	for _, m := range ms {
		name, consent := m.Name, "-"
		if m.Status == trial.StatusWithdrawn {
			name = "(withdrawn " + m.WithdrawnAt.UTC().Format("2006-01-02") + ")"
		}
		if m.Consent.Given() {
			consent = m.Consent.FormVersion + " " + m.Consent.SignedOn
		}
		r := row(m)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r[0], r[1], r[2], name, m.Kana, m.AgeBand, m.Status, consent)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "%d monitors\n", len(ms))
	return nil
}

func monitorsWithdraw(env *Env, id string) error {
	svc, done, err := openTrialStore(env)
	if err != nil {
		return err
	}
	defer done()
	m, err := svc.Withdraw(env.Ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s withdrawn at %s: name, kana and contact erased; id, session and answers kept\n",
		m.ID, m.WithdrawnAt.UTC().Format(time.RFC3339))
	return nil
}

func monitorsPurge(env *Env) error {
	svc, done, err := openTrialStore(env)
	if err != nil {
		return err
	}
	defer done()
	res, err := svc.PurgeExpired(env.Ctx)
	if err != nil {
		return err
	}
	if len(res.Trials) == 0 {
		fmt.Fprintln(env.Stdout, "nothing to erase: no trial past its retention date holds personal fields")
		return nil
	}
	ids := make([]string, len(res.Trials))
	for i, id := range res.Trials {
		ids[i] = strconv.FormatInt(id, 10)
	}
	fmt.Fprintf(env.Stdout, "erased the name, kana and contact of %d monitors of trial(s) %s; ids, answers and loans kept\n",
		res.Monitors, strings.Join(ids, ", "))
	return nil
}
