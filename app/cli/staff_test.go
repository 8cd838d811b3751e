package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"jpkipilot/trial"
	"jpkipilot/trial/audit"
	"jpkipilot/trial/staff"
	"jpkipilot/trial/store"
)

// staffClock is the staff service's clock in this package's tests: the wall
// clock unless a test sets it (token expiry, throttling).
var staffClock struct {
	sync.Mutex
	at time.Time
}

func init() {
	// Accounts made by tests use argon2id's cheap test cost.
	newStaff = func(db *store.DB) *staff.Service {
		s := staff.New(db)
		s.KDF = staff.TestKDF
		s.Now = func() time.Time {
			staffClock.Lock()
			defer staffClock.Unlock()
			if staffClock.at.IsZero() {
				return time.Now()
			}
			return staffClock.at
		}
		return s
	}
}

// setStaffClock stops the staff clock at at until the test ends.
func setStaffClock(t *testing.T, at time.Time) {
	staffClock.Lock()
	staffClock.at = at
	staffClock.Unlock()
	t.Cleanup(func() {
		staffClock.Lock()
		staffClock.at = time.Time{}
		staffClock.Unlock()
	})
}

// pw is the password line of a test account; never printed by a passing test.
func pw(login string) string { return "Tr1al-" + login + "-pass\n" }

// runIn runs the command line on db with the token file tf (none when "")
// and stdin as standard input.
func runIn(t *testing.T, db, tf, stdin string, args ...string) (int, string, string) {
	t.Helper()
	pre := []string{"--db", db}
	if tf != "" {
		pre = append(pre, "--token-file", tf)
	}
	var out, errb bytes.Buffer
	code := Run(context.Background(), append(pre, args...), strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func mustRunIn(t *testing.T, db, tf, stdin string, args ...string) string {
	t.Helper()
	code, out, errs := runIn(t, db, tf, stdin, args...)
	if code != 0 {
		t.Fatalf("jpkipilot %s: exit %d\n%s", strings.Join(args, " "), code, errs)
	}
	return out
}

// refused runs a command that must fail with exit 1 and a stderr line
// containing want.
func refused(t *testing.T, db, tf, stdin, want string, args ...string) {
	t.Helper()
	code, out, errs := runIn(t, db, tf, stdin, args...)
	if code != 1 || !strings.Contains(errs, want) {
		t.Fatalf("jpkipilot %s: exit %d, stderr %q, want exit 1 with %q (stdout %q)", strings.Join(args, " "), code, errs, want, out)
	}
}

func TestLoginTokenFileLogout(t *testing.T) {
	eachTrialDB(t, func(t *testing.T, db string) {
		tf := filepath.Join(t.TempDir(), "session")
		trialWorkspace(t, db)
		mustRunIn(t, db, "", "", "monitors", "import", "../../trial/testdata/monitors_utf8.csv")
		out := mustRunIn(t, db, "", pw("carol")+pw("carol"), "staff", "init", "--login", "Carol", "--name", "Carol")
		// 4 monitors, each with a name and kana, 3 with a contact.
		if !strings.HasPrefix(out, "coordinator carol created; the new data key sealed 11 personal fields\n") {
			t.Fatalf("staff init said %q", out)
		}
		// The store file alone no longer shows the names.
		if raw := rawColumn(t, db, "SELECT name FROM monitors ORDER BY id"); strings.Contains(raw, "山田") || !strings.Contains(raw, "pii1:") {
			t.Fatalf("names after staff init: %q", raw)
		}

		refused(t, db, tf, "", "not logged in", "monitors", "list")
		out = mustRunIn(t, db, tf, pw("carol"), "login", "--user", "carol", "--ttl", "2h")
		if !strings.HasPrefix(out, "logged in as carol (coordinator) until ") {
			t.Fatalf("login said %q", out)
		}
		st, err := os.Stat(tf)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("token file: %v, mode %v", err, st.Mode())
		}
		rows := listMonitorsCSVIn(t, db, tf)
		if len(rows) != 4 || rows[1][3] != "山田 花子" {
			t.Fatalf("monitors list after login: %q", rows)
		}
		if who := mustRunIn(t, db, tf, "", "whoami"); !strings.HasPrefix(who, "carol (coordinator) Carol, session until ") {
			t.Fatalf("whoami said %q", who)
		}
		saved, _ := os.ReadFile(tf)
		// A token file others may read is refused, like ssh's keys.
		if err := os.Chmod(tf, 0o644); err != nil {
			t.Fatal(err)
		}
		refused(t, db, tf, "", "may be read by others (mode 0644)", "monitors", "list")
		if err := os.Chmod(tf, 0o600); err != nil {
			t.Fatal(err)
		}

		if out := mustRunIn(t, db, tf, "", "logout"); out != "logged out\n" {
			t.Fatalf("logout said %q", out)
		}
		if _, err := os.Stat(tf); !os.IsNotExist(err) {
			t.Fatalf("token file after logout: %v", err)
		}
		refused(t, db, tf, "", "not logged in", "monitors", "list")
		// A copy of the token kept from before is no session either.
		if err := os.WriteFile(tf, saved, 0o600); err != nil {
			t.Fatal(err)
		}
		refused(t, db, tf, "", "the session has ended", "monitors", "list")
		refused(t, db, tf, "", "the session has ended", "whoami")
	})
}

// listMonitorsCSVIn lists monitors as the session of tf.
func listMonitorsCSVIn(t *testing.T, db, tf string) [][]string {
	t.Helper()
	out := mustRunIn(t, db, tf, "", "monitors", "list", "--csv")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("monitors list --csv: %v\n%s", err, out)
	}
	return recs[1:]
}

