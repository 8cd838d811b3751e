package screens

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/survey"
	"jpkipilot/trial"
	"jpkipilot/trial/staff"
)

// allPages is every page of the main window, in navigation order.
var allPages = []PageID{PageDashboard, PageTrials, PageMonitors, PageImport, PageReaders, PageTickets,
	PageDevices, PageLoans, PageProvision, PageBank, PageResults, PageTranscribe, PageForms,
	PageStaff, PageAudit, PageSettings}

func sessionAs(role staff.Role) *staff.Session {
	return &staff.Session{Account: staff.Account{Login: "who", DisplayName: "Who", Role: role}}
}

// roleAccess is, per role, what the GUI shows: the pages in the navigation,
// the actions hidden on them, and the actions outside the pages.
var roleAccess = []struct {
	role    staff.Role
	pages   []PageID
	hidden  map[PageID][]string
	actions []GUIAction
}{
	{
		role:    staff.Coordinator,
		pages:   allPages,
		hidden:  map[PageID][]string{},
		actions: []GUIAction{ActDemoOffer, ActKiosk, ActLock},
	},
	{
		// Stations, kiosks, loans, provisioning, transcription, the trial
		// list; no monitor list, no exports, no personal data pages.
		role:  staff.VenueStaff,
		pages: []PageID{PageDashboard, PageTrials, PageReaders, PageTickets, PageLoans, PageProvision, PageBank, PageTranscribe},
		hidden: map[PageID][]string{
			PageTrials: {"trials.new", "trials.add_session", "trials.save", "trials.retention_save", "trials.purge"},
			PageLoans:  {"loans.reminders"},
		},
		actions: []GUIAction{ActKiosk, ActLock},
	},
	{
		// Results and the pseudonymised export only (and the trial list
		// that the results filter by).
		role:  staff.Analyst,
		pages: []PageID{PageDashboard, PageTrials, PageResults},
		hidden: map[PageID][]string{
			PageTrials:  {"trials.new", "trials.add_session", "trials.save", "trials.retention_save", "trials.purge"},
			PageResults: {"results.identified"},
		},
		actions: []GUIAction{ActLock},
	},
}

func TestAccessByRole(t *testing.T) {
	newWindow(t) // translations
	for _, rc := range roleAccess {
		t.Run(string(rc.role), func(t *testing.T) {
			sess := sessionAs(rc.role)
			// Each page holds a button for every guarded action of the table.
			var pages []Page
			for _, id := range allPages {
				pages = append(pages, Page{ID: id, Title: string(id), Make: func() fyne.CanvasObject {
					c := &fyne.Container{}
					for _, g := range Access[id].Guards {
						for _, k := range g.Labels {
							c.Objects = append(c.Objects, widget.NewButton(lang.L(k), func() {}))
						}
					}
					return c
				}})
			}
			var shown []PageID
			for _, p := range ForSession(sess, pages) {
				shown = append(shown, p.ID)
				usable := visibleActions(p.Make())
				for _, g := range Access[p.ID].Guards {
					for _, k := range g.Labels {
						if usable[lang.L(k)] != sess.May(g.Action) {
							t.Errorf("page %s: %q usable %v, may %s %v", p.ID, k, usable[lang.L(k)], g.Action, sess.May(g.Action))
						}
					}
				}
			}
			if !reflect.DeepEqual(shown, rc.pages) {
				t.Errorf("navigation %v, want %v", shown, rc.pages)
			}
			for _, id := range allPages {
				got := DeniedLabels(sess, id)
				want := rc.hidden[id]
				sort.Strings(got)
				want = append([]string(nil), want...)
				sort.Strings(want)
				if MayShow(sess, id) && (len(got) > 0 || len(want) > 0) && !reflect.DeepEqual(got, want) {
					t.Errorf("page %s hides %v, want %v", id, got, want)
				}
			}
			for _, a := range []GUIAction{ActDemoOffer, ActKiosk, ActLock} {
				want := false
				for _, b := range rc.actions {
					want = want || a == b
				}
				if MayDo(sess, a) != want {
					t.Errorf("may %s = %v, want %v", a, !want, want)
				}
			}
		})
	}
	// Logged out: nothing.
	if MayShow(nil, PageDashboard) || MayDo(nil, ActLock) {
		t.Error("a nil session may see or do something")
	}
}

