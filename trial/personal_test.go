package trial_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial"
	"jpkipilot/trial/audit"
	"jpkipilot/trial/pii"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// sealStore does what the first staff account does: makes a data key and
// seals the store under it (pii.Reseal marks it sealed).
func sealStore(t testing.TB, db *store.DB) *pii.Key {
	t.Helper()
	k, err := pii.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Tx(context.Background(), func(tx *sqlx.Tx) error {
		_, err := pii.Reseal(context.Background(), tx, nil, k)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return k
}

type rawRow struct {
	ID      string `db:"id"`
	Name    string `db:"name"`
	Kana    string `db:"kana"`
	Contact string `db:"contact"`
}

func rawMonitors(t *testing.T, db *store.DB) []rawRow {
	t.Helper()
	var rs []rawRow
	if err := db.Select(&rs, "SELECT id, name, kana, contact FROM monitors ORDER BY id"); err != nil {
		t.Fatal(err)
	}
	return rs
}

// storeBytes is everything SQLite keeps on disk for db: the file after a
// checkpoint, and the WAL if one is left.
func storeBytes(t *testing.T, db *store.DB) []byte {
	t.Helper()
	if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(db.Where)
	if err != nil {
		t.Fatal(err)
	}
	if w, err := os.ReadFile(db.Where + "-wal"); err == nil {
		b = append(b, w...)
	}
	return b
}

func auditEntries(t *testing.T, db *store.DB, action, subject string) []audit.Entry {
	t.Helper()
	es, err := audit.List(context.Background(), db, audit.Filter{Action: action, Subject: subject})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func verifyAudit(t *testing.T, db *store.DB) {
	t.Helper()
	r, err := audit.Verify(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Fatalf("audit chain broken: %v", r.Problems)
	}
}

// TestPersonalFieldsSealedAtRest: with the data key, enrolment, import and
// the demo seed store no name, kana or contact in the clear: not in the
// SQLite file or its WAL, not in PostgreSQL's columns. The key opens them.
func TestPersonalFieldsSealedAtRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		key := sealStore(t, db)
		s := newService(db)
		s.PII = key
		if _, err := s.SeedDemo(ctx); err != nil {
			t.Fatal(err)
		}
		tr, err := s.CreateTrial(ctx, trial.Trial{Name: "会場実証 追加", Kind: trial.KindVenue})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateSession(ctx, trial.Session{TrialID: tr.ID, Code: "EXTRA-1", StartsOn: "2017-03-01", Capacity: 10, Target: 5}); err != nil {
			t.Fatal(err)
		}
		enrolled, err := s.Enrol(ctx, trial.Monitor{TrialID: tr.ID, Name: "東雲 瑞穂", Kana: "しののめ みずほ", Contact: "shinonome.mizuho@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		if enrolled.Name != "東雲 瑞穂" || enrolled.Kana != "シノノメ ミズホ" || enrolled.Sealed {
			t.Fatalf("Enrol returned %+v", enrolled)
		}
		res, err := s.Import(ctx, mustCSV(t, "氏名,フリガナ,連絡先,セッション\n"+
			"御手洗 紗希,ミタライ サキ,mitarai.saki@example.org,EXTRA-1\n"+
			"勅使河原 暁,テシガワラ アキラ,080-7777-1234,EXTRA-1\n"), trial.ImportOptions{})
		if err != nil || res.Count != 2 {
			t.Fatalf("import: %+v, %v", res, err)
		}

		// Every personal value, read back with the key.
		ms, err := s.ListMonitors(ctx, trial.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 157+3 {
			t.Fatalf("%d monitors", len(ms))
		}
		var secrets []string
		byID := map[string]trial.Monitor{}
		for _, m := range ms {
			if m.Sealed {
				t.Fatalf("%s read with the key is Sealed", m.ID)
			}
			byID[m.ID] = m
			for _, v := range []string{m.Name, m.Kana, m.Contact} {
				if v != "" {
					secrets = append(secrets, v)
				}
			}
		}
		if len(secrets) < 3*150 {
			t.Fatalf("only %d personal values read back", len(secrets))
		}
		for _, want := range []string{"東雲 瑞穂", "シノノメ ミズホ", "mitarai.saki@example.org", "テシガワラ アキラ"} {
			found := false
			for _, v := range secrets {
				found = found || v == want
			}
			if !found {
				t.Fatalf("%q not read back with the key", want)
			}
		}

		// What is stored: every non-empty personal column sealed.
		for _, r := range rawMonitors(t, db) {
			for _, v := range []string{r.Name, r.Kana, r.Contact} {
				if v != "" && !pii.IsSealed(v) {
					t.Fatalf("%s: a personal field is stored in the clear", r.ID)
				}
			}
			m := byID[r.ID]
			if m.Name != "" && (r.Name == m.Name || strings.Contains(r.Name, m.Name)) {
				t.Fatalf("%s: name stored as typed", r.ID)
			}
		}
		if db.Dialect == store.SQLite {
			b := storeBytes(t, db)
			for _, v := range secrets {
				if bytes.Contains(b, []byte(v)) {
					t.Fatalf("the SQLite file holds a personal value in the clear (%d bytes long)", len(v))
				}
			}
			// The check can fail: non-personal text of the same store is there.
			if !bytes.Contains(b, []byte("会場実証 追加")) {
				t.Fatal("the trial's name is not in the file either: the file check reads the wrong file")
			}
		}
	})
}

// TestReadWithoutKey: a reader without the data key (an analyst) gets the
// sealed fields empty and Sealed set, everything else as stored; loans too.
func TestReadWithoutKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := newLendingDesk(t, db) // enrolled in the clear: no accounts yet
		key := sealStore(t, db)
		ln := d.checkout(t, 0, phone1, sim1, "")

		analyst := newService(db)
		m, err := analyst.GetMonitor(ctx, d.monitors[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Sealed || m.Name != "" || m.Kana != "" || m.Contact != "" || m.Status != trial.StatusEnrolled {
			t.Fatalf("without the key: %+v", m)
		}
		ms, err := analyst.ListMonitors(ctx, trial.Filter{Query: "ヤマダ"})
		if err != nil || len(ms) != 0 {
			t.Fatalf("a sealed kana matched a search without the key: %v, %v", ms, err)
		}
		ms, err = analyst.ListMonitors(ctx, trial.Filter{Query: d.monitors[1].ID})
		if err != nil || len(ms) != 1 || !ms[0].Sealed {
			t.Fatalf("search by id without the key: %+v, %v", ms, err)
		}
		desk := trial.NewLoans(db)
		got, err := desk.GetLoan(ctx, ln.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.MonitorSealed || got.MonitorName != "" || got.MonitorContact != "" || got.MonitorID != d.monitors[0].ID {
			t.Fatalf("loan without the key: %+v", got)
		}

		coordinator := newService(db)
		coordinator.PII = key
		m, err = coordinator.GetMonitor(ctx, d.monitors[0].ID)
		if err != nil || m.Sealed || m.Name != "山田 太郎" || m.Contact != "090-0000-0001" {
			t.Fatalf("with the key: %+v, %v", m, err)
		}
		desk.PII = key
		ls, err := desk.ListLoans(ctx, trial.LoanFilter{Open: true})
		if err != nil || len(ls) != 1 || ls[0].MonitorName != "山田 太郎" || ls[0].MonitorSealed {
			t.Fatalf("loans with the key: %+v, %v", ls, err)
		}
		var csv bytes.Buffer
		if err := trial.WriteLoansCSV(&csv, ls, nil); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(csv.String(), "山田 太郎") || strings.Contains(csv.String(), pii.Prefix) {
			t.Fatalf("loan CSV with the key:\n%s", csv.String())
		}
		// A value moved to another monitor's row does not open there.
		if _, err := db.Exec(db.Rebind("UPDATE monitors SET name = (SELECT name FROM monitors WHERE id = ?) WHERE id = ?"), d.monitors[0].ID, d.monitors[1].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := coordinator.GetMonitor(ctx, d.monitors[1].ID); !errors.Is(err, pii.ErrTampered) {
			t.Fatalf("moved sealed name: %v", err)
		}
	})
}

// TestWritesWithoutKeyOnSealedStore: on a sealed store, a write carrying a
// personal field without the key fails with pii.ErrLocked and changes
// nothing; edits that leave the unseen fields alone keep them as stored.
func TestWritesWithoutKeyOnSealedStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		key := sealStore(t, db)
		f.s.PII = key
		m := f.enrol(t, "山田 太郎", "ヤマダ タロウ", f.v1)
		before := rawMonitors(t, db)
		entries := len(auditEntries(t, db, "", ""))

		locked := newService(db)
		sid := f.v1.ID
		if _, err := locked.Enrol(ctx, trial.Monitor{TrialID: f.venue.ID, SessionID: &sid, Name: "佐藤 花子", Kana: "サトウ ハナコ"}); !errors.Is(err, pii.ErrLocked) {
			t.Fatalf("enrol without key: %v", err)
		}
		if _, err := locked.Import(ctx, mustCSV(t, "氏名,フリガナ,セッション\n佐藤 花子,サトウ ハナコ,VENUE-1\n"), trial.ImportOptions{}); !errors.Is(err, pii.ErrLocked) {
			t.Fatalf("import without key: %v", err)
		}
		seen, err := locked.GetMonitor(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		put := seen
		put.Name = "山田 次郎"
		if _, err := locked.UpdateMonitor(ctx, put); !errors.Is(err, pii.ErrLocked) {
			t.Fatalf("rename without key: %v", err)
		}
		put = seen
		put.Contact = "090-1111-2222"
		if _, err := locked.UpdateMonitor(ctx, put); !errors.Is(err, pii.ErrLocked) {
			t.Fatalf("new contact without key: %v", err)
		}
		after := rawMonitors(t, db)
		if fmt.Sprint(before) != fmt.Sprint(after) {
			t.Fatal("a refused write changed the monitors")
		}
		if n := len(auditEntries(t, db, "", "")); n != entries {
			t.Fatalf("refused writes left %d audit entries", n-entries)
		}

		// The unseen fields stay as they are through edits that do not
		// touch them.
		put = seen
		put.AgeBand = "40s"
		if got, err := locked.UpdateMonitor(ctx, put); err != nil || !got.Sealed || got.AgeBand != "40s" {
			t.Fatalf("edit age band without key: %+v, %v", got, err)
		}
		if _, err := locked.SetStatus(ctx, m.ID, trial.StatusAttended); err != nil {
			t.Fatal(err)
		}
		if _, err := locked.RecordConsent(ctx, m.ID, trial.Consent{FormVersion: "v1.0", SignedOn: "2017-02-18"}); err != nil {
			t.Fatal(err)
		}
		got, err := f.s.GetMonitor(ctx, m.ID)
		if err != nil || got.Name != "山田 太郎" || got.Kana != "ヤマダ タロウ" || got.Contact != "山田 太郎@example.jp" ||
			got.AgeBand != "40s" || got.Status != trial.StatusAttended || !got.Consent.Given() {
			t.Fatalf("after keyless edits, with the key: %+v, %v", got, err)
		}

		// Seeding a sealed empty store needs the key too.
		db2 := storetest.SQLite(t)
		if db.Dialect == store.Postgres {
			db2 = storetest.Postgres(t)
		}
		sealStore(t, db2)
		if _, err := newService(db2).SeedDemo(ctx); !errors.Is(err, pii.ErrLocked) {
			t.Fatalf("seed without key: %v", err)
		}
		if n := monitorCount(t, db2); n != 0 {
			t.Fatalf("refused seed left %d monitors", n)
		}
	})
}

// TestUnsealedStoreStaysClear: before the first staff account there is no
// key and nothing to seal with; the workspace works as before.
func TestUnsealedStoreStaysClear(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		m := f.enrol(t, "山田 太郎", "ヤマダ タロウ", f.v1)
		name, kana, _, _ := rawPersonal(t, db, m.ID)
		if name != "山田 太郎" || kana != "ヤマダ タロウ" {
			t.Fatalf("stored %q %q", name, kana)
		}
		got, err := f.s.GetMonitor(context.Background(), m.ID)
		if err != nil || got.Sealed || got.Name != "山田 太郎" {
			t.Fatalf("%+v, %v", got, err)
		}
	})
}

