package pki

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/ocsp"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// trail returns the audit entries after seq as "actor action subject | detail".
func trail(t *testing.T, db *store.DB, after int64) ([]string, int64) {
	t.Helper()
	es, err := audit.List(context.Background(), db, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	last := after
	for _, e := range es {
		if e.Seq > after {
			out = append(out, fmt.Sprintf("%s %s %s | %s", e.Actor, e.Action, e.Subject, e.Detail))
			last = e.Seq
		}
	}
	return out, last
}

func wantTrail(t *testing.T, step string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s recorded\n  %s\nwant\n  %s", step, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// The CA records its own actions and every use of a CA key, in the
// transaction of the action, with the actor of the context or else its
// Actor field, and never a holder's name.
func TestCAAuditTrail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ca, err := Init(ctx, db, []byte(testPass), InitOptions{Actor: "carol"})
		if err != nil {
			t.Fatal(err)
		}
		root := ca.Certificate(RoleRoot)
		got, seq := trail(t, db, 0)
		wantTrail(t, "init", got,
			"carol ca.key_use root | root CA key signed the auth and sign CA certificates, then was sealed",
			"carol ca.init "+SerialHex(root.SerialNumber)+" | root, auth and sign CAs created; root sha256 "+Fingerprint(root))

		ca, err = Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		ca.Actor = "dave"
		if err := ca.Unlock(ctx, []byte("not the passphrase")); !errors.Is(err, ErrWrongPassphrase) {
			t.Fatal(err)
		}
		if _, err := ca.Issue(ctx, IssueRequest{Kind: RoleAuth, Holder: "M-0001", PublicKey: &rsaKey(t).PublicKey}); !errors.Is(err, ErrLocked) {
			t.Fatal(err)
		}
		got, seq = trail(t, db, seq)
		wantTrail(t, "a failed unlock and a refused issue", got)

		if err := ca.Unlock(ctx, []byte(testPass)); err != nil {
			t.Fatal(err)
		}
		got, seq = trail(t, db, seq)
		wantTrail(t, "unlock", got,
			"dave ca.key_use auth | auth CA key unsealed with the passphrase",
			"dave ca.key_use sign | sign CA key unsealed with the passphrase")

		const name = "署名花子 Hanako SIGNNAME"
		sign := issue(t, ca, RoleSign, "M-0001", name)
		auth, err := ca.Issue(audit.WithActor(ctx, "erin"), IssueRequest{Kind: RoleAuth, Holder: "M-0002", PublicKey: &rsaKey(t).PublicKey})
		if err != nil {
			t.Fatal(err)
		}
		ss, as := SerialHex(sign.Serial), SerialHex(auth.Serial)
		got, seq = trail(t, db, seq)
		wantTrail(t, "issue", got,
			"dave ca.key_use sign | signed certificate "+ss,
			"dave cert.issue "+ss+" | sign certificate for M-0001",
			"erin ca.key_use auth | signed certificate "+as,
			"erin cert.issue "+as+" | auth certificate for M-0002")

		if err := ca.Revoke(ctx, auth.Serial, KeyCompromise); err != nil {
			t.Fatal(err)
		}
		if err := ca.Revoke(ctx, auth.Serial, Superseded); !errors.Is(err, ErrAlreadyRevoked) {
			t.Fatal(err)
		}
		got, seq = trail(t, db, seq)
		wantTrail(t, "revoke (and a refused second revoke)", got, "dave cert.revoke "+as+" | reason keyCompromise")

		if _, err := ca.PublishCRL(ctx, RoleAuth, 0); err != nil {
			t.Fatal(err)
		}
		got, seq = trail(t, db, seq)
		wantTrail(t, "CRL", got,
			"dave ca.key_use auth | signed CRL number 1",
			"dave crl.publish auth | number 1, 1 revoked")

		req, err := ocsp.CreateRequest(auth.Cert, ca.Certificate(RoleAuth), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := (&Responder{CA: ca}).Respond(ctx, req); err != nil {
			t.Fatal(err)
		}
		got, _ = trail(t, db, seq)
		wantTrail(t, "OCSP", got, "dave ca.key_use auth | signed OCSP response for "+as+": revoked")

		r, err := audit.Verify(ctx, db)
		if err != nil || !r.OK() || r.Entries != 12 {
			t.Fatalf("trail after the CA's work: %+v, %v", r, err)
		}
		// The signature certificate's subject holds the name; the trail never does.
		all, _ := trail(t, db, 0)
		for _, part := range strings.Fields(name) {
			if joined := strings.Join(all, "\n"); strings.Contains(joined, part) {
				t.Errorf("the trail holds the holder's name part %q:\n%s", part, joined)
			}
		}
	})
}

// A CA action whose entry cannot be written does not happen: the entry is
// part of the action's transaction.
func TestCAActionFailsWithoutItsEntry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ca := newCA(t, db)
		if _, err := db.Exec("DROP TABLE audit_log"); err != nil {
			t.Fatal(err)
		}
		if _, err := ca.Issue(ctx, IssueRequest{Kind: RoleAuth, Holder: "M-0003", PublicKey: &rsaKey(t).PublicKey}); err == nil {
			t.Fatal("issued without an audit entry")
		}
		list, err := ca.List(ctx)
		if err != nil || len(list) != 0 {
			t.Fatalf("a certificate was stored without its entry: %d, %v", len(list), err)
		}
		if _, err := ca.PublishCRL(ctx, RoleAuth, 0); err == nil {
			t.Fatal("CRL published without an audit entry")
		}
		if _, err := LatestCRL(ctx, db, RoleAuth); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a CRL was stored without its entry: %v", err)
		}
	})
}