// Every page is in the table, every action in it is a policy action (one
// a coordinator may do), and every translation key a guard names exists.
func TestAccessTableIsComplete(t *testing.T) {
	newWindow(t) // translations
	for _, id := range allPages {
		r, ok := Access[id]
		if !ok {
			t.Errorf("page %s is not in the access table", id)
			continue
		}
		if !staff.Coordinator.May(r.Needs) {
			t.Errorf("page %s needs %q, which is no policy action", id, r.Needs)
		}
		for _, g := range r.Guards {
			if !staff.Coordinator.May(g.Action) {
				t.Errorf("page %s guards with %q, which is no policy action", id, g.Action)
			}
			for _, k := range g.Labels {
				if lang.L(k) == k {
					t.Errorf("page %s guard %q: no translation for %q", id, g.Action, k)
				}
			}
		}
	}
	if len(Access) != len(allPages) {
		t.Errorf("the access table has %d pages, the window %d", len(Access), len(allPages))
	}
}

// visibleActions lists the texts of the visible, enabled buttons and check
// boxes (and form submit buttons) on o.
func visibleActions(o fyne.CanvasObject) map[string]bool {
	out := map[string]bool{}
	walk(o, func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Button:
			if x.Visible() && !x.Disabled() && x.OnTapped != nil {
				out[x.Text] = true
			}
		case *widget.Check:
			if x.Visible() && !x.Disabled() {
				out[x.Text] = true
			}
		}
	})
	return out
}

// The real pages, built for each role: the guarded buttons and check boxes
// are gone for the roles that may not use them, and there for those that
// may.
func TestPagesHideDeniedActions(t *testing.T) {
	svc := seeded(t)
	sv := survey.New(svc.DB)
	w := newWindow(t)
	loans := trial.NewLoans(svc.DB)
	pages := []Page{
		{ID: PageTrials, Make: func() fyne.CanvasObject { return NewTrials(w, svc) }},
		{ID: PageResults, Make: func() fyne.CanvasObject {
			return NewResults(w, ResultsDeps{Trials: svc, Survey: sv, Lang: "ja", ExportedBy: "who"})
		}},
		{ID: PageLoans, Make: func() fyne.CanvasObject {
			return NewLoans(w, LoansDeps{Loans: loans, Monitors: svc, Trials: svc})
		}},
	}
	guarded := map[PageID][]string{}
	for _, p := range pages {
		for _, g := range Access[p.ID].Guards {
			guarded[p.ID] = append(guarded[p.ID], g.Labels...)
		}
	}
	for _, rc := range roleAccess {
		t.Run(string(rc.role), func(t *testing.T) {
			sess := sessionAs(rc.role)
			for _, p := range pages {
				if !MayShow(sess, p.ID) {
					continue
				}
				// What ForSession's Make does, with the page's loading
				// finished first: the test driver runs fyne.Do on worker
				// goroutines, the real one on the UI goroutine.
				o := p.Make()
				waitIdle()
				HideActions(o, DeniedLabels(sess, p.ID))
				show(w, o)
				seen := visibleActions(o)
				hidden := map[string]bool{}
				for _, k := range rc.hidden[p.ID] {
					hidden[k] = true
					if seen[lang.L(k)] {
						t.Errorf("%s: %q is usable on page %s", rc.role, k, p.ID)
					}
				}
				for _, k := range guarded[p.ID] {
					if hidden[k] || k == "trials.save" || k == "trials.retention_save" || k == "trials.purge" || k == "trials.add_session" {
						continue // shown only with a trial selected (or past its retention date)
					}
					if !seen[lang.L(k)] {
						t.Errorf("%s: %q is missing on page %s", rc.role, k, p.ID)
					}
				}
			}
		})
	}
}

