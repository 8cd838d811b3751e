package cli

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"jpkipilot/trial"
)

func init() {
	register(&Command{
		Name: "trials",
		Usage: "trials list | add --kind loan|venue|field --name N [--loan-days D] | " +
			"add-session --trial ID --code C --date YYYY-MM-DD [--step S] [--venue V] [--capacity N] [--target N] | dashboard ID | retention ID YYYY-MM-DD|none",
		Summary: "list and create trials and their sessions; per-session enrolment against target; how long personal data is kept",
		Run:     runTrials,
	})
}

func runTrials(env *Env, args []string) error {
	if len(args) == 0 {
		return Usagef("say what to do: list, add, add-session, dashboard or retention")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("trials "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	switch sub {
	case "list":
		pos, err := parseInterleaved(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 0 {
			return Usagef("trials list takes no arguments")
		}
		return trialsList(env)
	case "add":
		var t trial.Trial
		kind := fs.String("kind", "", "loan, venue or field")
		fs.StringVar(&t.Name, "name", "", "the trial's name")
		fs.IntVar(&t.LoanDays, "loan-days", trial.DefaultLoanDays, "days a phone is lent (loan trials)")
		fs.StringVar(&t.Notes, "notes", "", "free notes")
		if pos, err := parseInterleaved(fs, args); err != nil {
			return err
		} else if len(pos) != 0 {
			return Usagef("trials add takes only flags, got %q", pos[0])
		}
		t.Kind = trial.Kind(*kind)
		if !trial.KnownKind(t.Kind) {
			return Usagef("--kind must be loan, venue or field")
		}
		return withTrials(env, func(svc *trial.Service) error {
			t, err := svc.CreateTrial(env.Ctx, t)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "trial %d created: %s (%s)\n", t.ID, t.Name, t.Kind)
			return nil
		})
	case "add-session":
		var se trial.Session
		fs.Int64Var(&se.TrialID, "trial", 0, "trial id")
		fs.StringVar(&se.Code, "code", "", "unique session code, used by imports")
		fs.StringVar(&se.StartsOn, "date", "", "YYYY-MM-DD")
		step := fs.String("step", "", "field trials: application, purchase or entry")
		fs.StringVar(&se.Venue, "venue", "", "where")
		fs.IntVar(&se.Capacity, "capacity", 0, "places")
		fs.IntVar(&se.Target, "target", 0, "target number of monitors")
		if pos, err := parseInterleaved(fs, args); err != nil {
			return err
		} else if len(pos) != 0 {
			return Usagef("trials add-session takes only flags, got %q", pos[0])
		}
		if se.TrialID <= 0 || se.Code == "" || se.StartsOn == "" {
			return Usagef("--trial, --code and --date are required")
		}
		se.Step = trial.Step(*step)
		return withTrials(env, func(svc *trial.Service) error {
			se, err := svc.CreateSession(env.Ctx, se)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "session %s created in trial %d (id %d)\n", se.Code, se.TrialID, se.ID)
			return nil
		})
	case "dashboard":
		pos, err := parseInterleaved(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return Usagef("trials dashboard takes one trial id")
		}
		id, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil || id <= 0 {
			return Usagef("%q is not a trial id", pos[0])
		}
		return withTrials(env, func(svc *trial.Service) error { return trialsDashboard(env, svc, id) })
	case "retention":
		pos, err := parseInterleaved(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 2 {
			return Usagef("trials retention takes a trial id and a date (YYYY-MM-DD) or none")
		}
		id, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil || id <= 0 {
			return Usagef("%q is not a trial id", pos[0])
		}
		until := pos[1]
		if until == "none" {
			until = ""
		} else if _, err := time.Parse(time.DateOnly, until); err != nil {
			return Usagef("%q is not a date YYYY-MM-DD (or none)", until)
		}
		return withTrials(env, func(svc *trial.Service) error {
			if err := svc.SetRetention(env.Ctx, id, until); err != nil {
				return err
			}
			if until == "" {
				fmt.Fprintf(env.Stdout, "trial %d: no retention date; personal fields are kept until withdrawal\n", id)
			} else {
				fmt.Fprintf(env.Stdout, "trial %d: personal fields kept until %s; `jpkipilot monitors purge-expired` erases them from the day after\n", id, until)
			}
			return nil
		})
	}
	return Usagef("unknown trials command %q (list, add, add-session, dashboard, retention)", sub)
}

func withTrials(env *Env, fn func(svc *trial.Service) error) error {
	svc, done, err := openTrialStore(env)
	if err != nil {
		return err
	}
	defer done()
	return fn(svc)
}

func trialsList(env *Env) error {
	return withTrials(env, func(svc *trial.Service) error {
		ts, err := svc.ListTrials(env.Ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tSESSION\tSTEP\tDATE\tTARGET\tNAME / VENUE")
		for _, t := range ts {
			fmt.Fprintf(tw, "%d\t%s\t\t\t\t\t%s\n", t.ID, t.Kind, t.Name)
			ss, err := svc.ListSessions(env.Ctx, t.ID)
			if err != nil {
				return err
			}
			for _, se := range ss {
				fmt.Fprintf(tw, "\t\t%s\t%s\t%s\t%d\t%s\n", se.Code, se.Step, se.StartsOn, se.Target, se.Venue)
			}
		}
		return tw.Flush()
	})
}

func trialsDashboard(env *Env, svc *trial.Service, id int64) error {
	d, err := svc.Dashboard(env.Ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s (%s)\n", d.Trial.Name, d.Trial.Kind)
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SESSION\tDATE\tENROLLED\tTARGET\tCAPACITY\tNO CONSENT\tWITHDRAWN\t")
	line := func(code, date string, st trial.SessionStats) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t\n", code, date, st.Enrolled, st.Target(), st.Capacity(), st.ConsentMissing, st.Withdrawn)
	}
	for _, st := range d.Sessions {
		line(st.Session.Code, st.Session.StartsOn, st)
	}
	if u := d.Unassigned; u.Enrolled+u.Withdrawn > 0 {
		line("(no session)", "", u)
	}
	line("total", "", d.Total)
	return tw.Flush()
}
