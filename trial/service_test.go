package trial_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"jpkipilot/trial"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

var clock = time.Date(2017, 2, 7, 10, 30, 0, 0, time.UTC)

func newService(db *store.DB) *trial.Service {
	s := trial.New(db)
	s.Now = func() time.Time { return clock }
	return s
}

// fixture is a store with a venue trial (sessions VENUE-1, VENUE-2) and a
// field trial (FIELD-APPLY).
type fixture struct {
	s              *trial.Service
	venue, field   trial.Trial
	v1, v2, fApply trial.Session
}

func setup(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{s: newService(db)}
	var err error
	if f.venue, err = f.s.CreateTrial(ctx, trial.Trial{Name: "会場実証", Kind: trial.KindVenue}); err != nil {
		t.Fatal(err)
	}
	if f.field, err = f.s.CreateTrial(ctx, trial.Trial{Name: "チケットレス", Kind: trial.KindField}); err != nil {
		t.Fatal(err)
	}
	mk := func(se trial.Session) trial.Session {
		t.Helper()
		out, err := f.s.CreateSession(ctx, se)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	f.v1 = mk(trial.Session{TrialID: f.venue.ID, Code: "VENUE-1", StartsOn: "2017-02-18", Capacity: 50, Target: 45})
	f.v2 = mk(trial.Session{TrialID: f.venue.ID, Code: "VENUE-2", StartsOn: "2017-02-19", Capacity: 50, Target: 45})
	f.fApply = mk(trial.Session{TrialID: f.field.ID, Code: "FIELD-APPLY", Step: trial.StepApplication, StartsOn: "2017-02-07", Capacity: 30, Target: 24})
	return f
}

func (f *fixture) enrol(t *testing.T, name, kana string, se trial.Session) trial.Monitor {
	t.Helper()
	sid := se.ID
	m, err := f.s.Enrol(context.Background(), trial.Monitor{TrialID: se.TrialID, SessionID: &sid, Name: name, Kana: kana, AgeBand: "30s", Contact: name + "@example.jp"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTrialsCreateListUpdate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(db)
		loan, err := s.CreateTrial(ctx, trial.Trial{Name: "貸出実証", Kind: trial.KindLoan})
		if err != nil {
			t.Fatal(err)
		}
		if loan.ID == 0 || loan.LoanDays != trial.DefaultLoanDays || !loan.CreatedAt.Equal(clock) {
			t.Fatalf("created %+v", loan)
		}
		if _, err := s.CreateTrial(ctx, trial.Trial{Kind: "bank"}); !fieldsOf(t, err).Has("kind") {
			t.Fatalf("bad trial: %v", err)
		}
		loan.LoanDays = 21
		loan.Name = "貸出実証（延長）"
		if _, err := s.UpdateTrial(ctx, loan); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetTrial(ctx, loan.ID)
		if err != nil || got.LoanDays != 21 || got.Name != "貸出実証（延長）" || !got.CreatedAt.Equal(clock) {
			t.Fatalf("after update: %+v, %v", got, err)
		}
		if _, err := s.GetTrial(ctx, 999); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing trial: %v", err)
		}
		// A trial with sessions keeps its kind: its sessions' steps depend on it.
		if _, err := s.CreateSession(ctx, trial.Session{TrialID: loan.ID, Code: "LOAN-1", StartsOn: "2017-01-16", Capacity: 10, Target: 8}); err != nil {
			t.Fatal(err)
		}
		loan.Kind = trial.KindField
		if _, err := s.UpdateTrial(ctx, loan); !fieldsOf(t, err).Has("kind") {
			t.Fatalf("kind change with sessions: %v", err)
		}
		ts, err := s.ListTrials(ctx)
		if err != nil || len(ts) != 1 || ts[0].Kind != trial.KindLoan {
			t.Fatalf("ListTrials = %+v, %v", ts, err)
		}
	})
}

func TestSessionsRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		// Codes are unique across trials.
		_, err := f.s.CreateSession(ctx, trial.Session{TrialID: f.field.ID, Code: "VENUE-1", Step: trial.StepEntry, StartsOn: "2017-03-11"})
		if !fieldsOf(t, err).Has("code") {
			t.Fatalf("duplicate code: %v", err)
		}
		_, err = f.s.CreateSession(ctx, trial.Session{TrialID: f.venue.ID, Code: "ｖｅｎｕｅ－１", StartsOn: "2017-03-11"})
		if !fieldsOf(t, err).Has("code") {
			t.Fatalf("code differing only in case and width: %v", err)
		}
		// A field session needs a step, a venue session must not have one.
		if _, err := f.s.CreateSession(ctx, trial.Session{TrialID: f.field.ID, Code: "F-X", StartsOn: "2017-03-11"}); !fieldsOf(t, err).Has("step") {
			t.Fatalf("field session without step: %v", err)
		}
		if _, err := f.s.CreateSession(ctx, trial.Session{TrialID: f.venue.ID, Code: "V-X", Step: trial.StepEntry, StartsOn: "2017-03-11"}); !fieldsOf(t, err).Has("step") {
			t.Fatalf("venue session with step: %v", err)
		}
		if _, err := f.s.CreateSession(ctx, trial.Session{TrialID: 999, Code: "NO-TRIAL", StartsOn: "2017-03-11"}); !fieldsOf(t, err).Has("trial") {
			t.Fatalf("session of no trial: %v", err)
		}
		ss, err := f.s.ListSessions(ctx, f.venue.ID)
		if err != nil || len(ss) != 2 || ss[0].Code != "VENUE-1" || ss[1].Code != "VENUE-2" {
			t.Fatalf("ListSessions = %+v, %v", ss, err)
		}
		f.v2.Target, f.v2.Venue = 40, "第2会場"
		if _, err := f.s.UpdateSession(ctx, f.v2); err != nil {
			t.Fatal(err)
		}
		f.v2.Code = "VENUE-1"
		if _, err := f.s.UpdateSession(ctx, f.v2); !fieldsOf(t, err).Has("code") {
			t.Fatalf("update to a taken code: %v", err)
		}
		got, _ := f.s.GetSession(ctx, f.v2.ID)
		if got.Target != 40 || got.Venue != "第2会場" || got.Code != "VENUE-2" {
			t.Fatalf("after updates: %+v", got)
		}
		// Only an empty session can be deleted.
		f.enrol(t, "山田 太郎", "ヤマダ タロウ", f.v1)
		if err := f.s.DeleteSession(ctx, f.v1.ID); !errors.Is(err, trial.ErrSessionInUse) {
			t.Fatalf("delete session with monitors: %v", err)
		}
		if err := f.s.DeleteSession(ctx, f.v2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.GetSession(ctx, f.v2.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted session still there: %v", err)
		}
	})
}

func TestEnrolAllocatesIDsThatAreNeverReused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		a := f.enrol(t, "山田 太郎", "やまだ たろう", f.v1)
		b := f.enrol(t, "佐藤 花子", "サトウ ハナコ", f.v1)
		c := f.enrol(t, "鈴木 一郎", "スズキ イチロウ", f.v2)
		if a.ID != "M-0001" || b.ID != "M-0002" || c.ID != "M-0003" {
			t.Fatalf("ids %s %s %s", a.ID, b.ID, c.ID)
		}
		if a.Kana != "ヤマダ タロウ" || a.Status != trial.StatusEnrolled || !a.CreatedAt.Equal(clock) {
			t.Fatalf("enrolled %+v", a)
		}
		if err := f.s.DeleteMonitor(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		// A rejected enrolment takes no id either way, a deleted one is not reused.
		if _, err := f.s.Enrol(ctx, trial.Monitor{TrialID: f.venue.ID, Name: "x", Kana: "Latin"}); !fieldsOf(t, err).Has("kana") {
			t.Fatalf("latin kana: %v", err)
		}
		sid := f.v1.ID
		_, err := f.s.Enrol(ctx, trial.Monitor{TrialID: f.venue.ID, SessionID: &sid, Name: "山田　太郎", Kana: "ﾔﾏﾀﾞ ﾀﾛｳ", Contact: "山田 太郎@example.jp"})
		if fe := fieldsOf(t, err); !fe.Has("name") || !strings.Contains(fe.Error(), "M-0001") {
			t.Fatalf("second enrolment of one person: %v", err)
		}
		d := f.enrol(t, "高橋 誠", "タカハシ マコト", f.v2)
		if d.ID != "M-0004" {
			t.Fatalf("after deleting M-0003 the next id is %s, want M-0004", d.ID)
		}
		got, err := f.s.GetMonitor(ctx, "m-4")
		if err != nil || got.Name != "高橋 誠" || got.SessionID == nil || *got.SessionID != f.v2.ID {
			t.Fatalf("GetMonitor(m-4) = %+v, %v", got, err)
		}
		if _, err := f.s.GetMonitor(ctx, "M-0003"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted monitor: %v", err)
		}
	})
}