// TestDuplicateDetectionOnSealedData: sealed values differ every time they
// are sealed, yet the same person is still refused a second enrolment,
// typed differently or imported.
func TestDuplicateDetectionOnSealedData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		f.s.PII = sealStore(t, db)
		first := f.enrol(t, "山田 太郎", "ヤマダ タロウ", f.v1)
		sid := f.v2.ID
		_, err := f.s.Enrol(ctx, trial.Monitor{TrialID: f.venue.ID, SessionID: &sid, Name: "山田　太郎", Kana: "ﾔﾏﾀﾞ ﾀﾛｳ", Contact: "山田 太郎@example.jp"})
		var fe trial.FieldErrors
		if !errors.As(err, &fe) || !fe.Has("name") || !strings.Contains(err.Error(), first.ID) {
			t.Fatalf("second enrolment of the same person: %v", err)
		}
		// Another contact is another person; the field trial is another trial.
		if _, err := f.s.Enrol(ctx, trial.Monitor{TrialID: f.venue.ID, SessionID: &sid, Name: "山田 太郎", Kana: "ヤマダ タロウ", Contact: "090-1234-5678"}); err != nil {
			t.Fatal(err)
		}
		f.enrol(t, "山田 太郎", "ヤマダ タロウ", f.fApply)
		_, err = f.s.Import(ctx, mustCSV(t, "氏名,フリガナ,連絡先,セッション\n山田 太郎,やまだ たろう,山田 太郎@example.jp,VENUE-2\n"), trial.ImportOptions{})
		var ie *trial.ImportError
		if !errors.As(err, &ie) || !strings.Contains(problemsText(ie), "duplicate of existing monitor "+first.ID) {
			t.Fatalf("import of an enrolled person: %v", err)
		}
		// Once withdrawn (and erased), the person may enrol again.
		if _, err := f.s.Withdraw(ctx, first.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Import(ctx, mustCSV(t, "氏名,フリガナ,連絡先,セッション\n山田 太郎,やまだ たろう,山田 太郎@example.jp,VENUE-2\n"), trial.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestWithdrawalErasesEverywhereAndIsAudited: the monitor row loses its
// personal fields (sealed or not), the loan keeps the pseudonymous id, and
// the trail records the withdrawal.
func TestWithdrawalErasesEverywhereAndIsAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := newLendingDesk(t, db)
		key := sealStore(t, db)
		d.s.PII, d.l.PII = key, key
		ln := d.checkout(t, 0, phone1, sim1, "")
		id := d.monitors[0].ID
		if _, err := newService(db).Withdraw(ctx, id); err != nil { // no key needed
			t.Fatal(err)
		}
		name, kana, contact, _ := rawPersonal(t, db, id)
		if name != "" || kana != "" || contact != "" {
			t.Fatal("personal fields left after withdrawal")
		}
		got, err := d.l.GetLoan(ctx, ln.ID)
		if err != nil || got.MonitorID != id || got.MonitorName != "" || got.MonitorContact != "" || got.MonitorSealed {
			t.Fatalf("loan after withdrawal: %+v, %v", got, err)
		}
		es := auditEntries(t, db, audit.MonitorWithdraw, id)
		if len(es) != 1 {
			t.Fatalf("%d withdrawal entries", len(es))
		}
		if strings.Contains(es[0].Detail, "山田") || strings.Contains(es[0].Detail, "ヤマダ") {
			t.Fatalf("withdrawal detail names the person: %q", es[0].Detail)
		}
		if _, err := d.s.Withdraw(ctx, id); err != nil {
			t.Fatal(err)
		}
		if n := len(auditEntries(t, db, audit.MonitorWithdraw, id)); n != 1 {
			t.Fatalf("withdrawing twice recorded %d entries", n)
		}
		if db.Dialect == store.SQLite {
			if b := storeBytes(t, db); bytes.Contains(b, []byte("山田 太郎")) {
				t.Fatal("the name of the withdrawn monitor is in the SQLite file")
			}
		}
		verifyAudit(t, db)
	})
}