// rawColumn is one column of every row of a query, joined, straight from
// the store.
func rawColumn(t *testing.T, dsn, q string) string {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var vs []string
	if err := db.Select(&vs, q); err != nil {
		t.Fatal(err)
	}
	return strings.Join(vs, "\n")
}

func TestTokenExpiresAndEndsWithTheAccount(t *testing.T) {
	eachTrialDB(t, func(t *testing.T, db string) {
		now := time.Now().UTC().Truncate(time.Second)
		setStaffClock(t, now)
		f := newRoleFixture(t, db)
		// sato's token: issued for 1h, used after 2h.
		mustRunIn(t, db, f.tokens["s"], pw("sato"), "login", "--user", "sato", "--ttl", "1h")
		mustRunIn(t, db, f.tokens["s"], "", "trials", "list")
		setStaffClock(t, now.Add(2*time.Hour))
		refused(t, db, f.tokens["s"], "", "the session has ended", "trials", "list")

		// anna's token ends when a coordinator disables her account.
		setStaffClock(t, now)
		mustRunIn(t, db, f.tokens["a"], "", "trials", "list")
		mustRunIn(t, db, f.tokens["c"], "", "staff", "disable", "anna")
		refused(t, db, f.tokens["a"], "", "the session has ended", "trials", "list")
		refused(t, db, f.tokens["a"], pw("anna"), "login refused: the account is disabled", "login", "--user", "anna")
		mustRunIn(t, db, f.tokens["c"], "", "staff", "enable", "anna")
		f.login(t, "a")
		mustRunIn(t, db, f.tokens["a"], "", "trials", "list")

		// --ttl must be a positive duration of a week at most.
		for _, ttl := range []string{"-1h", "0s", "169h"} {
			if code, _, _ := runIn(t, db, f.tokens["a"], pw("anna"), "login", "--user", "anna", "--ttl", ttl); code != 2 {
				t.Fatalf("--ttl %s: exit %d", ttl, code)
			}
		}
		mustRunIn(t, db, f.tokens["a"], pw("anna"), "login", "--user", "anna", "--ttl", "168h")
	})
}

