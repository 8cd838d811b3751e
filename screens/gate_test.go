package screens

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"

	"jpkipilot/device/vcard"
	"jpkipilot/pki"
	"jpkipilot/trial/store/storetest"
	"jpkipilot/trial/ticket"
)

func gateEvent() ticket.Event { return ticket.DemoEvents()[0] }

// Each state of the gate kiosk as the person at the gate sees it.
func TestGateStates(t *testing.T) {
	w := newWindow(t)
	g := NewGateKiosk(w, GateDeps{Event: gateEvent(), MaxCRLAge: ticket.DefaultMaxCRLAge,
		CRLAge: func() time.Duration { return 3*time.Hour + 20*time.Minute }})
	show(w, g.Object())
	test.AssertRendersToMarkup(t, "gate_idle.xml", w.Canvas())

	g.showReading()
	if !g.progress.Visible() || g.verdict.Visible() {
		t.Error("reading: the progress indicator must show, no verdict yet")
	}
	test.AssertRendersToMarkup(t, "gate_reading.xml", w.Canvas())

	g.showDecision(ticket.Decision{Admit: true, Reason: ticket.Admitted, Method: ticket.MethodCard}, nil)
	if g.verdict.Text != lang.L("gate.admit") || !strings.Contains(g.explain.Text, "暗証番号") {
		t.Errorf("admitted: %q / %q", g.verdict.Text, g.explain.Text)
	}
	test.AssertRendersToMarkup(t, "gate_admitted.xml", w.Canvas())

	g.showDecision(ticket.Decision{Reason: ticket.AlreadyEntered, Method: ticket.MethodCard}, nil)
	if g.verdict.Text != lang.L("gate.deny") || g.reason.Text != "このチケットは入場済みです" {
		t.Errorf("denied: %q / %q", g.verdict.Text, g.reason.Text)
	}
	test.AssertRendersToMarkup(t, "gate_denied.xml", w.Canvas())

	g.showIdle()
	if g.verdict.Visible() || g.reason.Visible() {
		t.Error("idle again: the last verdict must be gone")
	}
}

// Every reason the gate can give has a translation in both languages.
func TestGateReasonsTranslated(t *testing.T) {
	newWindow(t)
	for _, language := range []string{"ja", "en"} {
		if err := LoadTranslations(language); err != nil {
			t.Fatal(err)
		}
		for _, r := range ticket.Reasons {
			if txt := ReasonText(r); txt == "" || strings.HasPrefix(txt, "gate.reason.") {
				t.Errorf("%s: reason %s untranslated", language, r)
			}
		}
	}
	_ = LoadTranslations("ja")
}

// A card held to a (virtual) reader at the gate: read, decided, shown. The
// session's virtual cards come from a demo CA the gate does not trust.
func TestGateChecksAHeldCard(t *testing.T) {
	w := newWindow(t)
	pki.DefaultKDF = pki.KDFParams{Time: 1, Memory: 1024, Threads: 1}
	ctx := context.Background()
	db := storetest.SQLite(t)
	ca, err := pki.Init(ctx, db, []byte("gate test"), pki.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.PublishCRL(ctx, pki.RoleAuth, 0); err != nil {
		t.Fatal(err)
	}
	if err := ticket.NewService(db, nil).SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	trust, err := ticket.LoadTrust(ctx, db, 0)
	if err != nil {
		t.Fatal(err)
	}
	virt := NewVirtualReaders("gate reader")
	g := NewGateKiosk(w, GateDeps{Event: gateEvent(), Gate: ticket.NewGate(db, gateEvent().ID, "gate-test", trust),
		Readers: virt, MaxCRLAge: ticket.DefaultMaxCRLAge, CRLAge: func() time.Duration { return trust.CRLAge(time.Now()) }})
	show(w, g.Object())
	if err := virt.Hold(ctx, "gate reader", "M001", vcard.MyNumber); err != nil {
		t.Fatal(err)
	}
	g.readersChanged()
	waitIdle()
	if g.verdict.Text != lang.L("gate.deny") || g.reason.Text != ReasonText(ticket.UnknownIssuer) {
		t.Fatalf("verdict %q, reason %q", g.verdict.Text, g.reason.Text)
	}
	if !strings.Contains(g.feedback.label.Text, lang.L("feedback.done")) {
		t.Errorf("completion signal: %q", g.feedback.label.Text)
	}
	log, err := ticket.Decisions(ctx, db, gateEvent().ID)
	if err != nil || len(log) != 1 || log[0].APDUs == 0 {
		t.Fatalf("logged: %+v, %v", log, err)
	}
	virt.Remove("gate reader")
	g.readersChanged()
	waitIdle()
	if g.verdict.Visible() {
		t.Error("the verdict stays after the card was taken away")
	}
}