// TestRetentionPurge: a trial's personal fields are erased from the day
// after its retention date in Japan, in one audited step that a second run
// repeats without effect; other trials keep theirs; no key is needed.
func TestRetentionPurge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		key := sealStore(t, db)
		f.s.PII = key
		a := f.enrol(t, "山田 太郎", "ヤマダ タロウ", f.v1)
		b := f.enrol(t, "佐藤 花子", "サトウ ハナコ", f.v2)
		c := f.enrol(t, "鈴木 一郎", "スズキ イチロウ", f.fApply)
		if _, err := f.s.Withdraw(ctx, b.ID); err != nil {
			t.Fatal(err)
		}

		var fe trial.FieldErrors
		for _, bad := range []string{"2017-02-30", "2017/03/31", "March"} {
			if err := f.s.SetRetention(ctx, f.venue.ID, bad); !errors.As(err, &fe) || !fe.Has("retain_until") {
				t.Fatalf("SetRetention(%q): %v", bad, err)
			}
		}
		if err := f.s.SetRetention(ctx, 9999, "2017-03-31"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown trial: %v", err)
		}
		if err := f.s.SetRetention(ctx, f.venue.ID, "2017-03-31"); err != nil {
			t.Fatal(err)
		}
		if err := f.s.SetRetention(ctx, f.field.ID, "2017-03-30"); err != nil {
			t.Fatal(err)
		}
		if err := f.s.SetRetention(ctx, f.field.ID, ""); err != nil { // cleared: kept
			t.Fatal(err)
		}
		tr, err := f.s.GetTrial(ctx, f.venue.ID)
		if err != nil || tr.RetainUntil != "2017-03-31" {
			t.Fatalf("GetTrial: %+v, %v", tr, err)
		}
		// UpdateTrial keeps the date.
		tr.Notes = "延長なし"
		tr.RetainUntil = ""
		if _, err := f.s.UpdateTrial(ctx, tr); err != nil {
			t.Fatal(err)
		}
		if tr, _ = f.s.GetTrial(ctx, f.venue.ID); tr.RetainUntil != "2017-03-31" {
			t.Fatalf("UpdateTrial changed the retention date to %q", tr.RetainUntil)
		}
		if es := auditEntries(t, db, "trial.retention", trial.TrialSubject(f.field.ID)); len(es) != 2 || !strings.Contains(es[1].Detail, "2017-03-30→none") {
			t.Fatalf("retention changes audited: %+v", es)
		}

		purger := newService(db) // no key: erasing reads nothing
		// 2017-03-31 23:59 in Japan: the last day of retention.
		purger.Now = func() time.Time { return time.Date(2017, 3, 31, 14, 59, 0, 0, time.UTC) }
		res, err := purger.PurgeExpired(ctx)
		if err != nil || res.Monitors != 0 || len(res.Trials) != 0 {
			t.Fatalf("purge on the last day: %+v, %v", res, err)
		}
		// 2017-04-01 00:00 in Japan (still March 31 in UTC).
		purger.Now = func() time.Time { return time.Date(2017, 3, 31, 15, 0, 0, 0, time.UTC) }
		res, err = purger.PurgeExpired(ctx)
		if err != nil || res.Monitors != 1 || len(res.Trials) != 1 || res.Trials[0] != f.venue.ID {
			t.Fatalf("purge the day after: %+v, %v", res, err)
		}
		if name, kana, contact, _ := rawPersonal(t, db, a.ID); name != "" || kana != "" || contact != "" {
			t.Fatal("purged monitor keeps personal fields")
		}
		if got, err := f.s.GetMonitor(ctx, c.ID); err != nil || got.Name != "鈴木 一郎" {
			t.Fatalf("a trial without a retention date lost data: %+v, %v", got, err)
		}
		got, err := f.s.GetMonitor(ctx, a.ID)
		if err != nil || got.Status != trial.StatusEnrolled || got.Sealed || got.AgeBand != "30s" {
			t.Fatalf("purged monitor: %+v, %v", got, err)
		}
		// The purged monitor's other fields can still change.
		if _, err := f.s.SetStatus(ctx, a.ID, trial.StatusCompleted); err != nil {
			t.Fatalf("status of a purged monitor: %v", err)
		}
		es := auditEntries(t, db, audit.RetentionPurge, "")
		if len(es) != 1 || es[0].Subject != trial.TrialSubject(f.venue.ID) || !strings.Contains(es[0].Detail, "1 monitors") ||
			strings.Contains(es[0].Detail, "山田") || strings.Contains(es[0].Detail, "ヤマダ") {
			t.Fatalf("purge entries: %+v", es)
		}
		// Idempotent: nothing left to erase, nothing recorded.
		res, err = purger.PurgeExpired(ctx)
		if err != nil || res.Monitors != 0 || len(res.Trials) != 0 {
			t.Fatalf("second purge: %+v, %v", res, err)
		}
		if n := len(auditEntries(t, db, audit.RetentionPurge, "")); n != 1 {
			t.Fatalf("second purge recorded: %d entries", n)
		}
		verifyAudit(t, db)
	})
}