func TestBadPasswordAndThrottling(t *testing.T) {
	eachTrialDB(t, func(t *testing.T, db string) {
		now := time.Now().UTC().Truncate(time.Second)
		setStaffClock(t, now)
		tf := filepath.Join(t.TempDir(), "session")
		mustRunIn(t, db, "", pw("carol")+pw("carol"), "staff", "init", "--login", "carol")
		// The same line whether the login exists or not.
		refused(t, db, tf, "Wrong-password-1\n", "jpkipilot login: login refused: wrong login or password\n", "login", "--user", "carol")
		refused(t, db, tf, pw("carol"), "jpkipilot login: login refused: wrong login or password\n", "login", "--user", "nobody")
		refused(t, db, tf, "Wrong-password-2\n", "login refused: wrong login or password", "login", "--user", "carol")
		refused(t, db, tf, "Wrong-password-3\n", "login refused: wrong login or password", "login", "--user", "carol")
		// After three failures the next attempt waits, even with the right
		// password, and the line says how long.
		refused(t, db, tf, pw("carol"), "jpkipilot login: login refused: too many failed attempts; try again in 1s\n", "login", "--user", "carol")
		if _, err := os.Stat(tf); !os.IsNotExist(err) {
			t.Fatal("a refused login wrote a token file")
		}
		setStaffClock(t, now.Add(1500*time.Millisecond))
		refused(t, db, tf, "Wrong-password-4\n", "wrong login or password", "login", "--user", "carol")
		refused(t, db, tf, pw("carol"), "try again in 2s", "login", "--user", "carol")
		setStaffClock(t, now.Add(10*time.Second))
		mustRunIn(t, db, tf, pw("carol"), "login", "--user", "carol")

		// No password on standard input: a clear refusal, no prompt on stdout.
		code, out, errs := runIn(t, db, tf, "", "login", "--user", "carol")
		if code != 1 || out != "" || !strings.Contains(errs, "no password on standard input") {
			t.Fatalf("login without a password: %d %q %q", code, out, errs)
		}
	})
}

// `staff list` shows which accounts' password hashes were made under a
// lower cost than the one in force (the defaults were raised since) and
// says what to do; a login or a reset makes the hash again, the list
// itself changes nothing.
func TestStaffListShowsOutdatedHashes(t *testing.T) {
	eachTrialDB(t, func(t *testing.T, db string) {
		f := newRoleFixture(t, db)
		c := f.tokens["c"]
		hashes := func() (string, string) {
			t.Helper()
			code, out, errs := runIn(t, db, c, "", "staff", "list")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if code != 0 || len(lines) != 4 || strings.Fields(lines[0])[4] != "HASH" {
				t.Fatalf("staff list: exit %d\n%s%s", code, out, errs)
			}
			var got []string
			for _, l := range lines[1:] {
				cols := strings.Fields(l)
				got = append(got, cols[0]+" "+cols[4])
			}
			return strings.Join(got, ", "), errs
		}
		if got, errs := hashes(); got != "anna current, carol current, sato current" || errs != "" {
			t.Fatalf("before raising the cost: %s %q", got, errs)
		}
		prev := newStaff
		newStaff = func(db *store.DB) *staff.Service {
			s := prev(db)
			s.KDF = staff.KDFParams{Time: 2, MemoryKiB: 128, Threads: 1}
			return s
		}
		t.Cleanup(func() { newStaff = prev })
		for range 2 {
			got, errs := hashes()
			if got != "anna outdated, carol outdated, sato outdated" ||
				!strings.Contains(errs, "3 account(s) with HASH outdated") || !strings.Contains(errs, "jpkipilot staff passwd --login L") {
				t.Fatalf("after raising the cost: %s %q", got, errs)
			}
		}
		mustRunIn(t, db, c, pw("sato")+pw("sato"), "staff", "passwd", "--login", "sato")
		f.login(t, "a")
		if got, errs := hashes(); got != "anna current, carol outdated, sato current" || !strings.Contains(errs, "1 account(s)") {
			t.Fatalf("after sato's reset and anna's login: %s %q", got, errs)
		}
	})
}

