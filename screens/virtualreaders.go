package screens

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/pki"
	"jpkipilot/trial/store"
)

// ErrNoReaderFeedback means a reader has no beeper or light we can drive:
// the screen then signals with its own picture only.
var ErrNoReaderFeedback = errors.New("the reader has no beeper or light we can drive")

// ErrPCSCNotRunning is wrapped by a ReaderSource when pcscd is not running
// (or has stopped): the screen says so, and virtual readers still work.
var ErrPCSCNotRunning = errors.New("pcscd is not running")

// VirtualReaders are in-process reader slots into which staff "hold" a
// monitor's virtual card, so a demo station works without hardware. Cards
// are issued by the CardIssuer (SetIssuer; the app's issues from the trial
// CA when the store has one) or, without one, by a demo CA made once per
// session; a holder's card is kept for the session, so its PIN counters
// behave like a real card's when it is held again. It is safe for
// concurrent use.
type VirtualReaders struct {
	mu     sync.Mutex
	issuer CardIssuer
	slots  []*virtualSlot
	cards  map[string]*vcard.Card // holder + profile
	// issuing serialises issuance (key generation, a passphrase prompt)
	// without holding mu, so the reader list stays readable meanwhile.
	issuing sync.Mutex
}

// CardIssuer makes the config of holder's virtual card of profile p. It
// runs on a worker and may take seconds (RSA key generation, a prompt).
type CardIssuer func(ctx context.Context, p vcard.Profile, holder string) (vcard.Config, error)

// SetIssuer sets where virtual cards come from; nil: an ephemeral demo CA.
func (v *VirtualReaders) SetIssuer(fn CardIssuer) {
	v.mu.Lock()
	v.issuer = fn
	v.mu.Unlock()
}

type virtualSlot struct {
	name    string
	reader  vcard.VirtualReader
	card    *vcard.Card
	holder  string
	profile vcard.Profile
	kind    device.CardKind
}

// NewVirtualReaders makes one empty virtual reader per name.
func NewVirtualReaders(names ...string) *VirtualReaders {
	v := &VirtualReaders{cards: map[string]*vcard.Card{}}
	for _, n := range names {
		v.slots = append(v.slots, &virtualSlot{name: n})
	}
	return v
}

// Names are the virtual readers' names, in order.
func (v *VirtualReaders) Names() []string {
	var out []string
	for _, s := range v.slots {
		out = append(out, s.name)
	}
	return out
}

func (v *VirtualReaders) slot(name string) *virtualSlot {
	for _, s := range v.slots {
		if s.name == name {
			return s
		}
	}
	return nil
}

// Hold puts holder's virtual card of profile p into reader, issuing it
// first if this session has not yet (RSA key generation: call it on a
// worker), then identifies it as any card is.
func (v *VirtualReaders) Hold(ctx context.Context, reader, holder string, p vcard.Profile) error {
	s := v.slot(reader)
	if s == nil {
		return fmt.Errorf("%w: %s", device.ErrNoReader, reader)
	}
	card, err := v.card(ctx, holder, p)
	if err != nil {
		return err
	}
	s.reader.Insert(card)
	kind, err := device.Identify(ctx, &s.reader)
	card.Reset() // identification selected the AP; start every session clean
	v.mu.Lock()
	s.card, s.holder, s.profile, s.kind = card, holder, p, kind
	v.mu.Unlock()
	return err
}

func (v *VirtualReaders) card(ctx context.Context, holder string, p vcard.Profile) (*vcard.Card, error) {
	key := p.String() + "\x00" + holder
	v.issuing.Lock()
	defer v.issuing.Unlock()
	v.mu.Lock()
	c := v.cards[key]
	if c == nil && v.issuer == nil {
		v.issuer = DemoCardIssuer()
	}
	issue := v.issuer
	v.mu.Unlock()
	if c != nil {
		return c, nil
	}
	cfg, err := issue(ctx, p, holder)
	if err != nil {
		return nil, err
	}
	if c, err = vcard.New(cfg); err != nil {
		return nil, err
	}
	v.mu.Lock()
	v.cards[key] = c
	v.mu.Unlock()
	return c, nil
}

// Remove takes the card out of reader.
func (v *VirtualReaders) Remove(reader string) {
	s := v.slot(reader)
	if s == nil {
		return
	}
	s.reader.Remove()
	v.mu.Lock()
	s.card, s.holder, s.kind = nil, "", device.UnknownCard
	v.mu.Unlock()
}

