package screens

import (
	"context"
	"fmt"
	"image/color"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial/pii"
	"jpkipilot/trial/staff"
)

// SettingLockMinutes is the settings key of the inactivity lock: minutes
// without input after which the main window locks ("0" turns it off).
const SettingLockMinutes = "session.lock_minutes"

// DefaultLockMinutes is the inactivity lock's timeout when the setting is
// not there.
const DefaultLockMinutes = 10

// Unlocker checks the locked account's password (staff.Service.Login:
// audited and throttled like any login).
type Unlocker interface {
	Login(ctx context.Context, login, password string) (*staff.Session, error)
}

// LockDeps is what the session lock needs besides the window.
type LockDeps struct {
	Staff   Unlocker
	Account staff.Account // whose password unlocks
	Timeout time.Duration // no input for this long locks; <= 0: never
	// Now is the clock; tests replace it. Nil means the wall clock.
	Now func() time.Time
	// Key is the session's data key as it is now (a rotation replaces it;
	// nil, or a nil func: an analyst, no key). Locking suspends it: every
	// service, page and closure holding the pointer sees no key until the
	// unlock resumes the same object.
	Key func() *pii.Key
	// OnUnlock gets the session of the unlocking login (UI goroutine),
	// after the lock resumed the window's key from the login's freshly
	// unwrapped copy: its Key is then the window's key object, the copy
	// wiped.
	OnUnlock func(*staff.Session)
	// OnKeyChanged gets the unlocking login's session when its data key
	// is not the one the lock suspended (rotated on another laptop while
	// locked, or the account no longer holds one): the window's key stays
	// suspended and the pages must be built again for this session. Nil:
	// OnSwitchUser.
	OnKeyChanged func(*staff.Session)
	// OnSwitchUser leaves the locked session for the login form.
	OnSwitchUser func()
}

// SessionLock covers the main window with a lock screen after a time
// without input; the same account's password opens it again, or "switch
// user" goes back to the login form. While it is locked the session's data
// key is suspended (pii.Key.Suspend: its bytes zeroed, its cipher dropped),
// so nothing in the window, not even a worker still running, can open or
// seal a personal field; the unlocking login unwraps the key again and the
// lock resumes the same key object the pages hold.
//
// What counts as input (Fyne gives the application no global input hook):
//   - the pointer moving anywhere over the window's content: the content is
//     wrapped in a widget whose desktop.Cursorable.Cursor the driver asks on
//     every pointer move, for every object under the pointer (a Hoverable or
//     Tappable wrapper would not do: Fyne delivers those events only to the
//     top-most matching object, a button inside, never to its parents);
//   - a click or a scroll-wheel turn over a part of the content that takes
//     neither (text, background): the wrapper is a desktop.Mouseable and a
//     fyne.Scrollable, which the driver picks only when nothing above it
//     under the pointer is one, so buttons, lists and scrollers inside keep
//     their events;
//   - scrolling a scroller: every Check compares the offsets of the scroll
//     containers, lists and grid wraps on screen (dialogs included) with
//     the previous Check, so the wheel, a scroll bar drag, or arrow keys
//     that scroll a focused list are seen;
//   - key presses while no widget has the focus (desktop.Canvas.SetOnKeyDown:
//     the driver sends key events to the focused widget instead of the
//     canvas);
//   - key presses that change the focused widget: every Check compares
//     which widget has the focus (Tab moves it), an entry's text length and
//     cursor, a check box's mark and a select's choice with the previous
//     Check;
//   - the window taking the keyboard focus from another application (a
//     click on it, Alt-Tab): the app's Lifecycle OnEnteredForeground, hooked
//     from Start to Stop.
//
// Not seen: pointer moves, clicks and the wheel over a dialog or popup menu
// (the driver walks the top overlay instead of the content; a scroller in a
// dialog that moves is seen); a click, without the pointer moving, on a
// widget that takes it and changes none of the state above (a button);
// scrolling a table, a tree or a multi-line entry (their offsets are not
// public), or a scroller already at its end; touch input; key presses in a
// focused widget that change none of that state (arrow keys that move a
// list's or table's highlight without scrolling it, Space on a button); and
// typing that ends where it began between two checks. Work of that kind
// alone can see the lock come while someone is at the keyboard. The other
// way round, a scroller whose content shrinks under it moves without input
// and counts once; the lock comes at the latest one timeout after the last
// of these signals.
type SessionLock struct {
	w    fyne.Window
	deps LockDeps

	mu   sync.Mutex
	last time.Time // last input seen

	// UI goroutine only.
	mark     string // focus and scroll fingerprint at the last Check
	marked   bool   // mark was taken
	locked   bool
	pop      *widget.PopUp
	password *widget.Entry
	result   *widget.Label
	unlock   *widget.Button
	busy     *widget.ProgressBarInfinite
	stop     chan struct{}
}

