package screens

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/device"
	"jpkipilot/pki/jpki"
	"jpkipilot/trial/ticket"
)

// TicketDesk is what the ticket page needs (ticket.Service).
type TicketDesk interface {
	SeedDemo(ctx context.Context) error
	Events(ctx context.Context) ([]ticket.Event, error)
	Apply(ctx context.Context, eventID string, card *device.Card, pin jpki.PINFunc) (ticket.Ticket, error)
	Buy(ctx context.Context, eventID string, card *device.Card, p ticket.Payment) (ticket.Receipt, error)
	ReadWithoutPIN(ctx context.Context, card *device.Card) (*x509.Certificate, error)
	TicketsOf(ctx context.Context, cert *x509.Certificate) ([]ticket.Ticket, error)
	Transfer(ctx context.Context, ticketID int64, owner *x509.Certificate, companion *device.Card, pin jpki.PINFunc) (ticket.Ticket, error)
}

// TicketsDeps is what the ticket page needs besides the window.
type TicketsDeps struct {
	Desk    TicketDesk
	Readers ReaderSource
	PIN     jpki.PINFunc // nil: the PIN pad
}

// ticketsScreen is the staff page of the ticketless-service demo: the
// event, the reader, and the three steps 申込, 購入 and 同行者へ受渡.
type ticketsScreen struct {
	w        fyne.Window
	deps     TicketsDeps
	events   []ticket.Event
	event    *widget.Select
	reader   *widget.Select
	picture  *holdPicture // where to hold the card on the chosen reader
	result   *widget.Label
	feedback *readFeedback
	number   *widget.Entry
	expiry   *widget.Entry
	owned    *widget.Select
	ownerTix []ticket.Ticket
	owner    *x509.Certificate
	content  fyne.CanvasObject
}

// NewTickets builds the ticket page.
func NewTickets(w fyne.Window, deps TicketsDeps) fyne.CanvasObject {
	return newTicketsScreen(w, deps).content
}

func newTicketsScreen(w fyne.Window, deps TicketsDeps) *ticketsScreen {
	if deps.PIN == nil {
		deps.PIN = NewPINPad(w)
	}
	s := &ticketsScreen{w: w, deps: deps, feedback: newReadFeedback()}
	s.event = widget.NewSelect(nil, nil)
	s.picture = newHoldPicture(true)
	s.reader = widget.NewSelect(nil, func(r string) { s.picture.showFor(r) })
	s.result = widget.NewLabel("")
	s.result.Wrapping = fyne.TextWrapWord
	s.number = widget.NewEntry()
	s.number.SetPlaceHolder("4111 1111 1111 1111")
	s.expiry = widget.NewEntry()
	s.expiry.SetPlaceHolder("MM/YY")
	s.owned = widget.NewSelect(nil, nil)

	apply := widget.NewButton(lang.L("tickets.apply_button"), s.apply)
	apply.Importance = widget.HighImportance
	buy := widget.NewButton(lang.L("tickets.buy_button"), s.buy)
	buy.Importance = widget.HighImportance
	readOwner := widget.NewButton(lang.L("tickets.owner_button"), s.readOwner)
	give := widget.NewButton(lang.L("tickets.transfer_button"), s.transfer)
	give.Importance = widget.HighImportance

	tabs := container.NewAppTabs(
		container.NewTabItem(lang.L("tickets.apply"), container.NewVBox(wrapped(lang.L("tickets.apply_help")), apply)),
		container.NewTabItem(lang.L("tickets.buy"), container.NewVBox(wrapped(lang.L("tickets.buy_help")),
			widget.NewForm(widget.NewFormItem(lang.L("tickets.card_number"), s.number), widget.NewFormItem(lang.L("tickets.expiry"), s.expiry)), buy)),
		container.NewTabItem(lang.L("tickets.transfer"), container.NewVBox(wrapped(lang.L("tickets.transfer_help")),
			readOwner, s.owned, give)),
	)
	head := container.NewVBox(
		widget.NewForm(widget.NewFormItem(lang.L("tickets.event"), s.event), widget.NewFormItem(lang.L("tickets.reader"), s.reader)),
		s.picture.content)
	s.content = container.NewBorder(head, container.NewVBox(s.feedback.content, s.result), nil, nil, tabs)
	s.feedback.content.Hide()
	s.load()
	if deps.Readers != nil {
		// Readers come and go (a PaSoRi plugged in, pcscd restarted): follow
		// them as the Readers panel does.
		deps.Readers.OnChange(s.loadReaders)
	}
	return s
}

