package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/device/vcard"
	"jpkipilot/screens"
	"jpkipilot/survey"
	"jpkipilot/trial"
	"jpkipilot/trial/audit"
	"jpkipilot/trial/bank"
	"jpkipilot/trial/pii"
	"jpkipilot/trial/provision"
	"jpkipilot/trial/staff"
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
	virt := screens.NewVirtualReaders(lang.L("readers.virtual_reader_name"))
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	g := &gui{app: a, w: w, svc: svc, db: db, virt: virt, staff: staff.New(db),
		readers: screens.JoinReaders(newPCSCReaders(watchCtx), virt),
		probe:   os.Getenv("JPKIPILOT_EXIT_AFTER_FIRST_FRAME") == "1"}
	g.kiosk, g.lang, g.event = opts.Kiosk, language, opts.Event
	// Virtual cards come from the trial CA, so gate and bank accept them;
	// the CA's audit entries (issue, key use) name the logged-in account.
	issuer := screens.NewTrialIssuer(db, screens.AskCAPassphrase(w))
	virt.SetIssuer(func(ctx context.Context, p vcard.Profile, holder string) (vcard.Config, error) {
		if who, _ := g.actor.Load().(string); who != "" {
			ctx = audit.WithActor(ctx, who)
		}
		return issuer.Issue(ctx, p, holder)
	})

	pending, err := db.Pending(ctx)
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		g.showLogin()
	} else {
		g.setContent(container.NewCenter(widget.NewLabel(lang.L("app.migrating"))))
		a.Lifecycle().SetOnStarted(g.migrate)
	}
	stop := context.AfterFunc(ctx, func() { fyne.Do(a.Quit) }) // Ctrl-C in the terminal
	defer stop()
	w.ShowAndRun()
	// The window is closed: this run's virtual cards are gone with it, so
	// the next run on the store revokes their certificates at once.
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := issuer.End(endCtx); err != nil {
		fmt.Fprintln(os.Stderr, "jpkipilot:", err)
	}
	return nil
}

type gui struct {
	app     fyne.App
	w       fyne.Window
	db      *store.DB
	readers screens.ReaderSource
	virt    *screens.VirtualReaders
	actor   atomic.Value // the logged-in login, for work on other goroutines
	staff   *staff.Service
	probe   bool   // JPKIPILOT_EXIT_AFTER_FIRST_FRAME=1: exit after the first frame
	kiosk   string // --kiosk mode, "" for the main window
	lang    string // UI language, "ja" or "en"
	event   string // --event for the gate kiosk

	// The session's: replaced at each login and logout (UI goroutine), so
	// a worker still running for the previous session keeps the services
	// it started with and nothing is written under a running worker.
	sess  *staff.Session
	svc   *trial.Service // with the session's data key and actor
	loans *trial.Loans
	lock  *screens.SessionLock
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
			g.showLogin()
		case errors.Is(err, context.Canceled):
			g.setContent(container.NewCenter(widget.NewLabel(lang.L("app.migration_cancelled"))))
		default:
			msg := widget.NewLabel(lang.L("app.migration_failed", map[string]any{"Where": g.db.Where, "Err": err.Error()}))
			msg.Wrapping = fyne.TextWrapWord
			g.setContent(container.NewPadded(msg))
		}
	})
}

// showLogin shows the login form (or, on a store without accounts, the
// form that creates the first coordinator). No session: the services hold
// no data key.
func (g *gui) showLogin() {
	g.setSession(nil)
	g.w.SetCloseIntercept(nil)
	l := screens.NewLogin(g.w, screens.LoginDeps{Staff: g.staff, OnLogin: g.startSession})
	g.setContent(l.Object())
}

// setSession gives the services the session's data key and actor (nil:
// logged out, no key).
func (g *gui) setSession(sess *staff.Session) {
	if g.lock != nil {
		g.lock.Stop()
		g.lock = nil
	}
	if g.svc != nil && sess != g.sess {
		// Logout or another user: the outgoing session's data key (the
		// services hold it; keyRotated keeps them current) is wiped, and a
		// worker still running for it gets pii.ErrLocked.
		g.svc.PII.Suspend()
	}
	g.sess = sess
	g.actor.Store("")
	if sess != nil {
		g.actor.Store(sess.Account.Login)
	}
	g.svc, g.loans = trial.New(g.db), trial.NewLoans(g.db)
	if sess != nil {
		g.svc.PII, g.svc.Actor = sess.Key, sess.Account.Login
		g.loans.PII, g.loans.Actor = sess.Key, sess.Account.Login
	}
}

