package cli

// Personal data never leaks (issue 8): monitors' names, kana and contacts
// are seeded with distinctive markers, then every place the software writes
// for other eyes is searched for them: the output of the commands, the
// standard logger and slog, the APDU trace of card flows that carry a name
// on the card, the audit trail (table and export), the pseudonymised survey
// export (every part of the workbook, and the CSV), and the gate, bank,
// ticket, loan and other tables. The commands meant to show names are left
// out: `monitors list` (used here to learn the demo monitors' personal
// values, so they are searched for too), `loans list --csv` (the reminder
// list), identified exports, and `verify` of a signature certificate. (That the database file
// itself holds no name once sealed is trial/pii's and trial's test.)

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/pki"
	"jpkipilot/pki/jpki"
	"jpkipilot/trial/bank"
	"jpkipilot/trial/staff"
	"jpkipilot/trial/store"
	"jpkipilot/trial/ticket"
)

// leakMonitors are imported on top of the demo data; every personal value is
// a marker that appears nowhere else.
const leakMonitors = "name,kana,age_band,contact,session\n" +
	"鵺野 漏洩丸,ヌエノ ロウエイマル,40s,leak-7c1e@example.invalid,VENUE-1\n" +
	"Zyxlo Quimbly,ジクスロ クインブリ,30s,080-7310-5529,LOAN-1\n" +
	"Wexford Ptarmigan,ウェクスフォード プタ,50s,ptarm-55e0@example.invalid,VENUE-2\n"

var leakMarkers = []string{"鵺野 漏洩丸", "漏洩丸", "ヌエノ ロウエイマル", "ロウエイマル", "leak-7c1e@example.invalid", "leak-7c1e",
	"Zyxlo Quimbly", "Quimbly", "ジクスロ クインブリ", "クインブリ", "080-7310-5529", "7310-5529",
	"Wexford Ptarmigan", "Ptarmigan", "ウェクスフォード", "ptarm-55e0"}

// leakHaystack collects everything a test searched, labelled by source.
type leakHaystack struct {
	parts []struct{ where, text string }
}

func (h *leakHaystack) add(where string, b []byte) {
	h.parts = append(h.parts, struct{ where, text string }{where, string(b)})
}

// check reports every marker found, in its text form and hex-encoded (an
// APDU trace is hex), in upper and lower case.
func (h *leakHaystack) check(t *testing.T, markers []string) {
	t.Helper()
	if len(h.parts) == 0 {
		t.Fatal("nothing was searched")
	}
	hexes := make([]string, len(markers))
	for i, m := range markers {
		hexes[i] = hex.EncodeToString([]byte(m))
	}
	for _, p := range h.parts {
		lower := strings.ToLower(p.text)
		for i, m := range markers {
			if strings.Contains(p.text, m) || strings.Contains(lower, hexes[i]) {
				t.Errorf("%s holds personal data %q", p.where, m)
			}
		}
	}
}

// captureLogs sends the standard logger and slog's default, and the
// process's own standard output and error (a stray fmt.Println anywhere,
// through a pipe), to one place until the returned stop is called; stop
// restores them and returns what was written. Cleanup stops it if the test
// did not.
func captureLogs(t *testing.T) (stop func() []byte) {
	prevOut, prevFlags, prevSlog := log.Writer(), log.Flags(), slog.Default()
	prevStdout, prevStderr := os.Stdout, os.Stderr
	var logged bytes.Buffer // the logger and slog serialise their own writes
	log.SetOutput(&logged)
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug})))
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout, os.Stderr = w, w
	var stray bytes.Buffer
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(&stray, r)
		close(copied)
	}()
	var once sync.Once
	var all []byte
	stop = func() []byte {
		once.Do(func() {
			os.Stdout, os.Stderr = prevStdout, prevStderr
			w.Close()
			<-copied
			r.Close()
			log.SetOutput(prevOut)
			log.SetFlags(prevFlags)
			slog.SetDefault(prevSlog)
			all = append(logged.Bytes(), stray.Bytes()...)
		})
		return all
	}
	t.Cleanup(func() { stop() })
	return stop
}

