package screens

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial"
)

// DashboardService counts each trial's monitors per session.
type DashboardService interface {
	ListTrials(ctx context.Context) ([]trial.Trial, error)
	Dashboard(ctx context.Context, trialID int64) (trial.Dashboard, error)
}

type dashboardScreen struct {
	w       fyne.Window
	svc     DashboardService
	body    *fyne.Container
	scroll  *container.Scroll
	content fyne.CanvasObject
}

// NewDashboard shows each trial at a glance: per session the monitors
// enrolled against the target, consent forms missing and withdrawals.
func NewDashboard(w fyne.Window, svc DashboardService) fyne.CanvasObject {
	return newDashboardScreen(w, svc).content
}

var dashColumns = columns{3.6, 2.4, 1.65, 1.35, 1}

func newDashboardScreen(w fyne.Window, svc DashboardService) *dashboardScreen {
	s := &dashboardScreen{w: w, svc: svc, body: container.NewVBox(widget.NewLabel(lang.L("dashboard.loading")))}
	refresh := widget.NewButtonWithIcon(lang.L("dashboard.refresh"), theme.ViewRefreshIcon(), s.load)
	top := container.NewHBox(widget.NewLabelWithStyle(lang.L("nav.dashboard"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), refresh)
	s.scroll = container.NewVScroll(s.body)
	s.content = container.NewBorder(top, nil, nil, nil, s.scroll)
	s.load()
	return s
}

func (s *dashboardScreen) load() {
	Run(context.Background(), func(ctx context.Context) ([]trial.Dashboard, error) {
		ts, err := s.svc.ListTrials(ctx)
		if err != nil {
			return nil, err
		}
		ds := make([]trial.Dashboard, 0, len(ts))
		for _, t := range ts {
			d, err := s.svc.Dashboard(ctx, t.ID)
			if err != nil {
				return nil, err
			}
			ds = append(ds, d)
		}
		return ds, nil
	}, func(ds []trial.Dashboard, err error) {
		if err != nil {
			s.body.Objects = []fyne.CanvasObject{widget.NewLabel(lang.L("dashboard.failed", map[string]any{"Err": err.Error()}))}
			s.scroll.Refresh()
			return
		}
		s.show(ds)
	})
}

func (s *dashboardScreen) show(ds []trial.Dashboard) {
	var objs []fyne.CanvasObject
	if len(ds) == 0 {
		objs = append(objs, widget.NewLabel(lang.L("dashboard.empty")))
	}
	for _, d := range ds {
		objs = append(objs, trialCard(d))
	}
	s.body.Objects = objs
	s.scroll.Refresh()
}

func trialCard(d trial.Dashboard) fyne.CanvasObject {
	title := fmt.Sprintf("%s — %s", d.Trial.Name, kindName(d.Trial.Kind))
	if d.Trial.Kind == trial.KindLoan {
		title += lang.L("dashboard.loan_days", map[string]any{"N": d.Trial.LoanDays})
	}
	header := container.New(dashColumns,
		boldLabel(lang.L("dashboard.session")), boldLabel(lang.L("dashboard.enrolled_target")),
		boldLabel(lang.L("dashboard.attended_completed")), boldLabel(lang.L("dashboard.consent_missing")),
		boldLabel(lang.L("dashboard.withdrawn")))
	rows := []fyne.CanvasObject{header, widget.NewSeparator()}
	for _, st := range d.Sessions {
		rows = append(rows, statsRow(sessionLabel(st.Session), st, false))
	}
	if d.Unassigned != (trial.SessionStats{}) {
		rows = append(rows, statsRow(lang.L("dashboard.unassigned"), d.Unassigned, false))
	}
	rows = append(rows, widget.NewSeparator(), statsRow(lang.L("dashboard.total"), d.Total, true))
	return widget.NewCard(title, "", container.NewVBox(rows...))
}

func boldLabel(s string) *widget.Label {
	return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// sessionLabel is "CODE · date · step · venue".
func sessionLabel(se trial.Session) string {
	parts := []string{se.Code, se.StartsOn}
	if se.Step != trial.StepNone {
		parts = append(parts, stepName(se.Step))
	}
	if se.Venue != "" {
		parts = append(parts, se.Venue)
	}
	return strings.Join(parts, " · ")
}

func statsRow(name string, st trial.SessionStats, bold bool) fyne.CanvasObject {
	// clipText, not Label.Truncation: see newMonitorRow.
	label := widget.NewLabelWithStyle(clipText(name, 26), fyne.TextAlignLeading, fyne.TextStyle{Bold: bold})
	bar := widget.NewProgressBar()
	target := st.Target()
	bar.Max = float64(max(target, 1))
	bar.SetValue(float64(min(st.Enrolled, max(target, 1))))
	enrolled := st.Enrolled
	bar.TextFormatter = func() string {
		if target == 0 {
			return lang.L("dashboard.n_no_target", map[string]any{"N": enrolled})
		}
		return fmt.Sprintf("%d / %d", enrolled, target)
	}
	consent := widget.NewLabel(fmt.Sprint(st.ConsentMissing))
	if st.ConsentMissing > 0 {
		consent.Importance = widget.WarningImportance
	}
	withdrawn := widget.NewLabel(fmt.Sprint(st.Withdrawn))
	if st.Withdrawn > 0 {
		withdrawn.Importance = widget.DangerImportance
	}
	return container.New(dashColumns, label, bar,
		widget.NewLabel(fmt.Sprintf("%d / %d", st.Attended, st.Completed)), consent, withdrawn)
}
