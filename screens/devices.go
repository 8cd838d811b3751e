package screens

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial"
)

// DeviceService is the phone and SIM inventory.
type DeviceService interface {
	ListDevices(ctx context.Context, f trial.DeviceFilter) ([]trial.Device, error)
	ImportDevicesFile(ctx context.Context, path string) (trial.DeviceImportResult, error)
}

type devicesScreen struct {
	w        fyne.Window
	svc      DeviceService
	all      []trial.Device
	shown    []trial.Device
	kind     *widget.Select
	free     *widget.Check
	query    *widget.Entry
	count    *widget.Label
	list     *widget.List
	result   *widget.Label
	problems []trial.Problem
	plist    *widget.List
	content  fyne.CanvasObject
}

// NewDevices lists the lending pool's phones and SIMs with a filter, and
// imports more from a CSV or XLSX file (all or nothing, problems by row).
func NewDevices(w fyne.Window, svc DeviceService) fyne.CanvasObject {
	return newDevicesScreen(w, svc).content
}

func newDevicesScreen(w fyne.Window, svc DeviceService) *devicesScreen {
	s := &devicesScreen{w: w, svc: svc}
	s.kind = newSelect([]string{lang.L("devices.all"), lang.L("devices.phones"), lang.L("devices.sims")}, func(string) { s.applyFilter() })
	s.kind.SetSelectedIndex(0)
	s.free = widget.NewCheck(lang.L("devices.free_only"), func(bool) { s.applyFilter() })
	s.query = widget.NewEntry()
	s.query.SetPlaceHolder(lang.L("devices.search"))
	s.query.OnChanged = func(string) { s.applyFilter() }
	s.count = widget.NewLabel("")
	s.list = widget.NewList(
		func() int { return len(s.shown) },
		func() fyne.CanvasObject { return newDeviceRow() },
		func(i widget.ListItemID, o fyne.CanvasObject) { fillDeviceRow(s.shown[i], o) })
	s.result = widget.NewLabel("")
	s.result.Wrapping = fyne.TextWrapWord
	s.plist = widget.NewList(
		func() int { return len(s.problems) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(problemText(s.problems[i])) })
	imp := widget.NewButtonWithIcon(lang.L("devices.import"), theme.UploadIcon(), s.chooseFile)
	var cols []string
	for _, c := range trial.DeviceColumns {
		cols = append(cols, c.Names[0])
	}
	help := widget.NewLabel(lang.L("devices.import_help", map[string]any{"Columns": strings.Join(cols, "、")}))
	help.Wrapping = fyne.TextWrapWord

	header := container.New(deviceColumns, boldLabel(lang.L("devices.kind")), boldLabel(lang.L("devices.serial")),
		boldLabel(lang.L("devices.carrier")), boldLabel(lang.L("devices.model")), boldLabel(lang.L("devices.state")),
		boldLabel(lang.L("devices.loan")))
	top := container.NewVBox(
		container.NewHBox(boldLabel(lang.L("nav.devices")), imp),
		container.NewBorder(nil, nil, container.NewHBox(s.kind, s.free), s.count, s.query),
		header)
	problems := container.NewBorder(container.NewVBox(help, s.result), nil, nil, nil, s.plist)
	split := container.NewVSplit(container.NewBorder(top, nil, nil, nil, s.list), problems)
	split.Offset = 0.72
	s.content = split
	s.load()
	return s
}

var deviceColumns = columns{1, 2.6, 1.2, 2, 1.6, 2.4}

func newDeviceRow() fyne.CanvasObject {
	return container.New(deviceColumns, widget.NewLabel(""), widget.NewLabel(""), widget.NewLabel(""),
		widget.NewLabel(""), widget.NewLabel(""), widget.NewLabel(""))
}

