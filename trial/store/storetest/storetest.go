// Package storetest runs a test against every store backend: a SQLite file
// in a temp dir, and a fresh database on the PostgreSQL cluster named by
// JPKIPILOT_TEST_PG (started by scripts/pg-harness.sh in `make test`).
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"jpkipilot/trial/store"
)

// Required reports whether missing services fail tests instead of skipping
// them (CI sets JPKIPILOT_REQUIRE_SERVICES=1).
func Required() bool { return os.Getenv("JPKIPILOT_REQUIRE_SERVICES") == "1" }

// Each runs fn as a subtest per backend, each with a new migrated store.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// EachB is Each for benchmarks.
func EachB(b *testing.B, fn func(b *testing.B, db *store.DB)) {
	b.Helper()
	b.Run("sqlite", func(b *testing.B) { fn(b, SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, Postgres(b)) })
}

// SQLite opens a migrated store on a new file in a temp dir.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresDSN returns the cluster DSN, skipping (or failing under
// JPKIPILOT_REQUIRE_SERVICES=1) when none is configured.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("JPKIPILOT_TEST_PG")
	if dsn == "" {
		if Required() {
			t.Fatal("JPKIPILOT_TEST_PG is not set but JPKIPILOT_REQUIRE_SERVICES=1: start scripts/pg-harness.sh")
		}
		t.Skip("JPKIPILOT_TEST_PG not set: no PostgreSQL (run `make test` to get one)")
	}
	return dsn
}

// Postgres creates a fresh database on the test cluster, migrates it, and
// drops it when the test ends.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	name := NewDatabase(t)
	db, err := store.Open(context.Background(), name)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// NewDatabase creates an empty database on the test cluster and returns its
// DSN; it is dropped when the test ends. Use it to open several connections
// (two "laptops") to one database.
func NewDatabase(t testing.TB) string {
	t.Helper()
	base := PostgresDSN(t)
	ctx := context.Background()
	admin, err := store.OpenNoMigrate(ctx, base)
	if err != nil {
		t.Fatalf("connect to test cluster: %v", err)
	}
	defer admin.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "jpt_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		a, err := store.OpenNoMigrate(ctx, base)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("bad JPKIPILOT_TEST_PG: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Laptops opens n handles on one new PostgreSQL database (NewDatabase), as
// n laptops at a venue share one store; they are closed when the test ends,
// before the database is dropped.
func Laptops(t testing.TB, n int) []*store.DB {
	t.Helper()
	dsn := NewDatabase(t)
	dbs := make([]*store.DB, n)
	for i := range dbs {
		db, err := store.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	return dbs
}