func TestStaffInitOnlyOnce(t *testing.T) {
	eachTrialDB(t, func(t *testing.T, db string) {
		// The two entries must match.
		refused(t, db, "", pw("carol")+"Tr1al-other-pass\n", "the two passwords differ", "staff", "init", "--login", "carol")
		// A weak password is refused before it is asked again.
		refused(t, db, "", "short\n", "at least 10 characters", "staff", "init", "--login", "carol")
		out := mustRunIn(t, db, "", pw("carol")+pw("carol"), "staff", "init", "--login", "carol")
		if !strings.Contains(out, "sealed 0 personal fields") {
			t.Fatalf("init on an empty store said %q", out)
		}
		refused(t, db, "", pw("bob")+pw("bob"), "already has staff accounts", "staff", "init", "--login", "bob")
		if code, _, _ := runIn(t, db, "", "", "staff", "init"); code != 2 {
			t.Fatalf("staff init without --login: exit %d", code)
		}
		// Managing accounts needs a coordinator's session.
		refused(t, db, filepath.Join(t.TempDir(), "none"), pw("bob")+pw("bob"), "not logged in", "staff", "add", "--login", "bob", "--role", "staff")
	})
}

func TestStaffCommands(t *testing.T) {
	eachTrialDB(t, func(t *testing.T, db string) {
		trialWorkspace(t, db)
		mustRunIn(t, db, "", "", "monitors", "import", "../../trial/testdata/monitors_utf8.csv")
		f := newRoleFixture(t, db)
		c := f.tokens["c"]
		list := mustRunIn(t, db, c, "", "staff", "list")
		for _, w := range []string{"anna", "analyst", "carol", "coordinator", "sato", "staff", "active"} {
			if !strings.Contains(list, w) {
				t.Errorf("staff list lacks %q:\n%s", w, list)
			}
		}
		refused(t, db, c, pw("sato")+pw("sato"), "already exists", "staff", "add", "--login", "sato", "--role", "staff")
		for _, args := range [][]string{
			{"staff", "add", "--login", "bob", "--role", "boss"},
			{"staff", "add", "--login", "b!", "--role", "staff"},
			{"staff", "role", "bob"},
			{"staff", "disable"},
			{"staff", "list", "extra"},
			{"staff", "frobnicate"},
		} {
			if code, _, errs := runIn(t, db, c, "", args...); code != 2 || !strings.Contains(errs, "usage: jpkipilot staff init") {
				t.Errorf("%v: exit %d %q", args, code, errs)
			}
		}

		// Kiosk PINs: set by a coordinator for an account that runs kiosks.
		mustRunIn(t, db, c, "135790\n135790\n", "staff", "pin", "--login", "sato")
		refused(t, db, c, "12ab56\n", "digits only", "staff", "pin", "--login", "sato")
		refused(t, db, c, "246801\n246801\n", "does not run kiosks", "staff", "pin", "--login", "anna")
		for _, line := range strings.Split(mustRunIn(t, db, c, "", "staff", "list"), "\n") {
			if cols := strings.Fields(line); len(cols) > 3 && (cols[0] == "sato") != (cols[3] == "set") {
				t.Errorf("staff list, PIN column: %q", line)
			}
		}

		// Own kiosk PIN: venue staff choose it after their password; an
		// analyst runs no kiosk.
		refused(t, db, f.tokens["s"], "Wrong-password-1\n864213\n864213\n", "the current password is wrong", "staff", "pin")
		if out := mustRunIn(t, db, f.tokens["s"], pw("sato")+"864213\n864213\n", "staff", "pin"); !strings.Contains(out, "your kiosk PIN is set") {
			t.Fatalf("own PIN: %q", out)
		}
		if a := kioskPINOwner(t, db, "864213"); a != "sato" {
			t.Fatalf("own PIN opens a kiosk for %q", a)
		}
		refused(t, db, f.tokens["a"], "", "may not do", "staff", "pin")

		// Own password: the current one first; the session then ends.
		refused(t, db, f.tokens["s"], "Wrong-password-1\nTr1al-sato-new-pass\nTr1al-sato-new-pass\n", "the current password is wrong", "staff", "passwd")
		out := mustRunIn(t, db, f.tokens["s"], pw("sato")+"Tr1al-sato-new-pass\nTr1al-sato-new-pass\n", "staff", "passwd")
		if !strings.Contains(out, "password changed") {
			t.Fatalf("passwd said %q", out)
		}
		refused(t, db, f.tokens["s"], "", "not logged in", "trials", "list")
		mustRunIn(t, db, f.tokens["s"], "Tr1al-sato-new-pass\n", "login", "--user", "sato")
		// A coordinator resets another's password.
		mustRunIn(t, db, c, "Tr1al-anna-reset\nTr1al-anna-reset\n", "staff", "passwd", "--login", "anna")
		refused(t, db, f.tokens["a"], pw("anna"), "wrong login or password", "login", "--user", "anna")
		mustRunIn(t, db, f.tokens["a"], "Tr1al-anna-reset\n", "login", "--user", "anna")
		// Nobody else may.
		refused(t, db, f.tokens["s"], "Tr1al-x-pass-1\nTr1al-x-pass-1\n", "sato (staff) may not do staff.manage", "staff", "passwd", "--login", "anna")

		// Roles: the last coordinator keeps the role.
		refused(t, db, c, "", "last enabled coordinator", "staff", "role", "carol", "analyst")
		mustRunIn(t, db, c, "", "staff", "role", "sato", "analyst")
		refused(t, db, f.tokens["s"], "", "the session has ended", "trials", "list") // the role lost the data key
		mustRunIn(t, db, f.tokens["s"], "Tr1al-sato-new-pass\n", "login", "--user", "sato")
		refused(t, db, f.tokens["s"], "", "sato (analyst) may not do loans.lend", "loans", "list")

		// Rotating the data key ends every session; names still open after.
		out = mustRunIn(t, db, c, "", "staff", "rotate-key")
		if !strings.Contains(out, "data key rotated: ") {
			t.Fatalf("rotate-key said %q", out)
		}
		refused(t, db, c, "", "not logged in", "monitors", "list")
		f.login(t, "c")
		if rows := listMonitorsCSVIn(t, db, c); len(rows) != 4 || rows[1][3] != "山田 花子" {
			t.Fatalf("names after rotation: %q", rows)
		}
	})
}

