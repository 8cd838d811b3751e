package screens

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/pki/jpki"
	"jpkipilot/trial"
)

// ReaderInfo is one reader as the readers screen shows it.
type ReaderInfo struct {
	Name        string
	Virtual     bool // an in-process reader holding a virtual card
	CardPresent bool
	// Kind is what device.Identify found; Identified is false while that
	// is still being found out.
	Kind       device.CardKind
	Identified bool
	Holder     string // virtual cards: whose card it is
}

// ReaderSource is the readers the screens can use: PC/SC (the app wires
// device/pcsc in) and virtual ones. Readers returns an error wrapping
// ErrPCSCNotRunning when pcscd is not running — with whatever readers it
// still has (the virtual ones); an empty list when no reader is attached.
type ReaderSource interface {
	Readers(ctx context.Context) ([]ReaderInfo, error)
	// Open connects to the card in reader for one piece of work; call
	// close when done (it resets the card so no PIN stays verified).
	Open(ctx context.Context, reader string) (t device.Transport, close func(), err error)
	// Signal asks reader to beep and light up for a read that finished
	// (ok) or failed; ErrNoReaderFeedback when it cannot.
	Signal(ctx context.Context, reader string, ok bool) error
	// OnChange sets the function called, on any goroutine, when readers
	// or cards change; it replaces any earlier one.
	OnChange(fn func())
}

// MonitorLister lists monitors (whose virtual cards staff can hold).
type MonitorLister interface {
	ListMonitors(ctx context.Context, f trial.Filter) ([]trial.Monitor, error)
}

// ReadersDeps is what the readers screen needs.
type ReadersDeps struct {
	Source   ReaderSource    // all readers, e.g. JoinReaders(pcsc, Virtual)
	Virtual  *VirtualReaders // nil: no virtual card section
	Monitors MonitorLister   // the holders of virtual cards
}

type readersScreen struct {
	w       fyne.Window
	deps    ReadersDeps
	pin     jpki.PINFunc
	state   *widget.Label
	list    *widget.List
	readers []ReaderInfo
	traces  map[string][]string // per reader, the last card action's APDUs

	selected string
	title    *widget.Label
	check    *widget.Button
	checkPIN *widget.Button
	fb       *readFeedback
	result   *widget.Label
	trace    *widget.Label

	// virtual card section
	monitors []trial.Monitor
	holder   *monitorPicker
	profile  *widget.RadioGroup
	hold     *widget.Button
	remove   *widget.Button
	vstate   *widget.Label

	content fyne.CanvasObject
}

// NewReaders shows the readers, whether a card is present and what it is,
// lets staff check a card (token, PIN tries left, auth certificate) and
// hold a monitor's virtual card when there is no hardware.
func NewReaders(w fyne.Window, deps ReadersDeps) fyne.CanvasObject {
	return newReadersScreen(w, deps).content
}

func newReadersScreen(w fyne.Window, deps ReadersDeps) *readersScreen {
	s := &readersScreen{w: w, deps: deps, pin: NewPINPad(w), traces: map[string][]string{},
		state: widget.NewLabel(""), trace: widget.NewLabel(""), result: widget.NewLabel(""), fb: newReadFeedback()}
	s.state.Wrapping = textWrap()
	s.trace.TextStyle.Monospace = true
	s.result.Wrapping = fyne.TextWrapWord
	s.list = widget.NewList(
		func() int { return len(s.readers) },
		func() fyne.CanvasObject {
			return container.New(columns{0.3, 3, 4}, widget.NewIcon(theme.ComputerIcon()), widget.NewLabel(""), widget.NewLabel(""))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			r := s.readers[i]
			row := o.(*fyne.Container)
			icon := theme.ComputerIcon()
			if r.Virtual {
				icon = theme.StorageIcon()
			}
			row.Objects[0].(*widget.Icon).SetResource(icon)
			row.Objects[1].(*widget.Label).SetText(clipText(r.Name, 26))
			row.Objects[2].(*widget.Label).SetText(clipText(cardText(r), 21))
		})
	s.list.OnSelected = func(i widget.ListItemID) {
		if i < len(s.readers) {
			s.selectReader(s.readers[i].Name)
		}
	}
	refresh := widget.NewButtonWithIcon(lang.L("readers.refresh"), theme.ViewRefreshIcon(), s.refresh)
	left := container.NewBorder(container.NewVBox(
		container.NewHBox(boldLabel(lang.L("readers.title")), refresh), s.state),
		s.virtualSection(), nil, nil, s.list)

	s.title = boldLabel(lang.L("readers.pick"))
	s.check = widget.NewButtonWithIcon(lang.L("readers.check"), theme.SearchIcon(), func() { s.runCheck(false) })
	s.check.Importance = widget.HighImportance
	s.checkPIN = widget.NewButtonWithIcon(lang.L("readers.check_pin"), theme.AccountIcon(), func() { s.runCheck(true) })
	right := container.NewBorder(container.NewVBox(s.title, container.NewHBox(s.check, s.checkPIN), s.fb.content, s.result,
		boldLabel(lang.L("readers.trace"))), nil, nil, nil, container.NewVScroll(s.trace))
	split := container.NewHSplit(left, right)
	split.Offset = 0.5
	s.content = split
	s.selectReader("")
	if deps.Source != nil {
		deps.Source.OnChange(func() { fyne.Do(s.refresh) })
	}
	s.refresh()
	return s
}

