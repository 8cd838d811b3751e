package bank_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"jpkipilot/trial/bank"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

func TestScheduledUpdateAppliesOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		if _, err := e.bank.EnrolTOTP(ctx, e.monitors[0]); err != nil { // opens the account
			t.Fatal(err)
		}
		if _, err := e.bank.ScheduleUpdate(ctx, e.trialID, "2026-13-01"); err == nil {
			t.Fatal("a bad date was accepted")
		}
		if _, err := e.bank.ScheduleUpdate(ctx, 999999, "2026-12-01"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown trial: %v", err)
		}
		tomorrow := e.clock.In(time.Local).AddDate(0, 0, 1).Format(time.DateOnly)
		u, err := e.bank.ScheduleUpdate(ctx, e.trialID, tomorrow)
		if err != nil || u.DueOn != tomorrow || u.AppliedAt.Valid {
			t.Fatalf("%+v, %v", u, err)
		}
		bal0, txs0, _ := e.bank.Statement(ctx, e.monitors[0])
		if got, err := e.bank.ApplyDue(ctx, "laptop A"); err != nil || len(got) != 0 {
			t.Fatalf("applied %+v before it was due: %v", got, err)
		}
		e.clock = e.clock.Add(24 * time.Hour)
		got, err := e.bank.ApplyDue(ctx, "laptop A")
		if err != nil || len(got) != 1 || got[0].Accounts != 1 || got[0].AppliedBy != "laptop A" || !got[0].AppliedAt.Valid {
			t.Fatalf("applied %+v: %v", got, err)
		}
		bal1, txs1, _ := e.bank.Statement(ctx, e.monitors[0])
		if len(txs1) <= len(txs0) || bal1 == bal0 || !txs1[len(txs1)-1].Updated {
			t.Fatalf("statement before %d lines (%d yen), after %d (%d yen)", len(txs0), bal0, len(txs1), bal1)
		}
		if again, err := e.bank.ApplyDue(ctx, "laptop A"); err != nil || len(again) != 0 {
			t.Fatalf("applied again: %+v, %v", again, err)
		}
		if _, err := e.bank.ScheduleUpdate(ctx, e.trialID, tomorrow); !errors.Is(err, bank.ErrUpdateApplied) {
			t.Fatalf("rescheduling an applied update: %v", err)
		}
	})
}

// Two laptops share one PostgreSQL database and both apply the due update
// at the same moment: exactly one does.
func TestScheduledUpdateOnceAcrossTwoLaptops(t *testing.T) {
	dsn := storetest.NewDatabase(t)
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
	e := newEnv(t, a)
	for _, m := range e.monitors {
		if _, err := e.bank.EnrolTOTP(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	today := e.clock.In(time.Local).Format(time.DateOnly)
	if _, err := e.bank.ScheduleUpdate(ctx, e.trialID, today); err != nil {
		t.Fatal(err)
	}
	banks := []*bank.Bank{e.bank, bank.New(b)}
	banks[1].Now = e.bank.Now
	type result struct {
		n   int
		err error
	}
	for round := 0; round < 3; round++ {
		start := make(chan struct{})
		res := make(chan result, 2)
		for i, bk := range banks {
			go func() {
				<-start
				got, err := bk.ApplyDue(ctx, []string{"laptop A", "laptop B"}[i])
				res <- result{len(got), err}
			}()
		}
		close(start)
		total := 0
		for range 2 {
			r := <-res
			if r.err != nil {
				t.Fatal(r.err)
			}
			total += r.n
		}
		if want := map[bool]int{true: 1, false: 0}[round == 0]; total != want {
			t.Fatalf("round %d: %d applications, want %d", round, total, want)
		}
	}
	for _, m := range e.monitors {
		_, txs, err := banks[1].Statement(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, tx := range txs {
			if tx.Updated {
				n++
			}
		}
		if n != 2 {
			t.Fatalf("%s has %d updated lines, want the update's 2 once", m, n)
		}
	}
}
