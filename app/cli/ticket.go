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

	"jpkipilot/trial/store"
	"jpkipilot/trial/ticket"
)

func init() {
	register(&Command{Name: "ticket",
		Usage: "ticket events | apply --event E [--reader R] [--pin-file F] | buy --event E --card-number N --expiry MM/YY [--reader R]" +
			" | transfer --ticket ID --reader OWNER --to-reader COMPANION [--pin-file F] | gate --event E [--reader R] [--gate NAME] [--max-crl-age 48h] [--pin-file F]",
		Summary: "the ticketless-service demo: events, application, purchase, transfer to a companion, entry gate",
		Run:     runTicket})
}

func runTicket(env *Env, args []string) error {
	if len(args) == 0 {
		return Usagef("which ticket command? events, apply, buy, transfer or gate")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("ticket "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	eventID := fs.String("event", "", "event id (see `ticket events`)")
	reader := fs.String("reader", "", "reader name (default: the first reader with a card)")
	pinFile := fs.String("pin-file", "", "file whose first line is the auth PIN")
	number := fs.String("card-number", "", "credit card number (only its last four digits are stored)")
	expiry := fs.String("expiry", "", "credit card expiry MM/YY")
	ticketID := fs.Int64("ticket", 0, "ticket id")
	toReader := fs.String("to-reader", "", "reader the companion holds their card or phone to")
	gateName := fs.String("gate", "", "this gate's name (default: the host name)")
	maxAge := fs.Duration("max-crl-age", ticket.DefaultMaxCRLAge, "refuse when the held CRL is older")
	switch sub {
	case "events", "apply", "buy", "transfer", "gate":
	default:
		return Usagef("unknown ticket command %q (want events, apply, buy, transfer or gate)", sub)
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef("ticket %s: unexpected argument %q", sub, pos[0])
	}
	need := map[string][]string{"apply": {"event"}, "buy": {"event", "card-number", "expiry"}, "transfer": {"ticket", "reader", "to-reader"}, "gate": {"event"}}
	for _, name := range need[sub] {
		if f := fs.Lookup(name); f.Value.String() == "" || f.Value.String() == "0" {
			return Usagef("ticket %s needs --%s", sub, name)
		}
	}
	if sub != "events" && openCard == nil {
		return errors.New("this build has no PC/SC support (it was built without cgo)")
	}

	db, err := store.Open(env.Ctx, env.DSN)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := ticket.NewService(db, nil)
	if err := svc.SeedDemo(env.Ctx); err != nil {
		return err
	}
	if sub == "events" {
		es, err := svc.Events(env.Ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tEVENT\tVENUE\tSTARTS\tPRICE")
		for _, e := range es {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t¥%d\n", e.ID, e.Name, e.Venue, e.StartsAt.In(jst).Format("2006-01-02 15:04"), e.PriceYen)
		}
		return w.Flush()
	}
	if svc.Trust, err = ticket.LoadTrust(env.Ctx, db, *maxAge); err != nil {
		return err
	}
	cc, err := openCard(env.Ctx, *reader)
	if err != nil {
		return err
	}
	defer cc.Close()
	pin := pinSource(env, *pinFile)

	switch sub {
	case "apply":
		t, err := svc.Apply(env.Ctx, *eventID, cc.Card, pin)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "ticket %d for %s, bound to certificate %s (applied with the %s)\n", t.ID, t.EventID, t.CertSerial, t.AppliedWith)
	case "buy":
		r, err := svc.Buy(env.Ctx, *eventID, cc.Card, ticket.Payment{Number: *number, Expiry: *expiry})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "approved: receipt %s, ¥%d, card ending %s\n", r.Number, r.Amount, r.Last4)
	case "transfer":
		owner, err := svc.ReadWithoutPIN(env.Ctx, cc.Card)
		if err != nil {
			return fmt.Errorf("owner's card: %w", err)
		}
		comp, err := openCard(env.Ctx, *toReader)
		if err != nil {
			return fmt.Errorf("companion's reader: %w", err)
		}
		defer comp.Close()
		t, err := svc.Transfer(env.Ctx, *ticketID, owner, comp.Card, pin)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "ticket %d now bound to certificate %s\n", t.ID, t.CertSerial)
	case "gate":
		name := *gateName
		if name == "" {
			name = hostName()
		}
		g := ticket.NewGate(db, *eventID, name, svc.Trust)
		if _, err := svc.Event(env.Ctx, *eventID); err != nil {
			return err
		}
		d, err := g.Check(env.Ctx, cc.Card, time.Now(), pin)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s\t%s\tmethod=%s\tapdus=%d\tms=%s\tcrl_age=%s\n", verdict(d), d.Reason, d.Method, d.APDUs,
			strconv.FormatFloat(float64(d.Elapsed.Microseconds())/1000, 'f', 1, 64), d.CRLAge.Round(time.Minute))
		if !d.Admit {
			return fmt.Errorf("denied: %s", d.Reason)
		}
	}
	return nil
}

var jst = time.FixedZone("JST", 9*3600)

func verdict(d ticket.Decision) string {
	if d.Admit {
		return "ADMIT"
	}
	return "DENY"
}

func hostName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "gate"
	}
	return h
}