func (s *readersScreen) virtualSection() fyne.CanvasObject {
	if s.deps.Virtual == nil {
		return container.NewVBox()
	}
	s.holder = newMonitorPicker(lang.L("readers.virtual_pick"), nil)
	s.profile = widget.NewRadioGroup([]string{lang.L("readers.profile_mynumber"), lang.L("readers.profile_phone")}, nil)
	s.profile.Horizontal = true
	s.profile.SetSelected(lang.L("readers.profile_mynumber"))
	s.hold = widget.NewButtonWithIcon(lang.L("readers.virtual_hold"), theme.LoginIcon(), s.holdCard)
	s.remove = widget.NewButtonWithIcon(lang.L("readers.virtual_remove"), theme.LogoutIcon(), func() {
		s.deps.Virtual.Remove(s.virtualReader())
		s.vstate.SetText("")
		s.refresh()
	})
	s.vstate = widget.NewLabel("")
	s.vstate.Wrapping = textWrap()
	help := widget.NewLabel(lang.L("readers.virtual_help"))
	help.Wrapping = textWrap()
	return container.NewVBox(widget.NewSeparator(), boldLabel(lang.L("readers.virtual_title")), help,
		widget.NewForm(widget.NewFormItem(lang.L("readers.virtual_holder"), s.holder.entry),
			widget.NewFormItem(lang.L("readers.virtual_profile"), s.profile)),
		container.NewHBox(s.hold, s.remove), s.vstate)
}

// virtualReader is the virtual reader the card goes into: the selected
// one if it is virtual, else the first.
func (s *readersScreen) virtualReader() string {
	names := s.deps.Virtual.Names()
	for _, n := range names {
		if n == s.selected {
			return n
		}
	}
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// activeMonitors lists the monitors who may hold a virtual card.
func activeMonitors(ctx context.Context, l MonitorLister) ([]trial.Monitor, error) {
	ms, err := l.ListMonitors(ctx, trial.Filter{})
	var active []trial.Monitor
	for _, m := range ms {
		if m.Status != trial.StatusWithdrawn {
			active = append(active, m)
		}
	}
	return active, err
}

func (s *readersScreen) showMonitors(ms []trial.Monitor) {
	s.monitors = ms
	s.holder.setMonitors(ms)
}

// holdCard puts the chosen monitor's virtual card into the virtual reader
// (issuing it on a worker: key generation takes a moment).
func (s *readersScreen) holdCard() {
	m, ok := s.holder.selected()
	if !ok {
		s.vstate.SetText(lang.L("readers.virtual_pick"))
		return
	}
	holder, reader := m.ID, s.virtualReader()
	p := vcard.MyNumber
	if s.profile.Selected == lang.L("readers.profile_phone") {
		p = vcard.Phone
	}
	s.hold.Disable()
	s.vstate.SetText(lang.L("readers.virtual_issuing"))
	Run(context.Background(), func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.deps.Virtual.Hold(ctx, reader, holder, p)
	}, func(_ struct{}, err error) {
		s.hold.Enable()
		if err != nil {
			s.vstate.SetText(err.Error())
			return
		}
		s.vstate.SetText(lang.L("readers.virtual_held", map[string]any{"Holder": holder, "Reader": reader}))
		s.selected = reader
		s.refresh()
	})
}

