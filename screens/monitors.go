package screens

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial"
)

// MonitorService enrols, edits and withdraws monitors.
type MonitorService interface {
	ListTrials(ctx context.Context) ([]trial.Trial, error)
	AllSessions(ctx context.Context) ([]trial.Session, error)
	ListMonitors(ctx context.Context, f trial.Filter) ([]trial.Monitor, error)
	Enrol(ctx context.Context, m trial.Monitor) (trial.Monitor, error)
	UpdateMonitor(ctx context.Context, m trial.Monitor) (trial.Monitor, error)
	SetStatus(ctx context.Context, id string, st trial.Status) (trial.Monitor, error)
	Withdraw(ctx context.Context, id string) (trial.Monitor, error)
}

type monitorsScreen struct {
	w   fyne.Window
	svc MonitorService

	// Loaded once per screen; the index is filtered on the UI goroutine as
	// the coordinator types (well under 50 ms for 10,000 monitors).
	index    *trial.Index
	shown    []int // positions in index, after the filter
	trials   []trial.Trial
	sessions []trial.Session
	byID     map[int64]trial.Session

	query   *widget.Entry
	status  *widget.Select
	trialF  *widget.Select
	count   *widget.Label
	list    *widget.List
	form    *monitorForm
	content fyne.CanvasObject
}

// NewMonitors is the monitor list (virtualised, filtered by id, name, kana,
// trial and status) with the enrol/edit form beside it.
func NewMonitors(w fyne.Window, svc MonitorService) fyne.CanvasObject {
	return newMonitorsScreen(w, svc).content
}

