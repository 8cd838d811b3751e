package screens

import (
	"strings"

	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial"
)

// monitorPicker picks a monitor by typing: a trial has a few hundred
// monitors, too many for a plain drop-down. Typing part of the id, name or
// kana (folded as the monitors list folds it) narrows the choices.
type monitorPicker struct {
	entry    *widget.SelectEntry // what goes on screen (not embedded: Fyne draws the object it was given)
	monitors []trial.Monitor
	keys     []string // SearchKey of each monitor's option and kana
	matches  []int    // the monitors offered now
	changed  func()
}

func newMonitorPicker(placeholder string, changed func()) *monitorPicker {
	p := &monitorPicker{entry: widget.NewSelectEntry(nil), changed: changed}
	p.entry.SetPlaceHolder(placeholder)
	p.entry.OnChanged = func(string) {
		p.narrow()
		if p.changed != nil {
			p.changed()
		}
	}
	return p
}

func monitorOption(m trial.Monitor) string { return m.ID + " " + m.Name }

// setMonitors offers ms.
func (p *monitorPicker) setMonitors(ms []trial.Monitor) {
	p.monitors = ms
	p.keys = make([]string, len(ms))
	for i, m := range ms {
		p.keys[i] = trial.SearchKey(monitorOption(m) + " " + m.Kana)
	}
	p.narrow()
}

// narrow offers the monitors matching what is typed (all when nothing is,
// or when a whole option was picked).
func (p *monitorPicker) narrow() {
	q := trial.SearchKey(p.entry.Text)
	var opts []string
	p.matches = p.matches[:0]
	for i, m := range p.monitors {
		o := monitorOption(m)
		if q == "" || o == p.entry.Text || strings.Contains(p.keys[i], q) {
			opts = append(opts, o)
			p.matches = append(p.matches, i)
		}
	}
	p.entry.SetOptions(opts)
}

// selected is the monitor whose id starts the text ("M-0008 森 大輔",
// "m-8"), else the only one matching what is typed (a name, a kana), or
// false.
func (p *monitorPicker) selected() (trial.Monitor, bool) {
	f := strings.Fields(p.entry.Text)
	if len(f) == 0 {
		return trial.Monitor{}, false
	}
	if n, ok := trial.ParseMonitorID(f[0]); ok {
		id := trial.FormatMonitorID(n)
		for _, m := range p.monitors {
			if m.ID == id {
				return m, true
			}
		}
		return trial.Monitor{}, false
	}
	if len(p.matches) == 1 {
		return p.monitors[p.matches[0]], true
	}
	return trial.Monitor{}, false
}

// typedID is the id as typed, for the store to judge when it is not offered.
func (p *monitorPicker) typedID() string {
	if m, ok := p.selected(); ok {
		return m.ID
	}
	f := strings.Fields(p.entry.Text)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
