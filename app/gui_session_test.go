package app

import (
	"context"
	"reflect"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/screens"
	"jpkipilot/trial/staff"
	"jpkipilot/trial/store/storetest"
)

const testPassword = "App-test-2017"

// newTestGUI is the GUI's composition on a new SQLite store with the test
// driver's window: no PC/SC, no GL.
func newTestGUI(t *testing.T) *gui {
	t.Helper()
	if err := screens.LoadTranslations("ja"); err != nil {
		t.Fatal(err)
	}
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(fyne.NewSize(1280, 800))
	db := storetest.SQLite(t)
	st := staff.New(db)
	st.KDF = staff.TestKDF
	virt := screens.NewVirtualReaders("test reader")
	return &gui{app: a, w: w, db: db, staff: st, virt: virt, readers: virt, probe: true, lang: "ja"}
}

// The main window's navigation for each role, from the real page list.
func TestNavigationByRole(t *testing.T) {
	g := newTestGUI(t)
	ctx := context.Background()
	coord, err := g.staff.CreateFirst(ctx, "coord", "Coordinator", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		role  staff.Role
		pages []screens.PageID
	}{
		{staff.Coordinator, []screens.PageID{screens.PageDashboard, screens.PageTrials, screens.PageMonitors, screens.PageImport,
			screens.PageReaders, screens.PageTickets, screens.PageDevices, screens.PageLoans, screens.PageProvision, screens.PageBank,
			screens.PageResults, screens.PageTranscribe, screens.PageForms, screens.PageStaff, screens.PageAudit, screens.PageSettings}},
		{staff.VenueStaff, []screens.PageID{screens.PageDashboard, screens.PageTrials, screens.PageReaders, screens.PageTickets,
			screens.PageLoans, screens.PageProvision, screens.PageBank, screens.PageTranscribe}},
		{staff.Analyst, []screens.PageID{screens.PageDashboard, screens.PageTrials, screens.PageResults}},
	} {
		login := string(tc.role) + "1"
		if tc.role == staff.Coordinator {
			login = "coord"
		} else if _, err := g.staff.Create(ctx, coord, login, "Someone", tc.role, testPassword); err != nil {
			t.Fatal(err)
		}
		sess, err := g.staff.Login(ctx, login, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		g.setSession(sess)
		var got []screens.PageID
		for _, p := range screens.ForSession(sess, g.pages()) {
			got = append(got, p.ID)
		}
		if !reflect.DeepEqual(got, tc.pages) {
			t.Errorf("%s sees %v, want %v", tc.role, got, tc.pages)
		}
		// The services carry the session's data key (none for analysts)
		// and its login as the audit actor.
		if g.svc.PII != sess.Key || g.svc.Actor != login || g.loans.PII != sess.Key || g.loans.Actor != login {
			t.Errorf("%s: services hold key %v actor %q", tc.role, g.svc.PII != nil, g.svc.Actor)
		}
		if (sess.Key == nil) == tc.role.HoldsDataKey() {
			t.Errorf("%s: data key %v", tc.role, sess.Key != nil)
		}
	}
	// Logging out drops the key from the services.
	g.setSession(nil)
	if g.svc.PII != nil || g.svc.Actor != "" || g.loans.PII != nil {
		t.Error("the services keep the data key after logout")
	}
}
