package screens

import (
	"context"
	"errors"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial/pii"
	"jpkipilot/trial/staff"
)

// StaffService manages staff accounts (*staff.Service).
type StaffService interface {
	List(ctx context.Context, by *staff.Session) ([]staff.Account, error)
	Create(ctx context.Context, by *staff.Session, login, displayName string, role staff.Role, password string) (staff.Account, error)
	ChangePassword(ctx context.Context, sess *staff.Session, oldPassword, newPassword string) error
	ResetPassword(ctx context.Context, by *staff.Session, login, newPassword string) error
	SetRole(ctx context.Context, by *staff.Session, login string, role staff.Role) error
	Disable(ctx context.Context, by *staff.Session, login string, disabled bool) error
	SetPIN(ctx context.Context, by *staff.Session, login, pin string) error
	SetOwnPIN(ctx context.Context, sess *staff.Session, password, pin string) error
	RotateDataKey(ctx context.Context, by *staff.Session) error
}

// StaffDeps is what the staff accounts page needs.
type StaffDeps struct {
	Service StaffService
	// Session is the logged-in account; the page needs staff.ManageStaff
	// (changing one's own password needs only a session).
	Session *staff.Session
	// Zone is the zone last logins are shown in (nil: the computer's).
	Zone *time.Location
	// OnKeyRotated runs on the UI goroutine after the data key was rotated:
	// Session.Key is the new key, which the services that open personal
	// fields must now use.
	OnKeyRotated func()
}

type staffScreen struct {
	w        fyne.Window
	deps     StaffDeps
	accounts []staff.Account
	sel      *staff.Account
	list     *widget.List
	count    *widget.Label
	title    *widget.Label
	info     *widget.Label
	hashNote *widget.Label // the selected account's hash is below the cost in force
	status   *widget.Label
	role     *widget.Button
	reset    *widget.Button
	pin      *widget.Button
	disable  *widget.Button
	content  fyne.CanvasObject
}

// NewStaff lists the staff accounts and manages them: add an account,
// change its role, reset its password, set its kiosk PIN, disable or
// enable it; change one's own password; rotate the data key.
func NewStaff(w fyne.Window, deps StaffDeps) fyne.CanvasObject {
	return newStaffScreen(w, deps).content
}

var staffColumns = columns{1.5, 2, 2.1, 0.9, 1.2, 1.3, 1.9}

func newStaffScreen(w fyne.Window, deps StaffDeps) *staffScreen {
	if deps.Zone == nil {
		deps.Zone = time.Local
	}
	s := &staffScreen{w: w, deps: deps}
	if err := deps.Session.Require(staff.ManageStaff); err != nil {
		s.content = deniedPage(lang.L("staff.title"))
		return s
	}
	s.list = widget.NewList(
		func() int { return len(s.accounts) },
		func() fyne.CanvasObject { return newStaffRow() },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < len(s.accounts) {
				s.fillRow(s.accounts[i], o)
			}
		})
	s.list.OnSelected = func(i widget.ListItemID) {
		if i < len(s.accounts) {
			a := s.accounts[i]
			s.showAccount(&a)
		}
	}
	s.count = widget.NewLabel("")
	add := widget.NewButtonWithIcon(lang.L("staff.add"), theme.ContentAddIcon(), func() { s.openCreate() })
	add.Importance = widget.HighImportance
	own := widget.NewButtonWithIcon(lang.L("staff.change_own"), theme.AccountIcon(), func() { openChangePassword(s.w, s.deps) })
	rotate := widget.NewButtonWithIcon(lang.L("staff.rotate"), theme.ViewRefreshIcon(), func() { s.confirmRotate() })

	s.title = boldLabel(lang.L("staff.pick"))
	s.info = widget.NewLabel("")
	s.hashNote = widget.NewLabel("")
	s.hashNote.Wrapping = fyne.TextWrapWord
	s.hashNote.Importance = widget.WarningImportance
	s.hashNote.Hide()
	s.status = widget.NewLabel("")
	s.status.Wrapping = fyne.TextWrapWord
	s.role = widget.NewButtonWithIcon(lang.L("staff.change_role"), theme.DocumentCreateIcon(), func() { s.openRole() })
	s.reset = widget.NewButtonWithIcon(lang.L("staff.reset_password"), theme.LoginIcon(), func() { s.openReset() })
	s.pin = widget.NewButtonWithIcon(lang.L("staff.set_pin"), theme.GridIcon(), func() { s.openPIN() })
	s.disable = widget.NewButtonWithIcon(lang.L("staff.disable"), theme.CancelIcon(), func() { s.confirmDisable() })
	s.showAccount(nil)

	header := container.New(staffColumns, boldLabel(lang.L("staff.col_login")), boldLabel(lang.L("staff.col_name")),
		boldLabel(lang.L("staff.col_role")), boldLabel(lang.L("staff.col_pin")), boldLabel(lang.L("staff.col_state")),
		boldLabel(lang.L("staff.col_hash")), boldLabel(lang.L("staff.col_last_login")))
	top := container.NewVBox(
		container.NewHBox(boldLabel(lang.L("staff.title")), add, own, rotate, s.count),
		header)
	right := container.NewVBox(s.title, s.info, s.hashNote,
		container.NewGridWithColumns(2, s.role, s.reset, s.pin, s.disable), s.status)
	split := container.NewHSplit(container.NewBorder(top, nil, nil, nil, s.list), container.NewVScroll(right))
	split.Offset = 0.68
	s.content = split
	s.load("")
	return s
}

