package screens

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/device"
	"jpkipilot/pki/jpki"
	"jpkipilot/trial/ticket"
)

// GateChecker decides on the card in a reader (ticket.Gate).
type GateChecker interface {
	Check(ctx context.Context, card *device.Card, detected time.Time, pin jpki.PINFunc) (ticket.Decision, error)
}

// trustRefresher is a GateChecker that can take up a newer CRL from the
// store (ticket.Gate).
type trustRefresher interface {
	RefreshTrust(ctx context.Context) (bool, error)
}

// GateDeps is what the gate kiosk needs.
type GateDeps struct {
	Event   ticket.Event
	Gate    GateChecker
	Readers ReaderSource
	// CRLAge is the age of the CRL the gate holds, shown to staff.
	CRLAge    func() time.Duration
	MaxCRLAge time.Duration
	// Staff checks the staff PIN that leaves the gate.
	Staff  KioskStaff
	OnExit func()
	// PIN asks the phone holder for the auth PIN (NewPINPad).
	PIN jpki.PINFunc
}

// GateKiosk is the entry gate station (入場): full screen, it watches the
// readers, checks every card or phone held to one, says the moment it may
// be taken away, and shows ADMIT or DENY big with the reason.
type GateKiosk struct {
	w    fyne.Window
	deps GateDeps
	root *fyne.Container
	body *fyne.Container

	feedback *readFeedback
	verdict  *canvas.Text
	reason   *widget.Label
	explain  *widget.Label
	guide    *widget.Label
	picture  *holdPicture // where to hold the card on this reader
	pictures *fyne.Container
	progress *widget.ProgressBarInfinite
	crl      *widget.Label

	mu   sync.Mutex
	busy string // reader being checked
	done map[string]bool
}

// NewGateKiosk builds the gate kiosk and starts watching the readers.
func NewGateKiosk(w fyne.Window, deps GateDeps) *GateKiosk {
	g := &GateKiosk{w: w, deps: deps, feedback: newReadFeedback(), done: map[string]bool{}}
	g.verdict = canvas.NewText("", theme.Color(theme.ColorNameForeground))
	g.verdict.TextSize = 96
	g.verdict.TextStyle.Bold = true
	g.verdict.Alignment = fyne.TextAlignCenter
	g.reason = widget.NewLabel("")
	g.reason.Alignment = fyne.TextAlignCenter
	g.reason.TextStyle.Bold = true
	g.reason.SizeName = theme.SizeNameHeadingText
	g.explain = widget.NewLabel("")
	g.explain.Wrapping = fyne.TextWrapWord
	g.guide = widget.NewLabel("")
	g.guide.Wrapping = fyne.TextWrapWord
	g.guide.Alignment = fyne.TextAlignCenter
	g.guide.SizeName = theme.SizeNameSubHeadingText
	g.picture = newHoldPicture(true)
	g.pictures = container.NewCenter(g.picture.content)
	g.progress = widget.NewProgressBarInfinite()
	g.crl = widget.NewLabel("")
	title := widget.NewLabel(lang.L("gate.title", map[string]any{"Event": deps.Event.Name, "Venue": deps.Event.Venue}))
	title.TextStyle.Bold = true
	title.SizeName = theme.SizeNameHeadingText
	exit := widget.NewButton(lang.L("kiosk.exit"), g.RequestExit)
	g.body = container.NewVBox(layout.NewSpacer(), g.guide, g.pictures, g.progress, g.verdict, g.reason, g.feedback.content, g.explain, layout.NewSpacer())
	g.root = container.NewBorder(
		container.NewBorder(nil, nil, nil, exit, title),
		container.NewBorder(nil, nil, nil, nil, g.crl),
		nil, nil, container.NewVScroll(container.NewPadded(g.body))) // a scroll: long text wraps instead of widening the window
	g.showIdle()
	if deps.Readers != nil {
		deps.Readers.OnChange(g.readersChanged)
		g.readersChanged()
	}
	return g
}

// Object is the kiosk's canvas object.
func (g *GateKiosk) Object() fyne.CanvasObject { return g.root }

// RequestExit asks for a staff PIN, then leaves.
func (g *GateKiosk) RequestExit() {
	askStaffPIN(g.w, g.deps.Staff, lang.L("kiosk.exit_title"), func() {
		if g.deps.OnExit != nil {
			g.deps.OnExit()
		}
	})
}

func (g *GateKiosk) showCRL() {
	if g.deps.CRLAge == nil {
		g.crl.SetText("")
		return
	}
	age := g.deps.CRLAge()
	g.crl.SetText(lang.L("gate.crl_age", map[string]any{"Age": roundAge(age), "Max": roundAge(g.deps.MaxCRLAge)}))
	if g.deps.MaxCRLAge > 0 && age > g.deps.MaxCRLAge {
		g.crl.Importance = widget.DangerImportance
	} else {
		g.crl.Importance = widget.LowImportance
	}
	g.crl.Refresh()
}

