package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/store"
)

func init() {
	register(&Command{
		Name:    "audit",
		Usage:   "audit verify | list [--action A] [--subject S] [--since DATE] [--until DATE] [--limit N] | export --out FILE.xlsx|FILE.csv [--action A] [--subject S] [--since DATE] [--until DATE]",
		Summary: "check the audit trail's hash chain, list its entries, export it to Excel or CSV",
		Run:     runAudit,
	})
}

// errAuditBroken is returned by `audit verify` after it printed each problem.
var errAuditBroken = errors.New("the audit trail is broken")

func runAudit(env *Env, args []string) error {
	if len(args) == 0 {
		return Usagef("say what to do: verify, list or export")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("audit "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f audit.Filter
	var since, until, out *string
	var limit *int
	switch sub {
	case "verify":
	case "list", "export":
		fs.StringVar(&f.Action, "action", "", "only this action (login, monitor.edit, export, cert.issue ...)")
		fs.StringVar(&f.Subject, "subject", "", "only this subject (M-0001, a login, a serial)")
		since = fs.String("since", "", "from this date (YYYY-MM-DD, local time) or RFC 3339 time")
		until = fs.String("until", "", "before this date (YYYY-MM-DD: up to the end of that day) or RFC 3339 time")
		if sub == "list" {
			limit = fs.Int("limit", 0, "at most N entries (the oldest first)")
		} else {
			out = fs.String("out", "", "the .xlsx or .csv file to write")
		}
	default:
		return Usagef("unknown sub-command %q (verify, list, export)", sub)
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return Usagef("audit %s takes no arguments, got %q", sub, pos[0])
	}
	if since != nil {
		if f.From, err = parseAuditTime(*since, false); err != nil {
			return Usagef("--since: %v", err)
		}
		if f.Until, err = parseAuditTime(*until, true); err != nil {
			return Usagef("--until: %v", err)
		}
	}
	if limit != nil {
		if *limit < 0 {
			return Usagef("--limit wants a positive number")
		}
		f.Limit = *limit
	}
	asCSV := false
	if out != nil {
		switch strings.ToLower(filepath.Ext(*out)) {
		case ".xlsx":
		case ".csv":
			asCSV = true
		case "":
			return Usagef("--out FILE.xlsx or FILE.csv is required")
		default:
			return Usagef("--out wants a .xlsx or .csv file, not %q", *out)
		}
	}

	db, err := store.Open(env.Ctx, env.DSN)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "verify":
		r, err := audit.Verify(env.Ctx, db)
		if err != nil {
			return err
		}
		if r.OK() {
			fmt.Fprintf(env.Stdout, "OK: %d entries, head %s\n", r.Entries, r.HeadHash)
			return nil
		}
		for _, p := range r.Problems {
			fmt.Fprintln(env.Stdout, p.String())
		}
		return fmt.Errorf("%w: %d problems in %d entries (head says entry %d, %s)", errAuditBroken, len(r.Problems), r.Entries, r.HeadSeq, r.HeadHash)
	case "list":
		es, err := audit.List(env.Ctx, db, f)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tACTION\tSUBJECT\tDETAIL")
		for _, e := range es {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.At.Local().Format("2006-01-02 15:04:05"),
				cleanCell(e.Actor), e.Action, cleanCell(e.Subject), cleanCell(e.Detail))
		}
		return tw.Flush()
	default: // export
		opt := audit.ExportOptions{Filter: f}
		if audit.ActorFrom(env.Ctx) == audit.Anonymous {
			opt.By = whoami() // no account: the README names the OS user
		}
		var res audit.ExportResult
		err := writeAtomic(*out, func(w io.Writer) error {
			var err error
			if asCSV {
				res, err = audit.ExportCSV(env.Ctx, db, w, opt)
			} else {
				res, err = audit.ExportXLSX(env.Ctx, db, w, opt)
			}
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "wrote %s: %d entries; chain %s\n", *out, res.Entries, res.Chain.ChainStatus())
		if !res.Chain.OK() {
			for _, p := range res.Chain.Problems {
				fmt.Fprintln(env.Stderr, p.String())
			}
		}
		return nil
	}
}

// parseAuditTime reads a date (local midnight; with end, the midnight after
// it, so --until 2026-11-27 includes that day) or an RFC 3339 time.
func parseAuditTime(s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseInLocation(time.DateOnly, s, time.Local); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither a date (2026-11-27) nor an RFC 3339 time", s)
}

// cleanCell keeps one entry on one line of the table.
func cleanCell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
}
