package screens

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial"
)

// LoanService is the lending desk.
type LoanService interface {
	ListLoans(ctx context.Context, f trial.LoanFilter) ([]trial.Loan, error)
	ListDevices(ctx context.Context, f trial.DeviceFilter) ([]trial.Device, error)
	Checkout(ctx context.Context, c trial.Checkout) (trial.Loan, error)
	Extend(ctx context.Context, loanID int64, due, staff string) (trial.Loan, error)
	Checkin(ctx context.Context, loanID int64, r trial.Return) (trial.Loan, error)
	History(ctx context.Context, loanID int64) ([]trial.LoanEvent, error)
}

// TrialLister lists trials (their loan days give the default due date).
type TrialLister interface {
	ListTrials(ctx context.Context) ([]trial.Trial, error)
}

// LoansDeps is what the loans screen needs.
type LoansDeps struct {
	Loans    LoanService
	Monitors MonitorLister
	Trials   TrialLister
	// Now is the clock (nil: the wall clock); Zone the desk's (nil: Japan).
	Now  func() time.Time
	Zone *time.Location
}

type loansScreen struct {
	w       fyne.Window
	deps    LoansDeps
	filter  trial.LoanFilter
	scope   *widget.Select
	scoped  *widget.Label
	clear   *widget.Button
	loans   []trial.Loan
	list    *widget.List
	count   *widget.Label
	sel     *trial.Loan
	detail  *widget.Label
	history *widget.Label
	extend  *widget.Button
	checkin *widget.Button
	byMon   *widget.Button
	byPhone *widget.Button
	content fyne.CanvasObject
}

// NewLoans shows the loans, overdue first with the days overdue in red;
// staff check out a bundle, extend, check in, see the history per device
// or per monitor and export the reminder list.
func NewLoans(w fyne.Window, deps LoansDeps) fyne.CanvasObject {
	return newLoansScreen(w, deps).content
}

func newLoansScreen(w fyne.Window, deps LoansDeps) *loansScreen {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Zone == nil {
		deps.Zone = trial.JST
	}
	s := &loansScreen{w: w, deps: deps, filter: trial.LoanFilter{Open: true}}
	s.scope = newSelect([]string{lang.L("loans.open"), lang.L("loans.overdue"), lang.L("loans.all")}, nil)
	s.scope.SetSelectedIndex(0)
	s.scope.OnChanged = func(string) {
		s.filter = trial.LoanFilter{Open: s.scope.SelectedIndex() == 0, Overdue: s.scope.SelectedIndex() == 1}
		s.scoped.SetText("")
		s.clear.Hide()
		s.load()
	}
	s.scoped = widget.NewLabel("")
	s.clear = widget.NewButtonWithIcon(lang.L("loans.clear_history"), theme.CancelIcon(), func() {
		s.scope.SetSelectedIndex(0) // reloads even when already selected
	})
	s.clear.Hide()
	s.count = widget.NewLabel("")
	s.list = widget.NewList(
		func() int { return len(s.loans) },
		func() fyne.CanvasObject { return newLoanRow() },
		func(i widget.ListItemID, o fyne.CanvasObject) { fillLoanRow(s.loans[i], o) })
	s.list.OnSelected = func(i widget.ListItemID) {
		if i < len(s.loans) {
			s.showLoan(s.loans[i])
		}
	}
	checkout := widget.NewButtonWithIcon(lang.L("loans.checkout"), theme.ContentAddIcon(), func() { s.openCheckout() })
	checkout.Importance = widget.HighImportance
	reminders := widget.NewButtonWithIcon(lang.L("loans.reminders"), theme.DocumentSaveIcon(), s.exportReminders)

	s.detail = widget.NewLabel(lang.L("loans.pick"))
	s.detail.Wrapping = fyne.TextWrapWord
	s.history = widget.NewLabel("")
	s.history.Wrapping = fyne.TextWrapWord
	s.extend = widget.NewButtonWithIcon(lang.L("loans.extend"), theme.HistoryIcon(), s.openExtend)
	s.checkin = widget.NewButtonWithIcon(lang.L("loans.checkin"), theme.ConfirmIcon(), s.openCheckin)
	s.byMon = widget.NewButtonWithIcon(lang.L("loans.monitor_history"), theme.AccountIcon(), func() {
		if s.sel != nil {
			s.showHistory(trial.LoanFilter{MonitorID: s.sel.MonitorID}, s.sel.MonitorID)
		}
	})
	s.byPhone = widget.NewButtonWithIcon(lang.L("loans.phone_history"), theme.StorageIcon(), func() {
		if s.sel != nil {
			s.showHistory(trial.LoanFilter{Device: s.sel.Phone}, s.sel.Phone)
		}
	})
	s.enableActions()

	header := container.New(loanColumns, boldLabel(lang.L("loans.id")), boldLabel(lang.L("loans.monitor")),
		boldLabel(lang.L("loans.col_imei")), boldLabel(lang.L("loans.col_iccid")), boldLabel(lang.L("loans.due")),
		boldLabel(lang.L("loans.state")))
	top := container.NewVBox(
		container.NewHBox(boldLabel(lang.L("nav.loans")), checkout, reminders),
		container.NewHBox(s.scope, s.scoped, s.clear, s.count),
		header)
	right := container.NewBorder(
		container.NewVBox(boldLabel(lang.L("loans.detail")), s.detail,
			container.NewGridWithColumns(2, s.extend, s.checkin, s.byMon, s.byPhone),
			boldLabel(lang.L("loans.events"))),
		nil, nil, nil, container.NewVScroll(s.history))
	split := container.NewHSplit(container.NewBorder(top, nil, nil, nil, s.list), right)
	split.Offset = 0.74
	s.content = split
	s.load()
	return s
}