func newStaffRow() fyne.CanvasObject {
	return container.New(staffColumns, widget.NewLabel(""), widget.NewLabel(""), widget.NewLabel(""),
		widget.NewLabel(""), widget.NewLabel(""), widget.NewLabel(""), widget.NewLabel(""))
}

func roleName(r staff.Role) string { return lang.L("login.role_" + string(r)) }

func roleNames() []string {
	out := make([]string, len(staff.Roles))
	for i, r := range staff.Roles {
		out[i] = roleName(r)
	}
	return out
}

func roleFromName(name string) staff.Role {
	for _, r := range staff.Roles {
		if roleName(r) == name {
			return r
		}
	}
	return ""
}

func (s *staffScreen) lastLogin(a staff.Account) string {
	if a.LastLogin == nil {
		return lang.L("staff.never")
	}
	return a.LastLogin.In(s.deps.Zone).Format("2006-01-02 15:04")
}

func (s *staffScreen) fillRow(a staff.Account, o fyne.CanvasObject) {
	cells := o.(*fyne.Container).Objects
	pin := lang.L("staff.pin_none")
	if a.HasPIN {
		pin = lang.L("staff.pin_set")
	}
	state, imp := lang.L("staff.enabled"), widget.SuccessImportance
	if a.Disabled {
		state, imp = lang.L("staff.disabled"), widget.DangerImportance
	}
	hash, hashImp := lang.L("staff.hash_current"), widget.MediumImportance
	if a.BelowCost {
		hash, hashImp = lang.L("staff.hash_below"), widget.WarningImportance
	}
	for i, t := range []string{a.Login, a.DisplayName, roleName(a.Role), pin, state, hash, s.lastLogin(a)} {
		cells[i].(*widget.Label).SetText(clipText(t, 18))
	}
	for _, c := range []struct {
		i   int
		imp widget.Importance
	}{{4, imp}, {5, hashImp}} {
		l := cells[c.i].(*widget.Label)
		l.Importance = c.imp
		l.Refresh()
	}
}

// load lists the accounts and selects the one with login (or keeps the
// selection when login is "").
func (s *staffScreen) load(login string) {
	if login == "" && s.sel != nil {
		login = s.sel.Login
	}
	Run(context.Background(), func(ctx context.Context) ([]staff.Account, error) {
		return s.deps.Service.List(ctx, s.deps.Session)
	}, func(as []staff.Account, err error) {
		if err != nil {
			s.setStatus(widget.DangerImportance, staffErrorText(err))
			return
		}
		s.accounts = as
		s.count.SetText(lang.L("staff.count", map[string]any{"N": len(as)}))
		s.list.UnselectAll()
		s.list.Refresh()
		s.showAccount(nil)
		for i, a := range as {
			if a.Login == login {
				s.list.Select(i)
			}
		}
	})
}

func (s *staffScreen) setStatus(imp widget.Importance, text string) {
	s.status.Importance = imp
	s.status.SetText(text)
}

