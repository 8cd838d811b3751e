package pki

import (
	"context"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"jpkipilot/device/vcard"
	"jpkipilot/trial/audit"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// openCA is a second process on the same store: the CA opened and
// unlocked again, so a run of its own.
func openCA(t testing.TB, db *store.DB) *CA {
	t.Helper()
	ca, err := Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.Unlock(context.Background(), []byte(testPass)); err != nil {
		t.Fatal(err)
	}
	return ca
}

// certsBySerial lists the store's certificates by serial.
func certsBySerial(t testing.TB, ca *CA) map[string]*Issued {
	t.Helper()
	list, err := ca.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*Issued{}
	for _, c := range list {
		m[SerialHex(c.Serial)] = c
	}
	return m
}

// servedSerials are the serials of a served card's certificates.
func servedSerials(t testing.TB, cfg vcard.Config) []string {
	t.Helper()
	var out []string
	for _, der := range [][]byte{cfg.AuthCert, cfg.SignCert} {
		if der == nil {
			continue
		}
		c, err := ParseCertificates(der)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, SerialHex(c[0].SerialNumber))
	}
	return out
}

func serve(t testing.TB, ca *CA, p vcard.Profile, holder string) []string {
	t.Helper()
	cfg, err := ca.ServeVirtualCard(context.Background(), p, holder)
	if err != nil {
		t.Fatal(err)
	}
	return servedSerials(t, cfg)
}

// latestCRLLists reports whether role's newest CRL lists serial as ceased.
func latestCRLLists(t testing.TB, db *store.DB, role Role, serial string) bool {
	t.Helper()
	idx, err := LatestCRLIndex(context.Background(), db, role)
	if err != nil || idx == nil {
		t.Fatalf("%s CRL: %v (nil %v)", role, err, idx == nil)
	}
	n, _ := new(big.Int).SetString(serial, 16)
	e, ok := idx.Lookup(n)
	return ok && e.Reason == CessationOfOperation
}

// When a virtual card is served, the certificates of an earlier run that
// ended (its process exited, keys gone) are revoked as ceased, audited,
// and on the CRLs published with the new card; the new card, the serving
// run's earlier cards and real cards' certificates stay valid. Every
// virtual certificate is marked so in the listing.
func TestServeRevokesEndedRunsVirtualCards(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newCA(t, db)
		old := serve(t, a, vcard.MyNumber, "M-0001")
		if err := a.EndVirtualRun(ctx); err != nil {
			t.Fatal(err)
		}
		real := issue(t, a, RoleAuth, "CARD-1", "")
		// A virtual card's certificate from before runs were recorded.
		legacy := SerialHex(issue(t, a, RoleSign, "M-0003", "M-0003 "+VirtualCardMark).Serial)
		if _, err := db.ExecContext(ctx, db.Rebind("UPDATE pki_certs SET virtual_run = '' WHERE serial = ?"), legacy); err != nil {
			t.Fatal(err)
		}

		b := openCA(t, db)
		first := serve(t, b, vcard.Phone, "M-0002")
		second := serve(t, b, vcard.MyNumber, "M-0004")

		certs := certsBySerial(t, b)
		for _, s := range append(old, legacy) {
			c := certs[s]
			if c == nil || !c.Revoked() || c.RevocationReason != CessationOfOperation || !c.Virtual {
				t.Fatalf("earlier run's certificate %s: %+v", s, c)
			}
			if !latestCRLLists(t, db, c.Kind, s) {
				t.Errorf("%s CRL does not list %s as ceased", c.Kind, s)
			}
		}
		if c := certs[old[0]]; c.VirtualRun != a.VirtualRunID() {
			t.Errorf("run of the ended card: %q, want %q", c.VirtualRun, a.VirtualRunID())
		}
		for _, s := range append(first, second...) {
			if c := certs[s]; c.Revoked() || !c.Virtual || c.VirtualRun != b.VirtualRunID() {
				t.Errorf("this run's certificate %s: revoked %v, virtual %v, run %q", s, c.Revoked(), c.Virtual, c.VirtualRun)
			}
		}
		if c := certs[SerialHex(real.Serial)]; c.Revoked() || c.Virtual {
			t.Errorf("a real card's certificate: revoked %v, virtual %v", c.Revoked(), c.Virtual)
		}

		es, err := audit.List(ctx, db, audit.Filter{Action: audit.CertRevoke})
		if err != nil {
			t.Fatal(err)
		}
		var subjects []string
		for _, e := range es {
			if !strings.Contains(e.Detail, CessationOfOperation.String()) {
				t.Errorf("audit detail %q names no reason", e.Detail)
			}
			subjects = append(subjects, e.Subject)
		}
		want := append(slices.Clone(old), legacy)
		slices.Sort(subjects)
		slices.Sort(want)
		if !slices.Equal(subjects, want) {
			t.Fatalf("audited revocations %v, want %v (each once)", subjects, want)
		}
	})
}

