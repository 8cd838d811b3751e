package screens

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial"
)

// TrialService creates and edits trials and their sessions.
type TrialService interface {
	ListTrials(ctx context.Context) ([]trial.Trial, error)
	CreateTrial(ctx context.Context, t trial.Trial) (trial.Trial, error)
	UpdateTrial(ctx context.Context, t trial.Trial) (trial.Trial, error)
	ListSessions(ctx context.Context, trialID int64) ([]trial.Session, error)
	CreateSession(ctx context.Context, s trial.Session) (trial.Session, error)
	UpdateSession(ctx context.Context, s trial.Session) (trial.Session, error)
	DeleteSession(ctx context.Context, id int64) error
	// SetRetention sets the last day a trial's personal fields are kept
	// ("" clears it); PurgeExpired erases them for every trial past it.
	SetRetention(ctx context.Context, trialID int64, until string) error
	PurgeExpired(ctx context.Context) (trial.PurgeResult, error)
	// ListMonitors counts, before a purge, whose personal fields it erases.
	ListMonitors(ctx context.Context, f trial.Filter) ([]trial.Monitor, error)
}

type trialsScreen struct {
	w        fyne.Window
	svc      TrialService
	trials   []trial.Trial
	sessions []trial.Session
	selected int // index in trials, -1 for a new trial
	// now is the clock that decides which retention dates have passed
	// (the service's own clock decides what PurgeExpired erases).
	now func() time.Time

	list     *widget.List
	name     *widget.Entry
	kind     *widget.Select
	loanDays *widget.Entry
	notes    *widget.Entry
	formErr  *widget.Label
	retain   *widget.Entry
	retainOK *widget.Button
	retainer *widget.Label
	purge    *widget.Button
	sessList *widget.List
	addSess  *widget.Button
	content  fyne.CanvasObject
}

// NewTrials lists the trials; the selected one is edited beside the list
// with its sessions.
func NewTrials(w fyne.Window, svc TrialService) fyne.CanvasObject {
	return newTrialsScreen(w, svc).content
}