func TestEnrolChecksSessionAndTrial(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		other := f.fApply.ID
		_, err := f.s.Enrol(ctx, trial.Monitor{TrialID: f.venue.ID, SessionID: &other, Name: "山田", Kana: "ヤマダ"})
		if !fieldsOf(t, err).Has("session") {
			t.Fatalf("session of another trial: %v", err)
		}
		missing := int64(999)
		_, err = f.s.Enrol(ctx, trial.Monitor{TrialID: f.venue.ID, SessionID: &missing, Name: "山田", Kana: "ヤマダ"})
		if !fieldsOf(t, err).Has("session") {
			t.Fatalf("missing session: %v", err)
		}
		// No session yet is allowed: the coordinator assigns one later.
		m, err := f.s.Enrol(ctx, trial.Monitor{TrialID: f.venue.ID, Name: "山田", Kana: "ヤマダ"})
		if err != nil || m.SessionID != nil {
			t.Fatalf("enrol without session: %+v, %v", m, err)
		}
		sid := f.v1.ID
		m.SessionID = &sid
		m.AgeBand = "60代"
		m, err = f.s.UpdateMonitor(ctx, m)
		if err != nil || *m.SessionID != f.v1.ID || m.AgeBand != "60s" {
			t.Fatalf("update: %+v, %v", m, err)
		}
	})
}

// rawPersonal reads the personal columns straight from the table.
func rawPersonal(t *testing.T, db *store.DB, id string) (name, kana, contact string, withdrawnAt *time.Time) {
	t.Helper()
	var r struct {
		Name    string     `db:"name"`
		Kana    string     `db:"kana"`
		Contact string     `db:"contact"`
		At      *time.Time `db:"withdrawn_at"`
	}
	if err := db.Get(&r, db.Rebind("SELECT name, kana, contact, withdrawn_at FROM monitors WHERE id = ?"), id); err != nil {
		t.Fatal(err)
	}
	return r.Name, r.Kana, r.Contact, r.At
}

