package screens

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/device"
	"jpkipilot/trial"
	"jpkipilot/trial/bank"
	"jpkipilot/trial/qr"
	"jpkipilot/trial/store"
)

// BankDeps is what the bank demo page needs.
type BankDeps struct {
	Bank     *bank.Bank
	Monitors MonitorLister
	Trials   TrialLister
	Readers  ReaderSource
	// Now is the clock that times an attempt from its start (nil: the
	// wall clock); it should be the bank's.
	Now func() time.Time
	// Staff is recorded as who applied a due demo data update (the page
	// applies due updates when it opens, once across all laptops).
	Staff string
}

type bankScreen struct {
	w    fyne.Window
	deps BankDeps

	monitors  []trial.Monitor
	trials    []trial.Trial
	monSel    *widget.Select
	readerSel *widget.Select
	picture   *holdPicture // where to hold the card on the chosen reader
	register  *widget.Button
	login     *widget.Button
	enrol     *widget.Button
	code      *widget.Entry
	codeLogin *widget.Button
	result    *widget.Label
	qrBox     *fyne.Container
	account   *fyne.Container
	trialSel  *widget.Select
	summary   *fyne.Container
	dueOn     *widget.Entry
	schedule  *widget.Button
	update    *widget.Label
	content   fyne.CanvasObject

	padShown func(*pinPad) // tests type into the PIN pad
}

// NewBank is the internet-banking login demo: staff pick the monitor, who
// registers the card or phone and logs in with it (PIN pad, a clear result
// with the reason), or with a one-time password enrolled by QR code; then
// the account page. A summary per trial compares the methods.
func NewBank(w fyne.Window, deps BankDeps) fyne.CanvasObject {
	return newBankScreen(w, deps).content
}

func newBankScreen(w fyne.Window, deps BankDeps) *bankScreen {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	s := &bankScreen{w: w, deps: deps}
	s.monSel = widget.NewSelect(nil, func(string) { s.clearResult() })
	s.monSel.PlaceHolder = lang.L("bank.pick_monitor")
	s.picture = newHoldPicture(true)
	s.readerSel = widget.NewSelect(nil, func(r string) { s.picture.showFor(r) })
	s.readerSel.PlaceHolder = lang.L("bank.pick_reader")
	s.register = widget.NewButtonWithIcon(lang.L("bank.register"), theme.ContentAddIcon(), func() { s.runCard(true) })
	s.login = widget.NewButtonWithIcon(lang.L("bank.login_card"), theme.LoginIcon(), func() { s.runCard(false) })
	s.login.Importance = widget.HighImportance
	s.enrol = widget.NewButtonWithIcon(lang.L("bank.totp_enrol"), theme.ViewRefreshIcon(), s.runEnrol)
	s.code = widget.NewEntry()
	s.code.SetPlaceHolder(lang.L("bank.totp_code"))
	s.code.OnSubmitted = func(string) { s.runTOTP() }
	s.codeLogin = widget.NewButtonWithIcon(lang.L("bank.login_totp"), theme.LoginIcon(), s.runTOTP)
	s.result = widget.NewLabel("")
	s.result.Wrapping = fyne.TextWrapWord
	s.qrBox = container.NewVBox()
	s.account = container.NewVBox()
	s.trialSel = widget.NewSelect(nil, func(string) { s.loadSummary() })
	s.trialSel.PlaceHolder = lang.L("bank.pick_trial")
	s.summary = container.NewVBox()
	s.dueOn = widget.NewEntry()
	s.dueOn.SetPlaceHolder("YYYY-MM-DD")
	s.schedule = widget.NewButtonWithIcon(lang.L("bank.schedule"), theme.CalendarIcon(), s.runSchedule)
	s.update = widget.NewLabel("")
	s.update.Wrapping = fyne.TextWrapWord

	left := container.NewVBox(
		boldLabel(lang.L("bank.title")),
		widget.NewForm(
			widget.NewFormItem(lang.L("bank.monitor"), s.monSel),
			widget.NewFormItem(lang.L("bank.reader"), s.readerSel)),
		s.picture.content,
		container.NewHBox(s.register, s.login),
		widget.NewSeparator(),
		boldLabel(lang.L("bank.totp_title")),
		s.enrol, s.qrBox,
		container.NewBorder(nil, nil, nil, s.codeLogin, s.code),
		widget.NewSeparator(),
		s.result,
	)
	right := container.NewVBox(
		boldLabel(lang.L("bank.account_title")), s.account,
		widget.NewSeparator(),
		boldLabel(lang.L("bank.summary_title")), s.trialSel, s.summary,
		boldLabel(lang.L("bank.update_title")),
		container.NewBorder(nil, nil, nil, s.schedule, s.dueOn), s.update,
	)
	split := container.NewHSplit(container.NewVScroll(left), container.NewVScroll(right))
	split.Offset = 0.45
	s.content = split
	s.reload()
	return s
}