// Readers lists the virtual readers; it never fails.
func (v *VirtualReaders) Readers(context.Context) ([]ReaderInfo, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []ReaderInfo
	for _, s := range v.slots {
		r := ReaderInfo{Name: s.name, Virtual: true, CardPresent: s.reader.Present()}
		if r.CardPresent {
			r.Kind, r.Identified, r.Holder = s.kind, true, s.holder
		}
		out = append(out, r)
	}
	return out, nil
}

// Open gives the card in reader; closing resets it, so no PIN stays
// verified after the work, as closing a PC/SC connection does.
func (v *VirtualReaders) Open(_ context.Context, reader string) (device.Transport, func(), error) {
	s := v.slot(reader)
	if s == nil {
		return nil, nil, fmt.Errorf("%w: %s", device.ErrNoReader, reader)
	}
	if !s.reader.Present() {
		return nil, nil, device.ErrNoCard
	}
	v.mu.Lock()
	card := s.card
	v.mu.Unlock()
	return &s.reader, func() {
		if card != nil {
			card.Reset()
		}
	}, nil
}

// Signal: a virtual reader has no beeper or light.
func (v *VirtualReaders) Signal(context.Context, string, bool) error { return ErrNoReaderFeedback }

// OnChange does nothing: virtual cards move only through Hold and Remove,
// whose callers refresh what they show.
func (v *VirtualReaders) OnChange(func()) {}

// JoinReaders shows the readers of hw (PC/SC) followed by the virtual
// ones. hw's error (pcscd not running) is returned with the list, which
// still holds the virtual readers.
func JoinReaders(hw ReaderSource, virt *VirtualReaders) ReaderSource {
	return joined{hw, virt}
}

type joined struct {
	hw   ReaderSource
	virt *VirtualReaders
}

func (j joined) Readers(ctx context.Context) ([]ReaderInfo, error) {
	var out []ReaderInfo
	var err error
	if j.hw != nil {
		out, err = j.hw.Readers(ctx)
	}
	vs, _ := j.virt.Readers(ctx)
	return append(out, vs...), err
}

func (j joined) Open(ctx context.Context, reader string) (device.Transport, func(), error) {
	if j.virt.slot(reader) != nil || j.hw == nil {
		return j.virt.Open(ctx, reader)
	}
	return j.hw.Open(ctx, reader)
}

func (j joined) Signal(ctx context.Context, reader string, ok bool) error {
	if j.virt.slot(reader) != nil || j.hw == nil {
		return j.virt.Signal(ctx, reader, ok)
	}
	return j.hw.Signal(ctx, reader, ok)
}

func (j joined) OnChange(fn func()) {
	if j.hw != nil {
		j.hw.OnChange(fn)
	}
}

// DemoCardIssuer issues from a demo CA made on first use and kept in this
// process's memory only. Its certificates say "Demo" in their issuer and
// chain to no trust anchor, so a gate or the bank refuses them ("unknown
// issuer"): it is for trying the readers without a trial CA.
func DemoCardIssuer() CardIssuer {
	var (
		once sync.Once
		ca   *vcard.DemoCA
		err  error
	)
	return func(_ context.Context, p vcard.Profile, holder string) (vcard.Config, error) {
		once.Do(func() { ca, err = vcard.NewDemoCA() })
		if err != nil {
			return vcard.Config{}, err
		}
		return ca.Issue(p, holder)
	}
}

// PassphraseFunc asks staff for the trial CA's passphrase; it runs on a
// worker. The caller wipes the returned bytes once used.
type PassphraseFunc func(ctx context.Context) ([]byte, error)

// ErrPassphraseCancelled: staff closed the passphrase prompt.
var ErrPassphraseCancelled = errors.New("the CA passphrase was not given")

// TrialCardIssuer issues virtual cards from db's trial CA (pki.CA.
// IssueVirtualCard), so the gate, the bank and the provisioning desk on
// this store accept them and `jpkipilot ca revoke` revokes them. The
// passphrase is asked (ask) on the first issue of the run; it is wiped as
// soon as the keys are unsealed and never stored; the unsealed issuing
// keys stay in this process's memory until it exits. A wrong or cancelled
// passphrase fails that hold only: the next one asks again. Each issue
// also publishes a fresh auth CRL when the newest is a day old, so a gate
// on this store can decide, and revokes the virtual cards of earlier
// runs whose keys are gone (pki.CA.ServeVirtualCard). Without a trial CA
// it issues from the demo CA (DemoCardIssuer).
func TrialCardIssuer(db *store.DB, ask PassphraseFunc) CardIssuer {
	return NewTrialIssuer(db, ask).Issue
}

