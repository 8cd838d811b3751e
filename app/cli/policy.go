package cli

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"jpkipilot/trial/staff"
	"jpkipilot/trial/store"
)

// need is what one form of a command asks of the logged-in account.
type need struct {
	// action is what the form does (staff's one policy table decides who may).
	action staff.Action
	// open forms run without an account: they need no store, or handle
	// sessions themselves (login, logout, whoami, the first `staff init`);
	// unless one of flags is given (vcard --trial-ca).
	open bool
	// self forms are for any logged-in account (its own password); a flag
	// aiming at another account asks for more.
	self bool
	// flags turn the form into another action when given.
	flags []flagNeed
}

// flagNeed is a flag that changes what a form does.
type flagNeed struct {
	name   string
	isBool bool
	action staff.Action
}

func do(a staff.Action) need { return need{action: a} }

var (
	exempt  = need{open: true}
	ownOnly = need{self: true}
)

// when returns n with a bool flag that makes the form action a.
func (n need) when(flag string, a staff.Action) need {
	n.flags = append(append([]flagNeed(nil), n.flags...), flagNeed{name: flag, isBool: true, action: a})
	return n
}

// whenValue returns n with a flag taking a value that makes the form action a.
func (n need) whenValue(flag string, a staff.Action) need {
	n.flags = append(append([]flagNeed(nil), n.flags...), flagNeed{name: flag, action: a})
	return n
}

// policy maps every form of every command ("command verb", or "command" for
// one without verbs) to what it needs. A form missing here is refused on a
// store with accounts, and TestPolicyCoversEveryForm fails.
var policy = map[string]need{
	// No store, or no personal data: card and reader checks anyone may run.
	"readers":         exempt,
	"card info":       exempt,
	"card pin-status": exempt,
	"card cert":       exempt,
	"card sign":       exempt,
	"vcard":           exempt.when("trial-ca", staff.RunStations), // the demo CA needs nothing; the trial CA's key is a station's
	"verify":          exempt,
	"forms check":     exempt, // reads a file, not the store

	// Sessions.
	"login":  exempt,
	"logout": exempt,
	"whoami": exempt,

	"monitors import":        do(staff.EditMonitors),
	"monitors list":          do(staff.ListMonitors).when("csv", staff.ExportMonitors),
	"monitors withdraw":      do(staff.EditMonitors),
	"monitors purge-expired": do(staff.RetentionPurge),
	"trials list":            do(staff.ViewTrials),
	"trials add":             do(staff.ManageTrials),
	"trials add-session":     do(staff.ManageTrials),
	"trials dashboard":       do(staff.ViewTrials),
	"trials retention":       do(staff.ManageTrials),
	"demo seed":              do(staff.SeedDemo),
	"export survey":          do(staff.ExportPseudonym).when("identified", staff.ExportIdentified),
	"forms add":              do(staff.ManageForms),
	"forms list":             do(staff.ViewTrials), // form ids and versions: no answers, no names
	"devices import":         do(staff.ManageDevices),
	"devices list":           do(staff.Lend), // the desk looks for free phones; no keys, no names
	"loans checkout":         do(staff.Lend),
	"loans checkin":          do(staff.Lend),
	"loans extend":           do(staff.Lend),
	"loans list":             do(staff.Lend).when("csv", staff.ExportMonitors), // the CSV holds names and contacts for reminders
	"loans history":          do(staff.Lend),
	"bank register":          do(staff.RunStations),
	"bank login":             do(staff.RunStations),
	"bank totp-enrol":        do(staff.RunStations),
	"bank summary":           do(staff.ViewResults),
	"bank schedule-update":   do(staff.ManageTrials),
	"bank apply-updates":     do(staff.RunStations), // the bank station applies a due update when it opens
	"ticket events":          do(staff.RunStations),
	"ticket apply":           do(staff.RunStations),
	"ticket buy":             do(staff.RunStations),
	"ticket transfer":        do(staff.RunStations),
	"ticket gate":            do(staff.RunStations),
	"provision android":      do(staff.Provision),
	"provision proof":        do(staff.Provision),
	"provision ios":          do(staff.Provision),
	"provision status":       do(staff.Provision),
	"provision rollback":     do(staff.Provision),
	"provision return":       do(staff.Provision),
	"provision vsim":         do(staff.Provision), // serves the SIM's keys from the store
	"ca init":                do(staff.ManageCA),
	"ca issue":               do(staff.ManageCA),
	"ca revoke":              do(staff.ManageCA),
	"ca crl":                 do(staff.ManageCA),
	"ca list":                do(staff.ManageCA),
	"ca import-anchor":       do(staff.ManageCA),
	"audit verify":           do(staff.ViewAudit),
	"audit list":             do(staff.ViewAudit),
	"audit export":           do(staff.ViewAudit),
	"staff init":             exempt, // only on a store without accounts: it makes the first coordinator
	"staff add":              do(staff.ManageStaff),
	"staff list":             do(staff.ManageStaff),
	"staff passwd":           ownOnly.whenValue("login", staff.ManageStaff),
	"staff role":             do(staff.ManageStaff),
	"staff disable":          do(staff.ManageStaff),
	"staff enable":           do(staff.ManageStaff),
	"staff pin":              do(staff.RunKiosk).whenValue("login", staff.ManageStaff), // one's own kiosk PIN; another's is a coordinator's
	"staff rotate-key":       do(staff.ManageStaff),
}

