package app

import (
	"jpkipilot/screens"
	"jpkipilot/survey"
)

// kioskModes are the --kiosk values that are implemented.
var kioskModes = map[string]bool{"survey": true, "gate": true}

// showKiosk fills the screen with the questionnaire kiosk. Closing the
// window (or the exit button) asks for a staff PIN first.
func (g *gui) showKiosk() {
	k := screens.NewKiosk(g.w, screens.KioskDeps{
		Trials:  g.svc,
		Survey:  survey.New(g.db),
		Lang:    g.lang,
		Staff:   g.staff,
		Session: g.sess,
		OnExit:  g.app.Quit,
	})
	g.w.SetFullScreen(!g.probe)
	g.w.SetCloseIntercept(k.RequestExit)
	g.setContent(k.Object())
}

// survey is the questionnaire service on the store in use.
func (g *gui) survey() *survey.Service { return survey.New(g.db) }
