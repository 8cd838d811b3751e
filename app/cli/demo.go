package cli

import (
	"fmt"

	"jpkipilot/trial"
)

func init() {
	register(&Command{
		Name:    "demo",
		Usage:   "demo seed",
		Summary: "fill an empty database with the 2016–17 trial's demo data (refuses if trials exist)",
		Run:     runDemo,
	})
}

func runDemo(env *Env, args []string) error {
	if len(args) != 1 || args[0] != "seed" {
		return Usagef("the only demo command is: demo seed")
	}
	return withTrials(env, func(svc *trial.Service) error {
		sum, err := svc.SeedDemo(env.Ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "demo data added: %d trials, %d sessions, %d monitors\n", sum.Trials, sum.Sessions, sum.Monitors)
		return nil
	})
}