// NewSessionLock starts counting inactivity from now.
func NewSessionLock(w fyne.Window, deps LockDeps) *SessionLock {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &SessionLock{w: w, deps: deps, last: deps.Now()}
}

// Watch wraps the window's content so pointer moves over it count as
// input, and hooks the canvas's key presses. Put the result into the
// window.
func (l *SessionLock) Watch(content fyne.CanvasObject) fyne.CanvasObject {
	if dc, ok := l.w.Canvas().(desktop.Canvas); ok {
		dc.SetOnKeyDown(l.keyDown)
	}
	a := &activityWatch{content: content, touch: l.Touch}
	a.ExtendBaseWidget(a)
	return a
}

// LockTimeout is the inactivity timeout a SettingLockMinutes value asks
// for: "" or a bad value is the default, "0" turns the lock off.
func LockTimeout(setting string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(setting))
	if err != nil || n < 0 || n > 24*60 {
		n = DefaultLockMinutes
	}
	return time.Duration(n) * time.Minute
}

// SetTimeout changes the inactivity timeout (UI goroutine, before Start).
func (l *SessionLock) SetTimeout(d time.Duration) { l.deps.Timeout = d }

// keyDown is the canvas's key hook (desktop.Canvas; the test driver's
// canvas has none).
func (l *SessionLock) keyDown(*fyne.KeyEvent) { l.Touch() }

// Touch records input now. Safe from any goroutine.
func (l *SessionLock) Touch() {
	now := l.deps.Now()
	l.mu.Lock()
	if now.After(l.last) {
		l.last = now
	}
	l.mu.Unlock()
}

// Locked reports whether the lock screen is up.
func (l *SessionLock) Locked() bool { return l.locked }

// Check locks the window when the time since the last input reached the
// timeout. Call it on the UI goroutine (Start calls it periodically).
func (l *SessionLock) Check() {
	if l.locked {
		if l.pop != nil && l.pop.Size() != l.w.Canvas().Size() {
			l.pop.Resize(l.w.Canvas().Size()) // the window was resized
		}
		return
	}
	if m := focusMark(l.w.Canvas()) + "\x00" + viewMark(l.w.Canvas()); m != l.mark {
		if l.marked { // the first Check only takes the baseline
			l.Touch()
		}
		l.mark, l.marked = m, true
	}
	if l.deps.Timeout <= 0 {
		return
	}
	l.mu.Lock()
	idle := l.deps.Now().Sub(l.last)
	l.mu.Unlock()
	if idle >= l.deps.Timeout {
		l.Lock()
	}
}

// focusMark fingerprints the focused widget and the state keys change in
// it: for an entry how much text it holds and where its cursor is, for a
// check box its mark, for a select its choice.
func focusMark(c fyne.Canvas) string {
	switch f := c.Focused().(type) {
	case nil:
		return ""
	case *widget.Entry:
		return fmt.Sprintf("%p %d %d %d", f, len(f.Text), f.CursorRow, f.CursorColumn)
	case *widget.SelectEntry:
		return fmt.Sprintf("%p %d %d %d", f, len(f.Text), f.CursorRow, f.CursorColumn)
	case *widget.Check:
		return fmt.Sprintf("%p %t", f, f.Checked)
	case *widget.Select:
		return fmt.Sprintf("%p %q", f, f.Selected)
	default:
		return fmt.Sprintf("%p", f)
	}
}