var loanColumns = columns{1, 2.6, 2.4, 3, 1.7, 1.6}

func newLoanRow() fyne.CanvasObject {
	return container.New(loanColumns, widget.NewLabel(""), widget.NewLabel(""), widget.NewLabel(""),
		widget.NewLabel(""), widget.NewLabel(""), widget.NewLabel(""))
}

func fillLoanRow(ln trial.Loan, o fyne.CanvasObject) {
	cells := o.(*fyne.Container).Objects
	who := ln.MonitorID
	if ln.MonitorName != "" {
		who += " " + ln.MonitorName
	}
	state, imp := loanState(ln)
	for i, t := range []string{trial.FormatLoanID(ln.ID), who, ln.Phone, ln.SIM, ln.DueOn, state} {
		cells[i].(*widget.Label).SetText(clipText(t, 20))
	}
	l := cells[5].(*widget.Label)
	l.Importance = imp
	l.TextStyle.Bold = imp == widget.DangerImportance
	l.Refresh()
}

// loanState is "N days overdue" (red), "on loan" or "returned".
func loanState(ln trial.Loan) (string, widget.Importance) {
	switch {
	case !ln.Open():
		return lang.L("loans.returned"), widget.LowImportance
	case ln.DaysOverdue > 0:
		return lang.L("loans.days_overdue", map[string]any{"N": ln.DaysOverdue}), widget.DangerImportance
	}
	return lang.L("loans.out"), widget.MediumImportance
}

func (s *loansScreen) load() {
	f := s.filter
	Run(context.Background(), func(ctx context.Context) ([]trial.Loan, error) {
		return s.deps.Loans.ListLoans(ctx, f)
	}, func(ls []trial.Loan, err error) {
		if err != nil {
			ShowError(s.w, err)
			return
		}
		s.loans = ls
		s.count.SetText(lang.L("loans.count", map[string]any{"N": len(ls)}))
		s.list.UnselectAll()
		s.list.Refresh()
		if s.sel != nil {
			for i, ln := range ls {
				if ln.ID == s.sel.ID {
					s.list.Select(i)
					return
				}
			}
		}
		s.sel = nil
		s.detail.SetText(lang.L("loans.pick"))
		s.history.SetText("")
		s.enableActions()
	})
}

// showHistory lists every loan of one monitor or one device.
func (s *loansScreen) showHistory(f trial.LoanFilter, what string) {
	s.filter = f
	s.scoped.SetText(lang.L("loans.history_of", map[string]any{"What": what}))
	s.clear.Show()
	s.load()
}

func (s *loansScreen) enableActions() {
	for _, b := range []*widget.Button{s.extend, s.checkin, s.byMon, s.byPhone} {
		b.Disable()
	}
	if s.sel == nil {
		return
	}
	s.byMon.Enable()
	s.byPhone.Enable()
	if s.sel.Open() {
		s.extend.Enable()
		s.checkin.Enable()
	}
}

