package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"jpkipilot/survey"
)

func init() {
	register(&Command{
		Name:    "forms",
		Usage:   "forms check FILE.xlsx | add FILE.xlsx | add --bundled | list",
		Summary: "validate and register XLSForm questionnaires",
		Run:     runForms,
	})
}

func runForms(env *Env, args []string) error {
	fs := flag.NewFlagSet("forms", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	bundled := fs.Bool("bundled", false, "register the bundled questionnaire templates")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return Usagef("missing sub-command (check, add or list)")
	}
	switch sub := pos[0]; {
	case sub == "check" && len(pos) == 2 && !*bundled:
		return formsCheck(env, pos[1])
	case sub == "add" && len(pos) == 2 && !*bundled:
		return formsAdd(env, pos[1])
	case sub == "add" && len(pos) == 1 && *bundled:
		return formsAddBundled(env)
	case sub == "list" && len(pos) == 1 && !*bundled:
		return formsList(env)
	case sub == "check" || sub == "add":
		return Usagef("%s takes one FILE.xlsx", sub)
	case sub == "list":
		return Usagef("list takes no arguments")
	default:
		return Usagef("unknown sub-command %q", sub)
	}
}

// readForm reads and validates path; each problem of an invalid form is
// printed on its own line to w.
func readForm(path string, w io.Writer) ([]byte, *survey.Form, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	f, err := survey.ParseXLSForm(src)
	var fe survey.FormErrors
	if errors.As(err, &fe) {
		for _, e := range fe {
			fmt.Fprintln(w, e)
		}
		return nil, nil, fmt.Errorf("%s: %d problem(s); the form is refused", path, len(fe))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return src, f, nil
}

func formsCheck(env *Env, path string) error {
	_, f, err := readForm(path, env.Stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: OK — form %s version %s, %d questions\n", path, f.ID, f.Version, len(f.Questions()))
	return nil
}

func formsAdd(env *Env, path string) error {
	src, _, err := readForm(path, env.Stderr)
	if err != nil {
		return err
	}
	svc, done, err := openSurveyStore(env)
	if err != nil {
		return err
	}
	defer done()
	info, added, err := svc.AddForm(env.Ctx, src)
	if err != nil {
		return err
	}
	if added {
		fmt.Fprintf(env.Stdout, "registered form %s version %s (%s)\n", info.ID, info.Version, info.Title)
	} else {
		fmt.Fprintf(env.Stdout, "form %s version %s is already registered with the same questions\n", info.ID, info.Version)
	}
	return nil
}

func formsAddBundled(env *Env) error {
	svc, done, err := openSurveyStore(env)
	if err != nil {
		return err
	}
	defer done()
	infos, err := svc.AddBundled(env.Ctx)
	if err != nil {
		return err
	}
	for _, info := range infos {
		fmt.Fprintf(env.Stdout, "form %s version %s (%s)\n", info.ID, info.Version, info.Title)
	}
	return nil
}

func formsList(env *Env) error {
	svc, done, err := openSurveyStore(env)
	if err != nil {
		return err
	}
	defer done()
	infos, err := svc.Forms(env.Ctx)
	if err != nil {
		return err
	}
	for _, info := range infos {
		fmt.Fprintf(env.Stdout, "%s\t%s\t%s\t%s\n", info.ID, info.Version, info.AddedAt.Format("2006-01-02 15:04"), info.Title)
	}
	return nil
}