// showAccount shows the selected account and enables what can be done to
// it; nil shows nothing selected.
func (s *staffScreen) showAccount(a *staff.Account) {
	s.sel = a
	buttons := []*widget.Button{s.role, s.reset, s.pin, s.disable}
	s.hashNote.Hide()
	if a == nil {
		s.title.SetText(lang.L("staff.pick"))
		s.info.SetText("")
		for _, b := range buttons {
			b.Disable()
		}
		return
	}
	for _, b := range buttons {
		b.Enable()
	}
	s.title.SetText(lang.L("staff.who", map[string]any{"Login": a.Login, "Name": a.DisplayName}))
	key := lang.L("staff.key_none")
	if a.Role.HoldsDataKey() {
		key = lang.L("staff.key_held")
	}
	pin := lang.L("staff.pin_none")
	if a.HasPIN {
		pin = lang.L("staff.pin_set")
	}
	state := lang.L("staff.enabled")
	if a.Disabled {
		state = lang.L("staff.disabled")
	}
	s.info.SetText(lang.L("staff.info", map[string]any{
		"Role": roleName(a.Role), "Key": key, "PIN": pin, "State": state,
		"Created": a.CreatedAt.In(s.deps.Zone).Format("2006-01-02 15:04"), "Last": s.lastLogin(*a)}))
	if a.BelowCost {
		// Shown, not acted on: the account's next login rehashes it, and
		// for one that no longer logs in "Reset password" does.
		s.hashNote.SetText(lang.L("staff.hash_below_note"))
		s.hashNote.Show()
	}
	s.disable.SetText(lang.L("staff.disable"))
	if a.Disabled {
		s.disable.SetText(lang.L("staff.enable"))
	}
	if !a.Role.May(staff.RunKiosk) {
		s.pin.Disable() // only roles that run kiosks have a PIN
	}
}

// staffForm is a dialog that edits one thing; its errors show under its
// fields, one line per field, and never echo a password or PIN.
type staffForm struct {
	errLabel *widget.Label
	dialog   dialog.Dialog
	submit   *widget.Button
	save     func()
	busy     bool
}

func newStaffForm(w fyne.Window, title, submit string, items []*widget.FormItem, note string, save func(f *staffForm), extra ...fyne.CanvasObject) *staffForm {
	f := &staffForm{errLabel: widget.NewLabel("")}
	f.errLabel.Importance = widget.DangerImportance
	f.errLabel.Wrapping = fyne.TextWrapWord
	f.save = func() {
		if !f.busy {
			save(f)
		}
	}
	for _, it := range items {
		if e, ok := it.Widget.(*widget.Entry); ok {
			e.OnSubmitted = func(string) { f.save() }
		}
	}
	f.submit = widget.NewButtonWithIcon(submit, theme.ConfirmIcon(), f.save)
	f.submit.Importance = widget.HighImportance
	body := container.NewVBox(widget.NewForm(items...))
	if note != "" {
		l := widget.NewLabel(note)
		l.Wrapping = fyne.TextWrapWord
		body.Add(l)
	}
	body.Add(f.errLabel)
	buttons := container.NewHBox(widget.NewButton(lang.L("Cancel"), func() { f.dialog.Hide() }))
	buttons.Objects = append(buttons.Objects, extra...)
	buttons.Add(f.submit)
	body.Add(container.NewCenter(buttons))
	f.dialog = dialog.NewCustomWithoutButtons(title, body, w)
	f.dialog.Resize(fyne.NewSize(560, f.dialog.MinSize().Height))
	f.dialog.Show()
	return f
}

// fail shows problems (already "field: reason" lines).
func (f *staffForm) fail(lines ...string) {
	f.errLabel.SetText(strings.Join(lines, "\n"))
}

// run does work on a worker (argon2id takes a moment), with the form's
// button disabled meanwhile; done runs on the UI goroutine on success.
func (f *staffForm) run(work func(ctx context.Context) error, done func()) {
	f.busy = true
	f.submit.Disable()
	f.errLabel.SetText("")
	Run(context.Background(), func(ctx context.Context) (struct{}, error) {
		return struct{}{}, work(ctx)
	}, func(_ struct{}, err error) {
		f.busy = false
		f.submit.Enable()
		if err != nil {
			f.fail(staffErrorText(err))
			return
		}
		f.dialog.Hide()
		done()
	})
}

func passwordEntry() *widget.Entry { return widget.NewPasswordEntry() }

