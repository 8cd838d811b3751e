package screens

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/staff"
	"jpkipilot/trial/store"
)

// AuditDeps is what the audit page needs.
type AuditDeps struct {
	DB *store.DB
	// Session is the logged-in account: the page needs staff.ViewAudit.
	Session *staff.Session
	// Zone is the zone times are shown and date filters read in (nil: the
	// computer's local zone).
	Zone *time.Location
	// Lang is the language of action labels: "ja" (default) or "en".
	Lang string
	// Now is the clock for export file names (nil: the wall clock).
	Now func() time.Time
}

// auditActions are the actions the filter offers, in the order listed. A
// test checks that every action trial/audit declares is here.
var auditActions = []string{
	audit.Login, audit.LoginFailed, audit.Logout, audit.SessionLocked,
	audit.StaffCreate, audit.StaffUpdate, audit.StaffDisable, audit.StaffPassword, audit.StaffPIN,
	audit.TokenIssue, audit.TokenRevoke, audit.DataKeyRotate,
	audit.TrialCreate, audit.TrialRetention, audit.MonitorEnrol, audit.MonitorEdit, audit.MonitorStatus, audit.MonitorConsent, audit.MonitorWithdraw,
	audit.MonitorDelete, audit.MonitorImport, audit.RetentionPurge, audit.Export,
	audit.CAInit, audit.CAKeyUse, audit.CertIssue, audit.CertRevoke, audit.CRLPublish,
	audit.DeviceAdd, audit.DeviceImport, audit.LoanCheckout, audit.LoanReturn, audit.LoanEvent,
	audit.KioskLeave, audit.KioskLeaveRefused,
}

type auditScreen struct {
	w    fyne.Window
	deps AuditDeps

	action   *widget.Select
	subject  *widget.Entry
	from     *widget.Entry
	until    *widget.Entry
	apply    *widget.Button
	filtErr  *widget.Label
	count    *widget.Label
	entries  []audit.Entry // newest first
	table    *widget.Table
	detail   *widget.Label
	verify   *widget.Button
	verdict  *widget.Label
	problems []audit.Problem
	plist    *widget.List
	content  fyne.CanvasObject
	loaded   audit.Filter // the filter of the entries shown
	// loads counts load calls: only the latest one's result is shown
	// (filters change faster than a large log is read).
	loads atomic.Int64
}

// NewAudit shows the audit trail, newest first, with filters by action,
// subject and date; verifies the hash chain and exports the entries shown.
func NewAudit(w fyne.Window, deps AuditDeps) fyne.CanvasObject {
	return newAuditScreen(w, deps).content
}

var auditColumnWidths = []float32{70, 170, 150, 210, 170, 440}