func (s *ticketsScreen) load() {
	Run(context.Background(), func(ctx context.Context) (struct {
		events  []ticket.Event
		readers []ReaderInfo
	}, error) {
		var r struct {
			events  []ticket.Event
			readers []ReaderInfo
		}
		err := s.deps.Desk.SeedDemo(ctx)
		if err != nil {
			return r, err
		}
		if r.events, err = s.deps.Desk.Events(ctx); err != nil {
			return r, err
		}
		r.readers, err = readersOf(ctx, s.deps.Readers)
		return r, err
	}, func(r struct {
		events  []ticket.Event
		readers []ReaderInfo
	}, err error) {
		if err != nil {
			s.result.SetText(errorText(err))
			return
		}
		s.events = r.events
		var names []string
		for _, e := range r.events {
			names = append(names, fmt.Sprintf("%s（%s）", e.Name, e.StartsAt.In(jstZone).Format("2006-01-02 15:04")))
		}
		s.event.SetOptions(names)
		if len(names) > 0 {
			s.event.SetSelectedIndex(0)
		}
		s.showReaders(r.readers)
	})
}

// readersOf lists the readers; pcscd not running is no error here (the
// virtual reader still works).
func readersOf(ctx context.Context, src ReaderSource) ([]ReaderInfo, error) {
	rs, err := src.Readers(ctx)
	if errors.Is(err, ErrPCSCNotRunning) {
		err = nil
	}
	return rs, err
}

// loadReaders reads the reader list again (called on any goroutine when
// readers or cards change).
func (s *ticketsScreen) loadReaders() {
	Run(context.Background(), func(ctx context.Context) ([]ReaderInfo, error) {
		return readersOf(ctx, s.deps.Readers)
	}, func(rs []ReaderInfo, err error) {
		if err != nil {
			s.result.SetText(errorText(err))
			return
		}
		s.showReaders(rs)
	})
}

// showReaders offers the readers; the chosen one stays chosen while it is
// there, else the first is chosen (none when there is none).
func (s *ticketsScreen) showReaders(rs []ReaderInfo) {
	var names []string
	for _, rd := range rs {
		names = append(names, rd.Name)
	}
	chosen := s.reader.Selected
	s.reader.SetOptions(names)
	switch {
	case slices.Contains(names, chosen):
		if s.reader.Selected != chosen {
			s.reader.SetSelected(chosen)
		}
	case len(names) > 0:
		s.reader.SetSelectedIndex(0)
	default:
		s.reader.ClearSelected()
	}
}

var jstZone = time.FixedZone("JST", 9*3600)

func (s *ticketsScreen) eventID() string {
	if i := s.event.SelectedIndex(); i >= 0 && i < len(s.events) {
		return s.events[i].ID
	}
	return ""
}

// withCard runs work on the card in the chosen reader on a worker, with the
// reading signal, and reports on the UI goroutine.
func withCard[T any](s *ticketsScreen, work func(ctx context.Context, card *device.Card) (T, error), done func(T, error)) {
	reader := s.reader.Selected
	if reader == "" || s.eventID() == "" {
		s.result.SetText(lang.L("tickets.choose_first"))
		return
	}
	s.feedback.content.Show()
	s.feedback.busy()
	s.result.SetText("")
	src := s.deps.Readers
	Run(context.Background(), func(ctx context.Context) (T, error) {
		var zero T
		t, closeCard, err := src.Open(ctx, reader)
		if err != nil {
			return zero, err
		}
		defer closeCard()
		return work(ctx, &device.Card{T: t})
	}, func(v T, err error) {
		s.feedback.finish(err == nil, func(ctx context.Context) error { return src.Signal(ctx, reader, err == nil) })
		done(v, err)
	})
}