// checkNewPassword checks a new password and its repetition for login.
func checkNewPassword(login, pw, again string) []string {
	var bad []string
	if err := staff.ValidatePasswordFor(login, pw); err != nil {
		bad = append(bad, staffErrorText(err))
	}
	if pw != again {
		bad = append(bad, lang.L("staff.field_password_again")+": "+lang.L("staff.reason_mismatch"))
	}
	return bad
}

// createForm adds an account.
type createForm struct {
	*staffForm
	login, name, password, again *widget.Entry
	role                         *widget.Select
}

func (s *staffScreen) openCreate() *createForm {
	f := &createForm{login: widget.NewEntry(), name: widget.NewEntry(), password: passwordEntry(), again: passwordEntry(),
		role: newSelect(roleNames(), nil)}
	f.login.SetPlaceHolder(lang.L("staff.login_placeholder"))
	f.role.SetSelected(roleName(staff.VenueStaff))
	f.staffForm = newStaffForm(s.w, lang.L("staff.add"), lang.L("staff.create"), []*widget.FormItem{
		widget.NewFormItem(lang.L("staff.field_login"), f.login),
		widget.NewFormItem(lang.L("staff.field_display_name"), f.name),
		widget.NewFormItem(lang.L("staff.field_role"), f.role),
		widget.NewFormItem(lang.L("staff.field_password"), f.password),
		widget.NewFormItem(lang.L("staff.field_password_again"), f.again),
	}, lang.L("login.password_rule")+"\n"+lang.L("staff.role_help"), func(sf *staffForm) {
		login, name, role := staff.FoldLogin(f.login.Text), strings.TrimSpace(f.name.Text), roleFromName(f.role.Selected)
		var bad []string
		if err := staff.ValidateLogin(login); err != nil {
			bad = append(bad, staffErrorText(err))
		}
		if name == "" {
			bad = append(bad, lang.L("staff.field_display_name")+": "+lang.L("reason.required"))
		}
		if role == "" {
			bad = append(bad, lang.L("staff.field_role")+": "+lang.L("reason.required"))
		}
		bad = append(bad, checkNewPassword(login, f.password.Text, f.again.Text)...)
		if len(bad) > 0 {
			sf.fail(bad...)
			return
		}
		pw := f.password.Text
		sf.run(func(ctx context.Context) error {
			_, err := s.deps.Service.Create(ctx, s.deps.Session, login, name, role, pw)
			return err
		}, func() {
			s.setStatus(widget.SuccessImportance, lang.L("staff.created", map[string]any{"Login": login}))
			s.load(login)
		})
	})
	return f
}

// roleForm changes the selected account's role.
type roleForm struct {
	*staffForm
	role *widget.Select
}

func (s *staffScreen) openRole() *roleForm {
	if s.sel == nil {
		return nil
	}
	a := *s.sel
	f := &roleForm{role: newSelect(roleNames(), nil)}
	f.role.SetSelected(roleName(a.Role))
	f.staffForm = newStaffForm(s.w, lang.L("staff.change_role_of", map[string]any{"Login": a.Login}), lang.L("staff.change_role"),
		[]*widget.FormItem{widget.NewFormItem(lang.L("staff.field_role"), f.role)}, lang.L("staff.role_help"),
		func(sf *staffForm) {
			role := roleFromName(f.role.Selected)
			if role == "" {
				sf.fail(lang.L("staff.field_role") + ": " + lang.L("reason.required"))
				return
			}
			sf.run(func(ctx context.Context) error {
				return s.deps.Service.SetRole(ctx, s.deps.Session, a.Login, role)
			}, func() {
				s.setStatus(widget.SuccessImportance, lang.L("staff.role_changed", map[string]any{"Login": a.Login, "Role": roleName(role)}))
				s.load(a.Login)
			})
		})
	return f
}

// passwordForm resets the selected account's password, or changes one's
// own (current is set then).
type passwordForm struct {
	*staffForm
	current, password, again *widget.Entry
}