func newAuditScreen(w fyne.Window, deps AuditDeps) *auditScreen {
	if deps.Zone == nil {
		deps.Zone = time.Local
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Lang != "en" {
		deps.Lang = "ja"
	}
	s := &auditScreen{w: w, deps: deps}
	if err := deps.Session.Require(staff.ViewAudit); err != nil {
		s.content = deniedPage(lang.L("audit.title"))
		return s
	}
	names := []string{lang.L("audit.all_actions")}
	for _, a := range auditActions {
		names = append(names, audit.ActionLabel(a, deps.Lang))
	}
	s.action = newSelect(names, func(string) { s.load() })
	s.action.SetSelectedIndex(0)
	s.subject = widget.NewEntry()
	s.subject.SetPlaceHolder(lang.L("audit.subject_placeholder"))
	s.subject.OnSubmitted = func(string) { s.load() }
	s.from = widget.NewEntry()
	s.from.SetPlaceHolder(lang.L("audit.from_placeholder"))
	s.from.OnSubmitted = func(string) { s.load() }
	s.until = widget.NewEntry()
	s.until.SetPlaceHolder(lang.L("audit.until_placeholder"))
	s.until.OnSubmitted = func(string) { s.load() }
	s.apply = widget.NewButtonWithIcon(lang.L("audit.apply"), theme.SearchIcon(), s.load)
	s.filtErr = widget.NewLabel("")
	s.filtErr.Importance = widget.DangerImportance
	s.filtErr.Wrapping = fyne.TextWrapWord
	s.filtErr.Hide()
	s.count = widget.NewLabel("")

	s.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(s.entries), len(auditColumnWidths) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row < len(s.entries) {
				o.(*widget.Label).SetText(s.cellText(s.entries[id.Row], id.Col))
			}
		})
	s.table.ShowHeaderColumn = false
	s.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	s.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		keys := []string{"audit.col_seq", "audit.col_time", "audit.col_actor", "audit.col_action", "audit.col_subject", "audit.col_detail"}
		if id.Col >= 0 && id.Col < len(keys) {
			o.(*widget.Label).SetText(lang.L(keys[id.Col]))
		}
	}
	for i, wd := range auditColumnWidths {
		s.table.SetColumnWidth(i, wd)
	}
	s.table.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(s.entries) {
			s.showEntry(s.entries[id.Row])
		}
	}
	s.detail = widget.NewLabel(lang.L("audit.pick"))
	s.detail.Wrapping = fyne.TextWrapWord
	s.detail.Selectable = true // hashes are copied into reports

	s.verify = widget.NewButtonWithIcon(lang.L("audit.verify"), theme.ConfirmIcon(), s.runVerify)
	s.verify.Importance = widget.HighImportance
	s.verdict = widget.NewLabel(lang.L("audit.verify_help"))
	s.verdict.Wrapping = fyne.TextWrapWord
	s.verdict.Selectable = true // the head hash goes into the trial report
	s.plist = widget.NewList(
		func() int { return len(s.problems) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Importance = widget.DangerImportance
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			o.(*widget.Label).SetText(s.problemText(s.problems[i]))
		})
	s.plist.OnSelected = func(i widget.ListItemID) {
		if i < len(s.problems) {
			s.reveal(s.problems[i].Seq)
		}
	}

	tools := container.NewHBox(boldLabel(lang.L("audit.title")), s.verify)
	for _, b := range s.exportButtons() {
		tools.Add(b)
	}
	// The dates as wide as their placeholders, leaving the subject's room.
	filters := container.NewBorder(nil, nil,
		container.NewHBox(s.action,
			container.NewGridWrap(fyne.NewSize(156, s.from.MinSize().Height), s.from),
			widget.NewLabel(lang.L("audit.range_sep")),
			container.NewGridWrap(fyne.NewSize(156, s.until.MinSize().Height), s.until)),
		container.NewHBox(s.apply, s.count), s.subject)
	top := container.NewVBox(tools, filters, s.filtErr)
	bottom := container.NewBorder(container.NewVBox(s.verdict), nil, nil, nil,
		container.NewHSplit(container.NewVScroll(s.detail), s.plist))
	split := container.NewVSplit(container.NewBorder(top, nil, nil, nil, s.table), bottom)
	split.Offset = 0.7
	s.content = split
	s.load()
	return s
}

// deniedPage stands in for a page the account's role may not use (the
// navigation should not offer it; this is the second line).
func deniedPage(title string) fyne.CanvasObject {
	l := widget.NewLabel(lang.L("staff.denied_page"))
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	return container.NewVBox(boldLabel(title), l)
}

func (s *auditScreen) cellText(e audit.Entry, col int) string {
	switch col {
	case 0:
		return fmt.Sprint(e.Seq)
	case 1:
		return e.At.In(s.deps.Zone).Format("2006-01-02 15:04:05")
	case 2:
		return e.Actor
	case 3:
		return audit.ActionLabel(e.Action, s.deps.Lang)
	case 4:
		return e.Subject
	case 5:
		return e.Detail
	}
	return ""
}