func (s *ticketsScreen) fail(err error) { s.result.SetText(ticketErrorText(err)) }

func ticketErrorText(err error) string {
	var wrong *device.WrongPINError
	if errors.As(err, &wrong) {
		return lang.L("gate.wrong_pin", map[string]any{"Tries": wrong.TriesLeft})
	}
	return errorText(err)
}

func (s *ticketsScreen) apply() {
	ev := s.eventID()
	withCard(s, func(ctx context.Context, card *device.Card) (ticket.Ticket, error) {
		return s.deps.Desk.Apply(ctx, ev, card, s.deps.PIN)
	}, func(t ticket.Ticket, err error) {
		if err != nil {
			s.fail(err)
			return
		}
		s.result.SetText(lang.L("tickets.applied", map[string]any{"ID": t.ID, "Serial": t.CertSerial}))
	})
}

func (s *ticketsScreen) buy() {
	ev := s.eventID()
	p := ticket.Payment{Number: s.number.Text, Expiry: s.expiry.Text}
	withCard(s, func(ctx context.Context, card *device.Card) (ticket.Receipt, error) {
		return s.deps.Desk.Buy(ctx, ev, card, p)
	}, func(r ticket.Receipt, err error) {
		s.number.SetText("") // the number is not kept, not even on screen
		if err != nil {
			s.fail(err)
			return
		}
		s.result.SetText(lang.L("tickets.receipt", map[string]any{"Receipt": r.Number, "Amount": r.Amount, "Last4": r.Last4}))
	})
}

// readOwner reads the owner's card without PIN and lists their tickets.
func (s *ticketsScreen) readOwner() {
	type owned struct {
		cert *x509.Certificate
		tix  []ticket.Ticket
	}
	withCard(s, func(ctx context.Context, card *device.Card) (owned, error) {
		cert, err := s.deps.Desk.ReadWithoutPIN(ctx, card)
		if err != nil {
			return owned{}, err
		}
		tix, err := s.deps.Desk.TicketsOf(ctx, cert)
		return owned{cert, tix}, err
	}, func(o owned, err error) {
		if err != nil {
			s.fail(err)
			return
		}
		s.owner, s.ownerTix = o.cert, nil
		var opts []string
		for _, t := range o.tix {
			if t.EnteredAt.Valid {
				continue
			}
			s.ownerTix = append(s.ownerTix, t)
			opts = append(opts, lang.L("tickets.ticket_option", map[string]any{"ID": t.ID, "Event": t.EventID}))
		}
		s.owned.SetOptions(opts)
		if len(opts) == 0 {
			s.result.SetText(lang.L("tickets.owner_none"))
			return
		}
		s.owned.SetSelectedIndex(0)
		s.result.SetText(lang.L("tickets.owner_read", map[string]any{"Count": len(opts)}))
	})
}

func (s *ticketsScreen) transfer() {
	i := s.owned.SelectedIndex()
	if s.owner == nil || i < 0 || i >= len(s.ownerTix) {
		s.result.SetText(lang.L("tickets.owner_first"))
		return
	}
	id, owner := s.ownerTix[i].ID, s.owner
	withCard(s, func(ctx context.Context, card *device.Card) (ticket.Ticket, error) {
		return s.deps.Desk.Transfer(ctx, id, owner, card, s.deps.PIN)
	}, func(t ticket.Ticket, err error) {
		if err != nil {
			s.fail(err)
			return
		}
		s.owner, s.ownerTix = nil, nil
		s.owned.SetOptions(nil)
		s.result.SetText(lang.L("tickets.transferred", map[string]any{"ID": t.ID, "Serial": t.CertSerial}))
	})
}

func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}
