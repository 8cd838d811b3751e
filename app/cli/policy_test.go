package cli

import (
	"context"
	"errors"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"jpkipilot/trial/staff"
)

// usageForms lists every form of every registered command as "command verb"
// (or "command" alone when the form has no verb), from the Usage lines the
// help prints.
func usageForms() map[string][]string {
	forms := map[string][]string{}
	for name, c := range commands {
		for i, f := range strings.Split(c.Usage, " | ") {
			words := strings.Fields(f)
			if i == 0 || (len(words) > 0 && words[0] == name) {
				if len(words) == 0 || words[0] != name {
					panic("usage of " + name + " does not start with its name: " + f)
				}
				words = words[1:]
			}
			key := name
			if len(words) > 0 && isVerb(words[0]) {
				key = name + " " + words[0]
			}
			forms[key] = append(forms[key], f)
		}
	}
	return forms
}

// isVerb tells a sub-command ("list", "add-session") from a placeholder
// (CERT, ID) or a flag.
func isVerb(w string) bool {
	if w == "" || w[0] < 'a' || w[0] > 'z' {
		return false
	}
	for _, r := range w {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func TestPolicyCoversEveryForm(t *testing.T) {
	forms := usageForms()
	for key, fs := range forms {
		if _, ok := policy[key]; !ok {
			t.Errorf("%q (usage: %s) has no entry in policy.go's table", key, strings.Join(fs, " | "))
		}
	}
	known := map[staff.Action]bool{}
	for _, a := range staff.Coordinator.Actions() { // the coordinator may do everything
		known[a] = true
	}
	for key, n := range policy {
		if _, ok := forms[key]; !ok {
			t.Errorf("policy entry %q names no form of a registered command", key)
		}
		if n.open && (n.action != "" || n.self) || !n.open && !n.self && n.action == "" {
			t.Errorf("policy entry %q: exempt, self or an action, exactly one", key)
		}
		for _, a := range append([]staff.Action{n.action}, flagActions(n)...) {
			if a != "" && !known[a] {
				t.Errorf("policy entry %q: unknown action %q", key, a)
			}
		}
	}
}

func flagActions(n need) []staff.Action {
	var as []staff.Action
	for _, f := range n.flags {
		as = append(as, f.action)
	}
	return as
}

// roleCase is one command line and who may run it: letters c (coordinator),
// s (venue staff), a (analyst); "*" for forms that need no account at all.
// This is the policy written out by hand, so that a wrong entry in
// either policy table shows here.
type roleCase struct {
	args []string
	may  string
}

var roleCases = []roleCase{
	{[]string{"readers"}, "*"},
	{[]string{"card", "info"}, "*"},
	{[]string{"card", "pin-status"}, "*"},
	{[]string{"card", "cert", "auth"}, "*"},
	{[]string{"card", "sign", "--key", "auth"}, "*"},
	{[]string{"vcard", "--profile", "mynumber"}, "*"},
	{[]string{"vcard", "--trial-ca", "--profile", "mynumber"}, "cs"}, // the trial CA's key
	{[]string{"verify", "x.pem"}, "*"},
	{[]string{"forms", "check", "f.xlsx"}, "*"},
	{[]string{"login"}, "*"},
	{[]string{"logout"}, "*"},
	{[]string{"whoami"}, "*"},
	{[]string{"staff", "init", "--login", "x"}, "*"},

	{[]string{"monitors", "import", "m.csv"}, "c"},
	{[]string{"monitors", "list"}, "c"},
	{[]string{"monitors", "list", "--csv"}, "c"},
	{[]string{"monitors", "list", "--csv=false"}, "c"},
	{[]string{"monitors", "withdraw", "M-0001"}, "c"},
	{[]string{"monitors", "purge-expired"}, "c"},
	{[]string{"trials", "list"}, "csa"},
	{[]string{"trials", "add", "--kind", "loan"}, "c"},
	{[]string{"trials", "add-session", "--trial", "1"}, "c"},
	{[]string{"trials", "dashboard", "1"}, "csa"},
	{[]string{"trials", "retention", "1", "none"}, "c"},
	{[]string{"demo", "seed"}, "c"},
	{[]string{"export", "survey", "--out", "r.xlsx"}, "ca"},
	{[]string{"export", "--out", "r.xlsx", "survey"}, "ca"},
	{[]string{"export", "survey", "--out", "r.xlsx", "--identified"}, "c"},
	{[]string{"export", "--identified=true", "survey", "--out", "r.xlsx"}, "c"},
	{[]string{"export", "survey", "--identified=false", "--out", "r.xlsx"}, "ca"},
	{[]string{"forms", "add", "f.xlsx"}, "c"},
	{[]string{"forms", "add", "--bundled"}, "c"},
	{[]string{"forms", "list"}, "csa"},
	{[]string{"devices", "import", "d.csv"}, "c"},
	{[]string{"devices", "list"}, "cs"},
	{[]string{"loans", "checkout", "--monitor", "M-0001"}, "cs"},
	{[]string{"loans", "checkin", "L-0001"}, "cs"},
	{[]string{"loans", "extend", "L-0001"}, "cs"},
	{[]string{"loans", "list", "--overdue"}, "cs"},
	{[]string{"loans", "list", "--csv"}, "c"},
	{[]string{"loans", "history", "L-0001"}, "cs"},
	{[]string{"bank", "register", "--monitor", "M-0001"}, "cs"},
	{[]string{"bank", "login", "--monitor", "M-0001"}, "cs"},
	{[]string{"bank", "totp-enrol", "--monitor", "M-0001"}, "cs"},
	{[]string{"bank", "summary"}, "ca"},
	{[]string{"bank", "schedule-update", "--trial", "1"}, "c"},
	{[]string{"bank", "apply-updates"}, "cs"},
	{[]string{"ticket", "events"}, "cs"},
	{[]string{"ticket", "apply", "--event", "E"}, "cs"},
	{[]string{"ticket", "buy", "--event", "E"}, "cs"},
	{[]string{"ticket", "transfer", "--ticket", "1"}, "cs"},
	{[]string{"ticket", "gate", "--event", "E"}, "cs"},
	{[]string{"provision", "android", "--loan", "L-0001"}, "cs"},
	{[]string{"provision", "proof", "--monitor", "M-0001"}, "cs"},
	{[]string{"provision", "ios", "--monitor", "M-0001"}, "cs"},
	{[]string{"provision", "status", "--loan", "L-0001"}, "cs"},
	{[]string{"provision", "rollback", "--loan", "L-0001"}, "cs"},
	{[]string{"provision", "return", "--loan", "L-0001"}, "cs"},
	{[]string{"provision", "vsim", "--sim", "89"}, "cs"},
	{[]string{"ca", "init"}, "c"},
	{[]string{"ca", "issue", "--kind", "auth"}, "c"},
	{[]string{"ca", "revoke", "01"}, "c"},
	{[]string{"ca", "crl", "--ca", "auth"}, "c"},
	{[]string{"ca", "list"}, "c"},
	{[]string{"ca", "import-anchor", "a.pem"}, "c"},
	{[]string{"audit", "verify"}, "c"},
	{[]string{"audit", "list"}, "c"},
	{[]string{"audit", "export", "--out", "a.csv"}, "c"},
	{[]string{"staff", "add", "--login", "x"}, "c"},
	{[]string{"staff", "list"}, "c"},
	{[]string{"staff", "passwd"}, "csa"}, // one's own password
	{[]string{"staff", "passwd", "--login", "x"}, "c"},
	{[]string{"staff", "role", "x", "analyst"}, "c"},
	{[]string{"staff", "disable", "x"}, "c"},
	{[]string{"staff", "enable", "x"}, "c"},
	{[]string{"staff", "pin"}, "cs"}, // one's own kiosk PIN
	{[]string{"staff", "pin", "--login", "x"}, "c"},
	{[]string{"staff", "rotate-key"}, "c"},
}

func TestRoleCasesCoverEveryForm(t *testing.T) {
	covered := map[string]bool{}
	flagged := map[string]bool{}
	for _, c := range roleCases {
		key, n, found := needOf(c.args[0], c.args[1:])
		if !found {
			t.Errorf("%v names no form in the policy table", c.args)
			continue
		}
		covered[key] = true
		if n.actionFor(c.args[1:]) != n.action {
			flagged[key] = true
		}
	}
	var missing []string
	for key := range usageForms() {
		if !covered[key] {
			missing = append(missing, key)
		}
	}
	for key, n := range policy {
		if len(n.flags) > 0 && !flagged[key] {
			missing = append(missing, key+" with its flag")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("forms without a role case: %v", missing)
	}
}

func TestFlagSpotting(t *testing.T) {
	n := do(staff.ExportPseudonym).when("identified", staff.ExportIdentified)
	for _, c := range []struct {
		args []string
		want staff.Action
	}{
		{[]string{"survey"}, staff.ExportPseudonym},
		{[]string{"survey", "--identified"}, staff.ExportIdentified},
		{[]string{"survey", "-identified"}, staff.ExportIdentified},
		{[]string{"survey", "--identified=1"}, staff.ExportIdentified},
		{[]string{"survey", "--identified=yes"}, staff.ExportIdentified}, // flag refuses it; asking more is safe
		{[]string{"survey", "--identified=false"}, staff.ExportPseudonym},
		{[]string{"survey", "--identified=0"}, staff.ExportPseudonym},
		{[]string{"survey", "--identifiedx"}, staff.ExportPseudonym},
		{[]string{"--", "--identified", "survey"}, staff.ExportIdentified},
	} {
		if got := n.actionFor(c.args); got != c.want {
			t.Errorf("%v: %s, want %s", c.args, got, c.want)
		}
	}
	v := ownOnly.whenValue("login", staff.ManageStaff)
	for args, want := range map[string]staff.Action{
		"passwd":               "",
		"passwd --login bob":   staff.ManageStaff,
		"passwd --login=bob":   staff.ManageStaff,
		"passwd --login=":      "",
		"passwd -login bob":    staff.ManageStaff,
		"passwd --login=false": staff.ManageStaff,
	} {
		if got := v.actionFor(strings.Fields(args)); got != want {
			t.Errorf("%s: %q, want %q", args, got, want)
		}
	}
}

// roleFixture is a store with one account of each role, each logged in
// through the command line with its own token file.
type roleFixture struct {
	db     string
	tokens map[string]string // role letter → token file
	logins map[string]string // role letter → login
}

func newRoleFixture(t *testing.T, db string) *roleFixture {
	t.Helper()
	dir := t.TempDir()
	f := &roleFixture{db: db, tokens: map[string]string{}, logins: map[string]string{"c": "carol", "s": "sato", "a": "anna"}}
	for letter := range f.logins {
		f.tokens[letter] = filepath.Join(dir, "token-"+letter)
	}
	mustRunIn(t, db, "", pw("carol")+pw("carol"), "staff", "init", "--login", "carol", "--name", "Carol")
	f.login(t, "c")
	mustRunIn(t, db, f.tokens["c"], pw("sato")+pw("sato"), "staff", "add", "--login", "sato", "--role", "staff")
	mustRunIn(t, db, f.tokens["c"], pw("anna")+pw("anna"), "staff", "add", "--login", "anna", "--role", "analyst")
	f.login(t, "s")
	f.login(t, "a")
	return f
}

func (f *roleFixture) login(t *testing.T, letter string) {
	t.Helper()
	mustRunIn(t, f.db, f.tokens[letter], pw(f.logins[letter]), "login", "--user", f.logins[letter])
}

func TestRoleTableOnBothStores(t *testing.T) {
	eachTrialDB(t, func(t *testing.T, db string) {
		f := newRoleFixture(t, db)
		noToken := filepath.Join(t.TempDir(), "none")
		for _, c := range roleCases {
			cmd := commands[c.args[0]]
			if cmd == nil {
				t.Errorf("%v: no such command", c.args)
				continue
			}
			for _, letter := range []string{"c", "s", "a"} {
				env := &Env{Ctx: context.Background(), DSN: db, TokenFile: f.tokens[letter]}
				err := authorize(env, cmd, c.args[1:])
				want := c.may == "*" || strings.Contains(c.may, letter)
				var denied *staff.DeniedError
				switch {
				case want && err != nil:
					t.Errorf("%s may %v, but: %v", f.logins[letter], c.args, err)
				case !want && !errors.As(err, &denied):
					t.Errorf("%s may not %v, but authorize said %v", f.logins[letter], c.args, err)
				case !want && (denied.Login != f.logins[letter] || !strings.Contains(err.Error(), " may not do ")):
					t.Errorf("%v for %s: refusal %q", c.args, f.logins[letter], err)
				case want && c.may != "*" && (env.Session == nil || env.Session.Account.Login != f.logins[letter]):
					t.Errorf("%v for %s: no session in env", c.args, f.logins[letter])
				case want && c.may != "*" && (env.PII == nil) != (letter == "a"):
					t.Errorf("%v for %s: data key in env = %v", c.args, f.logins[letter], env.PII != nil)
				}
			}
			// Without a token only the forms that need no account run.
			env := &Env{Ctx: context.Background(), DSN: db, TokenFile: noToken}
			err := authorize(env, cmd, c.args[1:])
			if (c.may == "*") != (err == nil) {
				t.Errorf("%v without a token: %v", c.args, err)
			}
			if err != nil && !strings.Contains(err.Error(), "not logged in") {
				t.Errorf("%v without a token: %q", c.args, err)
			}
		}
	})
}

func TestUnknownFormRefusedOnAStoreWithAccounts(t *testing.T) {
	db := filepath.Join(t.TempDir(), "jp.db")
	f := newRoleFixture(t, db)
	code, _, errs := runIn(t, db, f.tokens["c"], "", "monitors", "--trial", "1")
	if code != 2 || !strings.Contains(errs, "jpkipilot monitors: unknown or missing monitors command (import, list, purge-expired, withdraw)\nusage:") {
		t.Fatalf("exit %d %q", code, errs)
	}
}