func (s *staffScreen) openReset() *passwordForm {
	if s.sel == nil {
		return nil
	}
	a := *s.sel
	f := &passwordForm{password: passwordEntry(), again: passwordEntry()}
	f.staffForm = newStaffForm(s.w, lang.L("staff.reset_password_of", map[string]any{"Login": a.Login}), lang.L("staff.reset_password"),
		[]*widget.FormItem{
			widget.NewFormItem(lang.L("staff.field_new_password"), f.password),
			widget.NewFormItem(lang.L("staff.field_password_again"), f.again),
		}, lang.L("login.password_rule")+"\n"+lang.L("staff.reset_note"), func(sf *staffForm) {
			if bad := checkNewPassword(a.Login, f.password.Text, f.again.Text); len(bad) > 0 {
				sf.fail(bad...)
				return
			}
			pw := f.password.Text
			sf.run(func(ctx context.Context) error {
				return s.deps.Service.ResetPassword(ctx, s.deps.Session, a.Login, pw)
			}, func() {
				s.setStatus(widget.SuccessImportance, lang.L("staff.password_reset", map[string]any{"Login": a.Login}))
				s.load(a.Login)
			})
		})
	return f
}

// ChangeOwnPassword opens the dialog in which the logged-in account
// changes its own password (any role).
func ChangeOwnPassword(w fyne.Window, deps StaffDeps) {
	openChangePassword(w, deps)
}

func openChangePassword(w fyne.Window, deps StaffDeps) *passwordForm {
	if deps.Session == nil {
		return nil
	}
	login := deps.Session.Account.Login
	f := &passwordForm{current: passwordEntry(), password: passwordEntry(), again: passwordEntry()}
	f.staffForm = newStaffForm(w, lang.L("staff.change_own_of", map[string]any{"Login": login}), lang.L("staff.change_own"),
		[]*widget.FormItem{
			widget.NewFormItem(lang.L("staff.field_current_password"), f.current),
			widget.NewFormItem(lang.L("staff.field_new_password"), f.password),
			widget.NewFormItem(lang.L("staff.field_password_again"), f.again),
		}, lang.L("login.password_rule"), func(sf *staffForm) {
			bad := append(currentRequired(f.current), checkNewPassword(login, f.password.Text, f.again.Text)...)
			if len(bad) > 0 {
				sf.fail(bad...)
				return
			}
			old, pw := f.current.Text, f.password.Text
			sf.run(func(ctx context.Context) error {
				err := deps.Service.ChangePassword(ctx, deps.Session, old, pw)
				if errors.Is(err, staff.ErrBadLogin) {
					return errWrongCurrent
				}
				return err
			}, func() {
				dialog.ShowInformation(lang.L("staff.change_own"), lang.L("staff.own_changed"), w)
			})
		})
	return f
}

// checkNewPIN is the lines for a new kiosk PIN typed twice that is not
// 6–8 digits or does not match (nil when fine).
func checkNewPIN(pin, again string) []string {
	var bad []string
	if err := staff.ValidatePIN(pin); err != nil {
		bad = append(bad, staffErrorText(err))
	}
	if pin != again {
		bad = append(bad, lang.L("staff.field_pin_again")+": "+lang.L("staff.reason_mismatch"))
	}
	return bad
}

// currentRequired is the line for an empty current-password entry (nil
// when filled in).
func currentRequired(current *widget.Entry) []string {
	if current.Text == "" {
		return []string{lang.L("staff.field_current_password") + ": " + lang.L("reason.required")}
	}
	return nil
}

// ownPINForm sets (or clears) the logged-in account's own kiosk PIN, for
// roles that run kiosks: the PIN is chosen by its holder, nobody else
// learns it. The password is asked again.
type ownPINForm struct {
	*staffForm
	current, pin, again *widget.Entry
}

// SetOwnPIN opens the dialog in which the logged-in account sets its own
// kiosk PIN.
func SetOwnPIN(w fyne.Window, deps StaffDeps) {
	openOwnPIN(w, deps)
}

