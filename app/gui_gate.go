package app

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/screens"
	"jpkipilot/trial/ticket"
)

// gateSetup is what the gate kiosk loads before it opens: the event and
// the trust (anchors, auth CA, newest CRL) it decides with, offline.
type gateSetup struct {
	event ticket.Event
	trust *ticket.Trust
}

// showGate fills the screen with the entry gate for --event. Closing the
// window asks for a staff PIN first.
func (g *gui) showGate() {
	screens.Run(context.Background(), func(ctx context.Context) (gateSetup, error) {
		svc := ticket.NewService(g.db, nil)
		if err := svc.SeedDemo(ctx); err != nil {
			return gateSetup{}, err
		}
		if g.event == "" {
			es, err := svc.Events(ctx)
			if err != nil {
				return gateSetup{}, err
			}
			var ids []string
			for _, e := range es {
				ids = append(ids, e.ID)
			}
			return gateSetup{}, fmt.Errorf("--kiosk gate needs --event (one of %s)", strings.Join(ids, ", "))
		}
		ev, err := svc.Event(ctx, g.event)
		if err != nil {
			return gateSetup{}, err
		}
		trust, err := ticket.LoadTrust(ctx, g.db, ticket.DefaultMaxCRLAge)
		return gateSetup{event: ev, trust: trust}, err
	}, func(s gateSetup, err error) {
		if err != nil {
			msg := widget.NewLabel(err.Error())
			msg.Wrapping = fyne.TextWrapWord
			g.setContent(container.NewPadded(msg))
			return
		}
		host, _ := os.Hostname()
		gate := ticket.NewGate(g.db, s.event.ID, host, s.trust)
		k := screens.NewGateKiosk(g.w, screens.GateDeps{
			Event:     s.event,
			Gate:      gate, // takes up a newer CRL from the store before each decision
			Readers:   g.readers,
			CRLAge:    func() time.Duration { return gate.HeldTrust().CRLAge(time.Now()) },
			MaxCRLAge: ticket.DefaultMaxCRLAge,
			Staff:     g.staff,
			OnExit:    g.app.Quit,
			PIN:       screens.NewPINPad(g.w),
		})
		g.w.SetFullScreen(!g.probe)
		g.w.SetCloseIntercept(k.RequestExit)
		g.setContent(k.Object())
	})
}
