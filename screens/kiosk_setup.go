package screens

import (
	"context"
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/survey"
	"jpkipilot/trial"
	"jpkipilot/trial/staff"
)

// kioskSetup is the staff page before the hand-over: who answers, in which
// trial, session and step, which form; and the staff PIN that leaves it.
type kioskSetup struct {
	k        *Kiosk
	trials   []trial.Trial
	sessions []trial.Session
	forms    []survey.FormInfo
	monitors []trial.Monitor
	pinSet   bool
	open     []survey.Response // unfinished, newest first

	openSel    *widget.Select
	trialSel   *widget.Select
	sessionSel *widget.Select
	sessOpts   []trial.Session
	stepSel    *widget.Select
	monitorSel *widget.SelectEntry
	formSel    *widget.Select
	pinStatus  *widget.Label
	result     *widget.Label
	start      *widget.Button
	content    fyne.CanvasObject
}

type kioskSetupData struct {
	trials   []trial.Trial
	sessions []trial.Session
	forms    []survey.FormInfo
	monitors []trial.Monitor
	open     []survey.Response
}

func newKioskSetup(k *Kiosk) *kioskSetup {
	s := &kioskSetup{k: k}
	s.trialSel = newSelect(nil, func(string) { s.fillSessions(); s.fillMonitors() })
	s.sessionSel = newSelect(nil, func(string) { s.sessionChosen(); s.fillMonitors() })
	s.stepSel = newSelect(append([]string{stepName(trial.StepNone)}, stepNames()...), func(string) { s.stepChosen() })
	s.stepSel.SetSelectedIndex(0)
	s.monitorSel = widget.NewSelectEntry(nil)
	s.monitorSel.SetPlaceHolder(lang.L("kiosk.monitor_placeholder"))
	s.formSel = newSelect(nil, nil)
	s.openSel = newSelect(nil, func(string) { s.openChosen() })
	s.openSel.PlaceHolder = lang.L("kiosk.unfinished_none")
	s.pinStatus = widget.NewLabel("")
	pinBtn := widget.NewButtonWithIcon(lang.L("kiosk.set_my_pin"), theme.AccountIcon(), s.setPIN)
	if !k.deps.Session.May(staff.RunKiosk) {
		pinBtn.Hide()
	}
	s.result = widget.NewLabel("")
	s.result.Wrapping = fyne.TextWrapWord
	s.result.Importance = widget.DangerImportance
	s.start = widget.NewButtonWithIcon(lang.L("kiosk.start"), theme.MediaPlayIcon(), s.begin)
	s.start.Importance = widget.HighImportance
	form := widget.NewForm(
		widget.NewFormItem(lang.L("kiosk.unfinished"), s.openSel),
		widget.NewFormItem(lang.L("field.trial"), s.trialSel),
		widget.NewFormItem(lang.L("field.session"), s.sessionSel),
		widget.NewFormItem(lang.L("kiosk.step"), s.stepSel),
		widget.NewFormItem(lang.L("kiosk.monitor"), s.monitorSel),
		widget.NewFormItem(lang.L("kiosk.form"), s.formSel),
		widget.NewFormItem(lang.L("kiosk.my_pin"), container.NewHBox(s.pinStatus, pinBtn)),
	)
	help := widget.NewLabel(lang.L("kiosk.setup_help"))
	help.Wrapping = fyne.TextWrapWord
	exit := widget.NewButtonWithIcon(lang.L("kiosk.exit"), theme.LogoutIcon(), func() {
		k.askPIN(lang.L("kiosk.exit_title"), k.exit)
	})
	s.content = container.NewPadded(container.NewVBox(
		container.NewBorder(nil, nil, nil, exit,
			widget.NewLabelWithStyle(lang.L("kiosk.setup_title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})),
		help, form, s.result, container.NewHBox(s.start)))
	return s
}

func (s *kioskSetup) load() {
	Run(context.Background(), func(ctx context.Context) (kioskSetupData, error) {
		var d kioskSetupData
		var err error
		if d.trials, err = s.k.deps.Trials.ListTrials(ctx); err != nil {
			return d, err
		}
		if d.sessions, err = s.k.deps.Trials.AllSessions(ctx); err != nil {
			return d, err
		}
		if d.monitors, err = s.k.deps.Trials.ListMonitors(ctx, trial.Filter{}); err != nil {
			return d, err
		}
		infos, err := s.k.deps.Survey.Forms(ctx)
		if err != nil {
			return d, err
		}
		d.forms = formChoices(infos)
		d.open, err = s.k.deps.Survey.Unfinished(ctx)
		return d, err
	}, func(d kioskSetupData, err error) {
		if err != nil {
			s.fail(err)
			return
		}
		s.trials, s.sessions, s.forms, s.monitors, s.open = d.trials, d.sessions, d.forms, d.monitors, d.open
		s.pinSet = s.k.deps.Session != nil && s.k.deps.Session.Account.HasPIN
		var open []string
		for _, r := range d.open {
			open = append(open, lang.L("kiosk.unfinished_item", map[string]any{"Monitor": r.MonitorID, "Form": r.FormID,
				"When": r.UpdatedAt.Local().Format("01-02 15:04")}))
		}
		s.openSel.Options = open
		if len(open) > 0 {
			s.openSel.PlaceHolder = lang.L("kiosk.unfinished_pick", map[string]any{"N": len(open)})
		}
		s.openSel.Refresh()
		names := make([]string, len(d.trials))
		for i, t := range d.trials {
			names[i] = t.Name
		}
		s.trialSel.Options = names
		if len(names) > 0 {
			s.trialSel.SetSelectedIndex(0)
		}
		labels := make([]string, len(d.forms))
		for i, f := range d.forms {
			labels[i] = formLabel(f)
		}
		s.formSel.Options = labels
		s.formSel.Refresh()
		s.showPIN()
	})
}

// openChosen fills in the monitor and form of an unfinished questionnaire
// (after a crash or power cut): Start then resumes it where it stopped.
func (s *kioskSetup) openChosen() {
	i := s.openSel.SelectedIndex()
	if i < 0 || i >= len(s.open) {
		return
	}
	r := s.open[i]
	s.monitorSel.SetText(r.MonitorID)
	for j, f := range s.forms {
		if f.ID == r.FormID {
			s.formSel.SetSelectedIndex(j)
		}
	}
}

func (s *kioskSetup) showPIN() {
	if s.pinSet {
		s.pinStatus.Importance = widget.SuccessImportance
		s.pinStatus.SetText(lang.L("kiosk.pin_is_set"))
	} else {
		s.pinStatus.Importance = widget.WarningImportance
		s.pinStatus.SetText(lang.L("kiosk.pin_not_set"))
	}
}

func (s *kioskSetup) selectedTrial() *trial.Trial {
	if i := s.trialSel.SelectedIndex(); i >= 0 && i < len(s.trials) {
		return &s.trials[i]
	}
	return nil
}

func (s *kioskSetup) selectedSession() *trial.Session {
	if i := s.sessionSel.SelectedIndex(); i > 0 && i-1 < len(s.sessOpts) {
		return &s.sessOpts[i-1]
	}
	return nil
}

func (s *kioskSetup) fillSessions() {
	s.sessOpts = nil
	opts := []string{lang.L("monitors.no_session")}
	if t := s.selectedTrial(); t != nil {
		for _, se := range s.sessions {
			if se.TrialID == t.ID {
				s.sessOpts = append(s.sessOpts, se)
				opts = append(opts, sessionLabel(se))
			}
		}
	}
	s.sessionSel.Options = opts
	s.sessionSel.SetSelectedIndex(0)
}

// sessionChosen takes the session's step, which picks the step's form.
func (s *kioskSetup) sessionChosen() {
	if se := s.selectedSession(); se != nil {
		s.stepSel.SetSelected(stepName(se.Step))
	}
}

// stepChosen picks the bundled form of a ticket step, when registered.
func (s *kioskSetup) stepChosen() {
	step := stepFromName(s.stepSel.Selected)
	if step == trial.StepNone {
		return
	}
	for i, f := range s.forms {
		if f.ID == "ticket_"+string(step) {
			s.formSel.SetSelectedIndex(i)
		}
	}
}

// fillMonitors offers the ids of the monitors of the chosen trial and
// session who have not withdrawn (ids only: the monitor sees this page).
func (s *kioskSetup) fillMonitors() {
	if s.monitorSel == nil {
		return
	}
	t, se := s.selectedTrial(), s.selectedSession()
	var ids []string
	for _, m := range s.monitors {
		if m.Status == trial.StatusWithdrawn || (t != nil && m.TrialID != t.ID) ||
			(se != nil && (m.SessionID == nil || *m.SessionID != se.ID)) {
			continue
		}
		ids = append(ids, m.ID)
	}
	s.monitorSel.SetOptions(ids)
}

func (s *kioskSetup) fail(err error) {
	s.start.Enable()
	s.result.SetText(err.Error())
}

// begin checks the staff's choices and starts (or resumes) the response.
func (s *kioskSetup) begin() {
	s.result.SetText("")
	fi := s.formSel.SelectedIndex()
	switch {
	case !s.pinSet:
		s.result.SetText(lang.L("kiosk.need_pin"))
		return
	case s.monitorSel.Text == "":
		s.result.SetText(lang.L("kiosk.need_monitor"))
		return
	case fi < 0 || fi >= len(s.forms):
		s.result.SetText(lang.L("kiosk.need_form"))
		return
	}
	subj := survey.Subject{MonitorID: s.monitorSel.Text, Step: string(stepFromName(s.stepSel.Selected)), Mode: "kiosk"}
	if t := s.selectedTrial(); t != nil {
		id := t.ID
		subj.TrialID = &id
	}
	if se := s.selectedSession(); se != nil {
		id := se.ID
		subj.SessionID = &id
	}
	s.start.Disable()
	s.k.begin(s.forms[fi], subj)
}

// setPIN sets the logged-in account's own kiosk PIN, as "My kiosk PIN" in
// the main window's session bar does: the password is asked again
// (staff.Service.SetOwnPIN checks it, throttles and audits). A venue staff
// member who started the kiosk without a PIN sets one here instead of
// leaving for the main window.
func (s *kioskSetup) setPIN() {
	sess := s.k.deps.Session
	if sess == nil || s.k.deps.Staff == nil {
		s.result.SetText(lang.L("kiosk.need_login"))
		return
	}
	current, pin, again := widget.NewPasswordEntry(), widget.NewPasswordEntry(), widget.NewPasswordEntry()
	items := []*widget.FormItem{
		widget.NewFormItem(lang.L("staff.field_current_password"), current),
		widget.NewFormItem(lang.L("kiosk.pin_new"), pin),
		widget.NewFormItem(lang.L("kiosk.pin_again"), again),
	}
	d := dialog.NewForm(lang.L("kiosk.set_my_pin"), lang.L("OK"), lang.L("Cancel"), items, func(ok bool) {
		if !ok {
			return
		}
		if bad := append(currentRequired(current), checkNewPIN(pin.Text, again.Text)...); len(bad) > 0 {
			s.result.SetText(strings.Join(bad, "\n"))
			return
		}
		password, neu := current.Text, pin.Text
		Run(context.Background(), func(ctx context.Context) (struct{}, error) {
			err := s.k.deps.Staff.SetOwnPIN(ctx, sess, password, neu)
			if errors.Is(err, staff.ErrBadLogin) {
				err = errWrongCurrent
			}
			return struct{}{}, err
		}, func(_ struct{}, err error) {
			if err != nil {
				s.result.SetText(staffErrorText(err))
				return
			}
			s.pinSet = true
			sess.Account.HasPIN = true
			s.result.SetText("")
			s.showPIN()
		})
	}, s.k.w)
	d.Resize(fyne.NewSize(480, d.MinSize().Height))
	d.Show()
}

// kioskTheme makes the monitor's pages large: text, icons (radio and check
// boxes) and spacing.
type kioskTheme struct{ fyne.Theme }

func newKioskTheme() fyne.Theme { return kioskTheme{NewTheme()} }

func (t kioskTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameText:
		return 26
	case theme.SizeNameHeadingText:
		return 34
	case theme.SizeNameInlineIcon:
		return 34
	case theme.SizeNamePadding:
		return 8
	case theme.SizeNameInnerPadding:
		return 14
	}
	return t.Theme.Size(n)
}