func openOwnPIN(w fyne.Window, deps StaffDeps) *ownPINForm {
	if deps.Session == nil || !deps.Session.May(staff.RunKiosk) {
		return nil
	}
	login := deps.Session.Account.Login
	f := &ownPINForm{current: passwordEntry(), pin: passwordEntry(), again: passwordEntry()}
	save := func(pin string) func(ctx context.Context) error {
		old := f.current.Text
		return func(ctx context.Context) error {
			err := deps.Service.SetOwnPIN(ctx, deps.Session, old, pin)
			if errors.Is(err, staff.ErrBadLogin) {
				return errWrongCurrent
			}
			return err
		}
	}
	clear := widget.NewButtonWithIcon(lang.L("staff.clear_pin"), theme.DeleteIcon(), func() {
		if bad := currentRequired(f.current); bad != nil {
			f.fail(bad...)
			return
		}
		f.run(save(""), func() {
			dialog.ShowInformation(lang.L("staff.own_pin"), lang.L("staff.own_pin_cleared"), w)
		})
	})
	f.staffForm = newStaffForm(w, lang.L("staff.own_pin_of", map[string]any{"Login": login}), lang.L("staff.set_pin"),
		[]*widget.FormItem{
			widget.NewFormItem(lang.L("staff.field_current_password"), f.current),
			widget.NewFormItem(lang.L("staff.field_pin"), f.pin),
			widget.NewFormItem(lang.L("staff.field_pin_again"), f.again),
		}, lang.L("staff.own_pin_rule"), func(sf *staffForm) {
			bad := append(currentRequired(f.current), checkNewPIN(f.pin.Text, f.again.Text)...)
			if len(bad) > 0 {
				sf.fail(bad...)
				return
			}
			sf.run(save(f.pin.Text), func() {
				dialog.ShowInformation(lang.L("staff.own_pin"), lang.L("staff.own_pin_done"), w)
			})
		}, clear)
	return f
}

// errWrongCurrent is ErrBadLogin from ChangePassword: the login is known,
// so only the current password can be wrong.
var errWrongCurrent = &staff.FieldError{Field: staff.FieldCurrentPassword, Reason: staff.ReasonWrongCurrent, Msg: "wrong"}

// pinForm sets (or clears) the selected account's kiosk PIN.
type pinForm struct {
	*staffForm
	pin, again *widget.Entry
	clear      *widget.Button
}

func (s *staffScreen) openPIN() *pinForm {
	if s.sel == nil {
		return nil
	}
	a := *s.sel
	f := &pinForm{pin: passwordEntry(), again: passwordEntry()}
	var extra []fyne.CanvasObject
	if a.HasPIN {
		f.clear = widget.NewButtonWithIcon(lang.L("staff.clear_pin"), theme.DeleteIcon(), func() {
			f.run(func(ctx context.Context) error {
				return s.deps.Service.SetPIN(ctx, s.deps.Session, a.Login, "")
			}, func() {
				s.setStatus(widget.SuccessImportance, lang.L("staff.pin_cleared", map[string]any{"Login": a.Login}))
				s.load(a.Login)
			})
		})
		extra = append(extra, f.clear)
	}
	f.staffForm = newStaffForm(s.w, lang.L("staff.set_pin_of", map[string]any{"Login": a.Login}), lang.L("staff.set_pin"),
		[]*widget.FormItem{
			widget.NewFormItem(lang.L("staff.field_pin"), f.pin),
			widget.NewFormItem(lang.L("staff.field_pin_again"), f.again),
		}, lang.L("staff.pin_rule"), func(sf *staffForm) {
			if bad := checkNewPIN(f.pin.Text, f.again.Text); len(bad) > 0 {
				sf.fail(bad...)
				return
			}
			pin := f.pin.Text
			sf.run(func(ctx context.Context) error {
				return s.deps.Service.SetPIN(ctx, s.deps.Session, a.Login, pin)
			}, func() {
				s.setStatus(widget.SuccessImportance, lang.L("staff.pin_done", map[string]any{"Login": a.Login}))
				s.load(a.Login)
			})
		}, extra...)
	return f
}

// confirmDisable disables (or enables again) the selected account after a
// confirmation; a refusal is shown under the buttons.
func (s *staffScreen) confirmDisable() {
	if s.sel == nil {
		return
	}
	a := *s.sel
	disable := !a.Disabled
	title, msg := lang.L("staff.enable"), lang.L("staff.enable_confirm", map[string]any{"Login": a.Login})
	if disable {
		title, msg = lang.L("staff.disable"), lang.L("staff.disable_confirm", map[string]any{"Login": a.Login})
	}
	l := widget.NewLabel(msg)
	l.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomConfirm(title, title, lang.L("Cancel"), l, func(ok bool) {
		if ok {
			s.setDisabled(a.Login, disable)
		}
	}, s.w)
	if disable {
		d.SetConfirmImportance(widget.DangerImportance)
	}
	d.Resize(fyne.NewSize(520, d.MinSize().Height))
	d.Show()
}