// cardText is the card column: none, or present with its type and holder.
func cardText(r ReaderInfo) string {
	if !r.CardPresent {
		return lang.L("readers.no_card")
	}
	if !r.Identified {
		return lang.L("readers.card_present") + " · " + cardKindName(r)
	}
	t := cardKindName(r) // a type means a card is there
	if r.Holder != "" {
		t += " · " + r.Holder
	}
	return t
}

func cardKindName(r ReaderInfo) string {
	if !r.Identified {
		return lang.L("cardkind.identifying")
	}
	switch r.Kind {
	case device.MyNumberCard:
		return lang.L("cardkind.mynumber")
	case device.PhoneToken:
		return lang.L("cardkind.phone")
	case device.OtherJPKI:
		return lang.L("cardkind.other_jpki")
	}
	return lang.L("cardkind.unknown")
}

func (s *readersScreen) refresh() {
	if s.deps.Source == nil {
		s.state.SetText(lang.L("readers.none"))
		return
	}
	s.state.SetText(lang.L("readers.looking"))
	type found struct {
		readers  []ReaderInfo
		monitors []trial.Monitor
		loaded   bool
		monErr   error
	}
	// One worker for both lists: their results land in one UI update.
	needMonitors := s.holder != nil && s.monitors == nil && s.deps.Monitors != nil
	Run(context.Background(), func(ctx context.Context) (found, error) {
		var f found
		if needMonitors {
			f.monitors, f.monErr = activeMonitors(ctx, s.deps.Monitors)
			f.loaded = f.monErr == nil
		}
		var err error
		f.readers, err = s.deps.Source.Readers(ctx)
		return f, err
	}, func(f found, err error) {
		if f.loaded {
			s.showMonitors(f.monitors)
		} else if f.monErr != nil {
			s.vstate.SetText(f.monErr.Error()) // the readers still show
		}
		rs := f.readers
		s.readers = rs
		hw := 0
		for _, r := range rs {
			if !r.Virtual {
				hw++
			}
		}
		switch {
		case errors.Is(err, ErrPCSCNotRunning):
			s.state.SetText(lang.L("readers.no_pcscd"))
		case err != nil:
			s.state.SetText(lang.L("readers.unavailable", map[string]any{"Err": err.Error()}))
		case hw == 0:
			s.state.SetText(lang.L("readers.none"))
		default:
			s.state.SetText(lang.L("readers.count", map[string]any{"N": hw}))
		}
		s.list.Refresh()
		sel := -1
		for i, r := range rs {
			if r.Name == s.selected {
				sel = i
			}
		}
		if sel < 0 {
			for i, r := range rs {
				if r.CardPresent {
					sel = i
					break
				}
			}
		}
		if sel >= 0 {
			s.list.Select(sel)
			s.selectReader(rs[sel].Name)
		} else {
			s.list.UnselectAll()
			s.selectReader("")
		}
	})
}

// selectReader shows name's details on the right.
func (s *readersScreen) selectReader(name string) {
	if name != s.selected {
		s.result.SetText("")
		s.fb.busy()
		s.fb.label.SetText("")
	}
	s.selected = name
	present := false
	for _, r := range s.readers {
		if r.Name == name {
			present = r.CardPresent
		}
	}
	if name == "" {
		s.title.SetText(lang.L("readers.pick"))
	} else {
		s.title.SetText(name)
	}
	if present {
		s.check.Enable()
		s.checkPIN.Enable()
	} else {
		s.check.Disable()
		s.checkPIN.Disable()
	}
	if tr := s.traces[name]; len(tr) > 0 {
		s.trace.SetText(strings.Join(tr, "\n"))
	} else {
		s.trace.SetText(lang.L("readers.no_trace"))
	}
}