func (s *loansScreen) showLoan(ln trial.Loan) {
	s.sel = &ln
	s.enableActions()
	lines := []string{
		lang.L("loans.detail_id", map[string]any{"ID": trial.FormatLoanID(ln.ID), "Monitor": ln.MonitorID, "Name": ln.MonitorName}),
		lang.L("loans.detail_bundle", map[string]any{"Phone": ln.Phone, "SIM": ln.SIM}),
		lang.L("loans.detail_out", map[string]any{"At": ln.OutAt.In(s.deps.Zone).Format("2006-01-02 15:04"), "Staff": ln.OutStaff, "Due": ln.DueOn}),
	}
	if acc := accessoryList(ln); acc != "" {
		lines = append(lines, lang.L("loans.detail_accessories", map[string]any{"Items": acc}))
	}
	if state, _ := loanState(ln); ln.Open() {
		lines = append(lines, state)
	} else {
		lines = append(lines, lang.L("loans.detail_in", map[string]any{"At": ln.InAt.In(s.deps.Zone).Format("2006-01-02 15:04"), "Staff": ln.InStaff}))
		if ln.Notes != "" {
			lines = append(lines, lang.L("loans.detail_notes", map[string]any{"Notes": ln.Notes}))
		}
		if len(ln.Missing) > 0 {
			lines = append(lines, lang.L("loans.detail_missing", map[string]any{"Items": strings.Join(ln.Missing, "、")}))
		}
	}
	s.detail.SetText(strings.Join(lines, "\n"))
	id := ln.ID
	Run(context.Background(), func(ctx context.Context) ([]trial.LoanEvent, error) {
		return s.deps.Loans.History(ctx, id)
	}, func(evs []trial.LoanEvent, err error) {
		if err != nil {
			s.history.SetText(err.Error())
			return
		}
		var out []string
		for _, e := range evs {
			line := e.At.In(s.deps.Zone).Format("2006-01-02 15:04") + "  " + lang.L("loans.event_"+e.Kind)
			if e.DueAfter != "" && e.DueAfter != e.DueBefore {
				line += "  " + strings.TrimPrefix(e.DueBefore+" → ", " → ") + e.DueAfter
			}
			if e.Staff != "" {
				line += "  (" + e.Staff + ")"
			}
			if d := eventDetail(e, ln); d != "" {
				line += "  " + d
			}
			out = append(out, line)
		}
		s.history.SetText(strings.Join(out, "\n"))
	})
}

// accessoryList is what was lent besides the phone and SIM, in the UI
// language ("" for nothing).
func accessoryList(ln trial.Loan) string {
	acc := ln.Accessories
	if ln.Charger {
		acc = append([]string{lang.L("loans.charger")}, acc...)
	}
	return strings.Join(acc, "、")
}

// eventDetail is what a history line says beyond its kind, in the UI
// language: the store's event detail is an English record of the same
// facts, and a loan has one check-out and one check-in, so those two are
// told from the loan itself.
func eventDetail(e trial.LoanEvent, ln trial.Loan) string {
	var parts []string
	switch e.Kind {
	case "checkout":
		parts = append(parts, lang.L("loans.detail_bundle", map[string]any{"Phone": ln.Phone, "SIM": ln.SIM}))
		if acc := accessoryList(ln); acc != "" {
			parts = append(parts, lang.L("loans.detail_accessories", map[string]any{"Items": acc}))
		}
	case "checkin":
		if ln.Notes != "" {
			parts = append(parts, lang.L("loans.detail_notes", map[string]any{"Notes": ln.Notes}))
		}
		if len(ln.Missing) > 0 {
			parts = append(parts, lang.L("loans.detail_missing", map[string]any{"Items": strings.Join(ln.Missing, "、")}))
		}
	default:
		return e.Detail
	}
	return strings.Join(parts, " ・ ")
}