// startSession runs after a login: the kiosk of --kiosk (for an account
// that may start one), else the main window.
func (g *gui) startSession(sess *staff.Session, _ bool) {
	if g.kiosk != "" && !screens.MayDo(sess, screens.ActKiosk) {
		msg := widget.NewLabel(lang.L("login.kiosk_denied", map[string]any{"Role": screens.RoleLabel(sess.Account.Role)}))
		msg.Wrapping = fyne.TextWrapWord
		back := widget.NewButtonWithIcon(lang.L("login.logout"), theme.LogoutIcon(), g.showLogin)
		g.setContent(container.NewPadded(container.NewVBox(msg, back)))
		return
	}
	g.setSession(sess)
	g.showMain()
}

// showMain puts the session's pages into the window (or the kiosk).
func (g *gui) showMain() {
	if g.kiosk == "survey" {
		g.showKiosk()
		return
	}
	if g.kiosk == "gate" {
		g.showGate()
		return
	}
	sess := g.sess
	shell := screens.NewShell(screens.ForSession(sess, g.pages()))
	bar := screens.SessionBar(g.w, screens.StaffDeps{Service: g.staff, Session: sess}, g.showLogin)
	g.lock = g.newLock(sess)
	g.setContent(g.lock.Watch(container.NewBorder(bar, nil, nil, nil, shell.Object())))
	g.startLockTimer(g.lock)
	// Right after the first coordinator was made the store has no trial:
	// this is the first-run page's demo data offer.
	if !g.probe && screens.MayDo(sess, screens.ActDemoOffer) {
		screens.OfferDemo(g.w, demoSeeder{g.svc, g.db}, shell.Reload)
	}
}

// newLock is the inactivity lock of the session's main window. It
// suspends the key the services hold while the window is locked.
func (g *gui) newLock(sess *staff.Session) *screens.SessionLock {
	svc := g.svc
	return screens.NewSessionLock(g.w, screens.LockDeps{
		Staff: g.staff, Account: sess.Account,
		// Set on the UI goroutine (setSession, keyRotated): after a
		// rotation, the new key.
		Key: func() *pii.Key { return svc.PII },
		// The pages keep their session: the lock resumed its key.
		OnUnlock: func(*staff.Session) {},
		// Rotated on another laptop while locked: the pages start over.
		OnKeyChanged: func(s *staff.Session) { g.startSession(s, false) },
		OnSwitchUser: g.showLogin,
	})
}

// startLockTimer reads the inactivity timeout from the settings (off the
// UI goroutine) and starts the lock's clock.
func (g *gui) startLockTimer(l *screens.SessionLock) {
	svc := g.svc
	screens.Run(context.Background(), func(ctx context.Context) (time.Duration, error) {
		v, err := svc.GetSetting(ctx, screens.SettingLockMinutes)
		return screens.LockTimeout(v), err
	}, func(d time.Duration, err error) {
		if g.lock != l {
			return // logged out meanwhile
		}
		if err != nil {
			d = screens.LockTimeout("") // the default: a settings error must not leave it unlocked
		}
		l.SetTimeout(d)
		l.Start()
	})
}

// keyRotated runs on the UI goroutine after the staff page rotated the
// data key, which replaced sess.Key: the services take the new key, the old
// one is wiped (a worker still using it gets pii.ErrLocked, as it would
// have got pii.ErrTampered from the resealed rows), and a rotation that
// ended while the window was locked, or after its session ended, leaves
// the new key suspended.
func (g *gui) keyRotated(sess *staff.Session) {
	if sess != g.sess {
		sess.Key.Suspend() // logged out while the rotation ran
		return
	}
	old := g.svc.PII
	g.svc.PII, g.loans.PII = sess.Key, sess.Key
	if old != sess.Key {
		old.Suspend()
	}
	if g.lock != nil && g.lock.Locked() {
		sess.Key.Suspend()
	}
}