func fillDeviceRow(d trial.Device, o fyne.CanvasObject) {
	cells := o.(*fyne.Container).Objects
	state := lang.L("os." + string(d.OS))
	if d.Kind == trial.KindSIM {
		state = lang.L("devices.applet", map[string]any{"State": lang.L("applet." + string(d.AppletState))})
	}
	loan := lang.L("devices.free")
	imp := widget.SuccessImportance
	if d.Loan != nil {
		loan = lang.L("devices.on_loan", map[string]any{"Loan": trial.FormatLoanID(d.Loan.ID), "Monitor": d.Loan.MonitorID, "Due": d.Loan.DueOn})
		imp = widget.MediumImportance
	}
	texts := []string{lang.L("devices.kind_" + string(d.Kind)), d.Serial, lang.L("carrier." + string(d.Carrier)), d.Model, state, loan}
	for i, t := range texts {
		l := cells[i].(*widget.Label)
		l.SetText(clipText(t, 22))
	}
	cells[5].(*widget.Label).Importance = imp
	cells[5].Refresh()
}

func (s *devicesScreen) load() {
	Run(context.Background(), func(ctx context.Context) ([]trial.Device, error) {
		return s.svc.ListDevices(ctx, trial.DeviceFilter{})
	}, func(ds []trial.Device, err error) {
		if err != nil {
			ShowError(s.w, err)
			return
		}
		s.all = ds
		s.applyFilter()
	})
}

// applyFilter filters in memory: the pool is a few hundred devices.
func (s *devicesScreen) applyFilter() {
	if s.count == nil {
		return // still building
	}
	q := strings.ToLower(strings.TrimSpace(s.query.Text))
	s.shown = s.shown[:0]
	for _, d := range s.all {
		switch s.kind.SelectedIndex() {
		case 1:
			if d.Kind != trial.KindPhone {
				continue
			}
		case 2:
			if d.Kind != trial.KindSIM {
				continue
			}
		}
		if s.free.Checked && d.Loan != nil {
			continue
		}
		hay := d.Serial + " " + string(d.Carrier) + " " + lang.L("carrier."+string(d.Carrier)) + " " + d.Model + " " + string(d.OS)
		if q != "" && !strings.Contains(strings.ToLower(hay), q) {
			continue
		}
		s.shown = append(s.shown, d)
	}
	s.count.SetText(lang.L("devices.count", map[string]any{"N": len(s.shown), "Total": len(s.all)}))
	s.list.Refresh()
}

func (s *devicesScreen) chooseFile() {
	choosePath(s.w, []string{".csv", ".xlsx", ".CSV", ".XLSX"}, s.importFile)
}

// importFile imports on a worker behind a progress dialog (with Cancel);
// a rejected file lists every problem by row and adds nothing.
func (s *devicesScreen) importFile(path string) {
	s.problems = nil
	s.plist.Refresh()
	s.result.Importance = widget.MediumImportance
	s.result.SetText(lang.L("import.running", map[string]any{"File": path}))
	var res trial.DeviceImportResult
	RunWithProgress(s.w, lang.L("devices.import_title"), func(ctx context.Context, _ Progress) error {
		var err error
		res, err = s.svc.ImportDevicesFile(ctx, path)
		return err
	}, func(err error) { s.imported(res, err) })
}

func (s *devicesScreen) imported(res trial.DeviceImportResult, err error) {
	var ie *trial.ImportError
	switch {
	case err == nil:
		s.result.Importance = widget.SuccessImportance
		s.result.SetText(lang.L("devices.import_ok", map[string]any{"Phones": res.Phones, "SIMs": res.SIMs}))
	case errors.As(err, &ie):
		s.problems = ie.Problems
		s.result.Importance = widget.DangerImportance
		s.result.SetText(lang.L("devices.import_rejected", map[string]any{"N": len(ie.Problems)}))
	case errors.Is(err, context.Canceled):
		s.result.Importance = widget.WarningImportance
		s.result.SetText(lang.L("import.cancelled"))
	default:
		s.result.Importance = widget.DangerImportance
		s.result.SetText(lang.L("import.failed", map[string]any{"Err": fmt.Sprint(err)}))
	}
	s.plist.Refresh()
	if err == nil {
		s.load() // last: its result arrives in a later UI update
	}
}
