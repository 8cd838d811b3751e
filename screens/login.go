package screens

import (
	"context"
	"errors"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial/staff"
)

// LoginService is what the login page needs (staff.Service).
type LoginService interface {
	HasAccounts(ctx context.Context) (bool, error)
	CreateFirst(ctx context.Context, login, displayName, password string) (*staff.Session, error)
	Login(ctx context.Context, login, password string) (*staff.Session, error)
}

// LoginDeps is what the login page needs besides the window.
type LoginDeps struct {
	Staff LoginService
	// OnLogin gets the new session on the UI goroutine; first is true when
	// the account was the store's first coordinator, made just now.
	OnLogin func(sess *staff.Session, first bool)
}

// Login is the page shown before anything else: the login form, or on a
// store without accounts the form that creates the first coordinator.
// Password hashing (argon2id) runs off the UI goroutine behind a progress
// bar.
type Login struct {
	w    fyne.Window
	deps LoginDeps
	root *fyne.Container

	login, name, password, again *widget.Entry
	result                       *widget.Label
	submit                       *widget.Button
	busy                         *widget.ProgressBarInfinite
	first                        bool // the first-coordinator form is shown
}

// NewLogin builds the login page and asks the store whether it has
// accounts (off the UI goroutine).
func NewLogin(w fyne.Window, deps LoginDeps) *Login {
	l := &Login{w: w, deps: deps, root: container.NewStack()}
	l.root.Objects = []fyne.CanvasObject{container.NewCenter(widget.NewLabel(lang.L("login.loading")))}
	Run(context.Background(), deps.Staff.HasAccounts, func(has bool, err error) {
		if err != nil {
			msg := widget.NewLabel(err.Error())
			msg.Wrapping = fyne.TextWrapWord
			l.set(container.NewPadded(msg))
			return
		}
		if has {
			l.showLogin()
		} else {
			l.showFirst()
		}
	})
	return l
}

// Object is the login page's canvas object.
func (l *Login) Object() fyne.CanvasObject { return l.root }

func (l *Login) set(o fyne.CanvasObject) {
	l.root.Objects = []fyne.CanvasObject{o}
	l.root.Refresh()
}

// common builds the parts both forms share.
func (l *Login) common(submitText string, submit func()) {
	l.login = widget.NewEntry()
	l.password = widget.NewPasswordEntry()
	l.result = widget.NewLabel("")
	l.result.Wrapping = fyne.TextWrapWord
	l.result.Importance = widget.DangerImportance
	l.submit = widget.NewButtonWithIcon(submitText, theme.LoginIcon(), submit)
	l.submit.Importance = widget.HighImportance
	l.busy = widget.NewProgressBarInfinite()
	l.busy.Stop()
	l.busy.Hide()
}

