package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/app/cli"
	"jpkipilot/screens"
	"jpkipilot/trial"
	"jpkipilot/trial/bank"
	"jpkipilot/trial/provision"
	"jpkipilot/trial/store"
	"jpkipilot/trial/ticket"
)

// AppID is the Fyne application id (preferences live under it).
const AppID = "jp.jpkipilot.app"

// runGUI opens the store and shows the main window (or a kiosk) until it closes.
func runGUI(ctx context.Context, opts Options) error {
	if opts.Kiosk != "" && !kioskModes[opts.Kiosk] {
		return fmt.Errorf("--kiosk %s: kiosk modes are not implemented yet; start jpkipilot without --kiosk", opts.Kiosk)
	}
	a := fyneapp.NewWithID(AppID)
	a.SetIcon(screens.AppIcon)
	a.Settings().SetTheme(screens.NewTheme())

	dsn := opts.DSN
	if dsn == "" {
		dsn = a.Preferences().String(screens.PrefStoreDSN)
	}
	// Opening is quick (a file, or one connection); migrating may not be,
	// so that runs behind a progress dialog once the window is up.
	db, err := store.OpenNoMigrate(ctx, dsn)
	if err != nil {
		return showStoreProblem(a, opts, dsn, err)
	}
	defer db.Close()
	svc := trial.New(db)

	language := opts.Lang
	if language == "" {
		// Before the first migration there is no settings table: use the default.
		language, _ = svc.GetSetting(ctx, trial.SettingLanguage)
	}
	if err := screens.LoadTranslations(language); err != nil {
		return err
	}

	w := a.NewWindow(lang.L("app.title"))
	w.SetMaster()
	w.Resize(fyne.NewSize(1280, 800))
	// One virtual reader for demo stations without hardware, beside the
	// PC/SC readers (watched until the window closes).
	virt := screens.NewVirtualReaders("jpkipilot 仮想リーダー")
	virt.SetIssuer(screens.TrialCardIssuer(db, screens.AskCAPassphrase(w))) // the trial CA's, so gate and bank accept them
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	g := &gui{app: a, w: w, svc: svc, db: db, virt: virt, loans: trial.NewLoans(db),
		readers: screens.JoinReaders(newPCSCReaders(watchCtx), virt),
		probe:   os.Getenv("JPKIPILOT_EXIT_AFTER_FIRST_FRAME") == "1"}
	g.kiosk, g.lang, g.event = opts.Kiosk, language, opts.Event

	pending, err := db.Pending(ctx)
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		g.showMain()
	} else {
		g.setContent(container.NewCenter(widget.NewLabel(lang.L("app.migrating"))))
		a.Lifecycle().SetOnStarted(g.migrate)
	}
	stop := context.AfterFunc(ctx, func() { fyne.Do(a.Quit) }) // Ctrl-C in the terminal
	defer stop()
	w.ShowAndRun()
	return nil
}

type gui struct {
	app     fyne.App
	w       fyne.Window
	svc     *trial.Service
	db      *store.DB
	readers screens.ReaderSource
	virt    *screens.VirtualReaders
	loans   *trial.Loans
	probe   bool   // JPKIPILOT_EXIT_AFTER_FIRST_FRAME=1: exit after the first frame
	kiosk   string // --kiosk mode, "" for the main window
	lang    string // UI language, "ja" or "en"
	event   string // --event for the gate kiosk
}

// setContent shows o in the window (behind the first-frame probe if asked).
func (g *gui) setContent(o fyne.CanvasObject) {
	if g.probe {
		o = firstFrameProbe(o, g.db.Close)
	}
	g.w.SetContent(o)
}

// migrate brings the schema up to date behind a progress dialog. Each
// migration is one transaction: a cancelled or failed run leaves the
// database at the last version that went in whole.
func (g *gui) migrate() {
	screens.RunWithProgress(g.w, lang.L("app.migrating"), func(ctx context.Context, progress screens.Progress) error {
		return g.db.Migrate(ctx, progress)
	}, func(err error) {
		switch {
		case err == nil:
			g.showMain()
		case errors.Is(err, context.Canceled):
			g.setContent(container.NewCenter(widget.NewLabel(lang.L("app.migration_cancelled"))))
		default:
			msg := widget.NewLabel(lang.L("app.migration_failed", map[string]any{"Where": g.db.Where, "Err": err.Error()}))
			msg.Wrapping = fyne.TextWrapWord
			g.setContent(container.NewPadded(msg))
		}
	})
}