func newTrialsScreen(w fyne.Window, svc TrialService) *trialsScreen {
	s := &trialsScreen{w: w, svc: svc, selected: -1, now: time.Now}
	s.list = widget.NewList(
		func() int { return len(s.trials) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			t := s.trials[i]
			o.(*widget.Label).SetText(clipText(fmt.Sprintf("%s  [%s]", t.Name, kindName(t.Kind)), 22))
		})
	s.list.OnSelected = func(i widget.ListItemID) { s.edit(i) }
	newBtn := widget.NewButtonWithIcon(lang.L("trials.new"), theme.ContentAddIcon(), func() {
		s.list.UnselectAll()
		s.edit(-1)
	})

	s.name = widget.NewEntry()
	s.kind = newSelect(kindNames(), func(string) { s.kindChanged() })
	s.loanDays = widget.NewEntry()
	s.notes = widget.NewMultiLineEntry()
	s.notes.SetMinRowsVisible(2)
	s.formErr = widget.NewLabel("")
	s.formErr.Wrapping = fyne.TextWrapWord
	s.formErr.Importance = widget.DangerImportance
	form := widget.NewForm(
		widget.NewFormItem(lang.L("field.name"), s.name),
		widget.NewFormItem(lang.L("field.kind"), s.kind),
		widget.NewFormItem(lang.L("field.loan_days"), s.loanDays),
		widget.NewFormItem(lang.L("field.notes"), s.notes),
	)
	form.SubmitText = lang.L("trials.save")
	form.OnSubmit = s.saveTrial

	s.retain = widget.NewEntry()
	s.retain.SetPlaceHolder(lang.L("trials.retain_placeholder"))
	s.retain.OnSubmitted = func(string) { s.saveRetention() }
	s.retainOK = widget.NewButtonWithIcon(lang.L("trials.retention_save"), theme.DocumentSaveIcon(), s.saveRetention)
	s.retainer = widget.NewLabel("")
	s.retainer.Wrapping = fyne.TextWrapWord
	retention := container.NewVBox(
		widget.NewForm(widget.NewFormItem(lang.L("field.retain_until"), container.NewBorder(nil, nil, nil, s.retainOK, s.retain))),
		s.retainer)
	s.purge = widget.NewButtonWithIcon(lang.L("trials.purge"), theme.DeleteIcon(), s.previewPurge)
	s.purge.Importance = widget.DangerImportance

	s.sessList = widget.NewList(
		func() int { return len(s.sessions) },
		func() fyne.CanvasObject {
			return widget.NewLabel("FIELD-ENTRY · 2017-01-01 · 入場 · 会場名 · 定員 100 · 目標 90")
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			se := s.sessions[i]
			parts := []string{se.Code, se.StartsOn}
			if se.Step != trial.StepNone {
				parts = append(parts, stepName(se.Step))
			}
			parts = append(parts, se.Venue,
				lang.L("trials.capacity_n", map[string]any{"N": se.Capacity}),
				lang.L("trials.target_n", map[string]any{"N": se.Target}))
			o.(*widget.Label).SetText(strings.Join(parts, " · "))
		})
	s.sessList.OnSelected = func(i widget.ListItemID) {
		s.sessList.UnselectAll()
		s.editSession(s.sessions[i])
	}
	s.addSess = widget.NewButtonWithIcon(lang.L("trials.add_session"), theme.ContentAddIcon(), func() {
		if s.selected >= 0 {
			s.editSession(trial.Session{TrialID: s.trials[s.selected].ID})
		}
	})

	left := container.NewBorder(newBtn, s.purge, nil, nil, s.list)
	sessions := container.NewBorder(
		container.NewHBox(widget.NewLabelWithStyle(lang.L("trials.sessions"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), s.addSess),
		nil, nil, nil, s.sessList)
	right := container.NewBorder(container.NewVBox(form, s.formErr, widget.NewSeparator(), retention), nil, nil, nil, sessions)
	split := container.NewHSplit(left, right)
	split.Offset = 0.3
	s.content = split
	s.edit(-1)
	s.reload(0)
	return s
}

// reload fetches the trials and selects the one with id (0: keep selection).
func (s *trialsScreen) reload(id int64) {
	Run(context.Background(), func(ctx context.Context) ([]trial.Trial, error) {
		return s.svc.ListTrials(ctx)
	}, func(ts []trial.Trial, err error) {
		if err != nil {
			ShowError(s.w, err)
			return
		}
		s.trials = ts
		s.list.Refresh()
		for i, t := range ts {
			if t.ID != id {
				continue
			}
			if i == s.selected { // Select does nothing then: show the saved date
				s.retain.SetText(t.RetainUntil)
				s.showRetention(t)
			}
			s.list.Select(i)
		}
	})
}

func (s *trialsScreen) edit(i int) {
	s.selected = i
	s.formErr.SetText("")
	t := trial.Trial{Kind: trial.KindLoan, LoanDays: trial.DefaultLoanDays}
	if i >= 0 {
		t = s.trials[i]
	}
	s.name.SetText(t.Name)
	s.kind.SetSelected(kindName(t.Kind))
	s.loanDays.SetText(strconv.Itoa(t.LoanDays))
	s.notes.SetText(t.Notes)
	s.sessions = nil
	s.sessList.Refresh()
	s.retain.SetText(t.RetainUntil)
	s.showRetention(t)
	// A session that may not manage trials has the button hidden (access
	// table): the date is then shown read-only.
	if i < 0 || !s.retainOK.Visible() {
		s.retain.Disable()
		s.retainOK.Disable()
	} else {
		s.retain.Enable()
		s.retainOK.Enable()
	}
	if i < 0 {
		s.addSess.Disable()
		return
	}
	s.addSess.Enable()
	s.reloadSessions(t.ID)
}

func (s *trialsScreen) kindChanged() {
	if kindFromName(s.kind.Selected) == trial.KindLoan {
		s.loanDays.Enable()
	} else {
		s.loanDays.Disable()
	}
}

func (s *trialsScreen) reloadSessions(trialID int64) {
	Run(context.Background(), func(ctx context.Context) ([]trial.Session, error) {
		return s.svc.ListSessions(ctx, trialID)
	}, func(ss []trial.Session, err error) {
		if err != nil {
			ShowError(s.w, err)
			return
		}
		if s.selected < 0 || s.trials[s.selected].ID != trialID {
			return // another trial was selected meanwhile
		}
		s.sessions = ss
		s.sessList.Refresh()
	})
}

func (s *trialsScreen) saveTrial() {
	t := trial.Trial{Name: s.name.Text, Kind: kindFromName(s.kind.Selected), Notes: s.notes.Text}
	days, err := strconv.Atoi(strings.TrimSpace(s.loanDays.Text))
	if err != nil {
		s.formErr.SetText(fmt.Sprintf("%s: %s", fieldName("loan_days"), lang.L("error.number")))
		return
	}
	t.LoanDays = days
	create := s.selected < 0
	if !create {
		t.ID = s.trials[s.selected].ID
	}
	Run(context.Background(), func(ctx context.Context) (trial.Trial, error) {
		if create {
			return s.svc.CreateTrial(ctx, t)
		}
		return s.svc.UpdateTrial(ctx, t)
	}, func(saved trial.Trial, err error) {
		if err != nil {
			s.formErr.SetText(errorText(err))
			return
		}
		s.formErr.SetText("")
		s.reload(saved.ID)
	})
}

// sessionForm is the dialog that creates or edits one session.
type sessionForm struct {
	code, date, venue, capacity, target *widget.Entry
	step                                *widget.Select
	errLabel                            *widget.Label
	dialog                              dialog.Dialog
	save                                func()
}

// editSession opens the session form; se.ID == 0 creates one.
func (s *trialsScreen) editSession(se trial.Session) *sessionForm {
	kind := trial.KindLoan
	if s.selected >= 0 {
		kind = s.trials[s.selected].Kind
	}
	f := &sessionForm{
		code: widget.NewEntry(), date: widget.NewEntry(), venue: widget.NewEntry(),
		capacity: widget.NewEntry(), target: widget.NewEntry(),
		step: newSelect(stepNames(), nil), errLabel: widget.NewLabel(""),
	}
	f.code.SetText(se.Code)
	if se.Step != trial.StepNone {
		f.step.SetSelected(stepName(se.Step))
	}
	if kind != trial.KindField {
		f.step.Disable() // only field-trial sessions have a step
	}
	f.date.SetPlaceHolder(lang.L("monitors.date_placeholder"))
	f.date.SetText(se.StartsOn)
	f.venue.SetText(se.Venue)
	f.capacity.SetText(strconv.Itoa(se.Capacity))
	f.target.SetText(strconv.Itoa(se.Target))
	f.errLabel.Importance = widget.DangerImportance
	f.errLabel.Wrapping = fyne.TextWrapWord

	f.save = func() {
		n := se
		n.Code, n.StartsOn, n.Venue = f.code.Text, f.date.Text, f.venue.Text
		n.Step = trial.StepNone
		if kind == trial.KindField {
			n.Step = stepFromName(f.step.Selected)
		}
		var bad []string
		var err error
		if n.Capacity, err = strconv.Atoi(strings.TrimSpace(f.capacity.Text)); err != nil {
			bad = append(bad, fieldName("capacity")+": "+lang.L("error.number"))
		}
		if n.Target, err = strconv.Atoi(strings.TrimSpace(f.target.Text)); err != nil {
			bad = append(bad, fieldName("target")+": "+lang.L("error.number"))
		}
		if len(bad) > 0 {
			f.errLabel.SetText(strings.Join(bad, "\n"))
			return
		}
		Run(context.Background(), func(ctx context.Context) (trial.Session, error) {
			if n.ID == 0 {
				return s.svc.CreateSession(ctx, n)
			}
			return s.svc.UpdateSession(ctx, n)
		}, func(saved trial.Session, err error) {
			if err != nil {
				f.errLabel.SetText(errorText(err))
				return
			}
			f.dialog.Hide()
			s.reloadSessions(saved.TrialID)
		})
	}
	title := lang.L("trials.new_session")
	if se.ID != 0 {
		title = lang.L("trials.edit_session")
	}
	form := widget.NewForm(
		widget.NewFormItem(lang.L("field.code"), f.code),
		widget.NewFormItem(lang.L("field.step"), f.step),
		widget.NewFormItem(lang.L("field.starts_on"), f.date),
		widget.NewFormItem(lang.L("field.venue"), f.venue),
		widget.NewFormItem(lang.L("field.capacity"), f.capacity),
		widget.NewFormItem(lang.L("field.target"), f.target),
	)
	buttons := container.NewHBox(
		widget.NewButton(lang.L("Cancel"), func() { f.dialog.Hide() }),
		widget.NewButtonWithIcon(lang.L("Save"), theme.DocumentSaveIcon(), f.save))
	if se.ID != 0 {
		buttons.Add(widget.NewButtonWithIcon(lang.L("trials.delete_session"), theme.DeleteIcon(), func() {
			Run(context.Background(), func(ctx context.Context) (struct{}, error) {
				return struct{}{}, s.svc.DeleteSession(ctx, se.ID)
			}, func(_ struct{}, err error) {
				if err != nil {
					f.errLabel.SetText(err.Error())
					return
				}
				f.dialog.Hide()
				s.reloadSessions(se.TrialID)
			})
		}))
	}
	f.dialog = dialog.NewCustomWithoutButtons(title, container.NewVBox(form, f.errLabel, container.NewCenter(buttons)), s.w)
	f.dialog.Resize(fyne.NewSize(560, f.dialog.MinSize().Height))
	f.dialog.Show()
	return f
}

// today is the day in Japan's calendar, which retention dates are in.
func (s *trialsScreen) today() string { return s.now().In(trial.JST).Format(time.DateOnly) }

// showRetention says what the trial's retention date means now.
func (s *trialsScreen) showRetention(t trial.Trial) {
	switch {
	case t.ID == 0:
		s.retainer.Importance = widget.MediumImportance
		s.retainer.SetText(lang.L("trials.retain_after_save"))
	case t.RetainUntil == "":
		s.retainer.Importance = widget.MediumImportance
		s.retainer.SetText(lang.L("trials.retain_none"))
	case t.RetainUntil < s.today():
		s.retainer.Importance = widget.WarningImportance
		s.retainer.SetText(lang.L("trials.retain_passed", map[string]any{"Date": t.RetainUntil}))
	default:
		s.retainer.Importance = widget.MediumImportance
		s.retainer.SetText(lang.L("trials.retain_until", map[string]any{"Date": t.RetainUntil}))
	}
}

// saveRetention sets (or, left empty, clears) the selected trial's
// retention date; a bad date is shown under the field and changes nothing.
func (s *trialsScreen) saveRetention() {
	if s.selected < 0 || s.retainOK.Disabled() {
		return
	}
	id := s.trials[s.selected].ID
	until := strings.TrimSpace(s.retain.Text)
	if until != "" && !trial.ValidDate(until) {
		s.retainer.Importance = widget.DangerImportance
		s.retainer.SetText(fieldName("retain_until") + ": " + lang.L("reason.date", map[string]any{"A": until}))
		return
	}
	Run(context.Background(), func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.svc.SetRetention(ctx, id, until)
	}, func(_ struct{}, err error) {
		if err != nil {
			s.retainer.Importance = widget.DangerImportance
			s.retainer.SetText(errorText(err))
			return
		}
		s.reload(id)
	})
}

