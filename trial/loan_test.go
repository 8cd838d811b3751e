package trial_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"jpkipilot/trial"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// loanClock is 2017-01-10 10:00 in Japan.
var loanClock = time.Date(2017, 1, 10, 1, 0, 0, 0, time.UTC)

const (
	phone1 = "352099001761481"
	phone2 = "356938035643809"
	phone3 = "013263006427826"
	sim1   = "8981101000000000019"
	sim2   = "8981101000000000027"
	sim3   = "8981300000000000091"
)

// desk is a store with a loan trial (14 days), three monitors, three
// phones and three SIMs.
type desk struct {
	l        *trial.Loans
	s        *trial.Service
	now      time.Time
	monitors []trial.Monitor
}

func newLendingDesk(t *testing.T, db *store.DB) *desk {
	t.Helper()
	ctx := context.Background()
	d := &desk{s: trial.New(db), l: trial.NewLoans(db), now: loanClock}
	d.s.Now = func() time.Time { return d.now }
	d.l.Now = func() time.Time { return d.now }
	tr, err := d.s.CreateTrial(ctx, trial.Trial{Name: "貸出実証", Kind: trial.KindLoan})
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range []string{"山田 太郎", "佐藤 花子", "鈴木 一郎"} {
		m, err := d.s.Enrol(ctx, trial.Monitor{TrialID: tr.ID, Name: n, Kana: []string{"ヤマダ タロウ", "サトウ ハナコ", "スズキ イチロウ"}[i], Contact: "090-0000-000" + string(rune('1'+i))})
		if err != nil {
			t.Fatal(err)
		}
		d.monitors = append(d.monitors, m)
	}
	for _, p := range []string{phone1, phone2, phone3} {
		if _, err := d.l.AddDevice(ctx, trial.Device{Kind: trial.KindPhone, Serial: p, Carrier: trial.CarrierDocomo, OS: trial.OSAndroid, Model: "Xperia"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{sim1, sim2, sim3} {
		if _, err := d.l.AddDevice(ctx, trial.Device{Kind: trial.KindSIM, Serial: s, Carrier: trial.CarrierDocomo, AppletState: trial.AppletBlank}, nil); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func (d *desk) checkout(t *testing.T, m int, phone, sim, due string) trial.Loan {
	t.Helper()
	ln, err := d.l.Checkout(context.Background(), trial.Checkout{MonitorID: d.monitors[m].ID, Phone: phone, SIM: sim, Charger: true, Staff: "田中", DueOn: due})
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func countLoans(t *testing.T, l *trial.Loans) int {
	t.Helper()
	ls, err := l.ListLoans(context.Background(), trial.LoanFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(ls)
}

func TestCheckoutRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := newLendingDesk(t, db)
		ln, err := d.l.Checkout(ctx, trial.Checkout{MonitorID: "m-1", Phone: "35-209900-176148-1", SIM: sim1, Charger: true,
			Accessories: []string{"ケース、保護フィルム"}, Staff: " 田中  一郎 "})
		if err != nil {
			t.Fatal(err)
		}
		// 2017-01-10 + 14 days: the trial's loan period.
		if ln.DueOn != "2017-01-24" || ln.MonitorID != "M-0001" || ln.Phone != phone1 || ln.OutStaff != "田中 一郎" ||
			strings.Join(ln.Accessories, "|") != "ケース|保護フィルム" {
			t.Fatalf("loan = %+v", ln)
		}
		got, err := d.l.GetLoan(ctx, ln.ID)
		if err != nil || got.DueOn != "2017-01-24" || !got.Charger || got.SIM != sim1 || got.MonitorName != "山田 太郎" {
			t.Fatalf("stored loan = %+v, %v", got, err)
		}
		p, _ := d.l.GetDevice(ctx, phone1)
		if p.Loan == nil || p.Loan.ID != ln.ID || p.Loan.MonitorID != "M-0001" {
			t.Fatalf("phone shows loan %+v", p.Loan)
		}
		if free, _ := d.l.ListDevices(ctx, trial.DeviceFilter{Free: true}); len(free) != 4 {
			t.Fatalf("%d free devices, want 4", len(free))
		}

		for _, tc := range []struct {
			name string
			c    trial.Checkout
			want error
		}{
			{"phone lent twice", trial.Checkout{MonitorID: d.monitors[1].ID, Phone: phone1, SIM: sim2, Staff: "田中"}, trial.ErrOnLoan},
			{"SIM lent twice", trial.Checkout{MonitorID: d.monitors[1].ID, Phone: phone2, SIM: sim1, Staff: "田中"}, trial.ErrOnLoan},
			{"second loan to a monitor", trial.Checkout{MonitorID: d.monitors[0].ID, Phone: phone2, SIM: sim2, Staff: "田中"}, trial.ErrMonitorHasLoan},
			{"SIM as the phone", trial.Checkout{MonitorID: d.monitors[1].ID, Phone: phone2, SIM: phone3, Staff: "田中"}, nil},
			{"ICCID given as IMEI", trial.Checkout{MonitorID: d.monitors[1].ID, Phone: sim2, SIM: sim3, Staff: "田中"}, nil},
		} {
			_, err := d.l.Checkout(ctx, tc.c)
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			}
		}
		// Field errors name the field.
		_, err = d.l.Checkout(ctx, trial.Checkout{MonitorID: "x", Phone: "1", SIM: sim2, DueOn: "2017-01-09"})
		var fe trial.FieldErrors
		if !errors.As(err, &fe) || !fe.Has("monitor") || !fe.Has("phone") || !fe.Has("staff") || !fe.Has("due") {
			t.Fatalf("bad checkout: %v", err)
		}
		_, err = d.l.Checkout(ctx, trial.Checkout{MonitorID: "M-0099", Phone: phone2, SIM: sim2, Staff: "田中"})
		if !errors.As(err, &fe) || !fe.Has("monitor") {
			t.Fatalf("unknown monitor: %v", err)
		}
		_, err = d.l.Checkout(ctx, trial.Checkout{MonitorID: d.monitors[1].ID, Phone: "353281150000007", SIM: sim2, Staff: "田中"})
		if !errors.As(err, &fe) || !fe.Has("phone") || !strings.Contains(err.Error(), "not in the inventory") {
			t.Fatalf("unknown phone: %v", err)
		}

		// A withdrawn monitor cannot borrow.
		if _, err := d.s.Withdraw(ctx, d.monitors[2].ID); err != nil {
			t.Fatal(err)
		}
		_, err = d.l.Checkout(ctx, trial.Checkout{MonitorID: d.monitors[2].ID, Phone: phone3, SIM: sim3, Staff: "田中"})
		if !errors.Is(err, trial.ErrMonitorWithdrawn) {
			t.Fatalf("withdrawn monitor: %v", err)
		}
		// An explicit due date is kept.
		ln2 := d.checkout(t, 1, phone2, sim2, "2017/2/1")
		if ln2.DueOn != "2017-02-01" {
			t.Fatalf("due = %s", ln2.DueOn)
		}
		if n := countLoans(t, d.l); n != 2 {
			t.Fatalf("%d loans after the refused ones, want 2", n)
		}
		if h, _ := d.l.History(ctx, ln.ID); len(h) != 1 || h[0].Kind != "checkout" || h[0].Staff != "田中 一郎" || h[0].DueAfter != "2017-01-24" {
			t.Fatalf("history %+v", h)
		}
	})
}

// Two laptops lend the same phone at the same instant to two monitors:
// exactly one loan is made. Each laptop has its own connection pool.
func TestConcurrentCheckoutOneWins(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		dsn := storetest.NewDatabase(t)
		testRace(t, dsn)
	})
	t.Run("sqlite", func(t *testing.T) {
		testRace(t, t.TempDir()+"/race.db")
	})
}

func testRace(t *testing.T, dsn string) {
	ctx := context.Background()
	open := func() *store.DB {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := open(), open()
	d := newLendingDesk(t, a)
	deskB := trial.NewLoans(b)
	deskB.Now = d.l.Now
	for round := 0; round < 8; round++ {
		start := make(chan struct{})
		errs := make([]error, 2)
		loans := make([]trial.Loan, 2)
		var wg sync.WaitGroup
		for i, l := range []*trial.Loans{d.l, deskB} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				sim := []string{sim1, sim2}[i]
				loans[i], errs[i] = l.Checkout(ctx, trial.Checkout{MonitorID: d.monitors[i].ID, Phone: phone1, SIM: sim, Staff: "staff"})
			}()
		}
		close(start)
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if won >= 0 {
					t.Fatalf("round %d: both laptops lent phone %s", round, phone1)
				}
				won = i
			case errors.Is(err, trial.ErrOnLoan):
			case errors.Is(err, store.ErrBusy) && a.Dialect == store.SQLite:
			default:
				t.Fatalf("round %d: laptop %d: %v", round, i, err)
			}
		}
		if won < 0 {
			// Both may only fail if SQLite stayed busy; never on PostgreSQL.
			if a.Dialect == store.Postgres {
				t.Fatalf("round %d: neither laptop lent the phone: %v", round, errs)
			}
			continue
		}
		open, err := d.l.ListLoans(ctx, trial.LoanFilter{Open: true})
		if err != nil || len(open) != 1 || open[0].ID != loans[won].ID {
			t.Fatalf("round %d: open loans %+v, %v", round, open, err)
		}
		if _, err := d.l.Checkin(ctx, loans[won].ID, trial.Return{Staff: "staff"}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestExtend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := newLendingDesk(t, db)
		ln := d.checkout(t, 0, phone1, sim1, "")
		d.now = d.now.Add(5 * 24 * time.Hour)
		got, err := d.l.Extend(ctx, ln.ID, "2017-01-31", "佐藤")
		if err != nil {
			t.Fatal(err)
		}
		if got.DueOn != "2017-01-31" || !got.OutAt.Equal(ln.OutAt) || got.OutStaff != "田中" || got.ID != ln.ID {
			t.Fatalf("extended loan %+v (was %+v)", got, ln)
		}
		h, err := d.l.History(ctx, ln.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != 2 || h[1].Kind != "extend" || h[1].DueBefore != "2017-01-24" || h[1].DueAfter != "2017-01-31" || h[1].Staff != "佐藤" ||
			!h[1].At.Equal(d.now) {
			t.Fatalf("history after extend %+v", h)
		}
		for _, due := range []string{"2017-01-31", "2017-01-20", "someday"} {
			if _, err := d.l.Extend(ctx, ln.ID, due, "佐藤"); err == nil {
				t.Errorf("extend to %s accepted", due)
			}
		}
		if _, err := d.l.Checkin(ctx, ln.ID, trial.Return{Staff: "佐藤"}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.l.Extend(ctx, ln.ID, "2017-02-07", "佐藤"); !errors.Is(err, trial.ErrLoanClosed) {
			t.Fatalf("extend a returned loan: %v", err)
		}
		if _, err := d.l.Extend(ctx, 999, "2017-02-07", "佐藤"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("extend an unknown loan: %v", err)
		}
		if h, _ := d.l.History(ctx, ln.ID); len(h) != 3 {
			t.Fatalf("refused extensions were recorded: %+v", h)
		}
	})
}

