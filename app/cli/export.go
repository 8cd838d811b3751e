package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"jpkipilot/survey"
	"jpkipilot/trial/audit"
)

func init() {
	register(&Command{
		Name:    "export",
		Usage:   "export survey --out FILE.xlsx|FILE.csv [--encoding utf-8|sjis] [--trial ID] [--step S] [--form ID] [--complete] [--identified]",
		Summary: "write questionnaire results to an Excel workbook or a CSV of its Data sheet (pseudonymised unless --identified)",
		Run:     runExport,
	})
}

func runExport(env *Env, args []string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("out", "", "the .xlsx or .csv file to write")
	encoding := fs.String("encoding", "", "CSV only: utf-8 (default, with BOM) or sjis (Shift_JIS)")
	trial := fs.String("trial", "", "only this trial (id)")
	step := fs.String("step", "", "only this step (application, purchase, entry) or form id")
	form := fs.String("form", "", "only this questionnaire (form id)")
	complete := fs.Bool("complete", false, "only completed responses")
	identified := fs.Bool("identified", false, "add monitors' names (personal data)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "survey" {
		return Usagef("what to export: survey")
	}
	if *out == "" {
		return Usagef("--out FILE.xlsx is required")
	}
	asCSV := false
	switch strings.ToLower(filepath.Ext(*out)) {
	case ".xlsx":
		if *encoding != "" {
			return Usagef("--encoding is for CSV; a workbook is always UTF-8")
		}
	case ".csv":
		asCSV = true
	default:
		return Usagef("--out wants a .xlsx or .csv file, not %q", *out)
	}
	enc, err := survey.CSVEncoding(*encoding)
	if err != nil {
		return Usagef("--encoding: %v", err)
	}
	// PII: the logged-in account's data key opens sealed names for
	// --identified; without it a sealed store's names fail with
	// pii.ErrLocked rather than being exported as ciphertext.
	opt := survey.ExportOptions{Identified: *identified, PII: env.PII, Lang: env.Lang, ExportedBy: whoami(), Encoding: enc}
	opt.FormID, opt.Step, opt.CompleteOnly = *form, *step, *complete
	if *trial != "" {
		id, err := strconv.ParseInt(*trial, 10, 64)
		if err != nil || id <= 0 {
			return Usagef("--trial wants a trial id (a number), not %q", *trial)
		}
		opt.TrialID = &id
	}
	// Run has checked the role (export.identified or export.pseudonymised,
	// policy.go); the README sheet names the account, or the OS user on a
	// store without accounts.
	if env.Session != nil {
		opt.ExportedBy = env.Session.Account.Login + " (staff account)"
	}
	if *identified {
		fmt.Fprintln(env.Stderr, "warning: identified export: the file holds monitors' names")
	}
	svc, done, err := openSurveyStore(env)
	if err != nil {
		return err
	}
	defer done()
	format := "xlsx"
	if asCSV {
		format = "csv " + enc
	}
	// A failed or cancelled export never leaves a partial file under the
	// requested name, nor a file the audit trail does not know: the entry
	// (what, how, by the actor in env.Ctx; never a name or an answer) is
	// recorded before the file takes its name.
	responses := 0
	err = writeAtomic(*out, func(w io.Writer) error {
		count := func(d, total int) { responses = total }
		var err error
		if asCSV {
			err = svc.ExportCSV(env.Ctx, w, opt, count)
		} else {
			err = svc.Export(env.Ctx, w, opt, count)
		}
		if err != nil {
			return err
		}
		if err := audit.RecordNow(env.Ctx, svc.DB, audit.Export, "survey", opt.AuditDetail(format, responses)); err != nil {
			return fmt.Errorf("not exported: the audit trail did not take the entry: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s: %d responses\n", *out, responses)
	return nil
}

func whoami() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username + " (OS user)"
	}
	return os.Getenv("USER")
}
