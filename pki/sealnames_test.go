package pki

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/jmoiron/sqlx"

	"jpkipilot/device/vcard"
	"jpkipilot/trial/pii"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// When the store is sealed, a signature certificate issued with a name
// before keeps no name in any column of pki_certs: its subject is the
// holder id, its DER sealed (and sealed again on key rotation), opened by
// the key only. It stays revocable by serial and on the CRL; the virtual
// card's and the authentication certificates are left as they were.
func TestSealNamedCertificates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ca := newCA(t, db)
		const name = "封印 されし名"
		named := issue(t, ca, RoleSign, "M-0001", name)
		auth := issue(t, ca, RoleAuth, "M-0001", "")
		if _, err := ca.IssueVirtualCard(ctx, vcard.MyNumber, "M-0002"); err != nil {
			t.Fatal(err)
		}
		before := certsBySerial(t, ca)
		k, err := pii.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		seal := func(prev, next *pii.Key) int {
			t.Helper()
			var n int
			err := db.Tx(ctx, func(tx *sqlx.Tx) error {
				if _, err := pii.Reseal(ctx, tx, prev, next); err != nil {
					return err
				}
				var err error
				n, err = SealNamedCertificates(ctx, tx, next)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := seal(nil, k); n != 1 {
			t.Fatalf("sealed %d certificates, want the one named", n)
		}

		var raw []struct {
			Subject string `db:"subject"`
			DER     []byte `db:"cert_der"`
			Sealed  string `db:"cert_sealed"`
		}
		if err := db.SelectContext(ctx, &raw, "SELECT subject, cert_der, cert_sealed FROM pki_certs"); err != nil {
			t.Fatal(err)
		}
		for _, r := range raw {
			if bytes.Contains([]byte(r.Subject+r.Sealed), []byte(name)) || bytes.Contains(r.DER, []byte(name)) {
				t.Fatalf("the name is still in pki_certs: %q", r.Subject)
			}
		}

		after := certsBySerial(t, ca)
		for s, c := range after {
			if s == SerialHex(named.Serial) {
				continue
			}
			if c.NameSealed || c.Subject != before[s].Subject || !bytes.Equal(c.Cert.Raw, before[s].Cert.Raw) {
				t.Errorf("%s certificate of %s changed by sealing", c.Kind, c.Holder)
			}
		}
		c := after[SerialHex(named.Serial)]
		if !c.NameSealed || c.Cert != nil || c.Subject != "SERIALNUMBER=M-0001" || c.Holder != "M-0001" {
			t.Fatalf("sealed record: name sealed %v, cert %v, subject %q", c.NameSealed, c.Cert != nil, c.Subject)
		}
		got, err := c.Unseal(k)
		if err != nil || !bytes.Equal(got.Raw, named.Cert.Raw) {
			t.Fatalf("unsealed with the key: %v", err)
		}
		other, _ := pii.NewKey()
		if _, err := c.Unseal(other); !errors.Is(err, pii.ErrTampered) {
			t.Fatalf("unsealed with another key: %v", err)
		}
		if _, err := c.Unseal(nil); !errors.Is(err, pii.ErrLocked) {
			t.Fatalf("unsealed without a key: %v", err)
		}

		// Sealing again finds nothing; a rotation seals it under the new key.
		k2, _ := pii.NewKey()
		if n := seal(k, k2); n != 0 {
			t.Fatalf("sealed %d certificates again", n)
		}
		rotated, err := ca.Lookup(ctx, RoleSign, named.Serial)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := rotated.Unseal(k2); err != nil || !bytes.Equal(got.Raw, named.Cert.Raw) {
			t.Fatalf("after rotation: %v", err)
		}

		if err := ca.Revoke(ctx, named.Serial, KeyCompromise); err != nil {
			t.Fatal(err)
		}
		if _, err := ca.PublishCRL(ctx, RoleSign, 0); err != nil {
			t.Fatal(err)
		}
		idx, err := LatestCRLIndex(ctx, db, RoleSign)
		if err != nil {
			t.Fatal(err)
		}
		if e, ok := idx.Lookup(named.Serial); !ok || e.Reason != KeyCompromise {
			t.Fatalf("sealed certificate on the CRL: %v %v", ok, e)
		}
		if c := certsBySerial(t, ca)[SerialHex(auth.Serial)]; c.Revoked() {
			t.Fatal("the authentication certificate was revoked")
		}
	})
}