func (s *staffScreen) setDisabled(login string, disabled bool) {
	s.disable.Disable()
	Run(context.Background(), func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.deps.Service.Disable(ctx, s.deps.Session, login, disabled)
	}, func(_ struct{}, err error) {
		s.disable.Enable()
		if err != nil {
			s.setStatus(widget.DangerImportance, login+": "+staffErrorText(err))
			return
		}
		key := "staff.enabled_done"
		if disabled {
			key = "staff.disabled_done"
		}
		s.setStatus(widget.SuccessImportance, lang.L(key, map[string]any{"Login": login}))
		s.load(login)
	})
}

// confirmRotate explains what rotating the data key does and rotates after
// a confirmation, on a worker behind a busy dialog.
func (s *staffScreen) confirmRotate() dialog.Dialog {
	l := widget.NewLabel(lang.L("staff.rotate_confirm"))
	l.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomConfirm(lang.L("staff.rotate"), lang.L("staff.rotate_do"), lang.L("Cancel"), l, func(ok bool) {
		if ok {
			s.rotate()
		}
	}, s.w)
	d.SetConfirmImportance(widget.WarningImportance)
	d.Resize(fyne.NewSize(620, d.MinSize().Height))
	d.Show()
	return d
}

func (s *staffScreen) rotate() {
	bar := widget.NewProgressBarInfinite()
	busy := dialog.NewCustomWithoutButtons(lang.L("staff.rotate"),
		container.NewVBox(widget.NewLabel(lang.L("staff.rotating")), bar), s.w)
	busy.Resize(fyne.NewSize(420, busy.MinSize().Height))
	busy.Show()
	Run(context.Background(), func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.deps.Service.RotateDataKey(ctx, s.deps.Session)
	}, func(_ struct{}, err error) {
		bar.Stop()
		busy.Hide()
		if err != nil {
			s.setStatus(widget.DangerImportance, lang.L("staff.rotate_failed", map[string]any{"Err": staffErrorText(err)}))
			return
		}
		s.setStatus(widget.SuccessImportance, lang.L("staff.rotated"))
		if s.deps.OnKeyRotated != nil {
			s.deps.OnKeyRotated()
		}
	})
}

// staffFields are the translation keys of the fields a staff.FieldError
// names.
var staffFields = map[string]string{
	staff.FieldLogin:           "staff.field_login",
	staff.FieldDisplayName:     "staff.field_display_name",
	staff.FieldPassword:        "staff.field_password",
	staff.FieldCurrentPassword: "staff.field_current_password",
	staff.FieldPIN:             "staff.field_pin",
}

// staffReasonKey is the translation key of a staff.FieldError reason; the
// reason's number goes to the text as A.
func staffReasonKey(reason string) string {
	if reason == staff.ReasonRequired {
		return "reason.required"
	}
	return "staff.reason_" + reason
}

// staffErrorText is an error of the staff package in the UI language:
// "field: reason" for a bad field, a sentence for a refusal. The staff
// package's errors never hold a password or PIN, and neither does this.
func staffErrorText(err error) string {
	var thr *staff.ThrottledError
	var denied *staff.DeniedError
	switch {
	case errors.As(err, &thr):
		return lang.L("staff.err_throttled", map[string]any{"Wait": thr.Wait.Round(time.Second).String()})
	case errors.As(err, &denied):
		return lang.L("staff.err_denied")
	case errors.Is(err, staff.ErrLoginTaken):
		return lang.L("staff.field_login") + ": " + lang.L("staff.reason_taken")
	case errors.Is(err, staff.ErrLastCoordinator):
		return lang.L("staff.err_last_coordinator")
	case errors.Is(err, staff.ErrNoSuchAccount):
		return lang.L("staff.err_no_account")
	case errors.Is(err, staff.ErrDisabled):
		return lang.L("staff.err_disabled")
	case errors.Is(err, staff.ErrStaleKey):
		return lang.L("staff.err_stale_key")
	case errors.Is(err, pii.ErrLocked):
		return lang.L("staff.err_no_key")
	case errors.Is(err, context.Canceled):
		return lang.L("import.cancelled")
	}
	var fe *staff.FieldError
	if !errors.As(err, &fe) {
		return err.Error()
	}
	field := fe.Field
	if key, ok := staffFields[fe.Field]; ok {
		field = lang.L(key)
	}
	return field + ": " + lang.L(staffReasonKey(fe.Reason), map[string]any{"A": fe.N})
}