// NewTrialIssuer is TrialCardIssuer for a process that also says when its
// run of virtual cards ends (End).
func NewTrialIssuer(db *store.DB, ask PassphraseFunc) *TrialIssuer {
	return &TrialIssuer{db: db, ask: ask}
}

// TrialIssuer issues the virtual cards of one run (TrialCardIssuer).
type TrialIssuer struct {
	mu    sync.Mutex
	db    *store.DB
	ask   PassphraseFunc
	ca    *pki.CA // unlocked
	demo  CardIssuer
	quiet context.CancelFunc // stops the run's beat
	beat  chan struct{}      // closed when the beat has stopped
}

// Issue is a CardIssuer.
func (t *TrialIssuer) Issue(ctx context.Context, p vcard.Profile, holder string) (vcard.Config, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ca == nil && t.demo == nil {
		ca, err := pki.Open(ctx, t.db)
		switch {
		case errors.Is(err, pki.ErrNotInitialized):
			t.demo = DemoCardIssuer()
		case err != nil:
			return vcard.Config{}, err
		default:
			pass, err := t.ask(ctx)
			if err != nil {
				return vcard.Config{}, err
			}
			err = ca.Unlock(ctx, pass) // Argon2id: seconds, on this worker
			clear(pass)
			if err != nil {
				return vcard.Config{}, err
			}
			t.ca = ca
			// This process is one run of virtual cards (pki/virtualrun.go):
			// it beats while it lives, so another laptop serving cards
			// on the store leaves these alone; once it ends (End) or stops
			// beating, their certificates are revoked by the next run.
			beatCtx, quiet := context.WithCancel(context.WithoutCancel(ctx))
			t.quiet, t.beat = quiet, make(chan struct{})
			go func() { ca.KeepVirtualRun(beatCtx); close(t.beat) }()
		}
	}
	if t.demo != nil {
		return t.demo(ctx, p, holder)
	}
	return t.ca.ServeVirtualCard(ctx, p, holder)
}

// End says the run is over (the window closes): its cards' keys go with
// the process, so the next virtual card served on the store revokes their
// certificates at once instead of after pki.VirtualRunIdle. Nothing to do
// when no trial-CA card was served.
func (t *TrialIssuer) End(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ca == nil {
		return nil
	}
	if t.quiet != nil {
		t.quiet()
		<-t.beat
		t.quiet = nil
	}
	return t.ca.EndVirtualRun(ctx)
}

// AskCAPassphrase is the PassphraseFunc of the GUI: a dialog on w with a
// masked entry. It is called on a worker and waits for staff.
func AskCAPassphrase(w fyne.Window) PassphraseFunc {
	return func(ctx context.Context) ([]byte, error) {
		type answer struct {
			pass []byte
			ok   bool
		}
		ch := make(chan answer, 1)
		var dlg dialog.Dialog
		fyne.Do(func() {
			entry := widget.NewPasswordEntry()
			help := widget.NewLabel(lang.L("readers.ca_passphrase_help"))
			help.Wrapping = fyne.TextWrapWord
			dlg = dialog.NewForm(lang.L("readers.ca_passphrase_title"), lang.L("OK"), lang.L("Cancel"),
				[]*widget.FormItem{
					widget.NewFormItem("", help),
					widget.NewFormItem(lang.L("readers.ca_passphrase"), entry),
				}, func(ok bool) {
					pass := []byte(entry.Text)
					entry.SetText("")
					ch <- answer{pass, ok && len(pass) > 0}
				}, w)
			dlg.Resize(fyne.NewSize(520, dlg.MinSize().Height))
			dlg.Show()
			w.Canvas().Focus(entry)
		})
		select {
		case a := <-ch:
			if !a.ok {
				clear(a.pass)
				return nil, ErrPassphraseCancelled
			}
			return a.pass, nil
		case <-ctx.Done():
			fyne.Do(func() {
				if dlg != nil {
					dlg.Hide()
				}
			})
			return nil, ctx.Err()
		}
	}
}
