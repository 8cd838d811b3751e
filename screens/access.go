package screens

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial"
	"jpkipilot/trial/staff"
)

// PageID names a page of the main window in the access table.
type PageID string

// The main window's pages.
const (
	PageDashboard  PageID = "dashboard"
	PageTrials     PageID = "trials"
	PageMonitors   PageID = "monitors"
	PageImport     PageID = "import"
	PageReaders    PageID = "readers"
	PageTickets    PageID = "tickets"
	PageDevices    PageID = "devices"
	PageLoans      PageID = "loans"
	PageProvision  PageID = "provision"
	PageBank       PageID = "bank"
	PageResults    PageID = "results"
	PageTranscribe PageID = "transcribe"
	PageForms      PageID = "forms"
	PageSettings   PageID = "settings"
	PageStaff      PageID = "staff"
	PageAudit      PageID = "audit"
)

// Guard is one sensitive action on a page: the policy action it needs and
// the translation keys of the widgets (button, check box, form submit) that
// do it. Widgets of a denied guard are hidden and disabled when the page is
// built.
type Guard struct {
	Action staff.Action
	Labels []string
}

// PageRule is a page's line in the access table: the action needed to see
// the page at all, and the guarded actions on it.
type PageRule struct {
	Needs  staff.Action
	Guards []Guard
}

// Access is the GUI's one access table: every page of the main window and
// every sensitive action on a page, mapped onto the staff policy
// (staff.Role.May). A page not in the table is shown to nobody.
//
// Actions outside the pages are in ActionRules.
var Access = map[PageID]PageRule{
	PageDashboard: {Needs: staff.ViewTrials},
	PageTrials: {Needs: staff.ViewTrials, Guards: []Guard{
		{staff.ManageTrials, []string{"trials.new", "trials.add_session", "trials.save", "trials.retention_save"}},
		{staff.RetentionPurge, []string{"trials.purge"}},
	}},
	PageMonitors: {Needs: staff.ListMonitors, Guards: []Guard{
		{staff.EditMonitors, []string{"monitors.new", "monitors.save", "monitors.withdraw"}},
	}},
	PageImport:  {Needs: staff.EditMonitors},
	PageReaders: {Needs: staff.RunStations},
	PageTickets: {Needs: staff.RunStations},
	PageDevices: {Needs: staff.ManageDevices},
	PageLoans: {Needs: staff.Lend, Guards: []Guard{
		// The reminder list names who has which phone: an export.
		{staff.ExportMonitors, []string{"loans.reminders"}},
	}},
	PageProvision: {Needs: staff.Provision},
	PageBank:      {Needs: staff.RunStations},
	PageResults: {Needs: staff.ViewResults, Guards: []Guard{
		{staff.ExportPseudonym, []string{"results.export"}},
		{staff.ExportIdentified, []string{"results.identified"}},
	}},
	PageTranscribe: {Needs: staff.Transcribe},
	PageForms:      {Needs: staff.ManageForms},
	PageSettings:   {Needs: staff.ManageSettings},
	PageStaff:      {Needs: staff.ManageStaff},
	PageAudit:      {Needs: staff.ViewAudit},
}

// GUIAction is a sensitive action outside the pages' widgets.
type GUIAction string

// The GUI's actions outside the pages.
const (
	ActDemoOffer GUIAction = "demo.offer" // the first-run demo data offer
	ActKiosk     GUIAction = "kiosk.start"
	ActLock      GUIAction = "session.lock" // unlocking a locked session: every role
)

// ActionRules maps the GUI's other actions onto the policy ("" = anyone
// logged in).
var ActionRules = map[GUIAction]staff.Action{
	ActDemoOffer: staff.SeedDemo,
	ActKiosk:     staff.RunKiosk,
	ActLock:      "",
}

// MayDo reports whether sess may do the GUI action a.
func MayDo(sess *staff.Session, a GUIAction) bool {
	need, ok := ActionRules[a]
	if !ok || sess == nil {
		return false
	}
	return need == "" || sess.May(need)
}

// MayShow reports whether sess may see page id.
func MayShow(sess *staff.Session, id PageID) bool {
	r, ok := Access[id]
	return ok && sess != nil && sess.May(r.Needs)
}

// DeniedLabels lists the translation keys of the widgets that sess may not
// use on page id.
func DeniedLabels(sess *staff.Session, id PageID) []string {
	var out []string
	for _, g := range Access[id].Guards {
		if sess == nil || !sess.May(g.Action) {
			out = append(out, g.Labels...)
		}
	}
	return out
}