// pages is every page of the main window; screens.ForSession keeps the
// ones the session may see (the access table in screens/access.go).
func (g *gui) pages() []screens.Page {
	w, svc, sess := g.w, g.svc, g.sess
	who := sess.Account.Login
	// Station pages list monitors by id only unless the role may see the
	// monitor list; the lending desk then opens no names either.
	monitors, loans := screens.MonitorsFor(sess, svc), g.loans
	if !sess.May(staff.ListMonitors) {
		loans = trial.NewLoans(g.db)
		loans.Actor = who
	}
	trials := screens.TrialService(svc)
	if !sess.May(staff.ManageTrials) {
		trials = screens.ReadOnlyTrials{TrialService: svc, Session: sess}
	}
	return []screens.Page{
		{ID: screens.PageDashboard, Title: lang.L("nav.dashboard"), Icon: theme.HomeIcon(), Make: func() fyne.CanvasObject { return screens.NewDashboard(w, svc) }},
		{ID: screens.PageTrials, Title: lang.L("nav.trials"), Icon: theme.CalendarIcon(), Make: func() fyne.CanvasObject { return screens.NewTrials(w, trials) }},
		{ID: screens.PageMonitors, Title: lang.L("nav.monitors"), Icon: theme.AccountIcon(), Make: func() fyne.CanvasObject { return screens.NewMonitors(w, svc) }},
		{ID: screens.PageImport, Title: lang.L("nav.import"), Icon: theme.UploadIcon(), Make: func() fyne.CanvasObject { return screens.NewImport(w, svc) }},
		{ID: screens.PageReaders, Title: lang.L("nav.readers"), Icon: theme.ComputerIcon(), Make: func() fyne.CanvasObject {
			return screens.NewReaders(w, screens.ReadersDeps{Source: g.readers, Virtual: g.virt, Monitors: monitors})
		}},
		{ID: screens.PageTickets, Title: lang.L("nav.tickets"), Icon: theme.ConfirmIcon(), Make: func() fyne.CanvasObject {
			return screens.NewTickets(w, screens.TicketsDeps{Desk: ticket.NewService(g.db, nil), Readers: g.readers})
		}},
		{ID: screens.PageDevices, Title: lang.L("nav.devices"), Icon: theme.StorageIcon(), Make: func() fyne.CanvasObject { return screens.NewDevices(w, g.loans) }},
		{ID: screens.PageLoans, Title: lang.L("nav.loans"), Icon: theme.MailSendIcon(), Make: func() fyne.CanvasObject {
			return screens.NewLoans(w, screens.LoansDeps{Loans: loans, Monitors: monitors, Trials: svc})
		}},
		{ID: screens.PageProvision, Title: lang.L("nav.provision"), Icon: theme.LoginIcon(), Make: func() fyne.CanvasObject {
			return screens.NewProvision(w, screens.ProvisionDeps{Desk: provision.NewDesk(g.db), Readers: g.readers, Staff: who})
		}},
		{ID: screens.PageBank, Title: lang.L("nav.bank"), Icon: theme.AccountIcon(), Make: func() fyne.CanvasObject {
			return screens.NewBank(w, screens.BankDeps{Bank: bank.New(g.db), Monitors: monitors, Trials: svc, Readers: g.readers, Staff: who})
		}},
		{ID: screens.PageResults, Title: lang.L("nav.results"), Icon: theme.DocumentIcon(), Make: func() fyne.CanvasObject {
			return screens.NewResults(w, screens.ResultsDeps{Trials: svc, Survey: g.survey(), Lang: g.lang, ExportedBy: who,
				PII: func() *pii.Key { return g.sess.Key },
				Record: func(ctx context.Context, detail string) error {
					return audit.RecordNow(sess.Context(ctx), g.db, audit.Export, "survey", detail)
				}})
		}},
		{ID: screens.PageTranscribe, Title: lang.L("nav.transcribe"), Icon: theme.DocumentCreateIcon(), Make: func() fyne.CanvasObject {
			return screens.NewTranscribe(w, screens.TranscribeDeps{Trials: svc, Survey: g.survey(), Lang: g.lang})
		}},
		{ID: screens.PageForms, Title: lang.L("nav.forms"), Icon: theme.ListIcon(), Make: func() fyne.CanvasObject { return screens.NewForms(w, g.survey()) }},
		{ID: screens.PageStaff, Title: lang.L("nav.staff"), Icon: theme.AccountIcon(), Make: func() fyne.CanvasObject {
			return screens.NewStaff(w, screens.StaffDeps{Service: g.staff, Session: sess,
				OnKeyRotated: func() { g.keyRotated(sess) }})
		}},
		{ID: screens.PageAudit, Title: lang.L("nav.audit"), Icon: theme.HistoryIcon(), Make: func() fyne.CanvasObject {
			return screens.NewAudit(w, screens.AuditDeps{DB: g.db, Session: sess, Lang: g.lang})
		}},
		{ID: screens.PageSettings, Title: lang.L("nav.settings"), Icon: theme.SettingsIcon(), Make: func() fyne.CanvasObject {
			return screens.NewSettings(w, screens.SettingsDeps{
				Service: svc, Prefs: g.app.Preferences(), Test: store.Test, Readers: g.readers,
				CurrentStore: string(g.db.Dialect) + " " + g.db.Where,
			})
		}},
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

// demoSeeder is the first-run demo offer's service: the session's trial
// service (which seals the demo monitors' names with the data key), with
// seeding that also fills the demo monitors' questionnaire answers, as
// `jpkipilot demo seed` does.
type demoSeeder struct {
	*trial.Service
	db *store.DB
}

func (d demoSeeder) SeedDemo(ctx context.Context) (trial.DemoSummary, error) {
	sum, err := d.Service.SeedDemo(ctx)
	if err != nil {
		return sum, err
	}
	if _, err := survey.SeedDemo(ctx, d.db); err != nil {
		return sum, fmt.Errorf("demo monitors were added but their questionnaire answers were not: %w", err)
	}
	return sum, nil
}