func TestWithdrawErasesPersonalDataAndIsFinal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		m := f.enrol(t, "山田 太郎", "ヤマダ タロウ", f.v1)
		if _, err := f.s.RecordConsent(ctx, m.ID, trial.Consent{FormVersion: "v1.0", SignedOn: "2017-02-18", Staff: "受付 青木"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.SetStatus(ctx, m.ID, trial.StatusAttended); err != nil {
			t.Fatal(err)
		}
		later := clock.Add(time.Hour)
		f.s.Now = func() time.Time { return later }
		w, err := f.s.Withdraw(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		name, kana, contact, at := rawPersonal(t, db, m.ID)
		if name != "" || kana != "" || contact != "" {
			t.Fatalf("stored after withdrawal: name %q kana %q contact %q", name, kana, contact)
		}
		if at == nil || !at.Equal(later) {
			t.Fatalf("withdrawn_at = %v, want %v", at, later)
		}
		got, err := f.s.GetMonitor(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != trial.StatusWithdrawn || got.AgeBand != "30s" || got.SessionID == nil || *got.SessionID != f.v1.ID ||
			got.Consent.FormVersion != "v1.0" || w.Name != "" {
			t.Fatalf("after withdrawal: %+v", got)
		}
		// Personal data cannot be put back; the status stays withdrawn.
		got.Name, got.Kana, got.Status = "山田 太郎", "ヤマダ タロウ", ""
		if _, err := f.s.UpdateMonitor(ctx, got); !errors.Is(err, trial.ErrWithdrawn) {
			t.Fatalf("edit back personal data: %v", err)
		}
		if _, err := f.s.SetStatus(ctx, m.ID, trial.StatusEnrolled); !errors.Is(err, trial.ErrWithdrawn) {
			t.Fatalf("un-withdraw: %v", err)
		}
		if _, err := f.s.RecordConsent(ctx, m.ID, trial.Consent{FormVersion: "v2", SignedOn: "2017-03-01"}); !errors.Is(err, trial.ErrWithdrawn) {
			t.Fatalf("consent after withdrawal: %v", err)
		}
		if _, err := f.s.SetStatus(ctx, m.ID, trial.StatusWithdrawn); err == nil {
			t.Fatal("SetStatus(withdrawn) bypassed Withdraw")
		}
		name, _, _, _ = rawPersonal(t, db, m.ID)
		if name != "" {
			t.Fatalf("name came back: %q", name)
		}
		// Non-personal fields can still be corrected.
		sid := f.v2.ID
		got.Name, got.Kana, got.SessionID = "", "", &sid
		if moved, err := f.s.UpdateMonitor(ctx, got); err != nil || *moved.SessionID != f.v2.ID {
			t.Fatalf("move withdrawn monitor: %+v, %v", moved, err)
		}
	})
}

func TestCompanionLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		a := f.enrol(t, "山田 太郎", "ヤマダ タロウ", f.fApply)
		b := f.enrol(t, "山田 花子", "ヤマダ ハナコ", f.fApply)
		v := f.enrol(t, "佐藤 一郎", "サトウ イチロウ", f.v1)
		m, err := f.s.SetCompanion(ctx, b.ID, "m-1")
		if err != nil || m.CompanionOf == nil || *m.CompanionOf != a.ID {
			t.Fatalf("SetCompanion: %+v, %v", m, err)
		}
		for _, bad := range []string{b.ID, v.ID, "M-0999", "nobody"} {
			if _, err := f.s.SetCompanion(ctx, b.ID, bad); !fieldsOf(t, err).Has("companion_of") {
				t.Errorf("companion %s: %v", bad, err)
			}
		}
		if got, _ := f.s.GetMonitor(ctx, b.ID); got.CompanionOf == nil || *got.CompanionOf != a.ID {
			t.Fatalf("a rejected link changed the stored one: %+v", got.CompanionOf)
		}
		if err := f.s.DeleteMonitor(ctx, a.ID); !errors.Is(err, trial.ErrMonitorInUse) {
			t.Fatalf("delete a monitor someone came with: %v", err)
		}
		if m, err := f.s.SetCompanion(ctx, b.ID, ""); err != nil || m.CompanionOf != nil {
			t.Fatalf("unlink: %+v, %v", m, err)
		}
	})
}

func TestListMonitorsFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		f.enrol(t, "山田 太郎", "ヤマダ タロウ", f.v1)
		f.enrol(t, "山本 花子", "ヤマモト ハナコ", f.v2)
		c := f.enrol(t, "佐藤 一郎", "サトウ イチロウ", f.fApply)
		f.enrol(t, "山口 誠", "ヤマグチ マコト", f.v1)
		if _, err := f.s.Withdraw(ctx, "M-0004"); err != nil {
			t.Fatal(err)
		}
		ids := func(flt trial.Filter) []string {
			t.Helper()
			ms, err := f.s.ListMonitors(ctx, flt)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, m := range ms {
				out = append(out, m.ID)
			}
			return out
		}
		check := func(flt trial.Filter, want ...string) {
			t.Helper()
			got := ids(flt)
			if len(got) != len(want) {
				t.Fatalf("%+v: %v, want %v", flt, got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%+v: %v, want %v", flt, got, want)
				}
			}
		}
		check(trial.Filter{}, "M-0001", "M-0002", "M-0003", "M-0004")
		check(trial.Filter{TrialID: f.venue.ID}, "M-0001", "M-0002", "M-0004")
		check(trial.Filter{SessionID: f.v1.ID}, "M-0001", "M-0004")
		check(trial.Filter{Status: trial.StatusWithdrawn}, "M-0004")
		check(trial.Filter{Query: "やま"}, "M-0001", "M-0002") // M-0004's kana was erased
		check(trial.Filter{Query: "ﾔﾏﾓﾄ"}, "M-0002")
		check(trial.Filter{Query: "山田太郎"}, "M-0001")
		check(trial.Filter{Query: "m-0003"}, c.ID)
		check(trial.Filter{TrialID: f.venue.ID, Query: "サトウ"})
	})
}

func TestDashboardCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		a := f.enrol(t, "山田 太郎", "ヤマダ タロウ", f.v1)
		f.enrol(t, "山本 花子", "ヤマモト ハナコ", f.v1)
		c := f.enrol(t, "山口 誠", "ヤマグチ マコト", f.v1)
		d := f.enrol(t, "佐藤 一郎", "サトウ イチロウ", f.v2)
		f.enrol(t, "鈴木 次郎", "スズキ ジロウ", f.fApply) // another trial
		if _, err := f.s.Enrol(ctx, trial.Monitor{TrialID: f.venue.ID, Name: "林 彩", Kana: "ハヤシ アヤ"}); err != nil {
			t.Fatal(err)
		}
		consent := trial.Consent{FormVersion: "v1.0", SignedOn: "2017-02-18"}
		for _, id := range []string{a.ID, d.ID} {
			if _, err := f.s.RecordConsent(ctx, id, consent); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.s.SetStatus(ctx, a.ID, trial.StatusCompleted); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Withdraw(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		dash, err := f.s.Dashboard(ctx, f.venue.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(dash.Sessions) != 2 {
			t.Fatalf("%d sessions", len(dash.Sessions))
		}
		s1, s2 := dash.Sessions[0], dash.Sessions[1]
		if s1.Session.Code != "VENUE-1" || s1.Enrolled != 2 || s1.Withdrawn != 1 || s1.ConsentMissing != 1 || s1.Completed != 1 || s1.Target() != 45 {
			t.Errorf("VENUE-1: %+v", s1)
		}
		if s2.Enrolled != 1 || s2.ConsentMissing != 0 || s2.Withdrawn != 0 {
			t.Errorf("VENUE-2: %+v", s2)
		}
		if dash.Unassigned.Enrolled != 1 || dash.Unassigned.ConsentMissing != 1 {
			t.Errorf("unassigned: %+v", dash.Unassigned)
		}
		tot := dash.Total
		if tot.Enrolled != 4 || tot.Withdrawn != 1 || tot.ConsentMissing != 2 || tot.Target() != 90 || tot.Capacity() != 100 {
			t.Errorf("total: %+v", tot)
		}
	})
}

func TestSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(db)
		if v, err := s.GetSetting(ctx, trial.SettingLanguage); err != nil || v != "" {
			t.Fatalf("unset setting = %q, %v", v, err)
		}
		for _, v := range []string{"en", "ja"} {
			if err := s.SetSetting(ctx, trial.SettingLanguage, v); err != nil {
				t.Fatal(err)
			}
			if got, err := s.GetSetting(ctx, trial.SettingLanguage); err != nil || got != v {
				t.Fatalf("setting = %q, %v; want %q", got, err, v)
			}
		}
		if err := s.SetSetting(ctx, trial.SettingDefaultReader, "Virtual PCD 00 00"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetSetting(ctx, trial.SettingDefaultReader); got != "Virtual PCD 00 00" {
			t.Fatalf("reader = %q", got)
		}
	})
}

