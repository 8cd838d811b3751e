// Package store opens the jpkipilot database — SQLite (the embedded default)
// or a shared PostgreSQL — and applies the embedded, versioned migrations.
// Domain packages (trial, survey, pki) keep their SQL beside their types and
// use the DB and Tx given here.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // driver "sqlite"
)

// Dialect names the database behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrNotFound is returned for a lookup that found no row.
var ErrNotFound = errors.New("not found")

// ErrBusy is returned when the database stayed locked past the busy timeout.
var ErrBusy = errors.New("the database is busy (another program holds a lock); try again")

// DB is an open store.
type DB struct {
	*sqlx.DB
	Dialect Dialect
	// Where is the SQLite file path or the PostgreSQL DSN without its password.
	Where string
}

// BusyTimeout is how long SQLite waits for a lock before ErrBusy.
var BusyTimeout = 5 * time.Second

// IsPostgresDSN reports whether dsn selects PostgreSQL.
func IsPostgresDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// DefaultPath is the SQLite file in the user data directory
// ($XDG_DATA_HOME/jpkipilot/jpkipilot.db, else ~/.local/share/...).
func DefaultPath() (string, error) {
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no user data directory: %w", err)
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "jpkipilot", "jpkipilot.db"), nil
}

// Open opens the store named by dsn and migrates it to the newest version.
// An empty dsn opens DefaultPath; a postgres:// DSN opens PostgreSQL;
// anything else is a SQLite file path.
func Open(ctx context.Context, dsn string) (*DB, error) {
	db, err := OpenNoMigrate(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, nil); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// OpenNoMigrate opens and pings the store without migrating it.
func OpenNoMigrate(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgresDSN(dsn) {
		return openPostgres(ctx, dsn)
	}
	path := dsn
	if path == "" {
		p, err := DefaultPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	return openSQLite(ctx, path)
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	q := url.Values{}
	for _, p := range []string{
		"journal_mode(WAL)",
		"foreign_keys(1)",
		fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()),
		// FULL: a committed transaction is synced to the WAL before the call returns.
		"synchronous(FULL)",
		// Deleted and overwritten content is zeroed, not left in free pages:
		// personal fields sealed or erased must not linger in the file.
		"secure_delete(ON)",
	} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sqlx.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// One connection: SQLite has one writer anyway, and a single connection
	// never meets SQLITE_BUSY from itself. Never use the DB inside a Tx func.
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, mapErr(err))
	}
	out := &DB{DB: db, Dialect: SQLite, Where: path}
	// A scrub a busy reader blocked last time is finished here.
	_ = out.Scrub(ctx)
	return out, nil
}

// Scrub makes sure no superseded page image outlives a change that removed
// personal data (the first sealing, a key rotation, a retention purge): on
// SQLite it checkpoints the WAL into the database file and truncates it, so
// the old pages' frames are gone; PostgreSQL keeps no such file on the
// laptop, so there it does nothing.
func (db *DB) Scrub(ctx context.Context) error {
	if db.Dialect != SQLite {
		return nil
	}
	var busy, logFrames, done int
	if err := db.QueryRowxContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done); err != nil {
		return fmt.Errorf("store: checkpoint: %w", mapErr(err))
	}
	if busy != 0 {
		return fmt.Errorf("store: checkpoint: %w", ErrBusy)
	}
	return nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	db, err := sqlx.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	db.SetMaxOpenConns(8)
	where := RedactDSN(dsn)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect %s: %w", where, err)
	}
	return &DB{DB: sqlx.NewDb(db.DB, "pgx"), Dialect: Postgres, Where: where}, nil
}

// RedactDSN removes the password from a postgres DSN for display.
func RedactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(unparsable DSN)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Test opens the store, runs a trivial query and reports what it found; the
// settings screen's connection test. It does not migrate.
func Test(ctx context.Context, dsn string) (string, error) {
	db, err := OpenNoMigrate(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var v int
	if err := db.GetContext(ctx, &v, "SELECT 1"); err != nil {
		return "", mapErr(err)
	}
	ver, err := db.Version(ctx)
	if err != nil {
		ver = 0
	}
	return fmt.Sprintf("%s %s (schema version %d)", db.Dialect, db.Where, ver), nil
}

// Tx runs fn in one transaction: committed if fn returns nil, rolled back
// otherwise (also on panic). Inside fn use only tx, never the DB: SQLite has
// a single connection.
func (db *DB) Tx(ctx context.Context, fn func(tx *sqlx.Tx) error) (err error) {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return mapErr(err)
	}
	return mapErr(tx.Commit())
}

// Now is the store's clock, replaced in tests.
var Now = func() time.Time { return time.Now().UTC() }

// mapErr turns driver errors into the store's errors.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case IsBusy(err):
		return fmt.Errorf("%w: %w", ErrBusy, err)
	}
	return err
}

// MapErr is mapErr for domain packages.
func MapErr(err error) error { return mapErr(err) }

// IsBusy reports a SQLite lock timeout (SQLITE_BUSY / SQLITE_LOCKED).
func IsBusy(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrBusy) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "SQLITE_BUSY") || strings.Contains(s, "database is locked") ||
		strings.Contains(s, "SQLITE_LOCKED") || strings.Contains(s, "(5)") && strings.Contains(s, "locked")
}

// IsUniqueViolation reports a UNIQUE/PRIMARY KEY constraint failure on either database.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}