func TestAnalystExportsPseudonymisedOnly(t *testing.T) {
	eachTrialDB(t, func(t *testing.T, db string) {
		mustRunIn(t, db, "", "", "demo", "seed")
		f := newRoleFixture(t, db)
		dir := t.TempDir()
		a, c := f.tokens["a"], f.tokens["c"]

		refused(t, db, a, "", "jpkipilot monitors: anna (analyst) may not do monitors.list\n", "monitors", "list")
		refused(t, db, a, "", "anna (analyst) may not do export.monitors", "monitors", "list", "--csv")
		ident := filepath.Join(dir, "identified.xlsx")
		refused(t, db, a, "", "jpkipilot export: anna (analyst) may not do export.identified\n", "export", "survey", "--identified", "--out", ident)
		if _, err := os.Stat(ident); !os.IsNotExist(err) {
			t.Fatal("a refused export wrote its file")
		}
		pseudo := filepath.Join(dir, "results.xlsx")
		if out := mustRunIn(t, db, a, "", "export", "survey", "--trial", "3", "--out", pseudo); !strings.Contains(out, "responses") {
			t.Fatalf("analyst export said %q", out)
		}
		// Venue staff make no exports at all.
		refused(t, db, f.tokens["s"], "", "sato (staff) may not do export.pseudonymised", "export", "survey", "--out", pseudo)

		mustRunIn(t, db, c, "", "export", "survey", "--identified", "--trial", "3", "--out", ident)
		// The coordinator's file holds the names, opened; the analyst's none.
		names := monitorNames(t, db, "carol", strings.TrimSpace(pw("carol")), 3)
		inIdent, inPseudo := 0, 0
		for _, n := range names {
			if xlsxContains(t, ident, n) {
				inIdent++
			}
			if xlsxContains(t, pseudo, n) {
				inPseudo++
			}
		}
		if inIdent == 0 || inPseudo != 0 || xlsxContains(t, ident, "pii1:") {
			t.Fatalf("of %d names: %d in the identified export, %d in the pseudonymised one", len(names), inIdent, inPseudo)
		}
		entries := auditEntries(t, db, audit.Filter{Action: audit.Export})
		if len(entries) != 2 {
			t.Fatalf("%d export entries, want 2: %+v", len(entries), entries)
		}
		if e := entries[0]; e.Actor != "anna" || e.Subject != "survey" || !strings.Contains(e.Detail, "identified no") || !strings.Contains(e.Detail, "trial 3") {
			t.Errorf("analyst's export entry %+v", e)
		}
		if e := entries[1]; e.Actor != "carol" || e.Subject != "survey" || !strings.Contains(e.Detail, "identified yes") || !strings.Contains(e.Detail, "format xlsx") {
			t.Errorf("coordinator's export entry %+v", e)
		}
	})
}