// today is the desk's calendar date.
func (s *loansScreen) today() time.Time {
	y, m, d := s.deps.Now().In(s.deps.Zone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// exportReminders saves the reminder list (open loans due within two days,
// overdue ones first) as CSV through a save dialog.
func (s *loansScreen) exportReminders() {
	within := 2
	Run(context.Background(), func(ctx context.Context) ([]byte, error) {
		ls, err := s.deps.Loans.ListLoans(ctx, trial.LoanFilter{DueWithin: &within})
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		err = trial.WriteLoansCSV(&buf, ls, s.deps.Zone)
		return buf.Bytes(), err
	}, func(data []byte, err error) {
		if err != nil {
			ShowError(s.w, err)
			return
		}
		d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
			if err != nil || wc == nil {
				ShowError(s.w, err)
				return
			}
			Run(context.Background(), func(context.Context) (struct{}, error) {
				_, err := wc.Write(data)
				if cerr := wc.Close(); err == nil {
					err = cerr
				}
				return struct{}{}, err
			}, func(_ struct{}, err error) {
				if err != nil {
					ShowError(s.w, err)
					return
				}
				dialog.ShowInformation(lang.L("loans.reminders"), lang.L("loans.reminders_saved", map[string]any{"File": wc.URI().Path()}), s.w)
			})
		}, s.w)
		d.SetFileName("reminders-" + s.today().Format("20060102") + ".csv")
		d.SetFilter(storage.NewExtensionFileFilter([]string{".csv"}))
		d.Resize(fyne.NewSize(900, 600))
		d.Show()
	})
}

// checkoutForm lends a bundle: monitor, phone, SIM, charger, accessories,
// staff and due date (by default the trial's loan days from today).
type checkoutForm struct {
	s           *loansScreen
	trials      map[int64]trial.Trial
	monitor     *monitorPicker
	phone       *widget.SelectEntry
	sim         *widget.SelectEntry
	phones      []string // free phones offered
	sims        []string // free SIMs offered
	charger     *widget.Check
	accessories *widget.Entry
	staff       *widget.Entry
	due         *widget.Entry
	errs        map[string]*widget.Label
	problem     *widget.Label
	form        *widget.Form
	dlg         dialog.Dialog
	saved       func(trial.Loan)
}

func (s *loansScreen) openCheckout() *checkoutForm {
	f := s.newCheckoutForm()
	f.dlg = dialog.NewCustomConfirm(lang.L("loans.checkout"), lang.L("loans.lend"), lang.L("Cancel"), f.form, func(ok bool) {
		if ok {
			f.submit()
		}
	}, s.w)
	f.dlg.Resize(fyne.NewSize(640, f.form.MinSize().Height+140))
	f.saved = func(ln trial.Loan) {
		f.dlg.Hide()
		s.sel = &ln
		s.scope.SetSelectedIndex(0) // reloads
	}
	f.dlg.Show()
	return f
}

func (s *loansScreen) newCheckoutForm() *checkoutForm {
	f := &checkoutForm{s: s, errs: map[string]*widget.Label{}, trials: map[int64]trial.Trial{}}
	f.monitor = newMonitorPicker(lang.L("loans.monitor_placeholder"), f.defaultDue)
	f.phone = widget.NewSelectEntry(nil)
	f.phone.SetPlaceHolder(lang.L("loans.phone_placeholder"))
	f.sim = widget.NewSelectEntry(nil)
	f.sim.SetPlaceHolder(lang.L("loans.sim_placeholder"))
	f.charger = widget.NewCheck(lang.L("loans.charger"), nil)
	f.charger.SetChecked(true)
	f.accessories = widget.NewEntry()
	f.accessories.SetPlaceHolder(lang.L("loans.accessories_placeholder"))
	f.staff = widget.NewEntry()
	f.due = widget.NewEntry()
	f.due.SetPlaceHolder("YYYY-MM-DD")
	f.problem = widget.NewLabel("")
	f.problem.Importance = widget.DangerImportance
	f.problem.Wrapping = fyne.TextWrapWord
	item := func(field, label string, o fyne.CanvasObject) *widget.FormItem {
		e := widget.NewLabel("")
		e.Importance = widget.DangerImportance
		e.Wrapping = fyne.TextWrapWord
		e.Hide()
		f.errs[field] = e
		return widget.NewFormItem(label, container.NewVBox(o, e))
	}
	f.form = widget.NewForm(
		item("monitor", lang.L("loans.monitor"), f.monitor.entry),
		item("phone", lang.L("loans.phone"), f.phone),
		item("sim", lang.L("loans.sim"), f.sim),
		widget.NewFormItem("", f.charger),
		item("accessories", lang.L("loans.accessories"), f.accessories),
		item("staff", lang.L("loans.staff"), f.staff),
		item("due", lang.L("loans.due"), f.due),
		widget.NewFormItem("", f.problem))
	f.load()
	return f
}