// Two laptops serving virtual cards on one PostgreSQL: neither revokes the
// other's cards while the other beats; a run unseen for VirtualRunIdle
// (crashed, unplugged) has its cards revoked at the next serve.
func TestLiveRunsKeepTheirVirtualCards(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		a := newCA(t, db)
		b := openCA(t, db)
		a.Now, b.Now = clock, clock
		aCards := serve(t, a, vcard.MyNumber, "M-0001")
		revoked := func() bool {
			t.Helper()
			certs := certsBySerial(t, b)
			r := certs[aCards[0]].Revoked()
			for _, s := range aCards {
				if certs[s].Revoked() != r {
					t.Fatalf("card %v revoked in part", aCards)
				}
			}
			return r
		}

		now = now.Add(time.Hour)
		serve(t, b, vcard.Phone, "M-0002")
		if revoked() {
			t.Fatal("the other laptop's live card was revoked")
		}
		now = now.Add(VirtualRunIdle / 2)
		if err := a.BeatVirtualRun(ctx); err != nil {
			t.Fatal(err)
		}
		now = now.Add(VirtualRunIdle - time.Minute)
		serve(t, b, vcard.Phone, "M-0003")
		if revoked() {
			t.Fatalf("revoked a card whose run beat %v ago", VirtualRunIdle-time.Minute)
		}
		now = now.Add(2 * time.Minute)
		serve(t, b, vcard.Phone, "M-0004")
		if !revoked() {
			t.Fatalf("a card whose run was unseen for %v was not revoked", VirtualRunIdle+time.Minute)
		}
		// The idle run still serving, on waking, does not revoke b's cards.
		serve(t, a, vcard.Phone, "M-0005")
		for s, c := range certsBySerial(t, a) {
			if c.VirtualRun == b.VirtualRunID() && c.Revoked() {
				t.Fatalf("b's live card %s revoked by a", s)
			}
		}
	})
}

// A serving run beats on every tick, and stops when its context ends.
func TestKeepVirtualRunBeats(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	ca := newCA(t, db)
	ca.Now = func() time.Time { return now }
	serve(t, ca, vcard.Phone, "M-0001")
	seen := func() time.Time {
		t.Helper()
		var at time.Time
		if err := db.GetContext(ctx, &at, db.Rebind("SELECT seen_at FROM pki_virtual_runs WHERE id = ?"), ca.VirtualRunID()); err != nil {
			t.Fatal(err)
		}
		return at.UTC()
	}
	ticks := make(chan time.Time)
	kctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { ca.keepVirtualRun(kctx, ticks); close(done) }()
	start := now
	now = now.Add(VirtualRunBeat)
	ticks <- now
	ticks <- now // received only once the first beat is written
	if got := seen(); !got.Equal(start.Add(VirtualRunBeat)) {
		t.Fatalf("seen at %v after a beat at %v", got, now)
	}
	stop()
	<-done
}

// Migration 0110 marks the virtual cards' signature certificates issued
// before runs were recorded (by VirtualCardMark), so the next serve revokes
// them; a real signature certificate and authentication certificates stay
// unmarked.
func TestMigrationMarksEarlierVirtualCards(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ca := newCA(t, db)
		virt := issue(t, ca, RoleSign, "M-0001", "M-0001 "+VirtualCardMark)
		named := issue(t, ca, RoleSign, "M-0002", "山田 太郎")
		auth := issue(t, ca, RoleAuth, "M-0001", "")
		ms, err := store.Migrations()
		if err != nil {
			t.Fatal(err)
		}
		var backfill string
		for _, m := range ms {
			if m.Version != 110 {
				continue
			}
			for _, line := range strings.Split(m.SQL, "\n") {
				if strings.HasPrefix(line, "UPDATE pki_certs SET virtual_run") {
					backfill = line
				}
			}
		}
		if backfill == "" {
			t.Fatal("migration 0110 has no backfill of earlier virtual cards")
		}
		if _, err := db.ExecContext(ctx, backfill); err != nil {
			t.Fatal(err)
		}
		certs := certsBySerial(t, ca)
		if c := certs[SerialHex(virt.Serial)]; !c.Virtual || c.VirtualRun != "" {
			t.Errorf("earlier virtual card: virtual %v, run %q", c.Virtual, c.VirtualRun)
		}
		for _, iss := range []*Issued{named, auth} {
			if certs[SerialHex(iss.Serial)].Virtual {
				t.Errorf("%s certificate %q marked virtual", iss.Kind, iss.Subject)
			}
		}
	})
}