func (l *Login) page(heading, help string, form *widget.Form) fyne.CanvasObject {
	title := widget.NewLabelWithStyle(lang.L("app.title"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameHeadingText
	head := widget.NewLabelWithStyle(heading, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	parts := []fyne.CanvasObject{title, head}
	if help != "" {
		h := widget.NewLabel(help)
		h.Wrapping = fyne.TextWrapWord
		parts = append(parts, h)
	}
	parts = append(parts, form, l.result, l.busy, l.submit)
	box := container.NewVBox(parts...)
	// A fixed width: wrapped help text would otherwise ask for no width at all.
	return container.NewCenter(container.NewGridWrap(fyne.NewSize(520, box.MinSize().Height), box))
}

// showLogin shows the login form (Enter in either field submits).
func (l *Login) showLogin() {
	l.first = false
	l.common(lang.L("login.submit"), l.doLogin)
	l.login.OnSubmitted = func(string) { l.doLogin() }
	l.password.OnSubmitted = func(string) { l.doLogin() }
	form := widget.NewForm(
		widget.NewFormItem(lang.L("login.login"), l.login),
		widget.NewFormItem(lang.L("login.password"), l.password),
	)
	l.set(l.page(lang.L("login.title"), "", form))
	l.w.Canvas().Focus(l.login)
}

// showFirst shows the form that creates the first coordinator.
func (l *Login) showFirst() {
	l.first = true
	l.common(lang.L("login.create_first"), l.doCreate)
	l.name = widget.NewEntry()
	l.again = widget.NewPasswordEntry()
	l.again.OnSubmitted = func(string) { l.doCreate() }
	rule := widget.NewLabel(lang.L("login.password_rule"))
	rule.Importance = widget.LowImportance
	rule.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(
		widget.NewFormItem(lang.L("login.login"), l.login),
		widget.NewFormItem(lang.L("login.display_name"), l.name),
		widget.NewFormItem(lang.L("login.password"), l.password),
		widget.NewFormItem(lang.L("login.password_again"), l.again),
		widget.NewFormItem("", rule),
	)
	l.set(l.page(lang.L("login.first_title"), lang.L("login.first_help"), form))
	l.w.Canvas().Focus(l.login)
}

func (l *Login) doLogin() {
	if l.submit.Disabled() {
		return // one attempt at a time
	}
	login, password := l.login.Text, l.password.Text
	if login == "" || password == "" {
		l.result.SetText(lang.L("login.need_both"))
		return
	}
	l.work(func(ctx context.Context) (*staff.Session, error) {
		return l.deps.Staff.Login(ctx, login, password)
	})
}

func (l *Login) doCreate() {
	if l.submit.Disabled() {
		return
	}
	login, name, password := l.login.Text, l.name.Text, l.password.Text
	switch {
	case login == "" || name == "":
		l.result.SetText(lang.L("login.need_name"))
		return
	case password != l.again.Text:
		l.result.SetText(lang.L("login.password_mismatch"))
		return
	}
	if err := staff.ValidatePasswordFor(login, password); err != nil {
		l.result.SetText(staffErrorText(err))
		return
	}
	l.work(func(ctx context.Context) (*staff.Session, error) {
		return l.deps.Staff.CreateFirst(ctx, login, name, password)
	})
}

// work runs a login or account creation on a worker behind the progress
// bar; the password fields are cleared whatever the outcome.
func (l *Login) work(fn func(ctx context.Context) (*staff.Session, error)) {
	l.result.SetText("")
	l.submit.Disable()
	l.busy.Show()
	l.busy.Start()
	first := l.first
	Run(context.Background(), fn, func(sess *staff.Session, err error) {
		l.busy.Stop()
		l.busy.Hide()
		l.submit.Enable()
		l.password.SetText("")
		if l.again != nil {
			l.again.SetText("")
		}
		if err != nil {
			l.result.SetText(LoginError(err))
			l.w.Canvas().Focus(l.password)
			return
		}
		if l.deps.OnLogin != nil {
			l.deps.OnLogin(sess, first)
		}
	})
}

// LoginError says why a login, an unlock or a staff PIN failed, without
// saying whether the login or the password was wrong.
func LoginError(err error) string {
	var th *staff.ThrottledError
	switch {
	case errors.As(err, &th):
		return lang.L("login.throttled", map[string]any{"Seconds": int(math.Ceil(th.Wait.Seconds()))})
	case errors.Is(err, staff.ErrBadLogin):
		return lang.L("login.bad")
	case errors.Is(err, staff.ErrDisabled):
		return lang.L("login.disabled")
	}
	return staffErrorText(err) // a refused first coordinator's field, in the UI language
}

// SessionBar is the strip above the main window's pages: who is logged in,
// in which role, the buttons to change one's own password and (for roles
// that run kiosks) one's own kiosk PIN, and the logout button.
func SessionBar(w fyne.Window, deps StaffDeps, onLogout func()) fyne.CanvasObject {
	sess := deps.Session
	who := widget.NewLabel(lang.L("login.who", map[string]any{
		"Name": sess.Account.DisplayName, "Login": sess.Account.Login, "Role": RoleLabel(sess.Account.Role)}))
	buttons := container.NewHBox(widget.NewButtonWithIcon(lang.L("staff.change_own"), theme.AccountIcon(), func() { openChangePassword(w, deps) }))
	if sess.May(staff.RunKiosk) {
		buttons.Add(widget.NewButtonWithIcon(lang.L("staff.own_pin"), theme.GridIcon(), func() { openOwnPIN(w, deps) }))
	}
	buttons.Add(widget.NewButtonWithIcon(lang.L("login.logout"), theme.LogoutIcon(), onLogout))
	return container.NewBorder(nil, widget.NewSeparator(), nil, buttons, who)
}

// RoleLabel is a role's name in the UI language.
func RoleLabel(r staff.Role) string {
	switch r {
	case staff.Coordinator:
		return lang.L("login.role_coordinator")
	case staff.VenueStaff:
		return lang.L("login.role_staff")
	case staff.Analyst:
		return lang.L("login.role_analyst")
	}
	return string(r)
}