func roundAge(d time.Duration) string {
	if d >= time.Hour {
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dm", int(d.Minutes()))
}

// showIdle invites the next person: where to hold the card or phone.
func (g *GateKiosk) showIdle() {
	g.guide.SetText(lang.L("gate.where_to_hold"))
	g.guide.Show()
	g.pictures.Show()
	g.progress.Hide()
	g.progress.Stop()
	g.verdict.Text = ""
	g.verdict.Hide()
	g.reason.Hide()
	g.explain.Hide()
	g.feedback.content.Hide()
	g.showCRL()
	g.body.Refresh()
}

// showReading says: keep holding, the card is being read.
func (g *GateKiosk) showReading() {
	g.guide.SetText(lang.L("gate.keep_holding"))
	g.guide.Show()
	g.pictures.Show()
	g.progress.Show()
	g.progress.Start()
	g.verdict.Hide()
	g.reason.Hide()
	g.explain.Hide()
	g.feedback.content.Show()
	g.feedback.busy()
	g.body.Refresh()
}

// showDecision shows ADMIT or DENY with the reason, and after a PIN-less
// check what was checked and what was not.
func (g *GateKiosk) showDecision(d ticket.Decision, signal func(context.Context) error) {
	g.progress.Stop()
	g.progress.Hide()
	g.guide.Hide()
	g.pictures.Hide()
	g.feedback.content.Show()
	g.verdict.Show()
	if d.Admit {
		g.verdict.Text = lang.L("gate.admit")
		g.verdict.Color = theme.Color(theme.ColorNameSuccess)
	} else {
		g.verdict.Text = lang.L("gate.deny")
		g.verdict.Color = theme.Color(theme.ColorNameError)
	}
	g.verdict.Refresh()
	g.reason.SetText(ReasonText(d.Reason))
	g.reason.Show()
	switch d.Method {
	case ticket.MethodCard:
		g.explain.SetText(lang.L("gate.pinless_explained"))
	case ticket.MethodPhone:
		g.explain.SetText(lang.L("gate.phone_explained"))
	}
	g.explain.Show()
	g.showCRL()
	g.body.Refresh()
	// Last: the reader's signal reports back on its own (on a worker
	// under the test driver, which runs fyne.Do where it is called).
	g.feedback.finish(true, signal)
}

// showError is a read that did not come to a decision: hold again.
func (g *GateKiosk) showError(err error, signal func(context.Context) error) {
	g.progress.Stop()
	g.progress.Hide()
	g.feedback.content.Show()
	g.verdict.Hide()
	g.reason.SetText(gateErrorText(err))
	g.reason.Show()
	g.explain.Hide()
	g.guide.SetText(lang.L("gate.where_to_hold"))
	g.guide.Show()
	g.pictures.Show()
	g.body.Refresh()
	g.feedback.finish(false, signal)
}

// ReasonText is the gate reason in the UI language.
func ReasonText(r ticket.Reason) string { return lang.L("gate.reason." + string(r)) }

func gateErrorText(err error) string {
	var wrong *device.WrongPINError
	switch {
	case errors.As(err, &wrong):
		return lang.L("gate.wrong_pin", map[string]any{"Tries": wrong.TriesLeft})
	case errors.Is(err, device.ErrCardRemoved), errors.Is(err, device.ErrNoCard):
		return lang.L("gate.removed_early")
	case errors.Is(err, jpki.ErrPINCancelled):
		return lang.L("gate.pin_cancelled")
	}
	return lang.L("gate.read_failed", map[string]any{"Err": err.Error()})
}

// readersChanged starts a check for each reader that newly holds a card;
// a reader whose card was taken away is ready for the next one.
func (g *GateKiosk) readersChanged() {
	detected := time.Now()
	Run(context.Background(), func(ctx context.Context) ([]ReaderInfo, error) {
		return g.deps.Readers.Readers(ctx)
	}, func(rs []ReaderInfo, _ error) {
		g.picture.showFor(pictureReader(rs))
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, r := range rs {
			if !r.CardPresent {
				if g.done[r.Name] {
					delete(g.done, r.Name)
					if g.busy == "" {
						g.showIdle()
					}
				}
				continue
			}
			if g.done[r.Name] || g.busy != "" {
				continue
			}
			g.busy, g.done[r.Name] = r.Name, true
			g.check(r.Name, detected)
		}
	})
}

// check runs one decision on a worker (on the UI goroutine on entry).
func (g *GateKiosk) check(reader string, detected time.Time) {
	g.showReading()
	src := g.deps.Readers
	Run(context.Background(), func(ctx context.Context) (ticket.Decision, error) {
		t, closeCard, err := src.Open(ctx, reader)
		if err != nil {
			return ticket.Decision{}, err
		}
		defer closeCard()
		if r, ok := g.deps.Gate.(trustRefresher); ok {
			// A CRL published since the last decision (a card just
			// revoked) counts for this one.
			if _, err := r.RefreshTrust(ctx); err != nil {
				return ticket.Decision{}, err
			}
		}
		return g.deps.Gate.Check(ctx, &device.Card{T: t}, detected, g.deps.PIN)
	}, func(d ticket.Decision, err error) {
		g.mu.Lock()
		g.busy = ""
		g.mu.Unlock()
		signal := func(ok bool) func(context.Context) error {
			return func(ctx context.Context) error { return src.Signal(ctx, reader, ok) }
		}
		if err != nil {
			g.showError(err, signal(false))
			g.mu.Lock()
			delete(g.done, reader) // may be held again at once
			g.mu.Unlock()
			return
		}
		g.showDecision(d, signal(d.Admit))
	})
}

// pictureReader names the reader whose picture the gate shows: the first
// hardware reader (people hold cards to that one), else the first.
func pictureReader(rs []ReaderInfo) string {
	for _, r := range rs {
		if !r.Virtual {
			return r.Name
		}
	}
	if len(rs) > 0 {
		return rs[0].Name
	}
	return ""
}
