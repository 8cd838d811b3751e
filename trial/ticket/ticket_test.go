package ticket_test

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/pki"
	"jpkipilot/pki/jpki"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
	"jpkipilot/trial/ticket"
)

// The seed's whole flow: apply with the card, buy at the register without
// PIN, hand the ticket to a companion with a phone, enter.
func TestApplyBuyTransferEnter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v := newVenue(t, db)
		owner := v.issue(vcard.MyNumber, "M001", 0)
		companion := v.issue(vcard.Phone, "M002", 0)

		tk := v.apply(owner, event, cardPIN)
		if tk.CertSerial != owner.serial || tk.AppliedWith != "card" {
			t.Fatalf("ticket bound to %s via %s, want %s via card", tk.CertSerial, tk.AppliedWith, owner.serial)
		}
		if _, err := v.svc.Apply(ctx, event, owner.card(), pinOf(cardPIN)); !errors.Is(err, ticket.ErrAlreadyHasTicket) {
			t.Fatalf("second application: %v, want ErrAlreadyHasTicket", err)
		}
		owner.reinsert()

		if _, err := v.svc.Buy(ctx, event, owner.card(), ticket.Payment{Number: declined, Expiry: "12/99"}); !errors.Is(err, ticket.ErrDeclined) {
			t.Fatalf("declined card: %v", err)
		}
		owner.reinsert()
		if got, _ := v.svc.Ticket(ctx, tk.ID); got.PaidAt.Valid || got.CardLast4 != "" {
			t.Fatalf("a declined payment changed the ticket: %+v", got)
		}
		r, err := v.svc.Buy(ctx, event, owner.card(), ticket.Payment{Number: goodCard, Expiry: "12/99"})
		if err != nil || !r.Approved || r.Last4 != "1111" || r.Amount != 3000 {
			t.Fatalf("buy: %+v, %v", r, err)
		}
		owner.reinsert()
		if _, err := v.svc.Buy(ctx, event, owner.card(), ticket.Payment{Number: goodCard, Expiry: "12/99"}); !errors.Is(err, ticket.ErrAlreadyPaid) {
			t.Fatalf("paying twice: %v", err)
		}
		owner.reinsert()
		var stored int
		if err := db.GetContext(ctx, &stored, db.Rebind("SELECT COUNT(*) FROM tickets WHERE receipt LIKE ? OR card_last4 <> ?"), "%4111111111%", "1111"); err != nil || stored != 0 {
			t.Fatalf("more than the last four digits stored (%d rows, %v)", stored, err)
		}

		// The owner picks the ticket by holding the card without PIN.
		ownerCert, err := v.svc.ReadWithoutPIN(ctx, owner.card())
		if err != nil {
			t.Fatal(err)
		}
		owner.reinsert()
		mine, err := v.svc.TicketsOf(ctx, ownerCert)
		if err != nil || len(mine) != 1 || mine[0].ID != tk.ID {
			t.Fatalf("owner's tickets: %+v, %v", mine, err)
		}
		moved, err := v.svc.Transfer(ctx, tk.ID, ownerCert, companion.card(), pinOf(phonePIN))
		if err != nil {
			t.Fatalf("transfer: %v", err)
		}
		companion.reinsert()
		if moved.CertSerial != companion.serial || !moved.PaidAt.Valid {
			t.Fatalf("after transfer: %+v", moved)
		}
		if _, err := v.svc.Transfer(ctx, tk.ID, ownerCert, companion.card(), pinOf(phonePIN)); !errors.Is(err, ticket.ErrNotOwner) {
			t.Fatalf("transferring a ticket one no longer holds: %v", err)
		}
		companion.reinsert()

		if d := v.check(owner, nil); d.Admit || d.Reason != ticket.NoTicket || d.Method != ticket.MethodCard {
			t.Fatalf("owner after transfer: %+v", d)
		}
		if _, err := v.gate.Check(ctx, companion.card(), time.Time{}, nil); !errors.Is(err, ticket.ErrPINRequired) {
			t.Fatalf("phone without PIN: %v, want ErrPINRequired", err)
		}
		companion.reinsert()
		d := v.check(companion, pinOf(phonePIN))
		if !d.Admit || d.Reason != ticket.Admitted || d.Method != ticket.MethodPhone || d.TicketID != tk.ID {
			t.Fatalf("companion: %+v", d)
		}
		if d := v.check(companion, pinOf(phonePIN)); d.Admit || d.Reason != ticket.AlreadyEntered {
			t.Fatalf("second entry: %+v", d)
		}
		log, err := ticket.Decisions(ctx, db, event)
		if err != nil || len(log) != 3 {
			t.Fatalf("decision log: %d entries, %v; want 3", len(log), err)
		}
		if log[1].Reason != ticket.Admitted || log[1].APDUs == 0 || log[1].CertSerial != companion.serial {
			t.Fatalf("logged admission: %+v", log[1])
		}
	})
}

