package screens

import (
	"context"
	"fmt"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/survey"
	"jpkipilot/trial"
	"jpkipilot/trial/bank"
	"jpkipilot/trial/provision"
	"jpkipilot/trial/staff"
	"jpkipilot/trial/store"
	"jpkipilot/trial/ticket"
)

// Every page of the main window, on the demo data, fits a 1280×800 window
// beside the navigation and under the session bar, in both languages. A
// wider page makes Fyne grow the window past the screen: the session
// bar's log-out button and the page's right edge are then off it.
func TestPagesFitTheWindow(t *testing.T) {
	for _, language := range Languages {
		t.Run(language, func(t *testing.T) {
			w := newWindow(t)
			if err := LoadTranslations(language); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { LoadTranslations("ja") })
			svc := seeded(t)
			db := svc.DB
			ctx := context.Background()
			sv := survey.New(db)
			if _, err := sv.AddBundled(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := survey.SeedDemo(ctx, db); err != nil {
				t.Fatal(err)
			}
			st := staff.New(db)
			st.KDF = staff.TestKDF
			sess, err := st.CreateFirst(ctx, "coord", "佐藤 花子", testPassword)
			if err != nil {
				t.Fatal(err)
			}
			virt := NewVirtualReaders(virtualName)
			readers := JoinReaders(fixedReaders{}, virt)
			loans := trial.NewLoans(db)
			page := func(id PageID, key string, make func() fyne.CanvasObject) Page {
				return Page{ID: id, Title: lang.L(key), Icon: theme.HomeIcon(), Make: make}
			}
			// As app/gui.go builds them.
			pages := []Page{
				page(PageDashboard, "nav.dashboard", func() fyne.CanvasObject { return NewDashboard(w, svc) }),
				page(PageTrials, "nav.trials", func() fyne.CanvasObject { return NewTrials(w, svc) }),
				page(PageMonitors, "nav.monitors", func() fyne.CanvasObject { return NewMonitors(w, svc) }),
				page(PageImport, "nav.import", func() fyne.CanvasObject { return NewImport(w, svc) }),
				page(PageReaders, "nav.readers", func() fyne.CanvasObject {
					return NewReaders(w, ReadersDeps{Source: readers, Virtual: virt, Monitors: svc})
				}),
				page(PageTickets, "nav.tickets", func() fyne.CanvasObject {
					return NewTickets(w, TicketsDeps{Desk: ticket.NewService(db, nil), Readers: readers})
				}),
				page(PageDevices, "nav.devices", func() fyne.CanvasObject { return NewDevices(w, loans) }),
				page(PageLoans, "nav.loans", func() fyne.CanvasObject {
					return NewLoans(w, LoansDeps{Loans: loans, Monitors: svc, Trials: svc})
				}),
				page(PageProvision, "nav.provision", func() fyne.CanvasObject {
					return NewProvision(w, ProvisionDeps{Desk: provision.NewDesk(db), Readers: readers, Staff: "coord"})
				}),
				page(PageBank, "nav.bank", func() fyne.CanvasObject {
					return NewBank(w, BankDeps{Bank: bank.New(db), Monitors: svc, Trials: svc, Readers: readers, Staff: "coord"})
				}),
				page(PageResults, "nav.results", func() fyne.CanvasObject {
					return NewResults(w, ResultsDeps{Trials: svc, Survey: sv, Lang: language, ExportedBy: "coord"})
				}),
				page(PageTranscribe, "nav.transcribe", func() fyne.CanvasObject {
					return NewTranscribe(w, TranscribeDeps{Trials: svc, Survey: sv, Lang: language})
				}),
				page(PageForms, "nav.forms", func() fyne.CanvasObject { return NewForms(w, sv) }),
				page(PageStaff, "nav.staff", func() fyne.CanvasObject { return NewStaff(w, StaffDeps{Service: st, Session: sess}) }),
				page(PageAudit, "nav.audit", func() fyne.CanvasObject { return NewAudit(w, AuditDeps{DB: db, Session: sess, Lang: language}) }),
				page(PageSettings, "nav.settings", func() fyne.CanvasObject {
					return NewSettings(w, SettingsDeps{Service: svc, Prefs: fyne.CurrentApp().Preferences(),
						Test: store.Test, Readers: readers, CurrentStore: "sqlite /home/staff/.local/share/jpkipilot/jpkipilot.db"})
				}),
			}
			if len(pages) != len(Access) {
				t.Fatalf("%d pages here, %d in the access table: add the new page", len(pages), len(Access))
			}
			// The shell shows each page once its loading is done: a page
			// still loading draws on a worker goroutine under the test
			// driver, which must not race the layout here.
			var current fyne.CanvasObject = widget.NewLabel("")
			nav := make([]Page, len(pages))
			for i := range pages {
				nav[i] = pages[i]
				nav[i].Make = func() fyne.CanvasObject { return current }
			}
			shell := NewShell(nav)
			bar := SessionBar(w, StaffDeps{Service: st, Session: sess}, func() {})
			window := fyne.NewSize(1280, 800)
			for i, p := range pages {
				current = p.Make()
				waitIdle() // the page's data is in: its widest rows count
				shell.Select(i)
				shell.Reload()
				content := container.NewBorder(bar, nil, nil, nil, shell.Object())
				if min := content.MinSize(); min.Width > window.Width || min.Height > window.Height {
					t.Errorf("page %s needs %.0f×%.0f, more than the %.0f×%.0f window", p.ID, min.Width, min.Height, window.Width, window.Height)
				}
				w.SetContent(content)
				w.Resize(window)
				for _, spill := range spilledCells(content) {
					t.Errorf("page %s: %s", p.ID, spill)
				}
				for _, clip := range clippedPlaceholders(content) {
					t.Errorf("page %s: %s", p.ID, clip)
				}
			}
		})
	}
}

