package screens

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial/staff"
)

// The kiosk cannot be left without a staff PIN: a wrong PIN and an
// analyst's would-be PIN (analysts hold none) keep it; a venue staff
// account's PIN leaves it; repeated failures are throttled by the staff
// service and the wait is shown.
func TestKioskLeavesOnlyWithAStaffPIN(t *testing.T) {
	s := newSurveyStore(t)
	s.staff.Now = func() time.Time { return testClock } // the throttle's wait is exact
	s.setPIN(t, "246802")
	ctx := context.Background()
	if _, err := s.staff.Create(ctx, s.sess, "venue", "Venue Staff", staff.VenueStaff, testPassword); err != nil {
		t.Fatal(err)
	}
	if err := s.staff.SetPIN(ctx, s.sess, "venue", "135790"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.staff.Create(ctx, s.sess, "analyst", "Analyst", staff.Analyst, testPassword); err != nil {
		t.Fatal(err)
	}
	if err := s.staff.SetPIN(ctx, s.sess, "analyst", "975310"); err == nil {
		t.Fatal("an analyst account got a staff PIN")
	}

	w := newWindow(t)
	left := 0
	k := NewKiosk(w, KioskDeps{Trials: s.trials, Survey: s.survey, Staff: s.staff, Session: s.sess, OnExit: func() { left++ }})
	show(w, k.Object())
	for _, pin := range []string{"000000", "975310"} {
		k.RequestExit()
		typePIN(t, w, pin)
		if left != 0 {
			t.Fatalf("PIN %s left the kiosk", pin)
		}
		if got := pinDialogMessage(t, w); got != lang.L("kiosk.pin_wrong") {
			t.Errorf("after PIN %s the dialog says %q", pin, got)
		}
		closePINDialog(t, w)
	}
	k.RequestExit()
	typePIN(t, w, "135790")
	if left != 1 {
		t.Fatal("the venue staff account's PIN did not leave the kiosk")
	}
	if n := len(w.Canvas().Overlays().List()); n != 0 {
		t.Errorf("%d dialogs left open after leaving", n)
	}

	// Keep failing: the staff service refuses further tries for a while,
	// even the right PIN, and the dialog says how long.
	k.RequestExit()
	var msg string
	for i := 0; i < 12 && !strings.Contains(msg, "秒後"); i++ {
		typePIN(t, w, "000000")
		msg = pinDialogMessage(t, w)
	}
	if !strings.Contains(msg, "秒後") {
		t.Fatalf("no wait shown after 12 wrong PINs: %q", msg)
	}
	typePIN(t, w, "135790")
	if left != 1 {
		t.Fatal("a throttled kiosk was left")
	}
	if got := pinDialogMessage(t, w); !strings.Contains(got, "秒後") {
		t.Errorf("the right PIN while throttled says %q", got)
	}
}

// The gate kiosk asks the same staff PIN.
func TestGateLeavesOnlyWithAStaffPIN(t *testing.T) {
	s := newSurveyStore(t)
	s.setPIN(t, "246802")
	w := newWindow(t)
	left := false
	g := NewGateKiosk(w, GateDeps{Event: gateEvent(), Staff: s.staff, OnExit: func() { left = true }})
	show(w, g.Object())
	g.RequestExit()
	typePIN(t, w, "111111")
	if left {
		t.Fatal("a wrong PIN left the gate")
	}
	closePINDialog(t, w)
	g.RequestExit()
	typePIN(t, w, "246802")
	if !left {
		t.Fatal("the coordinator's PIN did not leave the gate")
	}
}

// Without a staff service nobody leaves (no PIN-less way out).
func TestKioskWithoutStaffServiceCannotBeLeft(t *testing.T) {
	w := newWindow(t)
	left := false
	askStaffPIN(w, nil, "exit", func() { left = true })
	typePIN(t, w, "246802")
	if left {
		t.Fatal("left without a staff service to check the PIN")
	}
}

// pinDialogMessage is the error line of the PIN dialog shown.
func pinDialogMessage(t *testing.T, w fyne.Window) string {
	t.Helper()
	overlays := w.Canvas().Overlays().List()
	if len(overlays) == 0 {
		t.Fatal("no PIN dialog")
	}
	var msg string
	walk(overlays[len(overlays)-1], func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && l.Importance == widget.DangerImportance {
			msg = l.Text
		}
	})
	return msg
}

func closePINDialog(t *testing.T, w fyne.Window) {
	t.Helper()
	tapButton(t, w, lang.L("Cancel"))
}

// A venue staff member who started the kiosk without a kiosk PIN sets one
// on the staff page, as in the main window's session bar: with the
// password asked again (a wrong one sets nothing); the PIN then leaves the
// kiosk and the kiosk starts.
func TestKioskSetupSetsOwnPINWithPassword(t *testing.T) {
	s := newSurveyStore(t)
	s.setPIN(t, "246802")
	ctx := context.Background()
	if _, err := s.staff.Create(ctx, s.sess, "venue", "Venue Staff", staff.VenueStaff, testPassword); err != nil {
		t.Fatal(err)
	}
	venue, err := s.staff.Login(ctx, "venue", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	w := newWindow(t)
	k := NewKiosk(w, KioskDeps{Trials: s.trials, Survey: s.survey, Staff: s.staff, Session: venue})
	show(w, k.Object())
	setOwn := func(password, pin, again string) {
		t.Helper()
		tapButton(t, w, lang.L("kiosk.set_my_pin"))
		overlays := w.Canvas().Overlays().List()
		if len(overlays) == 0 {
			t.Fatal("no PIN dialog")
		}
		var entries []*widget.Entry
		walk(overlays[len(overlays)-1], func(o fyne.CanvasObject) {
			if e, ok := o.(*widget.Entry); ok {
				entries = append(entries, e)
			}
		})
		if len(entries) != 3 {
			t.Fatalf("the dialog has %d entries, want password, PIN and PIN again", len(entries))
		}
		for i, text := range []string{password, pin, again} {
			entries[i].SetText(text)
		}
		tapButton(t, w, lang.L("OK"))
	}

	setOwn("Not-the-password-1", "135790", "135790")
	if got, want := k.setup.result.Text, lang.L("staff.field_current_password"); !strings.HasPrefix(got, want) {
		t.Errorf("after a wrong password the page says %q, want it to name %q", got, want)
	}
	if _, err := s.staff.CheckPIN(ctx, "135790"); err == nil {
		t.Fatal("a wrong password set the PIN")
	}
	setOwn(testPassword, "135790", "135791")
	if _, err := s.staff.CheckPIN(ctx, "135790"); err == nil {
		t.Fatal("two different PINs set one of them")
	}

	setOwn(testPassword, "135790", "135790")
	if a, err := s.staff.CheckPIN(ctx, "135790"); err != nil || a.Login != "venue" {
		t.Fatalf("the PIN set on the kiosk page checks as %+v, %v", a, err)
	}
	if k.setup.pinStatus.Text != lang.L("kiosk.pin_is_set") {
		t.Errorf("PIN status %q", k.setup.pinStatus.Text)
	}
	k.setup.monitorSel.SetText(s.attendedMonitor(t).ID)
	k.setup.formSel.SetSelectedIndex(0)
	test.Tap(k.setup.start)
	waitIdle()
	if k.resp == nil {
		t.Fatalf("the kiosk did not start after the PIN was set: %q", k.setup.result.Text)
	}
}