// Every deny reason the gate gives.
func TestGateDenyReasons(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v := newVenue(t, db)

		none := v.issue(vcard.MyNumber, "M010", 0)
		if d := v.check(none, nil); d.Reason != ticket.NoTicket || d.Admit {
			t.Errorf("no ticket: %+v", d)
		}

		other := v.issue(vcard.MyNumber, "M011", 0)
		v.apply(other, otherEvent, cardPIN)
		if d := v.check(other, nil); d.Reason != ticket.WrongEvent || d.Admit {
			t.Errorf("wrong event: %+v", d)
		}

		revoked := v.issue(vcard.MyNumber, "M012", 0)
		v.apply(revoked, event, cardPIN)
		serial, _ := pki.ParseSerial(revoked.serial)
		if err := v.ca.Unlock(ctx, []byte("venue passphrase")); err != nil {
			t.Fatal(err)
		}
		if err := v.ca.Revoke(ctx, serial, pki.KeyCompromise); err != nil {
			t.Fatal(err)
		}
		if d := v.check(revoked, nil); !d.Admit {
			t.Errorf("before the gate holds the new CRL the revocation is unknown to it: %+v", d)
		}
		if _, err := v.ca.PublishCRL(ctx, pki.RoleAuth, 0); err != nil {
			t.Fatal(err)
		}
		v.reloadTrust()
		if _, err := db.ExecContext(ctx, "UPDATE tickets SET entered_at = NULL"); err != nil {
			t.Fatal(err)
		}
		if d := v.check(revoked, nil); d.Reason != ticket.Revoked || d.Admit {
			t.Errorf("revoked: %+v", d)
		}

		expiring := v.issue(vcard.MyNumber, "M013", time.Hour)
		v.apply(expiring, event, cardPIN)
		v.now = v.now.Add(2 * time.Hour)
		if d := v.check(expiring, nil); d.Reason != ticket.Expired || d.Admit {
			t.Errorf("expired: %+v", d)
		}

		foreignCA, err := vcard.NewDemoCA()
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := foreignCA.Issue(vcard.MyNumber, "X")
		if err != nil {
			t.Fatal(err)
		}
		foreign := &holder{cfg: cfg, reader: &vcard.VirtualReader{}}
		foreign.reinsert()
		if d := v.check(foreign, nil); d.Reason != ticket.UnknownIssuer || d.Admit {
			t.Errorf("unknown issuer: %+v", d)
		}

		blocked := v.issue(vcard.Phone, "M014", 0)
		v.apply(blocked, event, phonePIN)
		c := jpki.New(blocked.card())
		for range vcard.AuthPINTries {
			if err := c.Verify(ctx, jpki.Auth, "0000"); err == nil {
				t.Fatal("a wrong PIN verified")
			}
		}
		if d := v.check(blocked, pinOf(phonePIN)); d.Reason != ticket.PINBlocked || d.Admit {
			t.Errorf("PIN blocked: %+v", d)
		}

		fresh := v.issue(vcard.MyNumber, "M015", 0)
		v.apply(fresh, event, cardPIN)
		v.now = v.now.Add(ticket.DefaultMaxCRLAge)
		d := v.check(fresh, nil)
		if d.Reason != ticket.CRLTooOld || d.Admit || d.APDUs != 0 {
			t.Errorf("CRL too old: %+v (the card must not even be read)", d)
		}
		if d.CRLAge < ticket.DefaultMaxCRLAge {
			t.Errorf("CRL age shown as %s", d.CRLAge)
		}
	})
}

