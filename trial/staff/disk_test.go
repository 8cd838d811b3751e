package staff_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"os"
	"testing"

	"jpkipilot/pki"
	"jpkipilot/trial"
	"jpkipilot/trial/staff"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// A store used in the clear before its first account (the demo data set
// entered, then the first coordinator created): afterwards the SQLite file
// and its WAL hold none of the names, kana or contacts — not in live rows,
// not in freed pages, not in old WAL frames. This is what a lost laptop
// gives away.
func TestFirstCoordinatorLeavesNoClearNameOnDisk(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	tr := trial.New(db)
	if _, err := tr.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	ms, err := tr.ListMonitors(ctx, trial.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, m := range ms {
		for _, v := range []string{m.Name, m.Kana, m.Contact} {
			if len([]rune(v)) >= 4 { // short values would match by chance
				values = append(values, v)
			}
		}
	}
	if len(values) < 200 {
		t.Fatalf("only %d personal values seeded", len(values))
	}
	s := staff.New(db)
	s.KDF = staff.TestKDF
	if _, err := s.CreateFirst(ctx, "coord", "Coordinator", "first-Coordinator-1"); err != nil {
		t.Fatal(err)
	}
	disk, err := os.ReadFile(db.Where)
	if err != nil {
		t.Fatal(err)
	}
	if wal, err := os.ReadFile(db.Where + "-wal"); err == nil {
		disk = append(disk, wal...)
	}
	left := 0
	for _, v := range values {
		if bytes.Contains(disk, []byte(v)) {
			left++
			if left <= 3 {
				t.Errorf("%q is still in the store's files", v)
			}
		}
	}
	if left > 0 {
		t.Fatalf("%d of %d personal values still readable on disk", left, len(values))
	}
}

// A signature certificate issued with a monitor's name before the first
// account: once the first coordinator seals the store, no column of
// pki_certs holds the name — on SQLite not even the file or its WAL — and
// the certificate stays listed by serial and holder, revocable, and
// readable with the session's data key.
func TestFirstCoordinatorSealsNamedCertificates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const name = "鵺野 封印丸"
		ca, named, _, sess := sealAfterNamedSignCertificate(t, db, name)

		var raw []struct {
			Subject string `db:"subject"`
			DER     []byte `db:"cert_der"`
			Sealed  string `db:"cert_sealed"`
		}
		if err := db.SelectContext(ctx, &raw, "SELECT subject, cert_der, cert_sealed FROM pki_certs"); err != nil {
			t.Fatal(err)
		}
		if len(raw) != 1 {
			t.Fatalf("%d certificates stored", len(raw))
		}
		for _, col := range [][]byte{[]byte(raw[0].Subject), raw[0].DER, []byte(raw[0].Sealed)} {
			if bytes.Contains(col, []byte(name)) {
				t.Fatalf("the name is in a raw column of pki_certs: %q", col)
			}
		}
		if db.Dialect == store.SQLite {
			disk, err := os.ReadFile(db.Where)
			if err != nil {
				t.Fatal(err)
			}
			if wal, err := os.ReadFile(db.Where + "-wal"); err == nil {
				disk = append(disk, wal...)
			}
			if bytes.Contains(disk, []byte(name)) {
				t.Fatal("the name is still in the store's files")
			}
		}

		rec, err := ca.Lookup(ctx, pki.RoleSign, named.Serial)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Holder != "M-0001" || !rec.NameSealed {
			t.Fatalf("sealed certificate listed as holder %q, name sealed %v", rec.Holder, rec.NameSealed)
		}
		cert, err := rec.Unseal(sess.Key)
		if err != nil || cert.Subject.CommonName != name {
			t.Fatalf("unsealed with the coordinator's key: %v", err)
		}
		if err := ca.Revoke(ctx, named.Serial, pki.KeyCompromise); err != nil {
			t.Fatalf("revoke the sealed certificate by serial: %v", err)
		}
	})
}

// A store sealed by a version that left named signature certificates in
// the clear gets them sealed by the next data-key rotation.
func TestRotationSealsNamedCertificatesLeftInTheClear(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const name = "旧版 残存名"
		ca, named, s, sess := sealAfterNamedSignCertificate(t, db, name)
		// As an earlier version left it: sealed store, certificate in the clear.
		if _, err := db.ExecContext(ctx, db.Rebind("UPDATE pki_certs SET subject = ?, cert_der = ?, cert_sealed = '' WHERE serial = ?"),
			named.Subject, named.Cert.Raw, pki.SerialHex(named.Serial)); err != nil {
			t.Fatal(err)
		}
		if err := s.RotateDataKey(ctx, sess); err != nil {
			t.Fatal(err)
		}
		var subject string
		var der []byte
		if err := db.QueryRowxContext(ctx, "SELECT subject, cert_der FROM pki_certs").Scan(&subject, &der); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(der, []byte(name)) || bytes.Contains([]byte(subject), []byte(name)) {
			t.Fatalf("the name is still in pki_certs after rotation: %q", subject)
		}
		rec, err := ca.Lookup(ctx, pki.RoleSign, named.Serial)
		if err != nil {
			t.Fatal(err)
		}
		if cert, err := rec.Unseal(sess.Key); err != nil || cert.Subject.CommonName != name {
			t.Fatalf("unsealed with the rotated key: %v", err)
		}
	})
}

// sealAfterNamedSignCertificate makes a trial CA, issues a signature
// certificate naming name to M-0001 while the store is in the clear, and
// then creates the first coordinator, which seals the store.
func sealAfterNamedSignCertificate(t *testing.T, db *store.DB, name string) (*pki.CA, *pki.Issued, *staff.Service, *staff.Session) {
	t.Helper()
	ctx := context.Background()
	const pass = "trial CA passphrase"
	ca, err := pki.Init(ctx, db, []byte(pass), pki.InitOptions{KDF: pki.KDFParams{Time: 1, Memory: 1024, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.Unlock(ctx, []byte(pass)); err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	named, err := ca.Issue(ctx, pki.IssueRequest{Kind: pki.RoleSign, Holder: "M-0001", Name: name, PublicKey: &key.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	s := staff.New(db)
	s.KDF = staff.TestKDF
	sess, err := s.CreateFirst(ctx, "coord", "Coordinator", "first-Coordinator-1")
	if err != nil {
		t.Fatal(err)
	}
	return ca, named, s, sess
}