// filter reads the filter fields; the until date is inclusive.
func (s *auditScreen) filter() (audit.Filter, error) {
	var f audit.Filter
	if i := s.action.SelectedIndex(); i > 0 {
		f.Action = auditActions[i-1]
	}
	f.Subject = strings.TrimSpace(s.subject.Text)
	var bad []string
	day := func(e *widget.Entry, field string) time.Time {
		v := strings.TrimSpace(e.Text)
		if v == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation("2006-01-02", v, s.deps.Zone)
		if err != nil {
			bad = append(bad, lang.L(field)+": "+lang.L("reason.date", map[string]any{"A": v}))
		}
		return t
	}
	f.From = day(s.from, "audit.from")
	if u := day(s.until, "audit.until"); !u.IsZero() {
		f.Until = u.AddDate(0, 0, 1)
	}
	if len(bad) == 0 && !f.From.IsZero() && !f.Until.IsZero() && !f.Until.After(f.From) {
		bad = append(bad, lang.L("audit.until")+": "+lang.L("audit.until_before_from"))
	}
	if len(bad) > 0 {
		return f, fmt.Errorf("%s", strings.Join(bad, "\n"))
	}
	return f, nil
}

func (s *auditScreen) load() {
	if s.count == nil {
		return // still building
	}
	f, err := s.filter()
	if err != nil {
		s.showFilterError(err.Error())
		return
	}
	s.showFilterError("")
	n := s.loads.Add(1)
	Run(context.Background(), func(ctx context.Context) ([]audit.Entry, error) {
		return audit.List(ctx, s.deps.DB, f)
	}, func(es []audit.Entry, err error) {
		if s.loads.Load() != n {
			return // a newer filter is being read
		}
		if err != nil {
			s.showFilterError(lang.L("audit.load_failed", map[string]any{"Err": err.Error()}))
			return
		}
		for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
			es[i], es[j] = es[j], es[i]
		}
		s.entries, s.loaded = es, f
		s.count.SetText(lang.L("audit.count", map[string]any{"N": len(es)}))
		s.table.UnselectAll()
		s.table.Refresh()
		s.table.ScrollToTop()
		s.detail.SetText(lang.L("audit.pick"))
	})
}

// showFilterError shows a problem with the filter under it ("" hides it).
func (s *auditScreen) showFilterError(text string) {
	s.filtErr.SetText(text)
	if text == "" {
		s.filtErr.Hide()
	} else {
		s.filtErr.Show()
	}
}

// showEntry shows one entry in full, its hashes too.
func (s *auditScreen) showEntry(e audit.Entry) {
	s.detail.SetText(lang.L("audit.entry", map[string]any{
		"Seq": e.Seq, "Time": e.At.In(s.deps.Zone).Format("2006-01-02 15:04:05 MST"),
		"Actor": e.Actor, "Action": audit.ActionLabel(e.Action, s.deps.Lang), "Code": e.Action,
		"Subject": e.Subject, "Detail": e.Detail, "Prev": e.PrevHash, "Hash": e.Hash,
	}))
}

// reveal selects entry seq in the table when it is shown.
func (s *auditScreen) reveal(seq int64) {
	for i, e := range s.entries {
		if e.Seq == seq {
			id := widget.TableCellID{Row: i, Col: 0}
			s.table.ScrollTo(id)
			s.table.Select(id)
			return
		}
	}
}

// runVerify walks the whole chain on a worker.
func (s *auditScreen) runVerify() {
	s.verify.Disable()
	s.problems = nil
	s.plist.Refresh()
	s.verdict.Importance = widget.MediumImportance
	s.verdict.SetText(lang.L("audit.verifying"))
	Run(context.Background(), func(ctx context.Context) (audit.Report, error) {
		return audit.Verify(ctx, s.deps.DB)
	}, s.verified)
}

