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
	opt := survey.ExportOptions{Identified: *identified, Lang: env.Lang, ExportedBy: whoami(), Encoding: enc}
	opt.FormID, opt.Step, opt.CompleteOnly = *form, *step, *complete
	if *trial != "" {
		id, err := strconv.ParseInt(*trial, 10, 64)
		if err != nil || id <= 0 {
			return Usagef("--trial wants a trial id (a number), not %q", *trial)
		}
		opt.TrialID = &id
	}
	// TODO(staff accounts): an identified export needs the coordinator role
	// and goes to the audit log; until accounts exist the OS user is named
	// in the README sheet and a warning is printed.
	if *identified {
		fmt.Fprintln(env.Stderr, "warning: identified export: the file holds monitors' names")
	}
	svc, done, err := openSurveyStore(env)
	if err != nil {
		return err
	}
	defer done()
	// A failed or cancelled export never leaves a partial file under the
	// requested name.
	responses := 0
	err = writeAtomic(*out, func(w io.Writer) error {
		count := func(d, total int) { responses = total }
		if asCSV {
			return svc.ExportCSV(env.Ctx, w, opt, count)
		}
		return svc.Export(env.Ctx, w, opt, count)
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
