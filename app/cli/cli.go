// Package cli is jpkipilot's command line: every subcommand of DESIGN.md.
// It imports no Fyne so that it builds and tests without cgo/GL; app.Main
// starts the GUI when no subcommand is given and calls Run otherwise.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"jpkipilot/trial/pii"
	"jpkipilot/trial/staff"
)

// Env is what a command gets: its streams, the store DSN and the language.
type Env struct {
	Ctx    context.Context
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// DSN is --db or JPKIPILOT_DB: empty means the SQLite file in the user
	// data directory, postgres://... a shared PostgreSQL.
	DSN  string
	Lang string
	// PII is the logged-in account's data key for personal fields
	// (trial/pii); nil when no one is logged in or the role holds none.
	// Ctx carries the actor for the audit trail (audit.WithActor).
	PII *pii.Key
	// Session is the logged-in account (nil on a store without accounts,
	// and for commands that need none); set by Run from the token file.
	Session *staff.Session
	// TokenFile is --token-file or JPKIPILOT_TOKEN_FILE; empty means the
	// default file for the store (tokenPath).
	TokenFile string
}

// Command is one top-level subcommand (its own sub-verbs parse inside Run).
type Command struct {
	Name    string
	Usage   string // one line: "monitors import FILE | list [--csv]"
	Summary string
	Run     func(env *Env, args []string) error
}

var commands = map[string]*Command{}

// register adds a command; each area's file calls it from init.
func register(c *Command) {
	if _, dup := commands[c.Name]; dup {
		panic("cli: command registered twice: " + c.Name)
	}
	commands[c.Name] = c
}

// UsageError makes Run exit with status 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a *UsageError.
func Usagef(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

// IsCommand reports whether name is a registered subcommand.
func IsCommand(name string) bool { _, ok := commands[name]; return ok }

// Run executes args (without the program name). Exit codes: 0 ok, 1 failure
// with a one-line reason on stderr, 2 usage.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &Env{Ctx: ctx, Stdin: stdin, Stdout: stdout, Stderr: stderr, DSN: os.Getenv("JPKIPILOT_DB"), Lang: "ja",
		TokenFile: os.Getenv("JPKIPILOT_TOKEN_FILE")}
	fs := flag.NewFlagSet("jpkipilot", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&env.DSN, "db", env.DSN, "store DSN")
	fs.StringVar(&env.Lang, "lang", env.Lang, "ja or en")
	fs.StringVar(&env.TokenFile, "token-file", env.TokenFile, "session token file")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintln(stderr, "jpkipilot:", err)
		usage(stderr)
		return 2
	}
	rest := fs.Args()
	if len(rest) == 0 || rest[0] == "help" || rest[0] == "-h" || rest[0] == "--help" {
		usage(stdout)
		if len(rest) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[rest[0]]
	if !ok {
		fmt.Fprintf(stderr, "jpkipilot: unknown command %q\n", rest[0])
		usage(stderr)
		return 2
	}
	// On a store with staff accounts the command runs only for an account
	// whose role allows it (policy.go).
	err := authorize(env, cmd, rest[1:])
	if err == nil {
		err = cmd.Run(env, rest[1:])
	}
	var ue *UsageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "jpkipilot %s: %s\nusage: jpkipilot %s\n", cmd.Name, ue.Msg, cmd.Usage)
		return 2
	default:
		fmt.Fprintf(stderr, "jpkipilot %s: %s\n", cmd.Name, oneLine(err.Error()))
		return 1
	}
}

// oneLine keeps the failure reason to one line; multi-line detail (every bad
// row of an import) is printed by the command itself before it returns.
func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: jpkipilot [--db DSN] [--lang ja|en] [--kiosk MODE]   (no command: the GUI)")
	fmt.Fprintln(w, "       jpkipilot [--db DSN] [--token-file F] COMMAND ...")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := commands[n]
		fmt.Fprintf(w, "\n  %-10s %s\n", c.Name, c.Summary)
		// One line per form of the command: "a | b | c" reads badly on one line.
		forms := strings.Split(c.Usage, " | ")
		for i, f := range forms {
			if i > 0 && !strings.HasPrefix(f, c.Name+" ") {
				f = c.Name + " " + f
			}
			fmt.Fprintf(w, "             jpkipilot %s\n", f)
		}
	}
}