// ForSession keeps the pages sess may see, in order; each kept page hides
// the widgets of the actions sess may not do once built.
func ForSession(sess *staff.Session, pages []Page) []Page {
	var out []Page
	for _, p := range pages {
		if !MayShow(sess, p.ID) {
			continue
		}
		if denied := DeniedLabels(sess, p.ID); len(denied) > 0 {
			make := p.Make
			p.Make = func() fyne.CanvasObject {
				o := make()
				HideActions(o, denied)
				return o
			}
		}
		out = append(out, p)
	}
	return out
}

// HideActions hides and disables the buttons and check boxes whose text is
// the translation of one of keys, and removes the submit action of forms
// whose submit text is one: a later Show of such a widget still does
// nothing.
func HideActions(o fyne.CanvasObject, keys []string) {
	texts := map[string]bool{}
	for _, k := range keys {
		texts[lang.L(k)] = true
	}
	walkObjects(o, func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Button:
			if texts[x.Text] {
				x.OnTapped = nil
				x.Disable()
				x.Hide()
			}
		case *widget.Check:
			if texts[x.Text] {
				x.SetChecked(false)
				x.OnChanged = nil
				x.Disable()
				x.Hide()
			}
		case *widget.Form:
			if texts[x.SubmitText] {
				x.OnSubmit = nil
				x.Refresh()
			}
		}
	})
}

// walkObjects visits o and what is inside it: containers' objects and the
// content of the container widgets the pages use (split, scroll, tabs,
// card, theme override, form rows). Other widgets' insides are theirs.
func walkObjects(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	if o == nil {
		return
	}
	fn(o)
	var inside []fyne.CanvasObject
	switch x := o.(type) {
	case *fyne.Container:
		inside = x.Objects
	case *container.Split:
		inside = []fyne.CanvasObject{x.Leading, x.Trailing}
	case *container.Scroll:
		inside = []fyne.CanvasObject{x.Content}
	case *container.AppTabs:
		for _, t := range x.Items {
			inside = append(inside, t.Content)
		}
	case *container.ThemeOverride:
		inside = []fyne.CanvasObject{x.Content}
	case *widget.Card:
		inside = []fyne.CanvasObject{x.Content}
	case *widget.Form:
		for _, it := range x.Items {
			inside = append(inside, it.Widget)
		}
	}
	for _, c := range inside {
		walkObjects(c, fn)
	}
}

// ReadOnlyTrials is the trials page's service for a session that may see
// trials but not change them (venue staff, analysts): the buttons are
// hidden (Access), and a change that gets through anyway (a session's
// dialog) is refused with staff.DeniedError instead of written.
type ReadOnlyTrials struct {
	TrialService
	Session *staff.Session
}

func (r ReadOnlyTrials) denied() error { return r.Session.Require(staff.ManageTrials) }

func (r ReadOnlyTrials) CreateTrial(context.Context, trial.Trial) (trial.Trial, error) {
	return trial.Trial{}, r.denied()
}

func (r ReadOnlyTrials) UpdateTrial(context.Context, trial.Trial) (trial.Trial, error) {
	return trial.Trial{}, r.denied()
}

func (r ReadOnlyTrials) CreateSession(context.Context, trial.Session) (trial.Session, error) {
	return trial.Session{}, r.denied()
}

func (r ReadOnlyTrials) UpdateSession(context.Context, trial.Session) (trial.Session, error) {
	return trial.Session{}, r.denied()
}

func (r ReadOnlyTrials) DeleteSession(context.Context, int64) error { return r.denied() }

func (r ReadOnlyTrials) SetRetention(context.Context, int64, string) error { return r.denied() }

func (r ReadOnlyTrials) PurgeExpired(context.Context) (trial.PurgeResult, error) {
	return trial.PurgeResult{}, r.Session.Require(staff.RetentionPurge)
}

// PseudonymousMonitors is the monitor list a station page gets when the
// session may not list monitors with their names (venue staff): pickers
// offer ids only, so the lending desk or a demo station never shows every
// participant's name — only the monitor's id the person in front of staff
// gives. Sealed tells the page the fields were withheld.
type PseudonymousMonitors struct{ MonitorLister }

// ListMonitors lists the monitors without name, kana or contact.
func (p PseudonymousMonitors) ListMonitors(ctx context.Context, f trial.Filter) ([]trial.Monitor, error) {
	ms, err := p.MonitorLister.ListMonitors(ctx, f)
	for i := range ms {
		ms[i].Name, ms[i].Kana, ms[i].Contact, ms[i].Sealed = "", "", "", true
	}
	return ms, err
}

// MonitorsFor returns m as it is for a session that may list monitors,
// else m without personal fields (PseudonymousMonitors).
func MonitorsFor(sess *staff.Session, m MonitorLister) MonitorLister {
	if sess.May(staff.ListMonitors) {
		return m
	}
	return PseudonymousMonitors{m}
}