func newMonitorsScreen(w fyne.Window, svc MonitorService) *monitorsScreen {
	s := &monitorsScreen{w: w, svc: svc, index: trial.NewIndex(nil), byID: map[int64]trial.Session{}}
	s.query = widget.NewEntry()
	s.query.SetPlaceHolder(lang.L("monitors.filter_placeholder"))
	s.query.OnChanged = func(string) { s.applyFilter() }
	s.status = newSelect(append([]string{lang.L("monitors.all_statuses")}, statusNames()...), func(string) { s.applyFilter() })
	s.status.SetSelectedIndex(0)
	s.trialF = newSelect([]string{lang.L("monitors.all_trials")}, func(string) { s.applyFilter() })
	s.trialF.SetSelectedIndex(0)
	s.count = widget.NewLabel("")
	s.list = widget.NewList(
		func() int { return len(s.shown) },
		newMonitorRow,
		func(i widget.ListItemID, o fyne.CanvasObject) { s.fillRow(s.index.At(s.shown[i]), o) })
	s.list.OnSelected = func(i widget.ListItemID) { s.form.edit(*s.index.At(s.shown[i])) }
	s.form = newMonitorForm(s)
	newBtn := widget.NewButtonWithIcon(lang.L("monitors.new"), theme.ContentAddIcon(), func() {
		s.list.UnselectAll()
		s.form.edit(trial.Monitor{})
	})
	filters := container.NewBorder(nil, nil, nil, container.NewHBox(s.trialF, s.status), s.query)
	top := container.NewVBox(
		container.NewHBox(widget.NewLabelWithStyle(lang.L("nav.monitors"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), s.count, newBtn),
		filters,
		container.New(monitorColumns, boldLabel(lang.L("field.id")), boldLabel(lang.L("field.name")), boldLabel(lang.L("field.kana")),
			boldLabel(lang.L("field.session")), boldLabel(lang.L("field.status")), boldLabel(lang.L("monitors.consent"))))
	left := container.NewBorder(top, nil, nil, nil, s.list)
	split := container.NewHSplit(left, container.NewVScroll(s.form.content))
	split.Offset = 0.64
	s.content = split
	s.load()
	return s
}

var monitorColumns = columns{1, 1.5, 1.6, 1.1, 1.7, 1.1}

// Row cells do not use Label.Truncation: with a CJK font Fyne shapes the
// text again on every refresh (about 35 ms a row here), which made a
// keystroke in the filter cost 140–280 ms with 10,000 monitors. Instead
// the long cells are clipped to an estimated width (clipText).
const (
	nameEm = 8.5 // of the name column, in em (one CJK character)
	kanaEm = 9.5
)

func newMonitorRow() fyne.CanvasObject {
	cells := make([]fyne.CanvasObject, 6)
	for i := range cells {
		cells[i] = widget.NewLabel("")
	}
	return container.New(monitorColumns, cells...)
}

func (s *monitorsScreen) fillRow(m *trial.Monitor, o fyne.CanvasObject) {
	cells := o.(*fyne.Container).Objects
	set := func(i int, text string, imp widget.Importance) {
		l := cells[i].(*widget.Label)
		l.Importance = imp
		l.SetText(text)
	}
	session := ""
	if m.SessionID != nil {
		session = s.byID[*m.SessionID].Code
	}
	set(0, m.ID, widget.MediumImportance)
	set(3, session, widget.MediumImportance)
	if m.Status == trial.StatusWithdrawn {
		// Withdrawal erased the personal fields: say so instead of blanks.
		set(1, lang.L("monitors.erased"), widget.LowImportance) // the name and kana were erased
		set(2, "", widget.LowImportance)
		when := ""
		if m.WithdrawnAt != nil {
			when = " " + m.WithdrawnAt.Local().Format("2006-01-02")
		}
		set(4, statusName(m.Status)+when, widget.DangerImportance)
		set(5, "", widget.LowImportance)
		return
	}
	set(1, clipText(m.Name, nameEm), widget.MediumImportance)
	set(2, clipText(m.Kana, kanaEm), widget.MediumImportance)
	set(4, statusName(m.Status), widget.MediumImportance)
	if m.Consent.Given() {
		set(5, "✓ "+m.Consent.FormVersion, widget.SuccessImportance)
	} else {
		set(5, lang.L("monitors.no_consent"), widget.WarningImportance)
	}
}

type monitorData struct {
	monitors []trial.Monitor
	trials   []trial.Trial
	sessions []trial.Session
}

func (s *monitorsScreen) load() {
	s.count.SetText(lang.L("monitors.loading"))
	Run(context.Background(), func(ctx context.Context) (monitorData, error) {
		var d monitorData
		var err error
		if d.trials, err = s.svc.ListTrials(ctx); err != nil {
			return d, err
		}
		if d.sessions, err = s.svc.AllSessions(ctx); err != nil {
			return d, err
		}
		d.monitors, err = s.svc.ListMonitors(ctx, trial.Filter{})
		return d, err
	}, func(d monitorData, err error) {
		if err != nil {
			s.count.SetText("")
			ShowError(s.w, err)
			return
		}
		s.trials, s.sessions = d.trials, d.sessions
		s.byID = make(map[int64]trial.Session, len(d.sessions))
		for _, se := range d.sessions {
			s.byID[se.ID] = se
		}
		opts := []string{lang.L("monitors.all_trials")}
		for _, t := range d.trials {
			opts = append(opts, t.Name)
		}
		s.trialF.Options = opts
		s.trialF.Refresh()
		s.index = trial.NewIndex(d.monitors)
		s.applyFilter()
		s.form.edit(trial.Monitor{})
	})
}

func (s *monitorsScreen) filter() trial.Filter {
	f := trial.Filter{Query: s.query.Text, Status: statusFromName(s.status.Selected)}
	if i := s.trialF.SelectedIndex(); i > 0 && i-1 < len(s.trials) {
		f.TrialID = s.trials[i-1].ID
	}
	return f
}

// applyFilter narrows the list to what the filter entry and selects say.
func (s *monitorsScreen) applyFilter() {
	if s.index == nil || s.count == nil || s.list == nil {
		return // still being built
	}
	s.shown = s.index.Filter(s.filter())
	s.count.SetText(lang.L("monitors.count", map[string]any{"N": len(s.shown), "Total": s.index.Len()}))
	s.list.UnselectAll()
	s.list.Refresh()
}

// saved puts an edited monitor into the index and shows it.
func (s *monitorsScreen) saved(m trial.Monitor) {
	s.index.Put(m)
	s.applyFilter()
	s.form.edit(m)
}

// monitorForm enrols a new monitor or edits the selected one.
type monitorForm struct {
	s       *monitorsScreen
	m       trial.Monitor // being edited; ID "" for a new one
	title   *widget.Label
	banner  *widget.Label
	trial   *widget.Select
	session *widget.Select
	name    *widget.Entry
	kana    *widget.Entry
	age     *widget.Select
	contact *widget.Entry
	comp    *widget.Entry
	status  *widget.Select
	cVer    *widget.Entry
	cDate   *widget.Entry
	cStaff  *widget.Entry
	form    *widget.Form
	errors  *widget.Label
	save    *widget.Button
	wd      *widget.Button
	content fyne.CanvasObject
	// sessions offered by the session select, in its order after "none".
	sessOpts []trial.Session
}

func newMonitorForm(s *monitorsScreen) *monitorForm {
	f := &monitorForm{s: s}
	f.title = boldLabel("")
	f.banner = widget.NewLabel("")
	f.banner.Wrapping = fyne.TextWrapWord
	f.banner.Importance = widget.DangerImportance
	f.trial = newSelect(nil, func(string) { f.fillSessions() })
	f.session = newSelect(nil, nil)
	f.name, f.kana, f.contact, f.comp = widget.NewEntry(), widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	f.kana.SetPlaceHolder(lang.L("monitors.kana_placeholder"))
	f.comp.SetPlaceHolder(lang.L("monitors.companion_placeholder"))
	f.age = newSelect(trial.AgeBands, nil)
	f.status = newSelect(nil, nil)
	f.cVer, f.cDate, f.cStaff = widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	f.cVer.SetPlaceHolder(lang.L("monitors.version_placeholder"))
	f.cDate.SetPlaceHolder(lang.L("monitors.date_placeholder"))
	item := func(field string, w fyne.CanvasObject) *widget.FormItem {
		return widget.NewFormItem(fieldName(field), w)
	}
	f.form = widget.NewForm(
		item("trial", f.trial), item("session", f.session), item("name", f.name), item("kana", f.kana),
		item("age_band", f.age), item("contact", f.contact), item("companion_of", f.comp), item("status", f.status),
		item("consent_version", f.cVer), item("consent_signed_on", f.cDate), item("consent_staff", f.cStaff))
	f.errors = widget.NewLabel("")
	f.errors.Wrapping = fyne.TextWrapWord
	f.errors.Importance = widget.DangerImportance
	f.save = widget.NewButtonWithIcon(lang.L("monitors.save"), theme.DocumentSaveIcon(), f.submit)
	f.save.Importance = widget.HighImportance
	f.wd = widget.NewButtonWithIcon(lang.L("monitors.withdraw"), theme.DeleteIcon(), f.confirmWithdraw)
	f.wd.Importance = widget.DangerImportance
	f.content = container.NewVBox(f.title, f.banner, f.form, f.errors, container.NewHBox(f.save, f.wd))
	return f
}

func (f *monitorForm) clearErrors() {
	f.errors.Importance = widget.DangerImportance
	f.errors.SetText("")
}

// showErrors lists every field's message, in the form's field order.
func (f *monitorForm) showErrors(err error) {
	f.clearErrors()
	if errors.Is(err, trial.ErrWithdrawn) {
		f.errors.SetText(lang.L("monitors.withdrawn_final"))
		return
	}
	msgs := fieldMessages(err)
	var lines []string
	for _, field := range []string{"trial", "session", "name", "kana", "age_band", "contact", "companion_of", "status",
		"consent_version", "consent_signed_on", "consent_staff", ""} {
		msg, ok := msgs[field]
		if !ok {
			continue
		}
		delete(msgs, field)
		if field == "" {
			lines = append(lines, msg)
		} else {
			lines = append(lines, fieldName(field)+": "+msg)
		}
	}
	for field, msg := range msgs { // fields the form has no entry for
		lines = append(lines, fieldName(field)+": "+msg)
	}
	f.errors.SetText(lang.L("monitors.check_input") + "\n" + strings.Join(lines, "\n"))
}

func (f *monitorForm) edit(m trial.Monitor) {
	f.m = m
	f.clearErrors()
	trialNames := make([]string, len(f.s.trials))
	for i, t := range f.s.trials {
		trialNames[i] = t.Name
	}
	f.trial.Options = trialNames
	f.trial.ClearSelected()
	for i, t := range f.s.trials {
		if t.ID == m.TrialID || (m.TrialID == 0 && i == 0) {
			f.trial.SetSelectedIndex(i)
		}
	}
	f.fillSessions()
	f.session.SetSelectedIndex(0)
	for i, se := range f.sessOpts {
		if m.SessionID != nil && se.ID == *m.SessionID {
			f.session.SetSelectedIndex(i + 1)
		}
	}
	f.name.SetText(m.Name)
	f.kana.SetText(m.Kana)
	f.age.ClearSelected()
	if m.AgeBand != "" {
		f.age.SetSelected(m.AgeBand)
	}
	f.contact.SetText(m.Contact)
	f.comp.SetText("")
	if m.CompanionOf != nil {
		f.comp.SetText(*m.CompanionOf)
	}
	// Withdrawal is final and has its own button: the select offers the
	// other statuses, and shows a withdrawn monitor as withdrawn.
	withdrawn := m.Status == trial.StatusWithdrawn
	f.status.Options = nil
	for _, st := range trial.Statuses {
		if (st == trial.StatusWithdrawn) == withdrawn {
			f.status.Options = append(f.status.Options, statusName(st))
		}
	}
	st := m.Status
	if st == "" {
		st = trial.StatusEnrolled
	}
	f.status.SetSelected(statusName(st))
	f.cVer.SetText(m.Consent.FormVersion)
	f.cDate.SetText(m.Consent.SignedOn)
	f.cStaff.SetText(m.Consent.Staff)

	editable := []fyne.Disableable{f.session, f.name, f.kana, f.age, f.contact, f.comp, f.status, f.cVer, f.cDate, f.cStaff, f.save}
	for _, w := range editable {
		if withdrawn {
			w.Disable()
		} else {
			w.Enable()
		}
	}
	switch {
	case m.ID == "":
		f.title.SetText(lang.L("monitors.enrol_title"))
		f.banner.SetText("")
		f.banner.Hide()
		f.trial.Enable()
		f.wd.Hide()
	case withdrawn:
		f.title.SetText(lang.L("monitors.edit_title", map[string]any{"ID": m.ID}))
		when := ""
		if m.WithdrawnAt != nil {
			when = m.WithdrawnAt.Local().Format("2006-01-02 15:04")
		}
		f.banner.SetText(lang.L("monitors.withdrawn_banner", map[string]any{"When": when}))
		f.banner.Show()
		f.trial.Disable()
		f.wd.Hide()
	default:
		f.title.SetText(lang.L("monitors.edit_title", map[string]any{"ID": m.ID}))
		f.banner.SetText("")
		f.banner.Hide()
		f.trial.Disable() // a monitor cannot move to another trial
		f.wd.Show()
	}
	f.form.Refresh()
}

// fillSessions offers the sessions of the trial selected in the form.
func (f *monitorForm) fillSessions() {
	f.sessOpts = nil
	opts := []string{lang.L("monitors.no_session")}
	if i := f.trial.SelectedIndex(); i >= 0 && i < len(f.s.trials) {
		for _, se := range f.s.sessions {
			if se.TrialID == f.s.trials[i].ID {
				f.sessOpts = append(f.sessOpts, se)
				opts = append(opts, sessionLabel(se))
			}
		}
	}
	f.session.Options = opts
	f.session.SetSelectedIndex(0)
}

// collect reads the form into a monitor.
func (f *monitorForm) collect() trial.Monitor {
	m := f.m
	if i := f.trial.SelectedIndex(); i >= 0 && i < len(f.s.trials) {
		m.TrialID = f.s.trials[i].ID
	}
	m.SessionID = nil
	if i := f.session.SelectedIndex(); i > 0 && i-1 < len(f.sessOpts) {
		id := f.sessOpts[i-1].ID
		m.SessionID = &id
	}
	m.Name, m.Kana, m.AgeBand, m.Contact = f.name.Text, f.kana.Text, f.age.Selected, f.contact.Text
	m.CompanionOf = nil
	if c := strings.TrimSpace(f.comp.Text); c != "" {
		m.CompanionOf = &c
	}
	m.Consent = trial.Consent{FormVersion: f.cVer.Text, SignedOn: f.cDate.Text, Staff: f.cStaff.Text}
	return m
}

func (f *monitorForm) submit() {
	m := f.collect()
	status := statusFromName(f.status.Selected)
	if f.m.ID == "" && m.TrialID == 0 {
		f.showErrors(trial.FieldErrors{{Field: "trial", Reason: "required", Code: trial.ReasonRequired}})
		return
	}
	old := f.m
	f.save.Disable()
	Run(context.Background(), func(ctx context.Context) (trial.Monitor, error) {
		if old.ID == "" {
			m.Status = status
			return f.s.svc.Enrol(ctx, m)
		}
		m.Status = old.Status
		saved, err := f.s.svc.UpdateMonitor(ctx, m)
		if err != nil || status == old.Status {
			return saved, err
		}
		return f.s.svc.SetStatus(ctx, saved.ID, status)
	}, func(saved trial.Monitor, err error) {
		f.save.Enable()
		if err != nil {
			f.showErrors(err)
			return
		}
		f.s.saved(saved)
		f.errors.SetText(lang.L("monitors.saved", map[string]any{"ID": saved.ID}))
		f.errors.Importance = widget.SuccessImportance
		f.errors.Refresh()
	})
}

func (f *monitorForm) confirmWithdraw() {
	id := f.m.ID
	if id == "" {
		return
	}
	msg := widget.NewLabel(lang.L("monitors.withdraw_confirm", map[string]any{"ID": id}))
	msg.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomConfirm(lang.L("monitors.withdraw_title"), lang.L("monitors.withdraw_yes"), lang.L("Cancel"),
		container.NewGridWrap(fyne.NewSize(440, 140), msg), func(ok bool) {
			if ok {
				f.withdraw(id)
			}
		}, f.s.w)
	d.Show()
}

func (f *monitorForm) withdraw(id string) {
	Run(context.Background(), func(ctx context.Context) (trial.Monitor, error) {
		return f.s.svc.Withdraw(ctx, id)
	}, func(m trial.Monitor, err error) {
		if err != nil {
			ShowError(f.s.w, fmt.Errorf("%s: %w", id, err))
			return
		}
		f.s.saved(m)
	})
}