// A PIN-less decision sends SELECT AP, SELECT EF and the certificate's READ
// BINARYs, nothing more.
func TestPINlessDecisionAPDUs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		v := newVenue(t, db)
		h := v.issue(vcard.MyNumber, "M020", 0)
		v.apply(h, event, cardPIN)
		card := h.card()
		d, err := v.gate.Check(context.Background(), card, time.Time{}, nil)
		if err != nil || !d.Admit {
			t.Fatalf("%+v, %v", d, err)
		}
		certLen := len(h.cfg.AuthCert)
		want := 2 + (certLen+255)/256
		if card.APDUCount() != want || d.APDUs != want {
			t.Fatalf("%d APDUs sent (%d logged), want %d for a %d-byte certificate", card.APDUCount(), d.APDUs, want, certLen)
		}
		for i, e := range card.Trace() {
			want := "00 B0" // READ BINARY
			if i < 2 {
				want = "00 A4" // SELECT
			}
			if !strings.HasPrefix(strings.ToUpper(e.Command), want) {
				t.Errorf("APDU %d: %s, want %s…", i, e.Command, want)
			}
		}
	})
}

// The card pulled away at every point of a gate check and of an
// application: an error, never a decision or a ticket.
func TestCardRemovedMidStep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v := newVenue(t, db)
		h := v.issue(vcard.MyNumber, "M030", 0)
		for n := 0; ; n++ {
			h.reinsert()
			h.reader.RemoveAfter(n)
			_, err := v.svc.Apply(ctx, event, h.card(), pinOf(cardPIN))
			if err == nil {
				break
			}
			if !errors.Is(err, device.ErrCardRemoved) {
				t.Fatalf("removed after %d APDUs: %v", n, err)
			}
			var count int
			if err := db.GetContext(ctx, &count, "SELECT COUNT(*) FROM tickets"); err != nil || count != 0 {
				t.Fatalf("removed after %d APDUs: %d tickets (%v)", n, count, err)
			}
		}
		for n := 0; ; n++ {
			h.reinsert()
			h.reader.RemoveAfter(n)
			d, err := v.gate.Check(ctx, h.card(), time.Time{}, nil)
			if err == nil {
				if !d.Admit || n < 3 {
					t.Fatalf("complete after %d APDUs: %+v", n, d)
				}
				break
			}
			if !errors.Is(err, device.ErrCardRemoved) {
				t.Fatalf("gate, removed after %d APDUs: %v", n, err)
			}
			if log, _ := ticket.Decisions(ctx, db, event); len(log) != 0 {
				t.Fatalf("gate, removed after %d APDUs: logged %+v", n, log)
			}
		}
	})
}

func TestWrongPIN(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v := newVenue(t, db)
		h := v.issue(vcard.MyNumber, "M040", 0)
		_, err := v.svc.Apply(ctx, event, h.card(), pinOf("9999"))
		var wrong *device.WrongPINError
		if !errors.As(err, &wrong) || wrong.TriesLeft != vcard.AuthPINTries-1 {
			t.Fatalf("wrong PIN: %v", err)
		}
		phone := v.issue(vcard.Phone, "M041", 0)
		v.apply(phone, event, phonePIN)
		if _, err := v.gate.Check(ctx, phone.card(), time.Time{}, pinOf("9999")); !errors.As(err, &wrong) {
			t.Fatalf("gate, wrong PIN: %v", err)
		}
		phone.reinsert()
		var count int
		if err := db.GetContext(ctx, &count, "SELECT COUNT(*) FROM tickets WHERE entered_at IS NOT NULL"); err != nil || count != 0 {
			t.Fatalf("%d entered after a wrong PIN (%v)", count, err)
		}
		if d := v.check(phone, pinOf(phonePIN)); !d.Admit {
			t.Fatalf("right PIN afterwards: %+v", d)
		}
	})
}