func auditEntries(t *testing.T, dsn string, f audit.Filter) []audit.Entry {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	es, err := audit.List(context.Background(), db, f)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestRetentionAndPurge(t *testing.T) {
	eachTrialDB(t, func(t *testing.T, db string) {
		trialWorkspace(t, db)
		mustRunIn(t, db, "", "", "monitors", "import", "../../trial/testdata/monitors_utf8.csv")
		f := newRoleFixture(t, db)
		c := f.tokens["c"]
		if code, _, _ := runIn(t, db, c, "", "trials", "retention", "1", "31/03/2017"); code != 2 {
			t.Fatalf("a bad date: exit %d", code)
		}
		refused(t, db, c, "", "not found", "trials", "retention", "99", "2017-03-31")
		refused(t, db, f.tokens["s"], "", "sato (staff) may not do monitors.purge", "monitors", "purge-expired")
		if out := mustRunIn(t, db, c, "", "monitors", "purge-expired"); !strings.HasPrefix(out, "nothing to erase") {
			t.Fatalf("purge without retention dates said %q", out)
		}
		mustRunIn(t, db, c, "", "trials", "retention", "1", "2017-03-31")
		mustRunIn(t, db, c, "", "trials", "retention", "2", "2999-12-31")
		out := mustRunIn(t, db, c, "", "monitors", "purge-expired")
		if !strings.HasPrefix(out, "erased the name, kana and contact of ") || !strings.Contains(out, "trial(s) 1;") {
			t.Fatalf("purge said %q", out)
		}
		for _, r := range listMonitorsCSVIn(t, db, c) {
			if (r[1] == "1") != (r[3] == "") {
				t.Errorf("after the purge: %q", r)
			}
		}
		if out := mustRunIn(t, db, c, "", "monitors", "purge-expired"); !strings.HasPrefix(out, "nothing to erase") {
			t.Fatalf("second purge said %q", out)
		}
		if es := auditEntries(t, db, audit.Filter{Action: audit.RetentionPurge}); len(es) != 1 || es[0].Actor != "carol" {
			t.Fatalf("purge entries %+v", es)
		}
		mustRunIn(t, db, c, "", "trials", "retention", "1", "none")
	})
}

func TestNoSecretInOutputOrAuditTrail(t *testing.T) {
	db := filepath.Join(t.TempDir(), "jp.db")
	tf := filepath.Join(t.TempDir(), "session")
	mustRunIn(t, db, "", "", "demo", "seed")
	var lines bytes.Buffer
	run := func(stdin string, args ...string) {
		t.Helper()
		_, out, errs := runIn(t, db, tf, stdin, args...)
		lines.WriteString(out + errs)
	}
	run(pw("carol")+pw("carol"), "staff", "init", "--login", "carol")
	run("Wrong-password-1\n", "login", "--user", "carol")
	run(pw("carol"), "login", "--user", "carol")
	run(pw("sato")+pw("sato"), "staff", "add", "--login", "sato", "--role", "staff")
	run("135790\n135790\n", "staff", "pin", "--login", "sato")
	run(pw("carol")+"Tr1al-carol-new\nTr1al-carol-new\n", "staff", "passwd")
	run("Tr1al-carol-new\n", "login", "--user", "carol")
	run("", "whoami")
	run("", "export", "survey", "--identified", "--out", filepath.Join(t.TempDir(), "r.xlsx"))
	run("", "monitors", "withdraw", "M-0001")
	token, err := readToken(tf)
	if err != nil || token == "" {
		t.Fatalf("no token after login: %v", err)
	}
	var trail bytes.Buffer
	for _, e := range auditEntries(t, db, audit.Filter{}) {
		fmt.Fprintf(&trail, "%s %s %s %s\n", e.Actor, e.Action, e.Subject, e.Detail)
	}
	if !strings.Contains(trail.String(), audit.LoginFailed) || !strings.Contains(trail.String(), audit.Export) {
		t.Fatalf("the trail lacks the failed login or the export:\n%s", trail.String())
	}
	secrets := []string{strings.TrimSpace(pw("carol")), strings.TrimSpace(pw("sato")), "Wrong-password-1", "Tr1al-carol-new", "135790", token}
	// Every monitor's name too: none belongs in the trail.
	names := strings.Fields(rawNames(t, db))
	for _, s := range secrets {
		if strings.Contains(lines.String(), s) {
			t.Errorf("a secret appears in the command line's output")
		}
		if strings.Contains(trail.String(), s) {
			t.Errorf("a secret appears in the audit trail")
		}
	}
	for _, n := range names {
		if strings.Contains(trail.String(), n) {
			t.Errorf("a monitor's name appears in the audit trail")
		}
	}
	if len(names) < 100 {
		t.Fatalf("only %d name parts to look for", len(names))
	}
}

// rawNames is every monitor's name and kana, opened with a coordinator's
// session.
func rawNames(t *testing.T, dsn string) string {
	t.Helper()
	var b strings.Builder
	for _, m := range openedMonitors(t, dsn, "carol", "Tr1al-carol-new", 0) {
		b.WriteString(m.Name + " " + m.Kana + " ")
	}
	return b.String()
}

// monitorNames is the names of a trial's monitors, opened.
func monitorNames(t *testing.T, dsn, login, password string, trialID int64) []string {
	t.Helper()
	var names []string
	for _, m := range openedMonitors(t, dsn, login, password, trialID) {
		if m.Name != "" {
			names = append(names, m.Name)
		}
	}
	return names
}

func openedMonitors(t *testing.T, dsn, login, password string, trialID int64) []trial.Monitor {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sess, err := newStaff(db).Login(context.Background(), login, password)
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Ctx: context.Background(), PII: sess.Key}
	ms, err := trialService(env, db).ListMonitors(context.Background(), trial.Filter{TrialID: trialID})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestDefaultTokenFileIsPerStore(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("JPKIPILOT_TOKEN_FILE", "")
	dir := t.TempDir()
	one, two := filepath.Join(dir, "one.db"), filepath.Join(dir, "two.db")
	for _, db := range []string{one, two} {
		mustRunIn(t, db, "", pw("carol")+pw("carol"), "staff", "init", "--login", "carol")
	}
	mustRunIn(t, one, "", pw("carol"), "login", "--user", "carol")
	files, _ := filepath.Glob(filepath.Join(cfg, "jpkipilot", "session-*"))
	if len(files) != 1 || len(filepath.Base(files[0])) != len("session-")+12 {
		t.Fatalf("token files %v", files)
	}
	if st, err := os.Stat(files[0]); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode: %v %v", st.Mode(), err)
	}
	mustRunIn(t, one, "", "", "trials", "list")
	// The other store has its own session: not logged in there.
	refused(t, two, "", "", "not logged in", "trials", "list")
	// The same store named by a relative path is the same session.
	wd, _ := os.Getwd()
	rel, err := filepath.Rel(wd, one)
	if err == nil {
		mustRunIn(t, rel, "", "", "trials", "list")
	}
	// JPKIPILOT_TOKEN_FILE names another file.
	other := filepath.Join(t.TempDir(), "tok")
	t.Setenv("JPKIPILOT_TOKEN_FILE", other)
	refused(t, one, "", "", "not logged in", "trials", "list")
	mustRunIn(t, one, "", pw("carol"), "login", "--user", "carol")
	if _, err := os.Stat(other); err != nil {
		t.Fatal(err)
	}
}

