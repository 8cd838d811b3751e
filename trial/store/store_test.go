package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

func TestMigrateIsIdempotentAndVersioned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		all, err := store.Migrations()
		if err != nil {
			t.Fatal(err)
		}
		v, err := db.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := all[len(all)-1].Version; v != want {
			t.Fatalf("version after Open = %d, want %d", v, want)
		}
		pending, err := db.Pending(ctx)
		if err != nil || len(pending) != 0 {
			t.Fatalf("pending after Open = %v, %v", pending, err)
		}
		if err := db.Migrate(ctx, func(int, int) { t.Fatal("progress reported with nothing to do") }); err != nil {
			t.Fatal(err)
		}
	})
}

func TestTxRollsBackWholeOnError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := db.Tx(ctx, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO settings (key, value) VALUES (?, ?)"), "a", "1"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx error = %v, want boom", err)
		}
		var n int
		if err := db.GetContext(ctx, &n, "SELECT COUNT(*) FROM settings"); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%d rows survived a rolled-back transaction", n)
		}
	})
}

func TestSQLitePragmas(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	var mode string
	var fk, sync int
	if err := db.GetContext(ctx, &mode, "PRAGMA journal_mode"); err != nil {
		t.Fatal(err)
	}
	if err := db.GetContext(ctx, &fk, "PRAGMA foreign_keys"); err != nil {
		t.Fatal(err)
	}
	if err := db.GetContext(ctx, &sync, "PRAGMA synchronous"); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || fk != 1 || sync != 2 {
		t.Fatalf("journal_mode=%s foreign_keys=%d synchronous=%d, want wal 1 2(FULL)", mode, fk, sync)
	}
}

// A second program holding the write lock makes a write fail with ErrBusy
// after the busy timeout, and leaves nothing half-written.
func TestSQLiteBusyIsReported(t *testing.T) {
	old := store.BusyTimeout
	store.BusyTimeout = 200 * time.Millisecond
	defer func() { store.BusyTimeout = old }()
	path := filepath.Join(t.TempDir(), "busy.db")
	ctx := context.Background()
	a, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	tx, err := a.BeginTxx(ctx, nil) // immediate: takes the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	err = b.Tx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO settings (key, value) VALUES ('x', 'y')")
		return err
	})
	if !errors.Is(err, store.ErrBusy) {
		t.Fatalf("write while locked: %v, want ErrBusy", err)
	}
	tx.Rollback()
	var n int
	if err := b.GetContext(ctx, &n, "SELECT COUNT(*) FROM settings"); err != nil || n != 0 {
		t.Fatalf("after busy: %d rows, %v", n, err)
	}
}

// Two "laptops" migrating one PostgreSQL database at once both succeed and
// the schema is applied once.
func TestPostgresConcurrentMigrate(t *testing.T) {
	dsn := storetest.NewDatabase(t)
	ctx := context.Background()
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			db, err := store.Open(ctx, dsn)
			if err == nil {
				db.Close()
			}
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.GetContext(ctx, &n, "SELECT COUNT(*) FROM schema_migrations"); err != nil {
		t.Fatal(err)
	}
	all, _ := store.Migrations()
	if n != len(all) {
		t.Fatalf("schema_migrations has %d rows, want %d", n, len(all))
	}
}

func TestRedactDSN(t *testing.T) {
	got := store.RedactDSN("postgres://staff:s3cret@db.local:5432/trial")
	if got != "postgres://staff:xxxxx@db.local:5432/trial" {
		t.Fatalf("RedactDSN = %q", got)
	}
}