// showMain puts the navigation and the pages into the window.
func (g *gui) showMain() {
	if g.kiosk == "survey" {
		g.showKiosk()
		return
	}
	if g.kiosk == "gate" {
		g.showGate()
		return
	}
	w, svc := g.w, g.svc
	shell := screens.NewShell([]screens.Page{
		{Title: lang.L("nav.dashboard"), Icon: theme.HomeIcon(), Make: func() fyne.CanvasObject { return screens.NewDashboard(w, svc) }},
		{Title: lang.L("nav.trials"), Icon: theme.CalendarIcon(), Make: func() fyne.CanvasObject { return screens.NewTrials(w, svc) }},
		{Title: lang.L("nav.monitors"), Icon: theme.AccountIcon(), Make: func() fyne.CanvasObject { return screens.NewMonitors(w, svc) }},
		{Title: lang.L("nav.import"), Icon: theme.UploadIcon(), Make: func() fyne.CanvasObject { return screens.NewImport(w, svc) }},
		{Title: lang.L("nav.readers"), Icon: theme.ComputerIcon(), Make: func() fyne.CanvasObject {
			return screens.NewReaders(w, screens.ReadersDeps{Source: g.readers, Virtual: g.virt, Monitors: svc})
		}},
		{Title: lang.L("nav.tickets"), Icon: theme.ConfirmIcon(), Make: func() fyne.CanvasObject {
			return screens.NewTickets(w, screens.TicketsDeps{Desk: ticket.NewService(g.db, nil), Readers: g.readers})
		}},
		{Title: lang.L("nav.devices"), Icon: theme.StorageIcon(), Make: func() fyne.CanvasObject { return screens.NewDevices(w, g.loans) }},
		{Title: lang.L("nav.loans"), Icon: theme.MailSendIcon(), Make: func() fyne.CanvasObject {
			return screens.NewLoans(w, screens.LoansDeps{Loans: g.loans, Monitors: svc, Trials: svc})
		}},
		{Title: lang.L("nav.provision"), Icon: theme.LoginIcon(), Make: func() fyne.CanvasObject {
			return screens.NewProvision(w, screens.ProvisionDeps{Desk: provision.NewDesk(g.db), Readers: g.readers, Staff: osUser()})
		}},
		{Title: lang.L("nav.bank"), Icon: theme.AccountIcon(), Make: func() fyne.CanvasObject {
			return screens.NewBank(w, screens.BankDeps{Bank: bank.New(g.db), Monitors: svc, Trials: svc, Readers: g.readers, Staff: osUser()})
		}},
		{Title: lang.L("nav.results"), Icon: theme.DocumentIcon(), Make: func() fyne.CanvasObject {
			return screens.NewResults(w, screens.ResultsDeps{Trials: svc, Survey: g.survey(), Lang: g.lang, ExportedBy: osUser()})
		}},
		{Title: lang.L("nav.transcribe"), Icon: theme.DocumentCreateIcon(), Make: func() fyne.CanvasObject {
			return screens.NewTranscribe(w, screens.TranscribeDeps{Trials: svc, Survey: g.survey(), Lang: g.lang})
		}},
		{Title: lang.L("nav.forms"), Icon: theme.ListIcon(), Make: func() fyne.CanvasObject { return screens.NewForms(w, g.survey()) }},
		{Title: lang.L("nav.settings"), Icon: theme.SettingsIcon(), Make: func() fyne.CanvasObject {
			return screens.NewSettings(w, screens.SettingsDeps{
				Service: svc, Prefs: g.app.Preferences(), Test: store.Test, Readers: g.readers,
				CurrentStore: string(g.db.Dialect) + " " + g.db.Where,
			})
		}},
	})
	g.setContent(shell.Object())
	if !g.probe {
		screens.OfferDemo(w, demoSeeder{svc, g.db}, shell.Reload)
	}
}

// showStoreProblem shows why the store did not open and lets the user save
// another one for the next start; the error is also returned (exit 1).
func showStoreProblem(a fyne.App, opts Options, dsn string, openErr error) error {
	if err := screens.LoadTranslations(opts.Lang); err != nil {
		return err
	}
	w := a.NewWindow(lang.L("app.title"))
	w.SetMaster()
	w.Resize(fyne.NewSize(900, 420))
	w.SetContent(screens.NewStoreProblem(w, openErr, dsn, opts.DSN != "", a.Preferences(), store.Test, a.Quit))
	w.ShowAndRun()
	return openErr
}

// processStart is as close to the process start as Go code gets.
var processStart = time.Now()

// demoSeeder is the first-run demo offer's service: the trial service, with
// seeding that also fills the demo monitors' questionnaire answers, as
// `jpkipilot demo seed` does.
type demoSeeder struct {
	*trial.Service
	db *store.DB
}

func (d demoSeeder) SeedDemo(ctx context.Context) (trial.DemoSummary, error) {
	sum, _, err := cli.SeedDemo(ctx, d.db)
	return sum, err
}
