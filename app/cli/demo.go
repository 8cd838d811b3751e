package cli

import (
	"context"
	"fmt"

	"jpkipilot/survey"
	"jpkipilot/trial"
	"jpkipilot/trial/store"
)

func init() {
	register(&Command{
		Name:    "demo",
		Usage:   "demo seed",
		Summary: "fill an empty database with the 2016–17 trial's demo data and answers (refuses if trials exist)",
		Run:     runDemo,
	})
}

func runDemo(env *Env, args []string) error {
	if len(args) != 1 || args[0] != "seed" {
		return Usagef("the only demo command is: demo seed")
	}
	db, svc, err := openStore(env)
	if err != nil {
		return err
	}
	defer db.Close()
	sum, answered, err := seedDemo(env.Ctx, svc)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "demo data added: %d trials, %d sessions, %d monitors, %d questionnaire responses\n",
		sum.Trials, sum.Sessions, sum.Monitors, answered)
	return nil
}

// SeedDemo fills an empty store with the demo trials, sessions and monitors
// and then their questionnaire answers; the GUI's first-run offer uses it too.
func SeedDemo(ctx context.Context, db *store.DB) (trial.DemoSummary, int, error) {
	return seedDemo(ctx, trial.New(db))
}

// seedDemo seeds through svc, which seals the demo monitors' names with its
// data key on a store with accounts.
func seedDemo(ctx context.Context, svc *trial.Service) (trial.DemoSummary, int, error) {
	sum, err := svc.SeedDemo(ctx)
	if err != nil {
		return sum, 0, err
	}
	n, err := survey.SeedDemo(ctx, svc.DB)
	if err != nil {
		return sum, n, fmt.Errorf("demo monitors were added but their questionnaire answers were not: %w", err)
	}
	return sum, n, nil
}
