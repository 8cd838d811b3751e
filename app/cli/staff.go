package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"jpkipilot/trial/pii"
	"jpkipilot/trial/staff"
	"jpkipilot/trial/store"
)

func init() {
	register(&Command{
		Name: "staff",
		Usage: "staff init --login L [--name N] | add --login L --role coordinator|staff|analyst [--name N] | list" +
			" | passwd [--login L] | role L ROLE | disable L | enable L | pin [--login L] | rotate-key",
		Summary: "staff accounts: the first coordinator, accounts and roles, passwords, kiosk PINs, the data key (secrets are asked for, never given as arguments)",
		Run:     runStaff,
	})
}

func runStaff(env *Env, args []string) error {
	if len(args) == 0 {
		return Usagef("say what to do: init, add, list, passwd, role, disable, enable, pin or rotate-key")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("staff "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var login, name, role *string
	switch sub {
	case "init", "add":
		login = fs.String("login", "", "the account's login")
		name = fs.String("name", "", "the person's name as the GUI shows it (default: the login)")
		if sub == "add" {
			role = fs.String("role", "", "coordinator, staff or analyst")
		}
	case "passwd", "pin":
		login = fs.String("login", "", "another account's login (coordinators)")
	case "list", "role", "disable", "enable", "rotate-key":
	default:
		return Usagef("unknown staff command %q (init, add, list, passwd, role, disable, enable, pin, rotate-key)", sub)
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	wantArgs := map[string]int{"role": 2, "disable": 1, "enable": 1}[sub]
	if len(pos) != wantArgs {
		if wantArgs == 0 {
			return Usagef("staff %s takes no arguments, got %q", sub, pos[0])
		}
		return Usagef("staff %s takes %d argument(s)", sub, wantArgs)
	}
	var newRole staff.Role
	switch sub {
	case "init":
		if *login == "" {
			return Usagef("staff init: --login is required")
		}
		if *name == "" {
			*name = *login
		}
	case "add":
		if *login == "" || *role == "" {
			return Usagef("staff add: --login and --role are required")
		}
		if err := staff.ValidateLogin(*login); err != nil {
			return Usagef("--login: %v", err)
		}
		if *name == "" {
			*name = *login
		}
		if newRole, err = staff.ParseRole(*role); err != nil {
			return Usagef("--role: %v", err)
		}
	case "role":
		if newRole, err = staff.ParseRole(pos[1]); err != nil {
			return Usagef("%v", err)
		}
	}

	db, err := store.Open(env.Ctx, env.DSN)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := newStaff(db)
	if sub == "init" {
		return staffInit(env, db, svc, *login, *name)
	}
	by := env.Session
	if by == nil {
		// Run sets the session on a store with accounts; without one there
		// is nobody to act for yet.
		return errors.New("this store has no staff accounts yet: make the first coordinator with `jpkipilot staff init --login LOGIN`")
	}
	ctx := env.Ctx
	switch sub {
	case "add":
		pw, err := newSecrets(env).askNew("Initial password for "+*login+": ", "password",
			func(p string) error { return staff.ValidatePasswordFor(staff.FoldLogin(*login), p) })
		if err != nil {
			return err
		}
		a, err := svc.Create(ctx, by, *login, *name, newRole, pw)
		if err != nil {
			return err
		}
		key := "no data key: personal fields stay sealed for it"
		if a.Role.HoldsDataKey() {
			key = "holds the data key"
		}
		fmt.Fprintf(env.Stdout, "account %s (%s) created; %s\n", a.Login, a.Role, key)
		return nil
	case "list":
		return staffList(env, svc)
	case "passwd":
		return staffPasswd(env, svc, *login)
	case "role":
		if err := svc.SetRole(ctx, by, pos[0], newRole); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s is now %s\n", staff.FoldLogin(pos[0]), newRole)
		return nil
	case "disable", "enable":
		if err := svc.Disable(ctx, by, pos[0], sub == "disable"); err != nil {
			return err
		}
		if sub == "enable" {
			fmt.Fprintf(env.Stdout, "%s enabled\n", staff.FoldLogin(pos[0]))
		} else {
			fmt.Fprintf(env.Stdout, "%s disabled: it can no longer log in, and its sessions have ended\n", staff.FoldLogin(pos[0]))
		}
		return nil
	case "pin":
		if *login == "" || staff.FoldLogin(*login) == by.Account.Login {
			return staffOwnPIN(env, svc)
		}
		target := staff.FoldLogin(*login)
		pin, err := newSecrets(env).askNew("Kiosk PIN for "+target+" (6–8 digits): ", "PIN", staff.ValidatePIN)
		if err != nil {
			return err
		}
		if err := svc.SetPIN(ctx, by, target, pin); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "kiosk PIN of %s set\n", target)
		return nil
	case "rotate-key":
		if err := svc.RotateDataKey(ctx, by); err != nil {
			return err
		}
		n, err := countPersonalFields(ctx, db)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "data key rotated: %d personal fields resealed; every session has ended, this one too: log in again\n", n)
		return forgetToken(env)
	}
	return nil
}

// staffInit makes the first coordinator of a store without accounts and
// reports how many personal fields the new data key sealed.
func staffInit(env *Env, db *store.DB, svc *staff.Service, login, name string) error {
	if has, err := svc.HasAccounts(env.Ctx); err != nil {
		return err
	} else if has {
		return errors.New("this store already has staff accounts: a coordinator adds more with `jpkipilot staff add`")
	}
	folded := staff.FoldLogin(login)
	if err := staff.ValidateLogin(folded); err != nil {
		return Usagef("--login: %v", err)
	}
	pw, err := newSecrets(env).askNew("Password for "+folded+": ", "password",
		func(p string) error { return staff.ValidatePasswordFor(folded, p) })
	if err != nil {
		return err
	}
	sess, err := svc.CreateFirst(env.Ctx, login, name, pw)
	if err != nil {
		return err
	}
	n, err := countPersonalFields(env.Ctx, db)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "coordinator %s created; the new data key sealed %d personal fields\nlog in with: jpkipilot login --user %s\n",
		sess.Account.Login, n, sess.Account.Login)
	return nil
}

