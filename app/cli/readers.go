package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
)

func init() {
	register(&Command{
		Name:    "readers",
		Usage:   "readers",
		Summary: "list PC/SC readers, card presence and card type",
		Run:     runReaders,
	})
}

// ReaderLine is one row of "jpkipilot readers".
type ReaderLine struct {
	Name string
	Card string // "present", "absent" or "mute"
	Type string // what device.Identify found, or why it could not look
}

// listReaders reads every reader and identifies the cards in them. The
// PC/SC adapter sets it (readers_pcsc.go, built with cgo); tests may too.
var listReaders func(ctx context.Context) ([]ReaderLine, error)

func runReaders(env *Env, args []string) error {
	if len(args) > 0 {
		return Usagef("readers takes no arguments")
	}
	if listReaders == nil {
		return errors.New("this build has no PC/SC support (it was built without cgo)")
	}
	lines, err := listReaders(env.Ctx)
	if err != nil {
		return err
	}
	if len(lines) == 0 {
		fmt.Fprintln(env.Stdout, "no PC/SC readers connected")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "READER\tCARD\tTYPE")
	for _, l := range lines {
		typ := l.Type
		if typ == "" {
			typ = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", l.Name, l.Card, typ)
	}
	return tw.Flush()
}