// spilledCells describes the labels in table rows (the columns layout)
// whose text is wider than their column, so it runs into the next one.
func spilledCells(o fyne.CanvasObject) []string {
	var out []string
	walk(o, func(o fyne.CanvasObject) {
		row, ok := o.(*fyne.Container)
		if !ok || !row.Visible() {
			return
		}
		if _, ok := row.Layout.(columns); !ok {
			return
		}
		for _, cell := range row.Objects {
			l, ok := cell.(*widget.Label)
			if !ok || !l.Visible() || l.Wrapping != fyne.TextWrapOff || l.Truncation != fyne.TextTruncateOff {
				continue
			}
			if need, got := l.MinSize().Width, l.Size().Width; need > got+1 {
				out = append(out, fmt.Sprintf("%q needs %.0f wide, its column gives %.0f", l.Text, need, got))
			}
		}
	})
	return out
}

// Japanese running text fills its lines: Fyne's word wrap would end them
// early at the spaces around Latin words ("試行 CA があれば") and leave
// short ragged lines.
func TestJapaneseRunningTextFillsItsLines(t *testing.T) {
	w, _, _ := readersFor(t, fixedReaders{})
	var help *widget.Label
	walk(w.Canvas().Content(), func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && l.Text == lang.L("readers.virtual_help") {
			help = l
		}
	})
	if help == nil {
		t.Fatal("no virtual card help on the readers page")
	}
	var lines []float32
	walk(help, func(o fyne.CanvasObject) {
		if txt, ok := o.(*canvas.Text); ok && txt.Text != "" {
			lines = append(lines, txt.Size().Width)
		}
	})
	if len(lines) < 3 {
		t.Fatalf("the help wraps to %d lines at %v: the test needs more", len(lines), help.Size())
	}
	full := help.Size().Width - 2*theme.InnerPadding()
	for i, width := range lines[:len(lines)-1] {
		if width < 0.9*full {
			t.Errorf("line %d of %d is %.0f wide, the label %.0f", i+1, len(lines), width, full)
		}
	}
}