// viewMark lists the scroll offsets of the scrollers on the canvas, the
// content's and the overlays' (dialogs), in tree order: scrolling changes
// it. It walks what Fyne makes public: containers, the content of scroll
// containers, splits, tabs, cards and popups, and the offsets of lists and
// grid wraps (a table's, a tree's and a multi-line entry's are private).
func viewMark(c fyne.Canvas) string {
	var b strings.Builder
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		switch o := o.(type) {
		case *fyne.Container:
			for _, c := range o.Objects {
				walk(c)
			}
		case *activityWatch:
			walk(o.content)
		case *container.Scroll:
			fmt.Fprintf(&b, "%g,%g ", o.Offset.X, o.Offset.Y)
			walk(o.Content)
		case *container.Split:
			walk(o.Leading)
			walk(o.Trailing)
		case *container.AppTabs:
			if t := o.Selected(); t != nil {
				walk(t.Content)
			}
		case *container.DocTabs:
			if t := o.Selected(); t != nil {
				walk(t.Content)
			}
		case *widget.Card:
			walk(o.Content)
		case *widget.PopUp:
			walk(o.Content)
		case *widget.List:
			fmt.Fprintf(&b, "%g ", o.GetScrollOffset())
		case *widget.GridWrap:
			fmt.Fprintf(&b, "%g ", o.GetScrollOffset())
		}
	}
	walk(c.Content())
	for _, o := range c.Overlays().List() {
		walk(o)
	}
	return b.String()
}

// Start calls Check on the UI goroutine every few seconds until Stop, and
// counts the window coming to the foreground as input.
func (l *SessionLock) Start() {
	if l.stop != nil || l.deps.Timeout <= 0 {
		return
	}
	fyne.CurrentApp().Lifecycle().SetOnEnteredForeground(l.Touch)
	period := min(max(l.deps.Timeout/10, time.Second), 15*time.Second)
	stop := make(chan struct{})
	l.stop = stop
	go func() {
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				fyne.Do(func() {
					select {
					case <-stop: // stopped while this call was queued
					default:
						l.Check()
					}
				})
			}
		}
	}()
}

// Stop ends the periodic checks and takes the lock screen down. It leaves
// the data key as it is: a suspended key stays suspended.
func (l *SessionLock) Stop() {
	if l.stop != nil {
		close(l.stop)
		l.stop = nil
		fyne.CurrentApp().Lifecycle().SetOnEnteredForeground(nil)
	}
	if l.pop != nil {
		l.pop.Hide()
		l.pop = nil
	}
	l.locked = false
}

// Lock covers the window with the lock screen now and suspends the
// session's data key.
func (l *SessionLock) Lock() {
	if l.locked {
		return
	}
	l.locked = true
	l.key().Suspend() // waits for a Seal or Open in flight on a worker
	l.password = widget.NewPasswordEntry()
	l.password.OnSubmitted = func(string) { l.tryUnlock() }
	l.result = widget.NewLabel("")
	l.result.Importance = widget.DangerImportance
	l.result.Wrapping = fyne.TextWrapWord
	l.busy = widget.NewProgressBarInfinite()
	l.busy.Stop()
	l.busy.Hide()
	l.unlock = widget.NewButtonWithIcon(lang.L("lock.unlock"), theme.LoginIcon(), l.tryUnlock)
	l.unlock.Importance = widget.HighImportance
	switchUser := widget.NewButtonWithIcon(lang.L("lock.switch_user"), theme.AccountIcon(), func() {
		l.Stop()
		if l.deps.OnSwitchUser != nil {
			l.deps.OnSwitchUser()
		}
	})
	title := widget.NewLabelWithStyle(lang.L("lock.title"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameHeadingText
	who := widget.NewLabel(lang.L("lock.prompt", map[string]any{"Name": l.deps.Account.DisplayName, "Login": l.deps.Account.Login}))
	who.Wrapping = fyne.TextWrapWord // the name starts its own line (lock.prompt)
	box := container.NewVBox(container.NewCenter(widget.NewIcon(theme.VisibilityOffIcon())), title, who,
		l.password, l.result, l.busy, container.NewGridWithColumns(2, switchUser, l.unlock))
	// Opaque over the whole window: what was on screen (names) stays hidden.
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameBackground))
	bg.FillColor = opaque(bg.FillColor)
	content := container.NewStack(bg, container.NewCenter(container.NewGridWrap(fyne.NewSize(460, box.MinSize().Height), box)))
	l.pop = widget.NewModalPopUp(content, l.w.Canvas())
	l.pop.Resize(l.w.Canvas().Size())
	l.pop.Show()
	l.w.Canvas().Focus(l.password)
}