// bankSummaryColumns are the method summary's columns: method, attempts,
// logged in, median time.
var bankSummaryColumns = columns{2.2, 1, 1.4, 1.8}

type bankChoices struct {
	monitors []trial.Monitor
	trials   []trial.Trial
	readers  []string
}

func (s *bankScreen) reload() {
	Run(context.Background(), func(ctx context.Context) (bankChoices, error) {
		var c bankChoices
		var err error
		if _, err := s.deps.Bank.ApplyDue(ctx, s.deps.Staff); err != nil {
			return c, err
		}
		if c.monitors, err = activeMonitors(ctx, s.deps.Monitors); err != nil {
			return c, err
		}
		if c.trials, err = s.deps.Trials.ListTrials(ctx); err != nil {
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
	}, func(c bankChoices, err error) {
		if err != nil {
			s.fail(err)
			return
		}
		s.monitors, s.trials = c.monitors, c.trials
		ids := make([]string, len(c.monitors))
		for i, m := range c.monitors {
			ids[i] = m.ID
		}
		s.monSel.SetOptions(ids)
		s.readerSel.SetOptions(c.readers)
		if len(c.readers) > 0 && s.readerSel.Selected == "" {
			s.readerSel.SetSelected(c.readers[0])
		}
		names := make([]string, len(c.trials))
		for i, t := range c.trials {
			names[i] = t.Name
		}
		s.trialSel.SetOptions(names)
		if len(names) > 0 {
			s.trialSel.SetSelectedIndex(0)
		}
	})
}

func (s *bankScreen) clearResult() {
	s.result.SetText("")
	s.qrBox.RemoveAll()
	s.account.RemoveAll()
}

func (s *bankScreen) monitor() (string, bool) {
	if s.monSel.Selected == "" {
		s.fail(errors.New(lang.L("bank.pick_monitor")))
		return "", false
	}
	return s.monSel.Selected, true
}

func (s *bankScreen) busy(on bool) {
	for _, b := range []*widget.Button{s.register, s.login, s.enrol, s.codeLogin} {
		if on {
			b.Disable()
		} else {
			b.Enable()
		}
	}
}

// runCard registers or logs in with what the reader holds.
func (s *bankScreen) runCard(register bool) {
	m, ok := s.monitor()
	if !ok {
		return
	}
	reader := s.readerSel.Selected
	if reader == "" || s.deps.Readers == nil {
		s.fail(errors.New(lang.L("bank.pick_reader")))
		return
	}
	s.clearResult()
	s.result.SetText(lang.L("bank.hold_card"))
	s.result.Importance = widget.MediumImportance
	s.busy(true)
	start := s.deps.Now()
	pin := pinPadFunc(s.w, s.padShown)
	type out struct {
		cred *bank.Credential
		sess *bank.Session
	}
	Run(context.Background(), func(ctx context.Context) (out, error) {
		t, closeCard, err := s.deps.Readers.Open(ctx, reader)
		if err != nil {
			return out{}, err
		}
		defer closeCard()
		card := &device.Card{T: t}
		if register {
			c, err := s.deps.Bank.Register(ctx, m, card, pin, start)
			return out{cred: c}, err
		}
		se, err := s.deps.Bank.Login(ctx, m, card, pin, start)
		return out{sess: se}, err
	}, func(o out, err error) {
		s.busy(false)
		switch {
		case err != nil:
			s.fail(err)
		case register:
			s.succeed(lang.L("bank.registered", map[string]any{"Method": methodName(o.cred.Method)}))
		default:
			s.loggedIn(o.sess)
		}
	})
}

func (s *bankScreen) runEnrol() {
	m, ok := s.monitor()
	if !ok {
		return
	}
	s.clearResult()
	s.busy(true)
	type out struct {
		en  *bank.Enrolment
		png []byte
	}
	Run(context.Background(), func(ctx context.Context) (out, error) {
		en, err := s.deps.Bank.EnrolTOTP(ctx, m)
		if err != nil {
			return out{}, err
		}
		png, err := qr.PNG([]byte(en.URI), 6)
		return out{en, png}, err
	}, func(o out, err error) {
		s.busy(false)
		if err != nil {
			s.fail(err)
			return
		}
		img := canvas.NewImageFromResource(fyne.NewStaticResource("totp.png", o.png))
		img.FillMode = canvas.ImageFillContain
		img.SetMinSize(fyne.NewSize(220, 220))
		secret := widget.NewLabel(lang.L("bank.totp_secret", map[string]any{"Secret": o.en.Base32}))
		secret.Wrapping = fyne.TextWrapBreak
		s.qrBox.Objects = []fyne.CanvasObject{widget.NewLabel(lang.L("bank.totp_scan")), img, secret}
		s.qrBox.Refresh()
		s.succeed(lang.L("bank.totp_enrolled"))
	})
}

func (s *bankScreen) runTOTP() {
	m, ok := s.monitor()
	if !ok {
		return
	}
	code := s.code.Text
	s.code.SetText("")
	s.clearResult()
	s.busy(true)
	start := s.deps.Now()
	Run(context.Background(), func(ctx context.Context) (*bank.Session, error) {
		return s.deps.Bank.LoginTOTP(ctx, m, code, start)
	}, func(se *bank.Session, err error) {
		s.busy(false)
		if err != nil {
			s.fail(err)
			return
		}
		s.loggedIn(se)
	})
}

func (s *bankScreen) succeed(text string) {
	s.result.Importance = widget.SuccessImportance
	s.result.SetText(text)
}

func (s *bankScreen) fail(err error) {
	s.result.Importance = widget.DangerImportance
	s.result.SetText(bankErrorText(err))
	s.loadSummary()
}

// bankErrorText is the refusal in the staff's language, tries left shown.
func bankErrorText(err error) string {
	var be *bank.Error
	if !errors.As(err, &be) {
		return err.Error()
	}
	if be.Reason == bank.ReasonWrongPIN {
		return lang.L("bank.refused", map[string]any{"Reason": lang.L("bank.reason.wrong_pin", map[string]any{"N": be.TriesLeft})})
	}
	if be.Reason == bank.ReasonError {
		return lang.L("bank.refused", map[string]any{"Reason": be.Error()})
	}
	return lang.L("bank.refused", map[string]any{"Reason": lang.L("bank.reason." + string(be.Reason))})
}

func methodName(m bank.Method) string { return lang.L("bank.method." + string(m)) }

// loggedIn shows the result and the account page.
func (s *bankScreen) loggedIn(se *bank.Session) {
	s.succeed(lang.L("bank.logged_in", map[string]any{
		"Method": methodName(se.Method), "Seconds": strconv.FormatFloat(se.Duration.Seconds(), 'f', 1, 64)}))
	m := se.MonitorID
	type stmt struct {
		balance int64
		txs     []bank.Transaction
	}
	Run(context.Background(), func(ctx context.Context) (stmt, error) {
		b, txs, err := s.deps.Bank.Statement(ctx, m)
		return stmt{b, txs}, err
	}, func(st stmt, err error) {
		if err != nil {
			s.fail(err)
			return
		}
		s.showAccount(m, st.balance, st.txs)
		s.loadSummary()
	})
}

func (s *bankScreen) showAccount(monitor string, balance int64, txs []bank.Transaction) {
	bal := widget.NewLabelWithStyle(lang.L("bank.balance", map[string]any{"Yen": yen(balance)}), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	rows := []fyne.CanvasObject{widget.NewLabel(lang.L("bank.account_of", map[string]any{"Monitor": monitor})), bal,
		boldLabel(lang.L("bank.statement"))}
	grid := container.NewGridWithColumns(3)
	for i := len(txs) - 1; i >= 0; i-- { // newest first
		t := txs[i]
		amount := widget.NewLabel(yen(t.Amount))
		amount.Alignment = fyne.TextAlignTrailing
		if t.Amount < 0 {
			amount.Importance = widget.DangerImportance
		}
		desc := t.Description
		if t.Updated {
			desc += " " + lang.L("bank.updated_mark")
		}
		grid.Add(widget.NewLabel(t.At.Local().Format("2006-01-02")))
		grid.Add(amount)
		grid.Add(widget.NewLabel(desc))
	}
	rows = append(rows, grid)
	s.account.Objects = rows
	s.account.Refresh()
}

// yen formats an amount with thousands separators.
func yen(v int64) string {
	s := strconv.FormatInt(v, 10)
	sign := ""
	if v < 0 {
		sign, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return sign + s
}

// runSchedule sets the date the selected trial's demo data update is due.
func (s *bankScreen) runSchedule() {
	id, ok := s.trialID()
	if !ok {
		return
	}
	on := s.dueOn.Text
	Run(context.Background(), func(ctx context.Context) (*bank.Update, error) {
		return s.deps.Bank.ScheduleUpdate(ctx, id, on)
	}, func(u *bank.Update, err error) {
		if err != nil {
			s.update.SetText(err.Error())
			return
		}
		s.showUpdate(u)
	})
}

func (s *bankScreen) showUpdate(u *bank.Update) {
	switch {
	case u == nil:
		s.update.SetText(lang.L("bank.update_none"))
	case u.AppliedAt.Valid:
		s.update.SetText(lang.L("bank.update_applied", map[string]any{
			"Date": u.DueOn, "At": u.AppliedAt.Time.Local().Format("2006-01-02 15:04"), "N": u.Accounts}))
	default:
		s.update.SetText(lang.L("bank.update_due", map[string]any{"Date": u.DueOn}))
	}
}

func (s *bankScreen) trialID() (int64, bool) {
	i := s.trialSel.SelectedIndex()
	if i < 0 || i >= len(s.trials) {
		return 0, false
	}
	return s.trials[i].ID, true
}

func (s *bankScreen) loadSummary() {
	id, ok := s.trialID()
	if !ok {
		return
	}
	Run(context.Background(), func(ctx context.Context) (*bank.Update, error) {
		u, err := s.deps.Bank.Update(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return u, err
	}, func(u *bank.Update, err error) {
		if err != nil {
			s.update.SetText(err.Error())
			return
		}
		s.showUpdate(u)
	})
	Run(context.Background(), func(ctx context.Context) ([]bank.MethodSummary, error) {
		return s.deps.Bank.Summary(ctx, id)
	}, func(sum []bank.MethodSummary, err error) {
		if err != nil {
			s.summary.Objects = []fyne.CanvasObject{widget.NewLabel(err.Error())}
			s.summary.Refresh()
			return
		}
		// Rows of weighted columns, not a grid of equal cells: a grid is
		// four times its widest cell wide, which pushed the page past the
		// window's width (and the session bar's log-out button off it).
		rows := []fyne.CanvasObject{container.New(bankSummaryColumns,
			boldLabel(lang.L("bank.col_method")), boldLabel(lang.L("bank.col_attempts")),
			boldLabel(lang.L("bank.col_success")), boldLabel(lang.L("bank.col_median")))}
		for _, m := range sum {
			rows = append(rows, container.New(bankSummaryColumns,
				widget.NewLabel(methodName(m.Method)),
				widget.NewLabel(strconv.Itoa(m.Attempts)),
				widget.NewLabel(fmt.Sprintf("%d (%.0f%%)", m.Successes, m.SuccessRate*100)),
				widget.NewLabel(strconv.FormatFloat(m.MedianMS/1000, 'f', 1, 64)+" s")))
		}
		s.summary.Objects = rows
		s.summary.Refresh()
	})
}
