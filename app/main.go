// Package app is the composition root: it reads the command line, opens the
// store, builds the services and either runs a subcommand (app/cli) or the
// Fyne GUI. It is the only package that imports fyne.io/fyne/v2/app.
package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"jpkipilot/app/cli"
)

// Options are the GUI's flags.
type Options struct {
	DSN   string // --db / JPKIPILOT_DB; empty = SQLite in the user data dir
	Lang  string // --lang ja|en; empty = the saved setting, else ja
	Kiosk string // --kiosk gate|survey|...; empty = the normal window
	Event string // --event for the gate kiosk
}

// Main runs jpkipilot with os.Args-style arguments and returns the exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rest := args[1:]
	if cmd := firstCommand(rest); cmd != "" {
		return cli.Run(ctx, rest, os.Stdin, os.Stdout, os.Stderr)
	}
	opts, code := parseGUIFlags(rest, os.Stderr)
	if code >= 0 {
		return code
	}
	if err := runGUI(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, "jpkipilot:", err)
		return 1
	}
	return 0
}

// firstCommand finds the subcommand after the global flags, if any.
func firstCommand(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--db" || a == "-db" || a == "--lang" || a == "-lang" || a == "--kiosk" || a == "-kiosk" || a == "--event" || a == "-event" ||
			a == "--token-file" || a == "-token-file":
			i++ // the flag's value
		case len(a) > 0 && a[0] == '-':
		default:
			return a
		}
	}
	return ""
}

// parseGUIFlags returns the options, or an exit code >= 0 when it printed usage.
func parseGUIFlags(args []string, stderr io.Writer) (Options, int) {
	var o Options
	fs := flag.NewFlagSet("jpkipilot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.DSN, "db", os.Getenv("JPKIPILOT_DB"), "store: SQLite file path, or postgres://... DSN (default: SQLite in the user data directory)")
	fs.StringVar(&o.Lang, "lang", "", "language: ja or en")
	fs.StringVar(&o.Kiosk, "kiosk", "", "kiosk mode: gate or survey")
	fs.StringVar(&o.Event, "event", "", "event for the gate kiosk")
	// The GUI asks for its own login; the command line's session token file
	// is accepted so that one set of global flags works for both.
	fs.String("token-file", "", "command-line session token (the GUI asks for a login instead)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			cli.Run(context.Background(), []string{"help"}, nil, os.Stdout, stderr)
			return o, 0
		}
		return o, 2
	}
	if o.Lang != "" && o.Lang != "ja" && o.Lang != "en" {
		fmt.Fprintf(stderr, "jpkipilot: --lang must be ja or en, not %q\n", o.Lang)
		return o, 2
	}
	return o, -1
}
