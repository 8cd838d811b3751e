package screens

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2/test"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/pki"
	"jpkipilot/pki/jpki"
	"jpkipilot/trial/store/storetest"
	"jpkipilot/trial/ticket"
)

// The three staff steps on the ticket page with cards the trial CA issued:
// apply with the PIN, buy without it, hand the ticket to a companion's phone.
func TestTicketPageSteps(t *testing.T) {
	w := newWindow(t)
	pki.DefaultKDF = pki.KDFParams{Time: 1, Memory: 1024, Threads: 1}
	ctx := context.Background()
	db := storetest.SQLite(t)
	ca, err := pki.Init(ctx, db, []byte("ticket page"), pki.InitOptions{})
	if err == nil {
		_, err = ca.PublishCRL(ctx, pki.RoleAuth, 0)
	}
	if err != nil {
		t.Fatal(err)
	}
	token := func(p vcard.Profile, holder, pin string) *vcard.Card {
		auth, key, err := ca.IssueWithNewKey(ctx, pki.IssueRequest{Kind: pki.RoleAuth, Holder: holder})
		if err != nil {
			t.Fatal(err)
		}
		cfg := vcard.Config{Profile: p, AuthKey: key, AuthCert: auth.Cert.Raw, AuthCACert: ca.Certificate(pki.RoleAuth).Raw, AuthPIN: pin}
		if p == vcard.MyNumber {
			cfg.SignKey, cfg.SignCert, cfg.SignCACert, cfg.SignPIN = key, auth.Cert.Raw, ca.Certificate(pki.RoleAuth).Raw, "ABCDEF1234"
		}
		c, err := vcard.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	owner, companion := token(vcard.MyNumber, "M001", "1234"), token(vcard.Phone, "M002", "5678")
	svc := ticket.NewService(db, nil)
	if err := svc.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	readers := namedReaders{"Card reader": &vcard.VirtualReader{}}
	pin := "1234"
	s := newTicketsScreen(w, TicketsDeps{Desk: svc, Readers: readers,
		PIN: func(context.Context, jpki.PINRequest) (string, error) { return pin, nil }})
	show(w, s.content)
	test.AssertRendersToMarkup(t, "tickets.xml", w.Canvas())

	hold := func(c *vcard.Card) { readers["Card reader"].Insert(c) }
	hold(owner)
	s.apply()
	waitIdle()
	if !strings.HasPrefix(s.result.Text, "申込完了") {
		t.Fatalf("apply: %q", s.result.Text)
	}
	s.number.SetText("4111 1111 1111 1111")
	s.expiry.SetText("12/99")
	s.buy()
	waitIdle()
	if !strings.Contains(s.result.Text, "下4桁 1111") || s.number.Text != "" {
		t.Fatalf("buy: %q (number left: %q)", s.result.Text, s.number.Text)
	}
	s.readOwner()
	waitIdle()
	if len(s.owned.Options) != 1 {
		t.Fatalf("owner's tickets: %v (%q)", s.owned.Options, s.result.Text)
	}
	hold(companion)
	pin = "5678"
	s.transfer()
	waitIdle()
	if !strings.HasPrefix(s.result.Text, "受渡完了") {
		t.Fatalf("transfer: %q", s.result.Text)
	}
}

// watchedReaders is a reader source whose list the test changes, telling
// the screen through OnChange as the PC/SC watch does.
type watchedReaders struct {
	mu       sync.Mutex
	names    []string
	onChange func()
}

func (r *watchedReaders) set(names ...string) {
	r.mu.Lock()
	r.names = names
	fn := r.onChange
	r.mu.Unlock()
	if fn != nil {
		fn()
	}
}

func (r *watchedReaders) Readers(context.Context) ([]ReaderInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []ReaderInfo
	for _, n := range r.names {
		out = append(out, ReaderInfo{Name: n})
	}
	return out, nil
}
func (r *watchedReaders) Open(context.Context, string) (device.Transport, func(), error) {
	return nil, nil, device.ErrNoCard
}
func (r *watchedReaders) Signal(context.Context, string, bool) error { return ErrNoReaderFeedback }
func (r *watchedReaders) OnChange(fn func()) {
	r.mu.Lock()
	r.onChange = fn
	r.mu.Unlock()
}

// The ticket page's reader list follows readers plugged in and pulled
// out; the chosen reader stays chosen while it is there, and the picture
// follows the chosen reader's model.
func TestTicketPageFollowsReaders(t *testing.T) {
	w := newWindow(t)
	db := storetest.SQLite(t)
	readers := &watchedReaders{names: []string{"jpkipilot 仮想リーダー"}}
	s := newTicketsScreen(w, TicketsDeps{Desk: ticket.NewService(db, nil), Readers: readers})
	show(w, s.content)
	if s.reader.Selected != "jpkipilot 仮想リーダー" {
		t.Fatalf("at first: %q of %v", s.reader.Selected, s.reader.Options)
	}
	const pasori = "SONY FeliCa RC-S380/P 00 00"
	readers.set("jpkipilot 仮想リーダー", pasori)
	waitIdle()
	if !slices.Equal(s.reader.Options, []string{"jpkipilot 仮想リーダー", pasori}) || s.reader.Selected != "jpkipilot 仮想リーダー" {
		t.Fatalf("PaSoRi plugged in: %q of %v", s.reader.Selected, s.reader.Options)
	}
	s.reader.SetSelected(pasori)
	if s.picture.model != ReaderPad {
		t.Fatalf("PaSoRi chosen: picture %s", s.picture.model)
	}
	readers.set(pasori)
	waitIdle()
	if s.reader.Selected != pasori {
		t.Fatalf("another reader removed: %q of %v", s.reader.Selected, s.reader.Options)
	}
	readers.set("jpkipilot 仮想リーダー")
	waitIdle()
	if !slices.Equal(s.reader.Options, []string{"jpkipilot 仮想リーダー"}) || s.reader.Selected != "jpkipilot 仮想リーダー" {
		t.Fatalf("PaSoRi pulled out: %q of %v", s.reader.Selected, s.reader.Options)
	}
	readers.set()
	waitIdle()
	if s.reader.Selected != "" {
		t.Fatalf("no reader left: %q", s.reader.Selected)
	}
}