func (s *auditScreen) verified(r audit.Report, err error) {
	s.verify.Enable()
	switch {
	case err != nil:
		s.verdict.Importance = widget.DangerImportance
		s.verdict.SetText(lang.L("audit.verify_failed", map[string]any{"Err": err.Error()}))
	case r.OK():
		s.verdict.Importance = widget.SuccessImportance
		s.verdict.SetText(lang.L("audit.verify_ok", map[string]any{"N": r.Entries, "Seq": r.HeadSeq, "Hash": r.HeadHash}))
	default:
		s.verdict.Importance = widget.DangerImportance
		s.verdict.SetText(lang.L("audit.verify_broken", map[string]any{"N": len(r.Problems), "Entries": r.Entries, "Seq": r.HeadSeq}))
	}
	s.problems = r.Problems
	s.plist.Refresh()
}

var missingRange = regexp.MustCompile(`^entries (\d+)–(\d+) `)

// problemText is one break of the chain in the UI language, by its kind.
func (s *auditScreen) problemText(p audit.Problem) string {
	data := map[string]any{"Seq": p.Seq}
	switch p.Kind {
	case "missing":
		if m := missingRange.FindStringSubmatch(p.Msg); m != nil {
			data["From"], data["To"] = m[1], m[2]
			if m[1] == m[2] {
				return lang.L("audit.problem_missing_one", data)
			}
			return lang.L("audit.problem_missing", data)
		}
	case "edited", "chain", "head":
		return lang.L("audit.problem_"+p.Kind, data)
	}
	return lang.L("audit.problem_other", map[string]any{"Seq": p.Seq, "Msg": p.Msg})
}

// exportButtons write the entries the filter selects to Excel or CSV.
func (s *auditScreen) exportButtons() []fyne.CanvasObject {
	return []fyne.CanvasObject{
		widget.NewButtonWithIcon(lang.L("audit.export_xlsx"), theme.DocumentSaveIcon(), func() { s.saveDialog("xlsx") }),
		widget.NewButtonWithIcon(lang.L("audit.export_csv"), theme.DocumentSaveIcon(), func() { s.saveDialog("csv") }),
	}
}

func (s *auditScreen) saveDialog(format string) {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil {
			ShowError(s.w, err)
			return
		}
		if wc == nil {
			return // cancelled
		}
		path := wc.URI().Path()
		wc.Close()
		s.export(format, path)
	}, s.w)
	d.SetFileName("audit-" + s.deps.Now().In(s.deps.Zone).Format("20060102-1504") + "." + format)
	d.SetFilter(storage.NewExtensionFileFilter([]string{"." + format}))
	d.Resize(fyne.NewSize(900, 600))
	d.Show()
}

// export writes the entries the filter shown selected (the same rows as
// the table) to path, behind a progress dialog with Cancel; a failed or
// cancelled export leaves no file. The export records itself in the log.
func (s *auditScreen) export(format, path string) {
	o := audit.ExportOptions{Filter: s.loaded, By: s.deps.Session.Account.Login, Location: s.deps.Zone}
	var res audit.ExportResult
	RunWithProgress(s.w, lang.L("audit.exporting"), func(ctx context.Context, _ Progress) error {
		ctx = s.deps.Session.Context(ctx)
		return exportTo(ctx, path, func(w io.Writer) error {
			var err error
			if format == "csv" {
				res, err = audit.ExportCSV(ctx, s.deps.DB, w, o)
			} else {
				res, err = audit.ExportXLSX(ctx, s.deps.DB, w, o)
			}
			return err
		})
	}, func(err error) { s.exported(path, res, err) })
}

func (s *auditScreen) exported(path string, res audit.ExportResult, err error) {
	s.load() // the export is a new entry
	if err != nil {
		ShowError(s.w, err)
		return
	}
	chain := lang.L("audit.export_chain_ok")
	if !res.Chain.OK() {
		chain = lang.L("audit.export_chain_broken", map[string]any{"N": len(res.Chain.Problems)})
	}
	dialog.ShowInformation(lang.L("audit.export_title"), lang.L("audit.exported", map[string]any{
		"N": res.Entries, "Path": path, "Chain": chain, "Hash": res.Chain.HeadHash}), s.w)
}