// load fills the choices: monitors who may borrow, free phones and SIMs.
func (f *checkoutForm) load() {
	type choices struct {
		monitors []trial.Monitor
		trials   []trial.Trial
		devices  []trial.Device
	}
	d := f.s.deps
	Run(context.Background(), func(ctx context.Context) (choices, error) {
		var c choices
		ms, err := d.Monitors.ListMonitors(ctx, trial.Filter{})
		if err != nil {
			return c, err
		}
		for _, m := range ms {
			if m.Status != trial.StatusWithdrawn {
				c.monitors = append(c.monitors, m)
			}
		}
		if c.trials, err = d.Trials.ListTrials(ctx); err != nil {
			return c, err
		}
		c.devices, err = d.Loans.ListDevices(ctx, trial.DeviceFilter{Free: true})
		return c, err
	}, func(c choices, err error) {
		if err != nil {
			f.problem.SetText(err.Error())
			return
		}
		for _, t := range c.trials {
			f.trials[t.ID] = t
		}
		var phones, sims []string
		for _, dv := range c.devices {
			label := dv.Serial
			if dv.Kind == trial.KindPhone {
				phones = append(phones, label)
			} else {
				sims = append(sims, label)
			}
		}
		f.monitor.setMonitors(c.monitors)
		f.phones, f.sims = phones, sims
		f.phone.SetOptions(phones)
		f.sim.SetOptions(sims)
	})
}

// defaultDue puts today plus the monitor's trial's loan days into the due
// date (the desk can change it).
func (f *checkoutForm) defaultDue() {
	m, ok := f.monitor.selected()
	if !ok {
		return
	}
	days := trial.DefaultLoanDays
	if t, ok := f.trials[m.TrialID]; ok && t.LoanDays > 0 {
		days = t.LoanDays
	}
	f.due.SetText(f.s.today().AddDate(0, 0, days).Format("2006-01-02"))
}

func (f *checkoutForm) collect() trial.Checkout {
	c := trial.Checkout{Phone: f.phone.Text, SIM: f.sim.Text, Charger: f.charger.Checked,
		Staff: f.staff.Text, DueOn: strings.TrimSpace(f.due.Text)}
	c.MonitorID = f.monitor.typedID()
	for _, a := range strings.FieldsFunc(f.accessories.Text, func(r rune) bool { return r == ',' || r == '、' }) {
		if a = strings.TrimSpace(a); a != "" {
			c.Accessories = append(c.Accessories, a)
		}
	}
	return c
}

// submit checks out on a worker; a refusal (a device already out, a
// monitor who holds a loan or has withdrawn, a bad field) shows why.
func (f *checkoutForm) submit() {
	c := f.collect()
	for _, e := range f.errs {
		e.Hide()
	}
	f.problem.SetText("")
	Run(context.Background(), func(ctx context.Context) (trial.Loan, error) {
		return f.s.deps.Loans.Checkout(ctx, c)
	}, func(ln trial.Loan, err error) {
		if err == nil {
			if f.saved != nil {
				f.saved(ln)
			}
			return
		}
		if f.dlg != nil {
			f.dlg.Show() // the confirm dialog hid itself: keep the form with its errors
		}
		var fes trial.FieldErrors
		if errors.As(err, &fes) {
			for field, msg := range fieldMessages(err) {
				if l, ok := f.errs[field]; ok {
					l.SetText(msg)
					l.Show()
				} else {
					f.problem.SetText(strings.TrimSpace(f.problem.Text + "\n" + fieldName(field) + ": " + msg))
				}
			}
			return
		}
		f.problem.SetText(lendingErrorText(err))
	})
}

