package pii_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/pii"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

func mustKey(t *testing.T) *pii.Key {
	t.Helper()
	k, err := pii.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	k := mustKey(t)
	s, err := k.Seal("monitors.name", "M-0001", "山田 太郎")
	if err != nil {
		t.Fatal(err)
	}
	if !pii.IsSealed(s) || strings.Contains(s, "山田") {
		t.Fatalf("sealed value %q shows the name or lacks the prefix", s)
	}
	s2, _ := k.Seal("monitors.name", "M-0001", "山田 太郎")
	if s == s2 {
		t.Fatal("two seals of one value are equal: the nonce is not fresh")
	}
	got, err := k.Open("monitors.name", "M-0001", s)
	if err != nil || got != "山田 太郎" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// Bound to row and field: a value copied elsewhere does not open.
	if _, err := k.Open("monitors.name", "M-0002", s); !errors.Is(err, pii.ErrTampered) {
		t.Fatalf("moved to another row: %v, want ErrTampered", err)
	}
	if _, err := k.Open("monitors.contact", "M-0001", s); !errors.Is(err, pii.ErrTampered) {
		t.Fatalf("moved to another field: %v, want ErrTampered", err)
	}
	if _, err := mustKey(t).Open("monitors.name", "M-0001", s); !errors.Is(err, pii.ErrTampered) {
		t.Fatalf("another key: %v, want ErrTampered", err)
	}
	flipped := s[:len(s)-2] + map[bool]string{true: "A", false: "B"}[s[len(s)-2] != 'A'] + s[len(s)-1:]
	if _, err := k.Open("monitors.name", "M-0001", flipped); !errors.Is(err, pii.ErrTampered) {
		t.Fatalf("edited ciphertext: %v, want ErrTampered", err)
	}
	if _, err := k.Open("monitors.name", "M-0001", pii.Prefix+"!!"); !errors.Is(err, pii.ErrTampered) {
		t.Fatalf("garbage: %v, want ErrTampered", err)
	}
	// No key: plaintext passes, sealed values and writes are refused.
	var none *pii.Key
	if got, err := none.Open("monitors.name", "M-0001", "plain"); err != nil || got != "plain" {
		t.Fatalf("nil key on plaintext = %q, %v", got, err)
	}
	if _, err := none.Open("monitors.name", "M-0001", s); !errors.Is(err, pii.ErrLocked) {
		t.Fatalf("nil key on sealed: %v, want ErrLocked", err)
	}
	if _, err := none.Seal("monitors.name", "M-0001", "x"); !errors.Is(err, pii.ErrLocked) {
		t.Fatalf("nil key seal: %v, want ErrLocked", err)
	}
	if e, err := k.Seal("monitors.name", "M-0001", ""); err != nil || e != "" {
		t.Fatalf("empty stays empty: %q, %v", e, err)
	}
}

func TestKeyBytesRoundTrip(t *testing.T) {
	k := mustKey(t)
	k2, err := pii.KeyFromBytes(k.Bytes())
	if err != nil || k2.Check() != k.Check() {
		t.Fatalf("round trip: %v", err)
	}
	if mustKey(t).Check() == k.Check() {
		t.Fatal("two keys share a check value")
	}
	if _, err := pii.KeyFromBytes(make([]byte, 16)); err == nil {
		t.Fatal("a 16-byte key was accepted")
	}
}

// Reseal seals a clear store, rotates it, and a failure half-way leaves it as it was.
func TestReseal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		exec := func(q string, a ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, db.Rebind(q), a...); err != nil {
				t.Fatal(err)
			}
		}
		exec("INSERT INTO trials (name, kind, loan_days, notes, created_at) VALUES ('t', 'venue', 14, '', ?)", store.Now())
		var tid int64
		if err := db.GetContext(ctx, &tid, "SELECT id FROM trials"); err != nil {
			t.Fatal(err)
		}
		for _, m := range [][3]string{{"M-0001", "山田 太郎", "yamada@example.jp"}, {"M-0002", "佐藤 花子", ""}} {
			exec("INSERT INTO monitors (id, trial_id, name, kana, contact, status, created_at, updated_at) VALUES (?, ?, ?, 'ヤマダ', ?, 'enrolled', ?, ?)",
				m[0], tid, m[1], m[2], store.Now(), store.Now())
		}
		if req, err := pii.Required(ctx, db); err != nil || req {
			t.Fatalf("fresh store Required = %v, %v", req, err)
		}
		k1 := mustKey(t)
		var n int
		err := db.Tx(ctx, func(tx *sqlx.Tx) (err error) { n, err = pii.Reseal(ctx, tx, nil, k1); return })
		if err != nil || n != 5 {
			t.Fatalf("first seal: %d values, %v (want 5: two names, two kana, one contact)", n, err)
		}
		if req, err := pii.Required(ctx, db); err != nil || !req {
			t.Fatalf("after sealing Required = %v, %v", req, err)
		}
		var leaked int
		if err := db.GetContext(ctx, &leaked, "SELECT COUNT(*) FROM monitors WHERE name LIKE '%山田%' OR contact LIKE '%example%' OR kana = 'ヤマダ'"); err != nil || leaked != 0 {
			t.Fatalf("clear text left after sealing: %d rows, %v", leaked, err)
		}
		read := func(k *pii.Key, id string) string {
			t.Helper()
			var v string
			if err := db.GetContext(ctx, &v, db.Rebind("SELECT name FROM monitors WHERE id = ?"), id); err != nil {
				t.Fatal(err)
			}
			pt, err := k.Open("monitors.name", id, v)
			if err != nil {
				t.Fatal(err)
			}
			return pt
		}
		if read(k1, "M-0001") != "山田 太郎" {
			t.Fatal("sealed name does not open")
		}
		// A rotation that fails half-way (prev is the wrong key) changes nothing.
		k2 := mustKey(t)
		err = db.Tx(ctx, func(tx *sqlx.Tx) error { _, err := pii.Reseal(ctx, tx, mustKey(t), k2); return err })
		if !errors.Is(err, pii.ErrTampered) {
			t.Fatalf("rotation from a wrong key: %v, want ErrTampered", err)
		}
		if read(k1, "M-0002") != "佐藤 花子" {
			t.Fatal("failed rotation changed rows")
		}
		if err := db.Tx(ctx, func(tx *sqlx.Tx) error { _, err := pii.Reseal(ctx, tx, k1, k2); return err }); err != nil {
			t.Fatal(err)
		}
		if read(k2, "M-0001") != "山田 太郎" {
			t.Fatal("rotated name does not open with the new key")
		}
		var v string
		_ = db.GetContext(ctx, &v, "SELECT name FROM monitors WHERE id = 'M-0001'")
		if _, err := k1.Open("monitors.name", "M-0001", v); !errors.Is(err, pii.ErrTampered) {
			t.Fatalf("old key still opens after rotation: %v", err)
		}
	})
}

func FuzzOpen(f *testing.F) {
	k, _ := pii.NewKey()
	s, _ := k.Seal("monitors.name", "M-0001", "x")
	f.Add(s)
	f.Add(pii.Prefix)
	f.Add("plain")
	f.Fuzz(func(t *testing.T, stored string) {
		pt, err := k.Open("monitors.name", "M-0001", stored)
		// Only an authentic seal opens, so whatever opens is the sealed "x".
		if err == nil && pii.IsSealed(stored) && pt != "x" {
			t.Fatalf("forged %q opened as %q", stored, pt)
		}
		if err == nil && !pii.IsSealed(stored) && pt != stored {
			t.Fatalf("plaintext %q came back as %q", stored, pt)
		}
	})
}
