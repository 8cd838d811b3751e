package screens

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/device"
	"jpkipilot/pki/jpki"
	"jpkipilot/trial"
	"jpkipilot/trial/provision"
	"jpkipilot/trial/store"
)

// ProvisionDeps is what the provisioning (counter terminal) page needs.
type ProvisionDeps struct {
	Desk    *provision.Desk
	Readers ReaderSource
	Staff   string // who runs the desk, recorded on each run
}

// provisionSteps are the checklist rows, in the order the flow does them.
var provisionSteps = []provision.Step{
	provision.StepProofed, provision.StepChannel, provision.StepKeyGen, provision.StepIssued,
	provision.StepStored, provision.StepPIN, provision.StepCommitted, provision.StepVerified, provision.StepLinked,
}

type stepState int

const (
	stepPending stepState = iota
	stepRunning
	stepDone
	stepFailed
)

type provisionScreen struct {
	w    fyne.Window
	deps ProvisionDeps

	loans      []trial.Loan
	loanSel    *widget.Select
	cardReader *widget.Select
	phoneRdr   *widget.Select
	pass       *widget.Entry
	start      *widget.Button
	status     *widget.Label
	guide      *widget.Label
	held       *widget.Button // "it is on the reader" when the reader is shared
	rows       map[provision.Step]*widget.Label
	failBox    *fyne.Container
	failText   *widget.Label
	resume     *widget.Button
	rollback   *widget.Button
	reason     *widget.Entry // why a return could not be completed
	returnBtn  *widget.Button
	returnText *widget.Label
	iosBtn     *widget.Button
	stop       *widget.Button // cancels the card work in flight
	cancel     context.CancelFunc
	iosText    *widget.Label
	content    fyne.CanvasObject

	heldCh  chan struct{}
	running bool
	// padShown sees each PIN pad once it is shown (tests type into it);
	// swapShown is called once the swap guidance is on screen.
	padShown  func(*pinPad)
	swapShown func()
}

// NewProvision is the counter terminal: it writes the monitor's user-
// authentication key and certificate into the SIM of a lent Android phone
// (identity proofing with the My Number card first), step by step with a
// checklist, and offers resume and rollback when a step fails, and the
// loan's return (revoke, CRL, wipe).
func NewProvision(w fyne.Window, deps ProvisionDeps) fyne.CanvasObject {
	return newProvisionScreen(w, deps).content
}