func TestPersonalDataNeverLeaks(t *testing.T) {
	old := pki.DefaultKDF
	pki.DefaultKDF = pki.KDFParams{Time: 1, Memory: 1024, Threads: 1} // the sealed key records it
	t.Cleanup(func() { pki.DefaultKDF = old })
	eachTrialDB(t, func(t *testing.T, dsn string) {
		stopLogs := captureLogs(t)
		dir := t.TempDir()
		var hay leakHaystack
		// run runs a command whose output must hold no personal data.
		run := func(args ...string) string {
			t.Helper()
			code, out, errs := runDB(t, dsn, args...)
			hay.add("`jpkipilot "+strings.Join(args, " ")+"` stdout", []byte(out))
			hay.add("`jpkipilot "+strings.Join(args, " ")+"` stderr", []byte(errs))
			if code != 0 {
				t.Fatalf("jpkipilot %s: exit %d\n%s", strings.Join(args, " "), code, errs)
			}
			return out
		}
		file := func(name, content string) string {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}

		run("demo", "seed")
		run("monitors", "import", file("leak.csv", leakMonitors))
		// A file with a bad row: the error names the row and field, not the value.
		bad := leakMonitors + "Quimbly Zyxlo junior,Quimbly Zyxlo,30s,leak-7c1e@example.invalid,NO-SUCH-SESSION\n"
		if code, out, errs := runDB(t, dsn, "monitors", "import", file("bad.csv", bad)); code != 1 {
			t.Fatalf("import of a bad file: exit %d\n%s%s", code, out, errs)
		} else {
			hay.add("a refused import's stdout", []byte(out))
			hay.add("a refused import's stderr", []byte(errs))
		}

		// The coordinator's list shows names: it tells which values to search for.
		out := mustRunDB(t, dsn, "monitors", "list", "--csv")
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		markers := append([]string(nil), leakMarkers...)
		var ids []string
		for _, r := range recs[1:] {
			ids = append(ids, r[0])
			for _, col := range []int{3, 4, 6} { // name, kana, contact
				if v := strings.TrimSpace(r[col]); len([]rune(v)) >= 4 {
					markers = append(markers, v)
				}
			}
		}
		if !strings.Contains(out, "鵺野 漏洩丸") || len(ids) < 100 {
			t.Fatalf("the markers were not imported: %d monitors", len(ids))
		}
		leaker, borrower, leaving := ids[len(ids)-3], ids[len(ids)-2], ids[len(ids)-1]

		run("trials", "list")
		run("trials", "dashboard", "1")
		run("trials", "dashboard", "2")
		run("devices", "import", "../../trial/testdata/devices_utf8.csv")
		run("devices", "list")
		out = run("loans", "checkout", "--monitor", borrower, "--phone", "352099001761481", "--sim", "8981101000000000019", "--staff", "Aoki")
		loan := strings.Fields(out)[0]
		loan = strings.TrimSuffix(loan, ":")
		run("loans", "list")
		// (`loans list --csv` is the coordinator's reminder list: names and
		// contacts by design, an identified export like `monitors list`.)
		run("loans", "list", "--monitor", borrower)
		run("loans", "history", loan)
		run("loans", "checkin", loan, "--staff", "Aoki")
		run("monitors", "withdraw", leaving)
		run("export", "survey", "--out", filepath.Join(dir, "survey.xlsx"))
		run("export", "survey", "--out", filepath.Join(dir, "survey.csv"))
		hay.addXLSX(t, filepath.Join(dir, "survey.xlsx"))
		hay.addFile(t, filepath.Join(dir, "survey.csv"))
		// The control: an identified export does hold names, and the same
		// search finds them in the workbook's parts.
		mustRunDB(t, dsn, "export", "survey", "--identified", "--out", filepath.Join(dir, "identified.xlsx"))
		var control leakHaystack
		control.addXLSX(t, filepath.Join(dir, "identified.xlsx"))
		if found := control.count(markers); found == 0 {
			t.Fatal("the search finds no name even in an identified export: it cannot see a leak")
		}

		pass := file("pass", "leak-test CA passphrase\n")
		run("ca", "init", "--passphrase-file", pass)
		out = run("ca", "issue", "--kind", "sign", "--holder", leaker, "--name", "鵺野 漏洩丸", "--new-key", filepath.Join(dir, "sign.key"),
			"--out", filepath.Join(dir, "sign.pem"), "--passphrase-file", pass)
		serial := strings.Fields(out)[4]
		run("ca", "issue", "--kind", "auth", "--holder", leaker, "--new-key", filepath.Join(dir, "auth.key"),
			"--out", filepath.Join(dir, "auth.pem"), "--passphrase-file", pass)
		run("ca", "revoke", serial, "--reason", "superseded", "--passphrase-file", pass)
		run("ca", "crl", "--ca", "sign", "--out", filepath.Join(dir, "sign.crl"), "--passphrase-file", pass)
		run("ca", "crl", "--ca", "auth", "--out", filepath.Join(dir, "auth.crl"), "--passphrase-file", pass)
		run("verify", filepath.Join(dir, "auth.pem"))
		// (`verify sign.pem` prints the certificate's subject: the holder's
		// name, as on the card itself; like `monitors list` it is meant to.)
		cardFlows(t, dsn, "leak-test CA passphrase", leaker, &hay)

		run("ca", "list")
		run("audit", "verify")
		run("audit", "list")
		run("audit", "export", "--out", filepath.Join(dir, "audit.xlsx"))
		run("audit", "export", "--out", filepath.Join(dir, "audit.csv"))
		hay.addXLSX(t, filepath.Join(dir, "audit.xlsx"))
		hay.addFile(t, filepath.Join(dir, "audit.csv"))

		rows := hay.addTables(t, dsn)
		for _, table := range []string{"audit_log", "gate_decisions", "bank_attempts", "tickets", "loans", "survey_answers"} {
			if rows[table] == 0 {
				t.Errorf("table %s is empty: the search there proves nothing", table)
			}
		}
		hay.add("the standard logger, slog and the process's standard output and error", stopLogs())
		hay.check(t, markers)
	})
}