func opaque(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 0xff}
}

// tryUnlock checks the password on a worker; the staff service throttles
// repeated failures like any login.
func (l *SessionLock) tryUnlock() {
	if l.unlock.Disabled() {
		return
	}
	password := l.password.Text
	l.password.SetText("")
	if password == "" {
		return
	}
	l.result.SetText("")
	l.unlock.Disable()
	l.busy.Show()
	l.busy.Start()
	login := l.deps.Account.Login
	Run(context.Background(), func(ctx context.Context) (*staff.Session, error) {
		return l.deps.Staff.Login(ctx, login, password)
	}, func(sess *staff.Session, err error) {
		if !l.locked {
			return // switched user meanwhile
		}
		l.busy.Stop()
		l.busy.Hide()
		l.unlock.Enable()
		if err != nil {
			l.result.SetText(LoginError(err))
			l.w.Canvas().Focus(l.password)
			return
		}
		l.locked = false
		l.pop.Hide()
		l.pop = nil
		l.Touch()
		if err := l.resume(sess); err != nil {
			// Not the key the pages hold: they cannot go on.
			l.Stop()
			switch {
			case l.deps.OnKeyChanged != nil:
				l.deps.OnKeyChanged(sess)
			case l.deps.OnSwitchUser != nil:
				l.deps.OnSwitchUser()
			}
			return
		}
		if l.deps.OnUnlock != nil {
			l.deps.OnUnlock(sess)
		}
	})
}

// key is the session's data key now (nil: none).
func (l *SessionLock) key() *pii.Key {
	if l.deps.Key == nil {
		return nil
	}
	return l.deps.Key()
}

// resume gives the window's suspended key back its bytes from the
// unlocking login's copy, wipes that copy and puts the window's key into
// sess. A window without a key does not gain one (the copy is wiped, sess
// gets none). A login that unwrapped another key, or none where the window
// had one, is refused with pii.ErrKeyMismatch: the window's key stays
// suspended.
func (l *SessionLock) resume(sess *staff.Session) error {
	cur := l.key()
	switch {
	case cur == nil:
		sess.Key.Suspend()
		sess.Key = nil
		return nil
	case sess.Key == nil:
		return pii.ErrKeyMismatch
	}
	if err := cur.Resume(sess.Key); err != nil {
		return err
	}
	if sess.Key != cur {
		sess.Key.Suspend() // a second copy: the window's key is the one in use
	}
	sess.Key = cur
	return nil
}

// activityWatch wraps the window's content; the driver asks its Cursor on
// every pointer move over the content, which is the input signal.
type activityWatch struct {
	widget.BaseWidget
	content fyne.CanvasObject
	touch   func()
}

func (a *activityWatch) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(a.content)
}

// Cursor implements desktop.Cursorable: objects inside may choose another
// cursor, which the driver then uses instead.
func (a *activityWatch) Cursor() desktop.Cursor {
	a.touch()
	return desktop.DefaultCursor
}

// MouseDown implements desktop.Mouseable. The driver gives a click to the
// top-most object under the pointer that takes clicks (or focus): this
// wrapper only gets the clicks nothing inside takes, and taking them
// changes nothing else (it is neither tappable nor focusable).
func (a *activityWatch) MouseDown(*desktop.MouseEvent) { a.touch() }

// MouseUp implements desktop.Mouseable.
func (a *activityWatch) MouseUp(*desktop.MouseEvent) { a.touch() }

// Scrolled implements fyne.Scrollable. As for clicks, the driver gives the
// wheel to the top-most scrollable under the pointer: scrollers inside
// keep it, this wrapper gets the turns over content that does not scroll.
func (a *activityWatch) Scrolled(*fyne.ScrollEvent) { a.touch() }