// TestAuditOfMonitorActions: each action leaves one entry in its own
// transaction, by the service's actor unless the context names one; an
// edit names the fields it changed and never a value.
func TestAuditOfMonitorActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		f.s.PII = sealStore(t, db)
		f.s.Actor = "coord1"
		m := f.enrol(t, "山田 太郎", "ヤマダ タロウ", f.v1)
		es := auditEntries(t, db, audit.MonitorEnrol, m.ID)
		if len(es) != 1 || es[0].Actor != "coord1" {
			t.Fatalf("enrol entries: %+v", es)
		}
		if es := auditEntries(t, db, "trial.create", trial.TrialSubject(f.venue.ID)); len(es) != 1 {
			t.Fatalf("trial.create entries: %+v", es)
		}

		edit := m
		edit.Name, edit.Contact, edit.AgeBand = "山田 次郎", "090-9999-0000", "40s"
		if _, err := f.s.UpdateMonitor(audit.WithActor(ctx, "staff7"), edit); err != nil {
			t.Fatal(err)
		}
		es = auditEntries(t, db, audit.MonitorEdit, m.ID)
		if len(es) != 1 || es[0].Actor != "staff7" || es[0].Detail != "name, age_band, contact" {
			t.Fatalf("edit entries: %+v", es)
		}
		for _, v := range []string{"山田", "太郎", "次郎", "090-9999-0000", "example.jp", "ヤマダ"} {
			if strings.Contains(es[0].Detail, v) {
				t.Fatalf("edit detail %q holds a value", es[0].Detail)
			}
		}

		if _, err := f.s.SetStatus(ctx, m.ID, trial.StatusAttended); err != nil {
			t.Fatal(err)
		}
		if es := auditEntries(t, db, audit.MonitorStatus, m.ID); len(es) != 1 || es[0].Detail != "enrolled→attended" {
			t.Fatalf("status entries: %+v", es)
		}
		if _, err := f.s.RecordConsent(ctx, m.ID, trial.Consent{FormVersion: "v1.2", SignedOn: "2017-02-18", Staff: "受付 青木"}); err != nil {
			t.Fatal(err)
		}
		if es := auditEntries(t, db, audit.MonitorConsent, m.ID); len(es) != 1 || es[0].Detail != "v1.2" {
			t.Fatalf("consent entries: %+v", es)
		}
		// A failed edit leaves no entry.
		bad := edit
		bad.AgeBand = "200s"
		if _, err := f.s.UpdateMonitor(ctx, bad); err == nil {
			t.Fatal("bad age band accepted")
		}
		if es := auditEntries(t, db, audit.MonitorEdit, m.ID); len(es) != 1 {
			t.Fatalf("a failed edit was recorded: %+v", es)
		}

		gone := f.enrol(t, "佐藤 花子", "サトウ ハナコ", f.v2)
		if err := f.s.DeleteMonitor(ctx, gone.ID); err != nil {
			t.Fatal(err)
		}
		if es := auditEntries(t, db, audit.MonitorDelete, gone.ID); len(es) != 1 {
			t.Fatalf("delete entries: %+v", es)
		}

		dir := t.TempDir()
		path := dir + "/2017年2月 会場モニター.csv"
		if err := os.WriteFile(path, []byte("氏名,フリガナ,セッション\n高橋 陽菜,タカハシ ヒナ,VENUE-2\n伊藤 誠,イトウ マコト,VENUE-2\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		res, err := f.s.ImportFile(ctx, path, trial.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		es = auditEntries(t, db, audit.MonitorImport, "")
		if len(es) != 1 || es[0].Subject != res.FirstID+"–"+res.LastID || es[0].Detail != "2 monitors from 2017年2月 会場モニター.csv" {
			t.Fatalf("import entries: %+v", es)
		}
		if strings.Contains(es[0].Detail, dir) || strings.Contains(es[0].Detail, "高橋") {
			t.Fatalf("import detail %q holds the directory or a name", es[0].Detail)
		}
		verifyAudit(t, db)
	})
}