func TestFreshStoreRunsAsBeforeWithANotice(t *testing.T) {
	db := filepath.Join(t.TempDir(), "jp.db")
	trialWorkspace(t, db)
	code, out, errs := runIn(t, db, "", "", "trials", "list")
	if code != 0 || strings.Contains(out+errs, "notice") {
		t.Fatalf("trials list on a fresh store: %d %q %q", code, out, errs)
	}
	code, out, errs = runIn(t, db, "", "", "monitors", "list", "--csv")
	if code != 0 || strings.Contains(out, "notice") || strings.Count(errs, "notice: this store has no staff accounts") != 1 {
		t.Fatalf("monitors list on a fresh store: %d %q %q", code, out, errs)
	}
	refused(t, db, "", "", "no staff accounts yet", "staff", "list")
	refused(t, db, "", pw("carol"), "no staff accounts yet", "login", "--user", "carol")
	refused(t, db, "", "", "no staff accounts yet", "whoami")
	if out := mustRunIn(t, db, "", "", "logout"); out != "not logged in\n" {
		t.Fatalf("logout said %q", out)
	}
}

func TestLoanDeskOpensNamesForItsSession(t *testing.T) {
	eachTrialDB(t, func(t *testing.T, db string) {
		loanDesk(t, db)
		f := newRoleFixture(t, db)
		// Venue staff lend phones with the names sealed at rest.
		out := mustRunIn(t, db, f.tokens["s"], "", "loans", "checkout", "--monitor", "M-0001", "--phone", "352099001761481", "--sim", "8981101000000000019", "--staff", "sato")
		if !strings.HasPrefix(out, "L-0001: phone 352099001761481") {
			t.Fatalf("checkout said %q", out)
		}
		refused(t, db, f.tokens["s"], "", "sato (staff) may not do export.monitors", "loans", "list", "--csv")
		recs, err := csv.NewReader(strings.NewReader(mustRunIn(t, db, f.tokens["c"], "", "loans", "list", "--csv"))).ReadAll()
		if err != nil || len(recs) != 2 || recs[1][1] != "M-0001" || recs[1][2] != "山田 太郎" || recs[1][3] != "090-1111-2222" {
			t.Fatalf("the coordinator's loans CSV: %v %q", err, recs)
		}
		if raw := rawColumn(t, db, "SELECT contact FROM monitors ORDER BY id"); strings.Contains(raw, "090-1111-2222") {
			t.Fatal("a contact is stored in the clear")
		}
		if es := auditEntries(t, db, audit.Filter{Action: audit.LoanCheckout}); len(es) != 1 || es[0].Actor != "sato" {
			t.Fatalf("checkout entries %+v", es)
		}
		// Both CSVs with names are identified exports in the trail.
		mustRunIn(t, db, f.tokens["c"], "", "monitors", "list", "--csv", "--query", "山田")
		es := auditEntries(t, db, audit.Filter{Action: audit.Export})
		if len(es) != 2 || es[0].Subject != "loans" || es[1].Subject != "monitors" || es[1].Actor != "carol" ||
			!strings.Contains(es[0].Detail, "identified yes; 1 loans") || !strings.Contains(es[1].Detail, "filtered by a search") || strings.Contains(es[1].Detail, "山田") {
			t.Fatalf("export entries %+v", es)
		}
	})
}

// kioskPINOwner is the account whose kiosk PIN pin is ("" if none).
func kioskPINOwner(t *testing.T, dsn, pin string) string {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, err := newStaff(db).CheckPIN(context.Background(), pin)
	if err != nil {
		return ""
	}
	return a.Login
}