func TestOverdueFirstWithDays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := newLendingDesk(t, db)
		a := d.checkout(t, 0, phone1, sim1, "2017-01-20")
		b := d.checkout(t, 1, phone2, sim2, "2017-01-15")
		c := d.checkout(t, 2, phone3, sim3, "2017-01-30")
		d.now = time.Date(2017, 1, 21, 3, 0, 0, 0, time.UTC) // 12:00 on the 21st in Japan
		ls, err := d.l.ListLoans(ctx, trial.LoanFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ls) != 3 || ls[0].ID != b.ID || ls[1].ID != a.ID || ls[2].ID != c.ID {
			t.Fatalf("order %v", loanIDs(ls))
		}
		if ls[0].DaysOverdue != 6 || ls[1].DaysOverdue != 1 || ls[2].DaysOverdue != 0 {
			t.Fatalf("days overdue %d %d %d, want 6 1 0", ls[0].DaysOverdue, ls[1].DaysOverdue, ls[2].DaysOverdue)
		}
		over, _ := d.l.ListLoans(ctx, trial.LoanFilter{Overdue: true})
		if len(over) != 2 || over[0].ID != b.ID {
			t.Fatalf("overdue %v", loanIDs(over))
		}
		// The desk's day is Japan's: 2017-01-21 16:00 UTC is already the
		// 22nd there.
		d.now = time.Date(2017, 1, 21, 16, 0, 0, 0, time.UTC)
		ls, _ = d.l.ListLoans(ctx, trial.LoanFilter{})
		if ls[0].DaysOverdue != 7 || ls[1].DaysOverdue != 2 {
			t.Fatalf("days overdue after midnight in Japan: %d %d", ls[0].DaysOverdue, ls[1].DaysOverdue)
		}
		// Reminders: overdue, and due within 8 days (by the 30th).
		week := 8
		rem, _ := d.l.ListLoans(ctx, trial.LoanFilter{DueWithin: &week})
		if len(rem) != 3 {
			t.Fatalf("reminders within 8 days: %v", loanIDs(rem))
		}
		week = 7
		if rem, _ = d.l.ListLoans(ctx, trial.LoanFilter{DueWithin: &week}); len(rem) != 2 {
			t.Fatalf("reminders within 7 days: %v", loanIDs(rem))
		}
		// Returned loans go last and count no days.
		if _, err := d.l.Checkin(ctx, b.ID, trial.Return{Staff: "田中"}); err != nil {
			t.Fatal(err)
		}
		ls, _ = d.l.ListLoans(ctx, trial.LoanFilter{})
		if ls[0].ID != a.ID || ls[2].ID != b.ID || ls[2].DaysOverdue != 0 {
			t.Fatalf("after check-in: %v", loanIDs(ls))
		}

		var buf bytes.Buffer
		if err := trial.WriteLoansCSV(&buf, rem, nil); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\xef\xbb\xbf")))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 3 || strings.Join(recs[0], ",") != strings.Join(trial.LoanCSVColumns, ",") {
			t.Fatalf("reminder CSV %q", recs)
		}
		r := recs[1]
		if r[0] != trial.FormatLoanID(b.ID) || r[1] != "M-0002" || r[2] != "佐藤 花子" || r[3] != "'090-0000-0002" && r[3] != "090-0000-0002" || r[4] != phone2 || r[10] != "2017-01-15" || r[11] != "7" {
			t.Fatalf("reminder row %q", r)
		}
	})
}