// countPersonalFields counts the stored personal values (pii.Columns) that
// are not empty; after sealing every one of them is sealed.
func countPersonalFields(ctx context.Context, db *store.DB) (int, error) {
	total := 0
	for _, c := range pii.Columns {
		var n int
		// Table and column names come from the registry, never from input.
		if err := db.GetContext(ctx, &n, fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE %s <> ''", c.Table, c.Name)); err != nil {
			return 0, fmt.Errorf("count %s: %w", c.Field(), err)
		}
		total += n
	}
	return total, nil
}

func staffList(env *Env, svc *staff.Service) error {
	as, err := svc.List(env.Ctx, env.Session)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOGIN\tROLE\tSTATUS\tPIN\tHASH\tLAST LOGIN\tNAME")
	outdated := 0
	for _, a := range as {
		status, pin, hash, last := "active", "-", "current", "never"
		if a.Disabled {
			status = "disabled"
		}
		if a.HasPIN {
			pin = "set"
		}
		if a.BelowCost {
			hash = "outdated"
			outdated++
		}
		if a.LastLogin != nil {
			last = a.LastLogin.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Login, a.Role, status, pin, hash, last, a.DisplayName)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if outdated > 0 {
		// On stderr, so that the table on stdout stays one row per account.
		fmt.Fprintf(env.Stderr, "%d account(s) with HASH outdated: the password was hashed under a lower argon2id cost than the current setting. "+
			"The account's next login hashes it again; for one that no longer logs in, reset its password (jpkipilot staff passwd --login L).\n", outdated)
	}
	return nil
}

// staffPasswd changes the session's own password (the current one is asked
// for first), or a coordinator resets another account's.
// ownChangeError words the refusal of a change to one's own password or
// PIN, which asked for the current password.
func ownChangeError(what string, err error) error {
	var th *staff.ThrottledError
	switch {
	case errors.As(err, &th):
		return fmt.Errorf("%s: too many failed attempts; try again in %s", what, waitText(th.Wait))
	case errors.Is(err, staff.ErrBadLogin):
		return fmt.Errorf("%s: the current password is wrong", what)
	}
	return err
}

// staffOwnPIN sets the logged-in account's own kiosk PIN: the password
// first, then the PIN twice, none of them echoed.
func staffOwnPIN(env *Env, svc *staff.Service) error {
	by := env.Session
	sec := newSecrets(env)
	old, err := sec.ask("Current password: ", "password")
	if err != nil {
		return err
	}
	pin, err := sec.askNew("Your kiosk PIN (6–8 digits): ", "PIN", staff.ValidatePIN)
	if err != nil {
		return err
	}
	if err := svc.SetOwnPIN(env.Ctx, by, old, pin); err != nil {
		return ownChangeError("PIN not set", err)
	}
	fmt.Fprintln(env.Stdout, "your kiosk PIN is set; type it to leave a kiosk")
	return nil
}

func staffPasswd(env *Env, svc *staff.Service, login string) error {
	by := env.Session
	sec := newSecrets(env)
	own := login == "" || staff.FoldLogin(login) == by.Account.Login
	target := by.Account.Login
	if !own {
		target = staff.FoldLogin(login)
	}
	var old string
	if own {
		var err error
		if old, err = sec.ask("Current password: ", "password"); err != nil {
			return err
		}
	}
	pw, err := sec.askNew("New password for "+target+": ", "password",
		func(p string) error { return staff.ValidatePasswordFor(target, p) })
	if err != nil {
		return err
	}
	if own {
		if err := svc.ChangePassword(env.Ctx, by, old, pw); err != nil {
			return ownChangeError("password not changed", err)
		}
		fmt.Fprintln(env.Stdout, "password changed; your sessions have ended: log in again with the new password")
		return forgetToken(env)
	}
	if err := svc.ResetPassword(env.Ctx, by, target, pw); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "password of %s reset; tell them in person and have them change it with `jpkipilot staff passwd`\n", target)
	return nil
}