// cardFlows runs the flows in which the holder's name is on the card (a My
// Number card's signature certificate): reading it with the PIN, the bank's
// registration and login, a ticket application and the entry gate. Their
// APDU traces go into hay.
func cardFlows(t *testing.T, dsn, passphrase, holder string, hay *leakHaystack) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ca, err := pki.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.Unlock(ctx, []byte(passphrase)); err != nil {
		t.Fatal(err)
	}
	auth, authKey, err := ca.IssueWithNewKey(ctx, pki.IssueRequest{Kind: pki.RoleAuth, Holder: holder})
	if err != nil {
		t.Fatal(err)
	}
	sign, signKey, err := ca.IssueWithNewKey(ctx, pki.IssueRequest{Kind: pki.RoleSign, Holder: holder, Name: "鵺野 漏洩丸"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.PublishCRL(ctx, pki.RoleAuth, 0); err != nil {
		t.Fatal(err)
	}
	const authPIN, signPIN = "4321", "LEAK2024"
	cfg := vcard.Config{Profile: vcard.MyNumber, AuthKey: authKey, AuthCert: auth.Cert.Raw, AuthCACert: ca.Certificate(pki.RoleAuth).Raw,
		AuthPIN: authPIN, SignKey: signKey, SignCert: sign.Cert.Raw, SignCACert: ca.Certificate(pki.RoleSign).Raw, SignPIN: signPIN}
	reader := &vcard.VirtualReader{}
	// hold is the monitor holding the card to the reader: a new connection each time.
	var cards []*device.Card
	hold := func() *device.Card {
		vc, err := vcard.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		reader.Insert(vc)
		c := &device.Card{T: reader}
		cards = append(cards, c)
		return c
	}
	pinOf := func(pin string) jpki.PINFunc {
		return func(context.Context, jpki.PINRequest) (string, error) { return pin, nil }
	}

	cert, err := jpki.New(hold()).ReadCertificate(ctx, jpki.CertSign, pinOf(signPIN))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cert.Subject.CommonName, "漏洩丸") {
		t.Fatalf("the signature certificate read back is %v: the flow does not carry the name", cert.Subject)
	}
	b := bank.New(db)
	if _, err := b.Register(ctx, holder, hold(), pinOf(authPIN), time.Now()); err != nil {
		t.Fatalf("bank registration: %v", err)
	}
	if _, err := b.Login(ctx, holder, hold(), pinOf(authPIN), time.Now()); err != nil {
		t.Fatalf("bank login: %v", err)
	}
	trust, err := ticket.LoadTrust(ctx, db, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	svc := ticket.NewService(db, trust)
	if err := svc.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	ev := ticket.DemoEvents()[0].ID
	if _, err := svc.Apply(ctx, ev, hold(), pinOf(authPIN)); err != nil {
		t.Fatalf("ticket application: %v", err)
	}
	d, err := ticket.NewGate(db, ev, "gate-1", trust).Check(ctx, hold(), time.Now(), nil)
	if err != nil || !d.Admit {
		t.Fatalf("gate: %+v, %v", d, err)
	}
	var trace bytes.Buffer
	for _, c := range cards {
		for _, e := range c.Trace() {
			fmt.Fprintf(&trace, "%+v\n", e)
		}
	}
	if trace.Len() == 0 {
		t.Fatal("no APDU trace")
	}
	hay.add("the APDU trace of the card flows", trace.Bytes())
	// The PINs are redacted from the trace too.
	for _, pin := range []string{authPIN, signPIN} {
		if strings.Contains(strings.ToLower(trace.String()), hex.EncodeToString([]byte(pin))) {
			t.Errorf("the APDU trace holds a PIN")
		}
	}
}

// count is how many markers appear somewhere in h.
func (h *leakHaystack) count(markers []string) int {
	n := 0
	for _, m := range markers {
		for _, p := range h.parts {
			if strings.Contains(p.text, m) {
				n++
				break
			}
		}
	}
	return n
}

func (h *leakHaystack) addFile(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h.add(filepath.Base(path), b)
}

// addXLSX adds every part of the workbook's zip, uncompressed.
func (h *leakHaystack) addXLSX(t *testing.T, path string) {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		h.add(filepath.Base(path)+":"+f.Name, b)
	}
}