// Two gate laptops on one PostgreSQL, the same ticket held at both at once:
// exactly one admits, every round.
func TestTwoGatesOneAdmission(t *testing.T) {
	dsn := storetest.NewDatabase(t)
	ctx := context.Background()
	open := func() *store.DB {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	v := newVenue(t, open())
	h := v.issue(vcard.MyNumber, "M050", 0)
	v.apply(h, event, cardPIN)
	other := open()
	gates := []*ticket.Gate{v.gate, {DB: other, EventID: event, Name: "gate-2", Trust: v.gate.Trust, Now: v.clock}}
	for round := range 40 {
		if _, err := v.db.ExecContext(ctx, "UPDATE tickets SET entered_at = NULL"); err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		results := make(chan ticket.Decision, 2)
		errs := make(chan error, 2)
		for _, g := range gates {
			h := &holder{cfg: h.cfg, reader: &vcard.VirtualReader{}}
			h.reinsert()
			go func() {
				<-start
				d, err := g.Check(ctx, h.card(), time.Time{}, nil)
				errs <- err
				results <- d
			}()
		}
		close(start)
		admitted := 0
		for range gates {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
			d := <-results
			switch d.Reason {
			case ticket.Admitted:
				admitted++
			case ticket.AlreadyEntered:
			default:
				t.Fatalf("round %d: %+v", round, d)
			}
		}
		if admitted != 1 {
			t.Fatalf("round %d: %d gates admitted", round, admitted)
		}
	}
}

func TestPaymentValidate(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		p  ticket.Payment
		ok bool
	}{
		{ticket.Payment{Number: goodCard, Expiry: "11/26"}, true},
		{ticket.Payment{Number: "4111-1111-1111-1111", Expiry: "01/30"}, true},
		{ticket.Payment{Number: "4111111111111112", Expiry: "01/30"}, false}, // Luhn
		{ticket.Payment{Number: goodCard, Expiry: "10/26"}, false},           // past
		{ticket.Payment{Number: goodCard, Expiry: "13/30"}, false},
		{ticket.Payment{Number: goodCard, Expiry: "1/30"}, false},
		{ticket.Payment{Number: "4111", Expiry: "01/30"}, false},
		{ticket.Payment{Number: "4111a11111111111", Expiry: "01/30"}, false},
	} {
		if err := c.p.Validate(now); (err == nil) != c.ok {
			t.Errorf("%+v: %v", c.p, err)
		}
	}
}

func FuzzPayment(f *testing.F) {
	f.Add(goodCard, "12/30")
	f.Add(declined, "00/00")
	f.Add("", "/")
	f.Fuzz(func(t *testing.T, number, expiry string) {
		p := ticket.Payment{Number: number, Expiry: expiry}
		if p.Validate(time.Now()) != nil {
			return
		}
		digits := strings.NewReplacer(" ", "", "-", "").Replace(number)
		if len(digits) < 12 || len(digits) > 19 || !ticket.Luhn(digits) {
			t.Fatalf("accepted %q", number)
		}
	})
}

// A running gate takes up a CRL published after it started: a card
// revoked meanwhile is denied at its next hold; with nothing new it keeps
// what it holds.
func TestGateTakesUpNewerCRL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		v := newVenue(t, db)
		h := v.issue(vcard.MyNumber, "M070", 0)
		v.apply(h, event, cardPIN)
		if changed, err := v.gate.RefreshTrust(context.Background()); err != nil || changed {
			t.Fatalf("nothing new: changed %v, %v", changed, err)
		}
		serial, _ := new(big.Int).SetString(h.serial, 16)
		if err := v.ca.Revoke(context.Background(), serial, pki.KeyCompromise); err != nil {
			t.Fatal(err)
		}
		v.ca.Now = func() time.Time { return time.Now().Add(2 * time.Second) } // a later CRL (times are in seconds)
		v.now = v.now.Add(time.Hour)
		if _, err := v.ca.PublishCRL(context.Background(), pki.RoleAuth, 0); err != nil {
			t.Fatal(err)
		}
		if changed, err := v.gate.RefreshTrust(context.Background()); err != nil || !changed {
			t.Fatalf("newer CRL: changed %v, %v", changed, err)
		}
		if d := v.check(h, nil); d.Admit || d.Reason != ticket.Revoked {
			t.Fatalf("revoked meanwhile: %+v", d)
		}
	})
}