func newProvisionScreen(w fyne.Window, deps ProvisionDeps) *provisionScreen {
	s := &provisionScreen{w: w, deps: deps, rows: map[provision.Step]*widget.Label{}, heldCh: make(chan struct{}, 1)}
	s.loanSel = widget.NewSelect(nil, func(string) { s.loadStatus() })
	s.loanSel.PlaceHolder = lang.L("provision.pick_loan")
	s.cardReader = widget.NewSelect(nil, nil)
	s.cardReader.PlaceHolder = lang.L("provision.pick_reader")
	s.phoneRdr = widget.NewSelect(nil, nil)
	s.phoneRdr.PlaceHolder = lang.L("provision.pick_reader")
	s.pass = widget.NewPasswordEntry()
	s.pass.SetPlaceHolder(lang.L("provision.passphrase_hint"))
	s.start = widget.NewButtonWithIcon(lang.L("provision.start"), theme.MediaPlayIcon(), s.startRun)
	s.start.Importance = widget.HighImportance
	s.status = widget.NewLabel(lang.L("provision.no_loan"))
	s.status.Wrapping = fyne.TextWrapWord
	s.guide = widget.NewLabel("")
	s.guide.Wrapping = fyne.TextWrapWord
	s.guide.TextStyle = fyne.TextStyle{Bold: true}
	s.held = widget.NewButton(lang.L("provision.held"), func() {
		select {
		case s.heldCh <- struct{}{}:
		default:
		}
	})
	s.held.Hide()
	s.stop = widget.NewButtonWithIcon(lang.L("provision.stop"), theme.CancelIcon(), func() {
		if s.cancel != nil {
			s.cancel()
		}
	})
	s.stop.Hide()
	list := container.NewVBox()
	for _, st := range provisionSteps {
		l := widget.NewLabel("")
		s.rows[st] = l
		list.Add(l)
	}
	s.resetRows(provision.StepNone)
	s.failText = widget.NewLabel("")
	s.failText.Wrapping = fyne.TextWrapWord
	s.failText.Importance = widget.DangerImportance
	s.resume = widget.NewButtonWithIcon(lang.L("provision.resume"), theme.MediaReplayIcon(), s.startRun)
	s.rollback = widget.NewButtonWithIcon(lang.L("provision.rollback"), theme.ContentUndoIcon(), s.runRollback)
	s.failBox = container.NewVBox(s.failText, container.NewHBox(s.resume, s.rollback))
	s.failBox.Hide()
	s.reason = widget.NewEntry()
	s.reason.SetPlaceHolder(lang.L("provision.return_reason"))
	s.returnBtn = widget.NewButtonWithIcon(lang.L("provision.return"), theme.MailReplyIcon(), s.runReturn)
	s.returnText = widget.NewLabel("")
	s.returnText.Wrapping = fyne.TextWrapWord
	s.iosBtn = widget.NewButtonWithIcon(lang.L("provision.ios_csr"), theme.FileIcon(), s.pickCSR)
	s.iosText = widget.NewLabel("")
	s.iosText.Wrapping = fyne.TextWrapWord

	form := widget.NewForm(
		widget.NewFormItem(lang.L("provision.loan"), s.loanSel),
		widget.NewFormItem(lang.L("provision.card_reader"), s.cardReader),
		widget.NewFormItem(lang.L("provision.phone_reader"), s.phoneRdr),
		widget.NewFormItem(lang.L("provision.passphrase"), s.pass),
	)
	left := container.NewVBox(
		widget.NewLabelWithStyle(lang.L("provision.title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		form, s.start, s.status,
		widget.NewSeparator(),
		widget.NewLabelWithStyle(lang.L("provision.return_title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		s.reason, s.returnBtn, s.returnText,
		widget.NewSeparator(),
		widget.NewLabelWithStyle(lang.L("provision.ios_title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		s.iosBtn, s.iosText,
	)
	right := container.NewVBox(
		widget.NewLabelWithStyle(lang.L("provision.steps"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		list, s.guide, container.NewHBox(s.held, s.stop), s.failBox,
	)
	split := container.NewHSplit(container.NewVScroll(left), container.NewVScroll(right))
	split.Offset = 0.55 // the steps need little width; the form's placeholders more
	s.content = split
	s.reload()
	return s
}

type provisionChoices struct {
	loans   []trial.Loan
	readers []string
}

// reload lists the open loans and the readers.
func (s *provisionScreen) reload() {
	Run(context.Background(), func(ctx context.Context) (provisionChoices, error) {
		var c provisionChoices
		var err error
		if c.loans, err = s.deps.Desk.Loans.ListLoans(ctx, trial.LoanFilter{Open: true}); err != nil {
			return c, err
		}
		if s.deps.Readers != nil {
			rs, err := s.deps.Readers.Readers(ctx)
			for _, r := range rs {
				c.readers = append(c.readers, r.Name)
			}
			if err != nil && len(rs) == 0 {
				return c, err
			}
		}
		return c, nil
	}, func(c provisionChoices, err error) {
		if err != nil {
			s.status.SetText(err.Error())
			return
		}
		s.loans = c.loans
		opts := make([]string, len(c.loans))
		for i, l := range c.loans {
			opts[i] = loanChoice(l)
		}
		s.loanSel.SetOptions(opts)
		s.cardReader.SetOptions(c.readers)
		s.phoneRdr.SetOptions(c.readers)
		if len(c.readers) > 0 {
			if s.cardReader.Selected == "" {
				s.cardReader.SetSelected(c.readers[0])
			}
			if s.phoneRdr.Selected == "" {
				s.phoneRdr.SetSelected(c.readers[len(c.readers)-1])
			}
		}
	})
}

// loanChoice is how a loan appears in the picker: who has which phone and SIM.
func loanChoice(l trial.Loan) string {
	return lang.L("provision.loan_choice", map[string]any{
		"ID": trial.FormatLoanID(l.ID), "Monitor": l.MonitorID, "Phone": l.Phone, "SIM": l.SIM})
}

func (s *provisionScreen) loan() (trial.Loan, bool) {
	i := s.loanSel.SelectedIndex()
	if i < 0 || i >= len(s.loans) {
		return trial.Loan{}, false
	}
	return s.loans[i], true
}

type provisionState struct {
	rec *provision.Record
	evs []provision.Event
}

// loadStatus shows the picked loan's provisioning status and checklist.
func (s *provisionScreen) loadStatus() {
	l, ok := s.loan()
	if !ok {
		return
	}
	Run(context.Background(), func(ctx context.Context) (provisionState, error) {
		rec, evs, err := s.deps.Desk.ForLoan(ctx, l.ID)
		if errors.Is(err, store.ErrNotFound) {
			return provisionState{}, nil
		}
		return provisionState{rec, evs}, err
	}, func(st provisionState, err error) {
		if err != nil {
			s.status.SetText(err.Error())
			return
		}
		s.showState(st)
	})
}

// showState puts a run's record onto the page: the status line, the
// checklist as far as the run got and, for a failed run, the failure with
// the applet state and Resume / Roll back.
func (s *provisionScreen) showState(st provisionState) {
	s.failBox.Hide()
	if st.rec == nil {
		s.status.SetText(lang.L("provision.status_none"))
		s.resetRows(provision.StepNone)
		return
	}
	r := st.rec
	s.status.SetText(lang.L("provision.status", map[string]any{
		"Status": provStatusName(r.Status), "Step": provStepName(r.Step), "Applet": appletStateName(r.AppletState),
		"Serial": orDash(r.CertSerial), "At": r.UpdatedAt.In(trial.JST).Format("2006-01-02 15:04")}))
	s.resetRows(r.Step)
	if r.Status != provision.StatusFailed {
		return
	}
	failed, why := provision.Step(""), ""
	for i := len(st.evs) - 1; i >= 0; i-- {
		if !st.evs[i].OK {
			failed, why = provision.Step(st.evs[i].Step), st.evs[i].Detail
			break
		}
	}
	s.setRow(failed, stepFailed, why)
	s.failText.SetText(lang.L("provision.failed", map[string]any{
		"Step": provStepName(failed), "Why": why, "Applet": appletStateName(r.AppletState)}))
	s.failBox.Show()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// appletStateName is the applet state a run last read back, in the UI
// language (the raw word for a state this version does not know).
func appletStateName(state string) string {
	switch state {
	case "":
		return "—"
	case "blank", "keygen", "cert-stored", "provisioned", provision.UnknownState:
		return lang.L("applet." + state)
	}
	return state
}

func provStatusName(st provision.Status) string { return lang.L("provision.status_" + string(st)) }

func provStepName(st provision.Step) string {
	if st == provision.StepNone {
		return lang.L("provision.step_none")
	}
	return lang.L("provision.step_" + string(st))
}

// resetRows marks the steps up to done as done and the rest pending.
func (s *provisionScreen) resetRows(done provision.Step) {
	reached := done != provision.StepNone
	for _, st := range provisionSteps {
		if reached {
			s.setRow(st, stepDone, "")
		} else {
			s.setRow(st, stepPending, "")
		}
		if st == done {
			reached = false
		}
	}
}

func (s *provisionScreen) setRow(st provision.Step, state stepState, why string) {
	l := s.rows[st]
	if l == nil {
		return
	}
	mark := map[stepState]string{stepPending: "○", stepRunning: "▶", stepDone: "✔", stepFailed: "✖"}[state]
	text := mark + " " + provStepName(st)
	switch state {
	case stepRunning:
		text += " — " + lang.L("provision.running")
		l.Importance = widget.HighImportance
	case stepFailed:
		text += " — " + why
		l.Importance = widget.DangerImportance
	case stepDone:
		l.Importance = widget.SuccessImportance
	default:
		l.Importance = widget.MediumImportance
	}
	l.SetText(text)
}

// nextRunning marks the first step not done as running.
func (s *provisionScreen) nextRunning() {
	for _, st := range provisionSteps {
		if strings.HasPrefix(s.rows[st].Text, "✔") {
			continue
		}
		s.setRow(st, stepRunning, "")
		return
	}
}

// connector opens the readers the flow asks for, telling the monitor where
// to hold what; a shared reader waits for staff to confirm the swap.
type connector struct {
	s            *provisionScreen
	card, phone  string
	mu           sync.Mutex
	closers      []func()
	cardWasAsked bool
}

func (c *connector) connect(ctx context.Context, what provision.Hold) (*device.Card, error) {
	reader := c.card
	if what == provision.HoldPhone {
		reader = c.phone
	}
	s := c.s
	swap := what == provision.HoldPhone && c.cardWasAsked && c.card == c.phone
	if what == provision.HoldMyNumberCard {
		c.cardWasAsked = true
	}
	if swap {
		// The card lies on the reader the phone needs: the monitor takes it
		// off and holds the phone; staff confirm once it is there.
		c.closeAll()
		select { // a stale tap from before does not count
		case <-s.heldCh:
		default:
		}
		fyne.Do(func() {
			s.guide.SetText(lang.L("provision.guide_swap", map[string]any{"Reader": reader}))
			s.held.Show()
			if s.swapShown != nil {
				s.swapShown()
			}
		})
		select {
		case <-s.heldCh:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		fyne.Do(func() { s.held.Hide() })
	}
	key := "provision.guide_card"
	if what == provision.HoldPhone {
		key = "provision.guide_phone"
	}
	fyne.Do(func() { s.guide.SetText(lang.L(key, map[string]any{"Reader": reader})) })
	t, closeFn, err := s.deps.Readers.Open(ctx, reader)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", reader, err)
	}
	c.mu.Lock()
	c.closers = append(c.closers, closeFn)
	c.mu.Unlock()
	return &device.Card{T: t}, nil
}

func (c *connector) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.closers {
		f()
	}
	c.closers = nil
}

// inputs reads the page's choices; false (with the reason shown) when one is missing.
func (s *provisionScreen) inputs() (trial.Loan, *connector, []byte, bool) {
	l, ok := s.loan()
	switch {
	case !ok:
		s.status.SetText(lang.L("provision.need_loan"))
	case s.cardReader.Selected == "" || s.phoneRdr.Selected == "":
		s.status.SetText(lang.L("provision.need_reader"))
	case s.pass.Text == "":
		s.status.SetText(lang.L("provision.need_passphrase"))
	default:
		return l, &connector{s: s, card: s.cardReader.Selected, phone: s.phoneRdr.Selected}, []byte(s.pass.Text), true
	}
	return l, nil, nil, false
}

func (s *provisionScreen) busy(on bool) context.Context {
	s.running = on
	for _, b := range []*widget.Button{s.start, s.resume, s.rollback, s.returnBtn, s.iosBtn} {
		if on {
			b.Disable()
		} else {
			b.Enable()
		}
	}
	for _, sel := range []*widget.Select{s.loanSel, s.cardReader, s.phoneRdr} {
		if on {
			sel.Disable()
		} else {
			sel.Enable()
		}
	}
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	if !on {
		s.stop.Hide()
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.stop.Show()
	return ctx
}

// startRun runs (or resumes) the Android flow on a worker.
func (s *provisionScreen) startRun() {
	l, conn, pass, ok := s.inputs()
	if !ok || s.running {
		return
	}
	ctx := s.busy(true)
	s.failBox.Hide()
	s.nextRunning()
	pad := pinPadFunc(s.w, s.padShown)
	req := provision.AndroidRequest{
		LoanID: l.ID, Staff: s.deps.Staff, Passphrase: pass, Connect: conn.connect,
		CardPIN: func(ctx context.Context, r jpki.PINRequest) (string, error) {
			r.Purpose = lang.L("provision.pin_card")
			return pad(ctx, r)
		},
		NewPIN: func(ctx context.Context) (string, error) {
			fyne.Do(func() { s.guide.SetText(lang.L("provision.guide_keep")) })
			first, err := pad(ctx, jpki.PINRequest{Kind: jpki.Auth, TriesLeft: 3, Max: 3, Purpose: lang.L("provision.pin_new")})
			if err != nil {
				return "", err
			}
			again, err := pad(ctx, jpki.PINRequest{Kind: jpki.Auth, TriesLeft: 3, Max: 3, Purpose: lang.L("provision.pin_again")})
			if err != nil {
				return "", err
			}
			if again != first {
				return "", errors.New(lang.L("provision.pin_mismatch"))
			}
			return first, nil
		},
		PhonePIN: func(ctx context.Context, r jpki.PINRequest) (string, error) {
			r.Purpose = lang.L("provision.pin_phone")
			return pad(ctx, r)
		},
		Progress: func(st provision.Step) {
			fyne.Do(func() {
				s.setRow(st, stepDone, "")
				s.nextRunning()
				if st == provision.StepProofed && conn.card != conn.phone {
					s.guide.SetText(lang.L("provision.guide_card_done"))
				}
			})
		},
	}
	Run(ctx, func(ctx context.Context) (provisionState, error) {
		_, err := s.deps.Desk.Provision(ctx, req)
		conn.closeAll()
		rec, evs, ferr := s.deps.Desk.ForLoan(context.WithoutCancel(ctx), l.ID)
		if ferr != nil && !errors.Is(ferr, store.ErrNotFound) && err == nil {
			err = ferr
		}
		return provisionState{rec, evs}, err
	}, func(st provisionState, err error) {
		s.busy(false)
		s.held.Hide()
		s.showState(st)
		switch {
		case err == nil:
			s.guide.SetText(lang.L("provision.guide_done"))
		case st.rec != nil && st.rec.Status == provision.StatusFailed:
			s.guide.SetText(lang.L("provision.guide_failed", map[string]any{"Why": provisionErrorText(err)}))
		default:
			// Refused before anything was recorded (passphrase, loan state).
			s.resetRows(stepOf(st.rec))
			s.guide.SetText(provisionErrorText(err))
		}
	})
}

func stepOf(r *provision.Record) provision.Step {
	if r == nil {
		return provision.StepNone
	}
	return r.Step
}

// provisionErrorText explains a failed run in the desk's words.
func provisionErrorText(err error) string {
	if errors.Is(err, context.Canceled) {
		return lang.L("provision.stopped")
	}
	for _, k := range []struct {
		err error
		key string
	}{
		{provision.ErrAlreadyProvisioned, "provision.err_already"},
		{provision.ErrNotAndroid, "provision.err_not_android"},
		{provision.ErrInProgress, "provision.err_in_progress"},
		{provision.ErrStaleCertificate, "provision.err_stale"},
		{provision.ErrPhoneMismatch, "provision.err_mismatch"},
		{provision.ErrNotMyNumberCard, "provision.err_not_mynumber"},
		{provision.ErrCardOfAnotherMonitor, "provision.err_other_monitor"},
		{provision.ErrNotProvisioned, "provision.err_nothing"},
	} {
		if errors.Is(err, k.err) {
			return lang.L(k.key)
		}
	}
	return cardErrorText(err)
}

// runRollback revokes the run's certificate and wipes the applet.
func (s *provisionScreen) runRollback() {
	l, conn, pass, ok := s.inputs()
	if !ok || s.running {
		return
	}
	ctx := s.busy(true)
	Run(ctx, func(ctx context.Context) (provisionState, error) {
		_, err := s.deps.Desk.Rollback(ctx, provision.RollbackRequest{LoanID: l.ID, Staff: s.deps.Staff, Connect: conn.connect, Passphrase: pass})
		conn.closeAll()
		rec, evs, _ := s.deps.Desk.ForLoan(context.WithoutCancel(ctx), l.ID)
		return provisionState{rec, evs}, err
	}, func(st provisionState, err error) {
		s.busy(false)
		s.showState(st)
		if err != nil {
			s.guide.SetText(lang.L("provision.rollback_failed", map[string]any{"Why": provisionErrorText(err)}))
			return
		}
		s.resetRows(provision.StepNone)
		s.guide.SetText(lang.L("provision.rolled_back"))
	})
}

// runReturn checks the loan in: revoke, publish the CRL, wipe; when a part
// fails the loan stays open unless staff wrote down why.
func (s *provisionScreen) runReturn() {
	l, conn, pass, ok := s.inputs()
	if !ok || s.running {
		return
	}
	ctx := s.busy(true)
	why := s.reason.Text
	Run(ctx, func(ctx context.Context) (*provision.ReturnResult, error) {
		res, err := s.deps.Desk.Return(ctx, provision.ReturnRequest{LoanID: l.ID, Passphrase: pass, Connect: conn.connect,
			Return: trial.Return{Staff: s.deps.Staff}, Unresolved: why})
		conn.closeAll()
		return res, err
	}, func(res *provision.ReturnResult, err error) {
		s.busy(false)
		switch {
		case errors.Is(err, provision.ErrReturnIncomplete):
			s.returnText.SetText(lang.L("provision.return_incomplete", map[string]any{"Problem": res.Problem}))
			s.returnText.Importance = widget.DangerImportance
			s.returnText.Refresh()
		case err != nil:
			s.returnText.SetText(provisionErrorText(err))
		default:
			s.returnText.Importance = widget.MediumImportance
			s.returnText.SetText(lang.L("provision.returned", map[string]any{"ID": trial.FormatLoanID(l.ID)}))
			s.reason.SetText("")
			s.guide.SetText(lang.L("provision.guide_done"))
			s.loanSel.ClearSelected()
			s.reload()
		}
	})
}