// purgeDue is a trial past its retention date and how many of its monitors
// still have personal fields.
type purgeDue struct {
	Trial    trial.Trial
	Monitors int
}

// previewPurge finds, on a worker, the trials past their retention date
// with personal fields left, and asks before erasing anything.
func (s *trialsScreen) previewPurge() {
	today := s.today()
	s.purge.Disable()
	Run(context.Background(), func(ctx context.Context) ([]purgeDue, error) {
		ts, err := s.svc.ListTrials(ctx)
		if err != nil {
			return nil, err
		}
		var due []purgeDue
		for _, t := range ts {
			if t.RetainUntil == "" || t.RetainUntil >= today {
				continue
			}
			ms, err := s.svc.ListMonitors(ctx, trial.Filter{TrialID: t.ID})
			if err != nil {
				return nil, err
			}
			n := 0
			for _, m := range ms {
				if m.Name != "" || m.Kana != "" || m.Contact != "" || m.Sealed {
					n++
				}
			}
			if n > 0 {
				due = append(due, purgeDue{t, n})
			}
		}
		return due, nil
	}, func(due []purgeDue, err error) {
		s.purge.Enable()
		if err != nil {
			ShowError(s.w, err)
			return
		}
		s.confirmPurge(due)
	})
}

// confirmPurge names each trial, its retention date and how many monitors
// lose their name, kana and contact, and erases only when confirmed.
func (s *trialsScreen) confirmPurge(due []purgeDue) dialog.Dialog {
	if len(due) == 0 {
		d := dialog.NewInformation(lang.L("trials.purge_title"), lang.L("trials.purge_nothing"), s.w)
		d.Show()
		return d
	}
	lines := make([]string, len(due))
	total := 0
	for i, d := range due {
		lines[i] = lang.L("trials.purge_line", map[string]any{"Name": d.Trial.Name, "Date": d.Trial.RetainUntil, "N": d.Monitors})
		total += d.Monitors
	}
	msg := widget.NewLabel(lang.L("trials.purge_confirm", map[string]any{
		"Trials": strings.Join(lines, "\n"), "N": total, "T": len(due)}))
	msg.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomConfirm(lang.L("trials.purge_title"), lang.L("trials.purge_do"), lang.L("Cancel"), msg,
		func(ok bool) {
			if ok {
				s.runPurge()
			}
		}, s.w)
	d.SetConfirmImportance(widget.DangerImportance)
	d.Resize(fyne.NewSize(620, d.MinSize().Height))
	d.Show()
	return d
}

// runPurge erases on a worker (one transaction, audited per trial).
func (s *trialsScreen) runPurge() {
	var res trial.PurgeResult
	names := map[int64]string{}
	for _, t := range s.trials {
		names[t.ID] = t.Name
	}
	RunWithProgress(s.w, lang.L("trials.purging"), func(ctx context.Context, _ Progress) error {
		var err error
		res, err = s.svc.PurgeExpired(ctx)
		return err
	}, func(err error) {
		if err != nil {
			ShowError(s.w, err)
			return
		}
		var purged []string
		for _, id := range res.Trials {
			if n, ok := names[id]; ok {
				purged = append(purged, n)
			} else {
				purged = append(purged, trial.TrialSubject(id))
			}
		}
		msg := lang.L("trials.purged", map[string]any{"N": res.Monitors, "Trials": strings.Join(purged, "、")})
		if len(res.Trials) == 0 {
			msg = lang.L("trials.purge_nothing")
		}
		dialog.ShowInformation(lang.L("trials.purge_title"), msg, s.w)
		s.reload(0)
	})
}