// TestAuditOfLoansAndDevices: check-out, extension and check-in are
// recorded under the loan id with the monitor id and serials, never the
// monitor's name; device additions and imports are recorded too.
func TestAuditOfLoansAndDevices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := newLendingDesk(t, db)
		d.l.Actor = "desk1"
		ln := d.checkout(t, 1, phone2, sim2, "")
		if _, err := d.l.Extend(ctx, ln.ID, "2017-01-31", "田中"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.l.Checkin(ctx, ln.ID, trial.Return{Staff: "田中", Missing: []string{"charger"}}); err != nil {
			t.Fatal(err)
		}
		subject := trial.FormatLoanID(ln.ID)
		for _, c := range []struct{ action, extra string }{
			{audit.LoanCheckout, "due 2017-01-24"},
			{audit.LoanEvent, "2017-01-24→2017-01-31"},
			{audit.LoanReturn, "1 items missing"},
		} {
			es := auditEntries(t, db, c.action, subject)
			if len(es) != 1 {
				t.Fatalf("%s: %d entries", c.action, len(es))
			}
			e := es[0]
			if e.Actor != "desk1" || !strings.Contains(e.Detail, d.monitors[1].ID) || !strings.Contains(e.Detail, phone2) ||
				!strings.Contains(e.Detail, sim2) || !strings.Contains(e.Detail, c.extra) {
				t.Fatalf("%s entry: %+v", c.action, e)
			}
			if strings.Contains(e.Detail, "佐藤") || strings.Contains(e.Detail, "090-") {
				t.Fatalf("%s detail names the monitor: %q", c.action, e.Detail)
			}
		}
		// newLendingDesk added six devices one by one.
		if es := auditEntries(t, db, "device.add", phone1); len(es) != 1 || es[0].Detail != "phone" {
			t.Fatalf("device.add entries: %+v", es)
		}
		if _, err := d.l.ImportDevices(ctx, mustCSV(t, "IMEI,キャリア,OS\n490154203237518,docomo,ios\n")); err != nil {
			t.Fatal(err)
		}
		if es := auditEntries(t, db, "device.import", ""); len(es) != 1 || es[0].Detail != "1 phones, 0 SIMs" {
			t.Fatalf("device.import entries: %+v", es)
		}
		verifyAudit(t, db)
	})
}

// TestLargeSealedImport: an import big enough to seal on several
// goroutines stores every row sealed to its own id, and reads back whole.
func TestLargeSealedImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		f.s.PII = sealStore(t, db)
		const n = 1500
		res, err := f.s.Import(ctx, mustCSV(t, string(genCSV(n, "VENUE-1"))), trial.ImportOptions{})
		if err != nil || res.Count != n {
			t.Fatalf("%+v, %v", res, err)
		}
		ms, err := f.s.ListMonitors(ctx, trial.Filter{SessionID: f.v1.ID})
		if err != nil || len(ms) != n {
			t.Fatalf("%d monitors, %v", len(ms), err)
		}
		for i, m := range ms {
			if want := fmt.Sprintf("モニター %05d", i); m.Name != want || m.Sealed || !strings.HasPrefix(m.Contact, fmt.Sprintf("m%05d@", i)) {
				t.Fatalf("row %d read back as %q / %q", i, m.Name, m.Contact)
			}
		}
		for _, r := range rawMonitors(t, db) {
			if !pii.IsSealed(r.Name) || !pii.IsSealed(r.Kana) || !pii.IsSealed(r.Contact) {
				t.Fatalf("%s stored in the clear", r.ID)
			}
		}
	})
}
