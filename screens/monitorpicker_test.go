package screens

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"jpkipilot/trial"
)

func TestMonitorPickerNarrowsAndPicks(t *testing.T) {
	newWindow(t)
	ms, err := seeded(t).ListMonitors(context.Background(), trial.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	p := newMonitorPicker("", nil)
	p.setMonitors(ms)
	if len(p.matches) != len(ms) {
		t.Fatalf("%d offered with nothing typed, want all %d", len(p.matches), len(ms))
	}
	// A family name shared by several monitors narrows but picks no one.
	family := strings.Fields(ms[0].Name)[0]
	test.Type(p.entry, family)
	if len(p.matches) < 2 {
		t.Skipf("demo data has one %s only", family)
	}
	for _, i := range p.matches {
		if !strings.Contains(ms[i].Name, family) {
			t.Errorf("%s offered for %q", ms[i].Name, family)
		}
	}
	if m, ok := p.selected(); ok {
		t.Errorf("%q picked %s among %d", family, m.ID, len(p.matches))
	}
	// The id picks, typed loosely; an unknown id picks nothing.
	p.entry.SetText("m-" + strings.TrimLeft(ms[0].ID[2:], "0"))
	if m, ok := p.selected(); !ok || m.ID != ms[0].ID {
		t.Errorf("%q picked %v %v, want %s", p.entry.Text, m.ID, ok, ms[0].ID)
	}
	p.entry.SetText("M-9999")
	if _, ok := p.selected(); ok || p.typedID() != "M-9999" {
		t.Errorf("M-9999 picked a monitor (typed id %q)", p.typedID())
	}
}