// runCheck reads the card in the selected reader on a worker. Only the
// PIN action asks for a PIN.
func (s *readersScreen) runCheck(withPIN bool) {
	name := s.selected
	if name == "" {
		return
	}
	var pin jpki.PINFunc
	if withPIN {
		pin = s.pin
	}
	s.check.Disable()
	s.checkPIN.Disable()
	s.result.SetText("")
	s.fb.busy()
	Run(context.Background(), func(ctx context.Context) (CardCheck, error) {
		t, closeCard, err := s.deps.Source.Open(ctx, name)
		if err != nil {
			return CardCheck{}, err
		}
		defer closeCard()
		return checkCard(ctx, t, pin, lang.L("readers.pin_purpose"))
	}, func(res CardCheck, err error) {
		s.check.Enable()
		s.checkPIN.Enable()
		if len(res.Trace) > 0 {
			s.traces[name] = traceLines(res.Trace)
		}
		if name == s.selected {
			s.selectReader(name)
		}
		if errors.Is(err, jpki.ErrPINCancelled) || errors.Is(err, context.Canceled) {
			s.fb.label.SetText(lang.L("readers.pin_cancelled"))
			s.result.SetText(checkText(res))
			return
		}
		s.result.SetText(checkText(res))
		if err != nil {
			s.result.SetText(strings.TrimSpace(checkText(res) + "\n" + cardErrorText(err)))
		}
		src := s.deps.Source
		s.fb.finish(err == nil, func(ctx context.Context) error { return src.Signal(ctx, name, err == nil) })
	})
}

// checkText lays a card check out line by line.
func checkText(c CardCheck) string {
	if c.Token.Label == "" {
		return ""
	}
	var lines []string
	kind := lang.L("cardkind.unknown")
	switch c.Token.Kind {
	case jpki.MyNumberCard:
		kind = lang.L("cardkind.mynumber")
	case jpki.PhoneToken:
		kind = lang.L("cardkind.phone")
	}
	lines = append(lines, lang.L("check.token", map[string]any{"Label": c.Token.Label, "Kind": kind}))
	lines = append(lines, lang.L("check.auth_pin", map[string]any{"Status": pinStatusText(c.Auth)}))
	if c.Sign.Kind != 0 {
		lines = append(lines, lang.L("check.sign_pin", map[string]any{"Status": pinStatusText(c.Sign)}))
	} else {
		lines = append(lines, lang.L("check.sign_none"))
	}
	switch {
	case c.AuthCert != nil:
		lines = append(lines, lang.L("check.auth_cert", map[string]any{
			"Subject": c.AuthCert.Subject.String(), "Serial": fmt.Sprintf("%X", c.AuthCert.SerialNumber),
			"Until": c.AuthCert.NotAfter.Format("2006-01-02")}))
	case c.AuthCertNeedsPIN:
		lines = append(lines, lang.L("check.auth_cert_pin"))
	}
	if c.PINVerified {
		lines = append(lines, lang.L("check.pin_ok"))
	}
	lines = append(lines, lang.L("check.apdus", map[string]any{"N": c.APDUs}))
	return strings.Join(lines, "\n")
}

func pinStatusText(st jpki.PINStatus) string {
	switch {
	case st.Blocked:
		return lang.L("check.pin_blocked")
	case st.Verified:
		return lang.L("check.pin_verified")
	}
	return lang.L("check.pin_tries", map[string]any{"N": st.TriesLeft, "Max": st.Max})
}

// cardErrorText explains a failed card action; a wrong PIN shows the tries left.
func cardErrorText(err error) string {
	var wrong *device.WrongPINError
	switch {
	case errors.As(err, &wrong):
		if wrong.TriesLeft == 0 {
			return lang.L("check.pin_now_blocked")
		}
		return lang.L("check.pin_wrong", map[string]any{"N": wrong.TriesLeft})
	case errors.Is(err, device.ErrBlocked):
		return lang.L("check.pin_blocked_nothing_sent")
	case errors.Is(err, device.ErrCardRemoved), errors.Is(err, device.ErrNoCard):
		return lang.L("check.removed")
	case errors.Is(err, jpki.ErrNotJPKI):
		return lang.L("check.not_jpki")
	}
	return lang.L("check.failed", map[string]any{"Err": err.Error()})
}