// personalTables hold personal data by design: monitors (sealed at rest by
// trial/pii, its own test), staff accounts (display names of staff, not
// monitors), and the certificates of the trial CA (a signature
// certificate's subject is the holder's name, as on a JPKI card; once the
// store is sealed pki.SealNamedCertificates keeps such a certificate
// sealed and its subject pseudonymous, tested in pki and trial/staff).
var personalTables = map[string]bool{"monitors": true, "pki_certs": true}

// addTables adds every row of every other table, each value as text, and
// returns how many rows each table had.
func (h *leakHaystack) addTables(t *testing.T, dsn string) map[string]int {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if db.Dialect == store.Postgres {
		q = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
	}
	var tables []string
	if err := db.SelectContext(ctx, &tables, q); err != nil {
		t.Fatal(err)
	}
	rowsOf := map[string]int{}
	for _, name := range tables {
		rowsOf[name] = 0
		if personalTables[name] {
			continue
		}
		rows, err := db.QueryContext(ctx, "SELECT * FROM "+name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cols, _ := rows.Columns()
		var buf bytes.Buffer
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				switch v := v.(type) {
				case []byte:
					fmt.Fprintf(&buf, "%s=%s ", cols[i], v)
				case sql.NullString:
					fmt.Fprintf(&buf, "%s=%s ", cols[i], v.String)
				default:
					fmt.Fprintf(&buf, "%s=%v ", cols[i], v)
				}
			}
			buf.WriteByte('\n')
			rowsOf[name]++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		h.add("table "+name, buf.Bytes())
	}
	for _, want := range []string{"audit_log", "gate_decisions", "bank_attempts", "tickets", "survey_answers"} {
		if _, ok := rowsOf[want]; !ok {
			t.Errorf("table %s was not searched (tables: %v)", want, tables)
		}
	}
	return rowsOf
}