// A hidden button stays useless when the page shows it again.
func TestHideActionsSurvivesShow(t *testing.T) {
	newWindow(t)
	tapped := false
	b := widget.NewButton(lang.L("trials.new"), func() { tapped = true })
	check := widget.NewCheck(lang.L("results.identified"), nil)
	check.SetChecked(true)
	form := widget.NewForm(widget.NewFormItem("x", widget.NewEntry()))
	form.SubmitText = lang.L("trials.save")
	saved := false
	form.OnSubmit = func() { saved = true }
	HideActions(box(b, check, form), []string{"trials.new", "results.identified", "trials.save"})
	b.Show()
	test.Tap(b)
	if tapped || !b.Disabled() {
		t.Error("a hidden button still acts")
	}
	if check.Checked || !check.Disabled() {
		t.Error("a hidden check box is still checked or enabled")
	}
	if form.OnSubmit != nil || saved {
		t.Error("a hidden form submit still acts")
	}
}

func box(objs ...fyne.CanvasObject) fyne.CanvasObject {
	return &fyne.Container{Objects: objs}
}

// Venue staff's trials page cannot change trials even through a dialog
// the hiding does not reach: the service refuses.
func TestReadOnlyTrialsRefusesChanges(t *testing.T) {
	svc := seeded(t)
	ro := ReadOnlyTrials{TrialService: svc, Session: sessionAs(staff.VenueStaff)}
	ctx := context.Background()
	ts, err := ro.ListTrials(ctx)
	if err != nil || len(ts) == 0 {
		t.Fatalf("reading trials: %d, %v", len(ts), err)
	}
	var denied *staff.DeniedError
	ts[0].Name = "changed"
	if _, err := ro.UpdateTrial(ctx, ts[0]); !errors.As(err, &denied) {
		t.Errorf("UpdateTrial: %v, want DeniedError", err)
	}
	if _, err := ro.CreateSession(ctx, trial.Session{TrialID: ts[0].ID}); !errors.As(err, &denied) {
		t.Errorf("CreateSession: %v", err)
	}
	if _, err := ro.PurgeExpired(ctx); !errors.As(err, &denied) {
		t.Errorf("PurgeExpired: %v", err)
	}
	if err := ro.SetRetention(ctx, ts[0].ID, "2030-01-01"); !errors.As(err, &denied) {
		t.Errorf("SetRetention: %v", err)
	}
	if got, _ := svc.ListTrials(ctx); got[0].Name == "changed" {
		t.Error("the trial was changed")
	}
}

// Venue staff's station pages never get names: the picker of the loans desk,
// the bank and the virtual cards lists ids only.
func TestStationMonitorListsArePseudonymousForVenueStaff(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	tr, err := svc.CreateTrial(ctx, trial.Trial{Name: "会場", Kind: trial.KindVenue})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Enrol(ctx, trial.Monitor{TrialID: tr.ID, Name: "東雲 瑞穂", Kana: "シノノメ ミズホ", Contact: "s@example.jp"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		role  staff.Role
		names bool
	}{{staff.Coordinator, true}, {staff.VenueStaff, false}, {staff.Analyst, false}} {
		sess := &staff.Session{Account: staff.Account{Login: "x", Role: c.role}}
		ms, err := MonitorsFor(sess, svc).ListMonitors(ctx, trial.Filter{})
		if err != nil || len(ms) != 1 {
			t.Fatalf("%s: %v, %v", c.role, ms, err)
		}
		if got := ms[0].Name != "" || ms[0].Kana != "" || ms[0].Contact != ""; got != c.names {
			t.Errorf("%s: personal fields shown = %v, want %v (%+v)", c.role, got, c.names, ms[0])
		}
		if ms[0].ID == "" {
			t.Errorf("%s: the id is gone too", c.role)
		}
	}
}
