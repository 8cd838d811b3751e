package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"jpkipilot/trial/bank"
	"jpkipilot/trial/qr"
	"jpkipilot/trial/store"
)

func init() {
	register(&Command{
		Name: "bank",
		Usage: "bank register --monitor M-0001 [--reader R] [--pin-file F] | login --monitor M-0001 [--reader R] [--pin-file F] | login --monitor M-0001 --totp CODE" +
			" | totp-enrol --monitor M-0001 [--qr F.png] | summary [--trial ID] | schedule-update --trial ID --on YYYY-MM-DD | apply-updates",
		Summary: "the internet-banking login demo: register a card or phone, log in with it or a one-time password, measurements",
		Run:     runBank,
	})
}

func runBank(env *Env, args []string) error {
	if len(args) == 0 {
		return Usagef("which bank command? register, login, totp-enrol, summary, schedule-update or apply-updates")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("bank "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	monitor := fs.String("monitor", "", "monitor id, e.g. M-0001")
	reader := fs.String("reader", "", "reader name (default: the first reader with a card)")
	pinFile := fs.String("pin-file", "", "file whose first line is the auth PIN")
	totp := fs.String("totp", "", "log in with this one-time password instead of the card")
	qrFile := fs.String("qr", "", "write the enrolment QR code to this PNG file")
	trialID := fs.Int64("trial", 0, "trial id")
	on := fs.String("on", "", "date the demo data update is due (YYYY-MM-DD)")
	switch sub {
	case "register", "login", "totp-enrol", "summary", "schedule-update", "apply-updates":
	default:
		return Usagef("unknown bank command %q (want register, login, totp-enrol, summary, schedule-update or apply-updates)", sub)
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef("bank %s takes only flags (got %q)", sub, pos[0])
	}
	switch sub {
	case "register", "login", "totp-enrol":
		if *monitor == "" {
			return Usagef("bank %s: --monitor is required", sub)
		}
	case "schedule-update":
		if *trialID == 0 || *on == "" {
			return Usagef("bank schedule-update: --trial and --on are required")
		}
		if _, err := time.Parse(time.DateOnly, *on); err != nil {
			return Usagef("bank schedule-update: --on %q: want YYYY-MM-DD", *on)
		}
	}
	if sub == "login" && *totp != "" && (*reader != "" || *pinFile != "") {
		return Usagef("bank login: --totp logs in without the card; drop --reader and --pin-file")
	}

	db, err := store.Open(env.Ctx, env.DSN)
	if err != nil {
		return err
	}
	defer db.Close()
	b := bank.New(db)
	ctx := env.Ctx

	switch sub {
	case "register", "login":
		if sub == "login" && *totp != "" {
			s, err := b.LoginTOTP(ctx, *monitor, *totp, time.Now())
			if err != nil {
				return fmt.Errorf("login refused: %w", err)
			}
			return printSession(env, b, s)
		}
		if openCard == nil {
			return errors.New("this build has no PC/SC support (it was built without cgo)")
		}
		start := time.Now()
		cc, err := openCard(ctx, *reader)
		if err != nil {
			return err
		}
		defer cc.Close()
		pin := pinSource(env, *pinFile)
		if sub == "register" {
			cred, err := b.Register(ctx, *monitor, cc.Card, pin, start)
			if err != nil {
				return fmt.Errorf("registration refused: %w", err)
			}
			fmt.Fprintf(env.Stdout, "registered the %s with %s's bank account\ncertificate: issuer %s, serial %s\n",
				cred.Method, *monitor, cred.Issuer, cred.Serial)
			return nil
		}
		s, err := b.Login(ctx, *monitor, cc.Card, pin, start)
		if err != nil {
			return fmt.Errorf("login refused: %w", err)
		}
		return printSession(env, b, s)
	case "totp-enrol":
		en, err := b.EnrolTOTP(ctx, *monitor)
		if err != nil {
			return err
		}
		if *qrFile != "" {
			png, err := qr.PNG([]byte(en.URI), 8)
			if err != nil {
				return err
			}
			if err := writeAtomic(*qrFile, func(w io.Writer) error { _, err := w.Write(png); return err }); err != nil {
				return err
			}
		}
		fmt.Fprintf(env.Stdout, "%s\nsecret: %s\n", en.URI, en.Base32)
		return nil
	case "summary":
		sum, err := b.Summary(ctx, *trialID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "method\tattempts\tsuccesses\tsuccess rate\tmedian ms")
		for _, m := range sum {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f%%\t%.0f\n", m.Method, m.Attempts, m.Successes, m.SuccessRate*100, m.MedianMS)
		}
		return tw.Flush()
	case "schedule-update":
		u, err := b.ScheduleUpdate(ctx, *trialID, *on)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "trial %d: the demo data update is due on %s\n", u.TrialID, u.DueOn)
		return nil
	case "apply-updates":
		host, _ := os.Hostname()
		applied, err := b.ApplyDue(ctx, "cli@"+host)
		for _, u := range applied {
			fmt.Fprintf(env.Stdout, "trial %d: applied the update due on %s to %d accounts\n", u.TrialID, u.DueOn, u.Accounts)
		}
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(env.Stdout, "no update due")
		}
		return nil
	}
	return nil
}

func printSession(env *Env, b *bank.Bank, s *bank.Session) error {
	bal, txs, err := b.Statement(env.Ctx, s.MonitorID)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "logged in to %s's account with the %s in %d ms\nbalance: %s yen\n",
		s.MonitorID, s.Method, s.Duration.Milliseconds(), yen(bal))
	for _, t := range txs {
		fmt.Fprintf(env.Stdout, "%s  %12s  %s\n", t.At.Local().Format(time.DateOnly), yen(t.Amount), t.Description)
	}
	return nil
}

// yen formats an amount with thousands separators.
func yen(v int64) string {
	s := strconv.FormatInt(v, 10)
	neg := v < 0
	if neg {
		s = s[1:]
	}
	out := ""
	for len(s) > 3 {
		out = "," + s[len(s)-3:] + out
		s = s[:len(s)-3]
	}
	out = s + out
	if neg {
		out = "-" + out
	}
	return out
}