// lendingErrorText says why the desk refused, in the UI language, naming
// the device or monitor it is about.
func lendingErrorText(err error) string {
	var le *trial.LendingError
	errors.As(err, &le)
	switch {
	case errors.Is(err, trial.ErrOnLoan) && le != nil:
		return lang.L("loans.err_on_loan", map[string]any{"Device": deviceName(le.Kind, le.Serial)})
	case errors.Is(err, trial.ErrMonitorHasLoan) && le != nil:
		return lang.L("loans.err_monitor_has_loan", map[string]any{"Monitor": le.Serial})
	case errors.Is(err, trial.ErrMonitorWithdrawn):
		return lang.L("loans.err_withdrawn")
	case errors.Is(err, trial.ErrLoanClosed):
		return lang.L("loans.err_closed")
	case errors.Is(err, trial.ErrWrongKindOfDevice) && le != nil:
		return lang.L("loans.err_wrong_kind", map[string]any{"Field": lang.L("devices.kind_" + string(le.Kind)), "Serial": le.Serial,
			"Found": lang.L("devices.kind_" + string(le.Found))})
	}
	return fmt.Sprint(err)
}

// deviceName is a device's kind, in the UI language, and serial.
func deviceName(kind trial.DeviceKind, serial string) string {
	return lang.L("devices.kind_"+string(kind)) + " " + serial
}

// openExtend moves the due date of the selected loan.
func (s *loansScreen) openExtend() {
	if s.sel == nil {
		return
	}
	ln := *s.sel
	due := widget.NewEntry()
	due.SetText(ln.DueOn)
	staff := widget.NewEntry()
	problem := widget.NewLabel("")
	problem.Importance = widget.DangerImportance
	problem.Wrapping = fyne.TextWrapWord
	var d dialog.Dialog
	d = dialog.NewForm(lang.L("loans.extend"), lang.L("loans.extend"), lang.L("Cancel"), []*widget.FormItem{
		widget.NewFormItem(lang.L("loans.new_due"), due),
		widget.NewFormItem(lang.L("loans.staff"), staff),
		widget.NewFormItem("", problem),
	}, func(ok bool) {
		if !ok {
			return
		}
		Run(context.Background(), func(ctx context.Context) (trial.Loan, error) {
			return s.deps.Loans.Extend(ctx, ln.ID, strings.TrimSpace(due.Text), staff.Text)
		}, func(_ trial.Loan, err error) {
			if err != nil {
				problem.SetText(loanErrorText(err))
				d.Show()
				return
			}
			s.load()
		})
	}, s.w)
	d.Resize(fyne.NewSize(520, 300))
	d.Show()
}

// openCheckin takes the selected loan back: condition and missing items.
func (s *loansScreen) openCheckin() {
	if s.sel == nil {
		return
	}
	ln := *s.sel
	staff := widget.NewEntry()
	notes := widget.NewMultiLineEntry()
	notes.SetPlaceHolder(lang.L("loans.notes_placeholder"))
	items := []string{lang.L("loans.phone"), lang.L("loans.sim")}
	if ln.Charger {
		items = append(items, lang.L("loans.charger"))
	}
	items = append(items, ln.Accessories...)
	missing := widget.NewCheckGroup(items, nil)
	problem := widget.NewLabel("")
	problem.Importance = widget.DangerImportance
	problem.Wrapping = fyne.TextWrapWord
	var d dialog.Dialog
	d = dialog.NewForm(lang.L("loans.checkin"), lang.L("loans.checkin"), lang.L("Cancel"), []*widget.FormItem{
		widget.NewFormItem(lang.L("loans.staff"), staff),
		widget.NewFormItem(lang.L("loans.condition"), notes),
		widget.NewFormItem(lang.L("loans.missing"), missing),
		widget.NewFormItem("", problem),
	}, func(ok bool) {
		if !ok {
			return
		}
		r := trial.Return{Staff: staff.Text, Notes: notes.Text, Missing: missing.Selected}
		Run(context.Background(), func(ctx context.Context) (trial.Loan, error) {
			return s.deps.Loans.Checkin(ctx, ln.ID, r)
		}, func(_ trial.Loan, err error) {
			if err != nil {
				problem.SetText(loanErrorText(err))
				d.Show()
				return
			}
			s.load()
		})
	}, s.w)
	d.Resize(fyne.NewSize(560, 420))
	d.Show()
}

func loanErrorText(err error) string {
	var fes trial.FieldErrors
	if errors.As(err, &fes) {
		return errorText(err)
	}
	return lendingErrorText(err)
}