func TestSeedDemo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(db)
		sum, err := s.SeedDemo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Trials != 3 || sum.Sessions != 7 || sum.Monitors != 15+85+24+11+22 {
			t.Fatalf("summary %+v", sum)
		}
		if _, err := s.SeedDemo(ctx); !errors.Is(err, trial.ErrNotEmpty) {
			t.Fatalf("second seed: %v", err)
		}
		ts, err := s.ListTrials(ctx)
		if err != nil {
			t.Fatal(err)
		}
		perKind := map[trial.Kind]int{}
		for _, tr := range ts {
			all, err := s.ListMonitors(ctx, trial.Filter{TrialID: tr.ID})
			if err != nil {
				t.Fatal(err)
			}
			perKind[tr.Kind] = len(all)
			withdrawn, consented := 0, 0
			for _, m := range all {
				if m.Status == trial.StatusWithdrawn {
					withdrawn++
					if m.Name != "" || m.Kana != "" || m.Contact != "" {
						t.Errorf("withdrawn demo monitor %s keeps personal data", m.ID)
					}
					continue
				}
				if m.Consent.Given() {
					consented++
				}
				if _, err := trial.NormalizeKana(m.Kana); err != nil || m.Name == "" {
					t.Errorf("demo monitor %s: name %q kana %q", m.ID, m.Name, m.Kana)
				}
			}
			if consented*10 < (len(all)-withdrawn)*8 {
				t.Errorf("%s: only %d of %d have consent", tr.Name, consented, len(all)-withdrawn)
			}
			if tr.Kind != trial.KindLoan && withdrawn == 0 {
				t.Errorf("%s: no withdrawals", tr.Name)
			}
		}
		if perKind[trial.KindLoan] != 15 || perKind[trial.KindVenue] != 85 || perKind[trial.KindField] != 57 {
			t.Fatalf("monitors per kind %v", perKind)
		}
		for _, step := range []struct {
			code string
			n    int
		}{{"FIELD-APPLY", 24}, {"FIELD-BUY", 11}, {"FIELD-ENTRY", 22}} {
			ss, _ := s.AllSessions(ctx)
			for _, se := range ss {
				if se.Code != step.code {
					continue
				}
				ms, _ := s.ListMonitors(ctx, trial.Filter{SessionID: se.ID})
				companions := 0
				for _, m := range ms {
					if m.CompanionOf != nil {
						companions++
						c, err := s.GetMonitor(ctx, *m.CompanionOf)
						if err != nil || c.SessionID == nil || *c.SessionID != se.ID {
							t.Errorf("%s came with %s of another session (%v)", m.ID, *m.CompanionOf, err)
						}
					}
				}
				if len(ms) != step.n || (step.code == "FIELD-APPLY") != (companions > 0) {
					t.Errorf("%s: %d monitors, %d companions", step.code, len(ms), companions)
				}
			}
		}
	})
}

// Two laptops on one PostgreSQL database: an edit that started before a
// withdrawal committed must not write the erased name back.
func TestEditRacingWithdrawalOnPostgres(t *testing.T) {
	dsn := storetest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	f := setup(t, a)
	m := f.enrol(t, "山田 太郎", "ヤマダ タロウ", f.v1)

	// Laptop B is in the middle of withdrawing the monitor.
	tx, err := b.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE monitors SET name = '', kana = '', contact = '', status = 'withdrawn',
		withdrawn_at = now() WHERE id = $1`, m.ID); err != nil {
		t.Fatal(err)
	}
	// Laptop A edits the contact meanwhile.
	done := make(chan error, 1)
	go func() {
		edit := m
		edit.Contact = "new@example.jp"
		_, err := f.s.UpdateMonitor(ctx, edit)
		done <- err
	}()
	// Wait until A's transaction waits for B's row lock.
	for {
		var waiting int
		if err := b.GetContext(ctx, &waiting, `SELECT COUNT(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the edit finished while the withdrawal held the row: %v", err)
		default:
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, trial.ErrWithdrawn) {
		t.Fatalf("edit after a concurrent withdrawal: %v, want ErrWithdrawn", err)
	}
	name, kana, contact, _ := rawPersonal(t, a, m.ID)
	if name != "" || kana != "" || contact != "" {
		t.Fatalf("personal data written back: %q %q %q", name, kana, contact)
	}
}