func loanIDs(ls []trial.Loan) []string {
	var out []string
	for _, l := range ls {
		out = append(out, trial.FormatLoanID(l.ID)+" due "+l.DueOn)
	}
	return out
}

func TestCheckinAndHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := newLendingDesk(t, db)
		first := d.checkout(t, 0, phone1, sim1, "")
		d.now = d.now.Add(13 * 24 * time.Hour)
		back, err := d.l.Checkin(ctx, first.ID, trial.Return{Staff: "鈴木", Notes: "画面に小さな傷", Missing: []string{"充電器, ケース"}})
		if err != nil {
			t.Fatal(err)
		}
		if back.Open() || !back.InAt.Equal(d.now) || back.InStaff != "鈴木" || back.Notes != "画面に小さな傷" ||
			strings.Join(back.Missing, "|") != "充電器|ケース" {
			t.Fatalf("returned loan %+v", back)
		}
		if _, err := d.l.Checkin(ctx, first.ID, trial.Return{Staff: "鈴木"}); !errors.Is(err, trial.ErrLoanClosed) {
			t.Fatalf("second check-in: %v", err)
		}
		if _, err := d.l.Checkin(ctx, 999, trial.Return{Staff: "鈴木"}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("check-in of an unknown loan: %v", err)
		}
		if _, err := d.l.Checkin(ctx, first.ID, trial.Return{}); err == nil {
			t.Fatal("check-in without staff accepted")
		}
		// The phone is free again: lent to the next monitor with another SIM.
		d.now = d.now.Add(24 * time.Hour)
		second := d.checkout(t, 1, phone1, sim2, "")
		// And the first monitor may borrow again.
		third := d.checkout(t, 0, phone2, sim1, "")

		ph, err := d.l.ListLoans(ctx, trial.LoanFilter{Device: phone1})
		if err != nil {
			t.Fatal(err)
		}
		if len(ph) != 2 || ph[0].ID != second.ID || ph[1].ID != first.ID {
			t.Fatalf("phone history %v", loanIDs(ph))
		}
		mh, _ := d.l.ListLoans(ctx, trial.LoanFilter{MonitorID: "m-1"})
		if len(mh) != 2 || mh[0].ID != third.ID || mh[1].ID != first.ID || mh[1].Notes != "画面に小さな傷" {
			t.Fatalf("monitor history %v", loanIDs(mh))
		}
		sh, _ := d.l.ListLoans(ctx, trial.LoanFilter{Device: sim1})
		if len(sh) != 2 {
			t.Fatalf("SIM history %v", loanIDs(sh))
		}
		h, _ := d.l.History(ctx, first.ID)
		if len(h) != 2 || h[1].Kind != "checkin" || h[1].Staff != "鈴木" || !strings.Contains(h[1].Detail, "missing: 充電器, ケース") {
			t.Fatalf("events %+v", h)
		}
	})
}

func TestParseLoanID(t *testing.T) {
	for in, want := range map[string]int64{"L-0012": 12, "l-12": 12, "Ｌ－１２": 12, "7": 7} {
		if n, ok := trial.ParseLoanID(in); !ok || n != want {
			t.Errorf("ParseLoanID(%q) = %d, %v", in, n, ok)
		}
	}
	for _, in := range []string{"", "L-", "L-0", "M-0001", "L-1a"} {
		if _, ok := trial.ParseLoanID(in); ok {
			t.Errorf("ParseLoanID(%q) accepted", in)
		}
	}
	if trial.FormatLoanID(3) != "L-0003" {
		t.Error(trial.FormatLoanID(3))
	}
}
