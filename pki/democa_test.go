package pki

import (
	"context"
	"testing"
	"time"

	"jpkipilot/device/vcard"
	"jpkipilot/trial/store/storetest"
)

// A virtual card the trial CA issues is a working card whose certificates
// are recorded (so revocable) and validate against the trial root.
func TestIssueVirtualCard(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	ca := newCA(t, db)
	cfg, err := ca.IssueVirtualCard(ctx, vcard.MyNumber, "M007")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vcard.New(cfg); err != nil {
		t.Fatal(err)
	}
	list, err := ca.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("recorded %d certificates (%v), want auth and sign", len(list), err)
	}
	for _, iss := range list {
		if iss.Holder != "M007" {
			t.Errorf("%s certificate recorded for %q", iss.Kind, iss.Holder)
		}
	}
	phone, err := ca.IssueVirtualCard(ctx, vcard.Phone, "M008")
	if err != nil || phone.SignCert != nil {
		t.Fatalf("phone token: sign cert %v, %v", phone.SignCert != nil, err)
	}
	if _, err := ca.IssueVirtualCard(ctx, vcard.MyNumber, "  "); err == nil {
		t.Fatal("issued a card for no holder")
	}
}

// RefreshCRL publishes when there is no CRL or the newest is too old, and
// only then.
func TestRefreshCRL(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	ca := newCA(t, db)
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	ca.Now = func() time.Time { return now }
	for i, step := range []struct {
		advance time.Duration
		want    bool
	}{{0, true}, {time.Hour, false}, {25 * time.Hour, true}, {0, false}} {
		now = now.Add(step.advance)
		got, err := ca.RefreshCRL(ctx, RoleAuth, 24*time.Hour)
		if err != nil || got != step.want {
			t.Fatalf("step %d: published %v (%v), want %v", i, got, err, step.want)
		}
	}
}

// A served virtual card comes with an auth CRL no older than
// VirtualCardCRLAge: the first serve publishes one, the next within the
// day does not, one a day later publishes again.
func TestServeVirtualCardKeepsTheCRLYoung(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	ca := newCA(t, db)
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	ca.Now = func() time.Time { return now }
	var last int64
	for i, step := range []struct {
		advance   time.Duration
		published bool
	}{{0, true}, {time.Hour, false}, {VirtualCardCRLAge + time.Hour, true}} {
		now = now.Add(step.advance)
		if _, err := ca.ServeVirtualCard(ctx, vcard.Phone, "M009"); err != nil {
			t.Fatal(err)
		}
		n, err := LatestCRLNumber(ctx, db, RoleAuth)
		if err != nil {
			t.Fatal(err)
		}
		if (n > last) != step.published {
			t.Fatalf("serve %d: CRL number %d after %d, want published %v", i, n, last, step.published)
		}
		last = n
	}
}
