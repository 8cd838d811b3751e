package audit_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

func record(t *testing.T, db *store.DB, n int) {
	t.Helper()
	ctx := audit.WithActor(context.Background(), "alice")
	for i := 1; i <= n; i++ {
		if err := audit.RecordNow(ctx, db, audit.MonitorEdit, fmt.Sprintf("M-%04d", i), "status"); err != nil {
			t.Fatal(err)
		}
	}
}

func verify(t *testing.T, db *store.DB) audit.Report {
	t.Helper()
	r, err := audit.Verify(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func kinds(r audit.Report) string {
	var k []string
	for _, p := range r.Problems {
		k = append(k, fmt.Sprintf("%d:%s", p.Seq, p.Kind))
	}
	return strings.Join(k, ",")
}

func TestChainIntact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if r := verify(t, db); !r.OK() || r.Entries != 0 {
			t.Fatalf("empty log: %+v", r)
		}
		record(t, db, 5)
		r := verify(t, db)
		if !r.OK() || r.Entries != 5 || r.HeadSeq != 5 {
			t.Fatalf("intact log reported %+v", r)
		}
		es, err := audit.List(context.Background(), db, audit.Filter{Subject: "M-0003"})
		if err != nil || len(es) != 1 || es[0].Actor != "alice" || es[0].Action != audit.MonitorEdit || es[0].Seq != 3 {
			t.Fatalf("List = %+v, %v", es, err)
		}
	})
}

// Each kind of tampering is found and named at the entry where it shows.
func TestTamperingDetected(t *testing.T) {
	cases := []struct {
		name string
		sql  []string
		want string
	}{
		{"edited detail", []string{"UPDATE audit_log SET detail = 'nothing' WHERE seq = 3"}, "3:edited"},
		{"edited actor", []string{"UPDATE audit_log SET actor = 'bob' WHERE seq = 2"}, "2:edited"},
		{"edited time", []string{"UPDATE audit_log SET at = (SELECT at FROM audit_log WHERE seq = 1) WHERE seq = 4"}, "4:edited"},
		{"deleted entry", []string{"DELETE FROM audit_log WHERE seq = 3"}, "4:missing"},
		{"deleted and renumbered", []string{"DELETE FROM audit_log WHERE seq = 3", "UPDATE audit_log SET seq = seq - 1 WHERE seq > 3"}, "3:chain,3:edited,4:edited,4:head"},
		{"reordered", []string{
			"UPDATE audit_log SET seq = 100 WHERE seq = 2",
			"UPDATE audit_log SET seq = 2 WHERE seq = 3",
			"UPDATE audit_log SET seq = 3 WHERE seq = 100"}, "2:chain,2:edited,3:chain,3:edited,4:chain"},
		{"tail cut", []string{"DELETE FROM audit_log WHERE seq = 5"}, "4:head"},
		{"tail cut and head rewound", []string{"DELETE FROM audit_log WHERE seq = 5", "UPDATE audit_head SET seq = 4"}, "4:head"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				record(t, db, 5)
				for _, q := range c.sql {
					if _, err := db.Exec(q); err != nil {
						t.Fatal(err)
					}
				}
				r := verify(t, db)
				if got := kinds(r); got != c.want {
					t.Fatalf("problems %q, want %q (%v)", got, c.want, r.Problems)
				}
			})
		})
	}
}

// A failed action leaves no entry: Record is part of the action's transaction.
func TestRecordRollsBackWithAction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		record(t, db, 1)
		err := db.Tx(ctx, func(tx *sqlx.Tx) error {
			if err := audit.Record(ctx, tx, audit.MonitorWithdraw, "M-0009", ""); err != nil {
				return err
			}
			return fmt.Errorf("the action failed")
		})
		if err == nil {
			t.Fatal("want the action's error")
		}
		record(t, db, 1)
		if r := verify(t, db); !r.OK() || r.Entries != 2 {
			t.Fatalf("after a rolled-back entry: %+v", r)
		}
	})
}

// Two laptops appending at once on one PostgreSQL keep one unbroken chain.
func TestConcurrentAppendPostgres(t *testing.T) {
	ctx := context.Background()
	dbs := storetest.Laptops(t, 2)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for i, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := audit.WithActor(ctx, fmt.Sprintf("laptop%d", i))
			for j := 0; j < 50; j++ {
				if err := audit.RecordNow(c, db, audit.LoanEvent, fmt.Sprintf("L-%d-%d", i, j), ""); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if r := verify(t, dbs[0]); !r.OK() || r.Entries != 100 {
		t.Fatalf("after concurrent appends: %+v", r)
	}
}