// The same search on a store with staff accounts: personal fields sealed,
// each role logged in with its own token file, running what its role may
// (and being refused what it may not).
func TestPersonalDataNeverLeaksWithAccounts(t *testing.T) {
	prevStaff, prevKDF := newStaff, pki.DefaultKDF
	newStaff = func(db *store.DB) *staff.Service {
		s := staff.New(db)
		s.KDF = staff.TestKDF // argon2id's cheap test cost; the hash records it
		return s
	}
	pki.DefaultKDF = pki.KDFParams{Time: 1, Memory: 1024, Threads: 1}
	t.Cleanup(func() { newStaff, pki.DefaultKDF = prevStaff, prevKDF })
	eachTrialDB(t, func(t *testing.T, dsn string) {
		stopLogs := captureLogs(t)
		dir := t.TempDir()
		var hay leakHaystack
		exec := func(tf, stdin string, args ...string) (int, string, string) {
			t.Helper()
			pre := []string{"--db", dsn}
			if tf != "" {
				pre = append(pre, "--token-file", tf)
			}
			var out, errb bytes.Buffer
			code := Run(context.Background(), append(pre, args...), strings.NewReader(stdin), &out, &errb)
			who := strings.TrimSuffix(filepath.Base(tf), ".token")
			hay.add(fmt.Sprintf("`jpkipilot %s` as %q stdout", strings.Join(args, " "), who), out.Bytes())
			hay.add(fmt.Sprintf("`jpkipilot %s` as %q stderr", strings.Join(args, " "), who), errb.Bytes())
			return code, out.String(), errb.String()
		}
		run := func(tf, stdin string, args ...string) string {
			t.Helper()
			code, out, errs := exec(tf, stdin, args...)
			if code != 0 {
				t.Fatalf("jpkipilot %s: exit %d\n%s", strings.Join(args, " "), code, errs)
			}
			return out
		}
		refused := func(tf string, args ...string) {
			t.Helper()
			if code, out, errs := exec(tf, "", args...); code == 0 {
				t.Errorf("jpkipilot %s was allowed to %s:\n%s", strings.Join(args, " "), tf, out)
			} else if errs == "" {
				t.Errorf("jpkipilot %s: refused without a reason", strings.Join(args, " "))
			}
		}
		leakCSV := filepath.Join(dir, "leak.csv")
		if err := os.WriteFile(leakCSV, []byte(leakMonitors), 0o600); err != nil {
			t.Fatal(err)
		}
		pass := func(login string) string { return "Leak-test-" + login + "-pw\n" }

		run("", "", "demo", "seed")
		run("", "", "monitors", "import", leakCSV)
		run("", pass("carol")+pass("carol"), "staff", "init", "--login", "carol", "--name", "Carol")
		carol, sato, anna := filepath.Join(dir, "carol.token"), filepath.Join(dir, "sato.token"), filepath.Join(dir, "anna.token")
		run(carol, pass("carol"), "login", "--user", "carol")
		run(carol, pass("sato")+pass("sato"), "staff", "add", "--login", "sato", "--role", "staff", "--name", "Sato")
		run(carol, pass("anna")+pass("anna"), "staff", "add", "--login", "anna", "--role", "analyst", "--name", "Anna")
		run(sato, pass("sato"), "login", "--user", "sato")
		run(anna, pass("anna"), "login", "--user", "anna")

		// The coordinator's list opens the sealed names: the values to search for.
		code, out, errs := runIn2(dsn, carol, "monitors", "list", "--csv")
		if code != 0 {
			t.Fatalf("monitors list as the coordinator: %s", errs)
		}
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		markers := append([]string(nil), leakMarkers...)
		var ids []string
		for _, r := range recs[1:] {
			ids = append(ids, r[0])
			for _, col := range []int{3, 4, 6} {
				if v := strings.TrimSpace(r[col]); len([]rune(v)) >= 4 {
					markers = append(markers, v)
				}
			}
		}
		if !strings.Contains(out, "鵺野 漏洩丸") || strings.Contains(out, "pii1:") {
			t.Fatalf("the coordinator does not see the imported names:\n%.300s", out)
		}
		borrower, leaving := ids[len(ids)-2], ids[len(ids)-1]

		// Coordinator.
		run(carol, "", "whoami")
		run(carol, "", "trials", "list")
		run(carol, "", "trials", "dashboard", "2")
		run(carol, "", "staff", "list")
		run(carol, "", "devices", "import", "../../trial/testdata/devices_utf8.csv")
		run(carol, "", "monitors", "withdraw", leaving)
		run(carol, "", "export", "survey", "--out", filepath.Join(dir, "carol.xlsx"))
		hay.addXLSX(t, filepath.Join(dir, "carol.xlsx"))
		// Venue staff: loans, devices; no lists of monitors, no exports.
		out = run(sato, "", "loans", "checkout", "--monitor", borrower, "--phone", "352099001761481", "--sim", "8981101000000000019", "--staff", "sato")
		loan := strings.TrimSuffix(strings.Fields(out)[0], ":")
		run(sato, "", "loans", "list")
		run(sato, "", "loans", "history", loan)
		run(sato, "", "loans", "checkin", loan, "--staff", "sato")
		run(sato, "", "devices", "list")
		refused(sato, "monitors", "list")
		refused(sato, "export", "survey", "--out", filepath.Join(dir, "sato.xlsx"))
		refused(sato, "audit", "list")
		// Analyst: results and pseudonymised exports only.
		run(anna, "", "trials", "list")
		run(anna, "", "export", "survey", "--out", filepath.Join(dir, "anna.xlsx"))
		run(anna, "", "export", "survey", "--out", filepath.Join(dir, "anna.csv"))
		hay.addXLSX(t, filepath.Join(dir, "anna.xlsx"))
		hay.addFile(t, filepath.Join(dir, "anna.csv"))
		refused(anna, "monitors", "list")
		refused(anna, "export", "survey", "--identified", "--out", filepath.Join(dir, "anna-id.xlsx"))
		refused(anna, "loans", "list", "--csv")
		// The trail of it all.
		run(carol, "", "audit", "verify")
		run(carol, "", "audit", "list")
		run(carol, "", "audit", "export", "--out", filepath.Join(dir, "audit.xlsx"))
		run(carol, "", "audit", "export", "--out", filepath.Join(dir, "audit.csv"))
		hay.addXLSX(t, filepath.Join(dir, "audit.xlsx"))
		hay.addFile(t, filepath.Join(dir, "audit.csv"))
		for _, tf := range []string{sato, anna, carol} {
			run(tf, "", "logout")
		}

		hay.addTables(t, dsn)
		hay.add("the standard logger, slog and the process's standard output and error", stopLogs())
		hay.check(t, markers)
	})
}

// runIn2 runs one command as the session of tf, its output not searched.
func runIn2(dsn, tf string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"--db", dsn, "--token-file", tf}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}
