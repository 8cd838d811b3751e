package pki

import (
	"context"
	"errors"
	"testing"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/pii"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// Once the store's personal data is sealed, a signature certificate naming
// a person is refused (it would keep the name in the clear); one with only
// the holder id, a virtual card's, is still issued, and so are
// user-authentication certificates.
func TestSignCertNamesRefusedOnSealedStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ca := newCA(t, db)
		if _, err := ca.Issue(ctx, IssueRequest{Kind: RoleSign, Holder: "M-0001", Name: "山田 太郎", PublicKey: &rsaKey(t).PublicKey}); err != nil {
			t.Fatalf("before sealing: %v", err)
		}
		k, err := pii.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Tx(ctx, func(tx *sqlx.Tx) error { _, err := pii.Reseal(ctx, tx, nil, k); return err }); err != nil {
			t.Fatal(err)
		}
		var before int
		_ = db.GetContext(ctx, &before, "SELECT COUNT(*) FROM pki_certs")
		_, err = ca.Issue(ctx, IssueRequest{Kind: RoleSign, Holder: "M-0002", Name: "佐藤 花子", PublicKey: &rsaKey(t).PublicKey})
		if !errors.Is(err, ErrNameOnSealedStore) {
			t.Fatalf("a named signature certificate on a sealed store: %v", err)
		}
		var after int
		_ = db.GetContext(ctx, &after, "SELECT COUNT(*) FROM pki_certs")
		if after != before {
			t.Fatalf("the refused certificate was stored (%d → %d)", before, after)
		}
		if _, err := ca.Issue(ctx, IssueRequest{Kind: RoleSign, Holder: "M-0002", Name: "M-0002 " + VirtualCardMark, PublicKey: &rsaKey(t).PublicKey}); err != nil {
			t.Fatalf("a virtual card's signature certificate: %v", err)
		}
		if _, err := ca.Issue(ctx, IssueRequest{Kind: RoleAuth, Holder: "M-0002", PublicKey: &rsaKey(t).PublicKey}); err != nil {
			t.Fatalf("an authentication certificate: %v", err)
		}
	})
}