// needOf finds the form a command line names: the command itself when it
// has no verbs, else the first argument that is one of its verbs (export's
// verb may follow its flags). key is the form's entry; found is false when the line names no form;
// the command would refuse it as usage.
func needOf(name string, args []string) (key string, n need, found bool) {
	if n, ok := policy[name]; ok {
		return name, n, true
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		if n, ok := policy[name+" "+a]; ok {
			return name + " " + a, n, true
		}
	}
	return "", need{}, false
}

// actionFor is the action a command line does: a flag of n.flags given in
// args wins. Flags are spotted the way package flag reads them ("-f",
// "--f", "-f=v"); a value flag counts as given unless it is "--f=" (empty),
// a bool flag unless its value says false. Spotting one too many only asks
// for more, never less.
func (n need) actionFor(args []string) staff.Action {
	for _, f := range n.flags {
		if flagGiven(args, f) {
			return f.action
		}
	}
	return n.action
}

func flagGiven(args []string, f flagNeed) bool {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		name, value, hasValue := strings.Cut(a, "=")
		if name != f.name {
			continue
		}
		switch {
		case !hasValue:
			return true
		case f.isBool:
			if b, err := strconv.ParseBool(value); err != nil || b {
				return true
			}
		case value != "":
			return true
		}
	}
	return false
}

// touchesPII reports whether an action shows or writes personal data; on a
// store without accounts such commands say once that nothing protects it.
func touchesPII(a staff.Action) bool {
	switch a {
	case staff.ListMonitors, staff.ExportMonitors, staff.ExportIdentified:
		return true
	}
	return false
}

// authorize decides whether cmd may run with args. A store without staff
// accounts runs everything as before (a fresh store; `staff init` makes the
// first coordinator). A store with accounts needs the session of the token
// file, and its role must allow the form's action; the session's data key
// and audit actor then go into env.
func authorize(env *Env, cmd *Command, args []string) error {
	_, n, found := needOf(cmd.Name, args)
	if found && n.open && n.actionFor(args) == "" { // a flag may make an open form need a role
		return nil
	}
	if !storeExists(env.DSN) {
		return nil // a new SQLite file has no accounts; a usage error must not create it
	}
	db, err := store.Open(env.Ctx, env.DSN)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := newStaff(db)
	has, err := svc.HasAccounts(env.Ctx)
	if err != nil {
		return err
	}
	if !has {
		if found && touchesPII(n.actionFor(args)) {
			fmt.Fprintln(env.Stderr, "notice: this store has no staff accounts, so nothing protects personal data; `jpkipilot staff init` makes the first coordinator")
		}
		return nil
	}
	if !found {
		// Every form the command accepts is in the table; a line naming
		// none is refused here rather than trusted to fail later.
		return Usagef("unknown or missing %s command (%s)", cmd.Name, strings.Join(verbsOf(cmd.Name), ", "))
	}
	sess, err := resume(env, svc)
	if err != nil {
		return err
	}
	if a := n.actionFor(args); a != "" { // "" for self forms: any account
		if err := sess.Require(a); err != nil {
			return err
		}
	}
	env.Session = sess
	env.PII = sess.Key
	env.Ctx = sess.Context(env.Ctx)
	return nil
}

// storeExists reports whether the store may hold accounts: a PostgreSQL
// DSN always, a SQLite store unless its file surely does not exist.
func storeExists(dsn string) bool {
	if store.IsPostgresDSN(dsn) {
		return true
	}
	path := dsn
	if path == "" {
		p, err := store.DefaultPath()
		if err != nil {
			return true // let the command report it
		}
		path = p
	}
	// SQLite reads the path as a URI ("file:"+path): with ?, # or %
	// escapes it may open another file than the one os.Stat sees.
	if strings.ContainsAny(path, "?#%") {
		return true
	}
	_, err := os.Stat(path)
	return err == nil || !errors.Is(err, os.ErrNotExist)
}

// verbsOf lists the verbs the table knows for a command, sorted.
func verbsOf(name string) []string {
	var vs []string
	for key := range policy {
		if v, ok := strings.CutPrefix(key, name+" "); ok {
			vs = append(vs, v)
		}
	}
	sort.Strings(vs)
	return vs
}
