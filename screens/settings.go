package screens

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial"
	"jpkipilot/trial/store"
)

// PrefStoreDSN is the Fyne preference holding the store this laptop opens
// (a SQLite path or a postgres:// DSN). It cannot live in the store itself.
const PrefStoreDSN = "store.dsn"

// SettingsService reads and writes the settings kept in the store.
type SettingsService interface {
	GetSetting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
}

// StoreTester opens a store and reports what it found without migrating it
// (store.Test).
type StoreTester func(ctx context.Context, dsn string) (string, error)

// SettingsDeps is what the settings screen needs besides the window.
type SettingsDeps struct {
	Service SettingsService
	Prefs   fyne.Preferences // per-laptop: the store location
	Test    StoreTester
	Readers ReaderSource
	// CurrentStore describes the store in use ("sqlite /path", DSN without password).
	CurrentStore string
}

type settingsScreen struct {
	w        fyne.Window
	deps     SettingsDeps
	language *widget.Select
	dsn      *widget.Entry
	result   *widget.Label
	testBtn  *widget.Button
	reader   *widget.SelectEntry
	readers  []string // names offered by the reader entry
	lockMins *widget.Entry
	content  fyne.CanvasObject
}

// NewSettings edits the language, the store location (with a connection
// test) and the default card reader.
func NewSettings(w fyne.Window, deps SettingsDeps) fyne.CanvasObject {
	return newSettingsScreen(w, deps).content
}

func languageName(code string) string { return lang.L("lang." + code) }

func newSettingsScreen(w fyne.Window, deps SettingsDeps) *settingsScreen {
	s := &settingsScreen{w: w, deps: deps}
	names := make([]string, len(Languages))
	for i, l := range Languages {
		names[i] = languageName(l)
	}
	s.language = newSelect(names, nil)
	s.dsn = widget.NewEntry()
	s.dsn.SetPlaceHolder(lang.L("settings.dsn_placeholder"))
	s.dsn.SetText(deps.Prefs.String(PrefStoreDSN))
	s.result = widget.NewLabel("")
	s.result.Wrapping = fyne.TextWrapWord
	s.testBtn = widget.NewButton(lang.L("settings.test"), s.testConnection)
	s.reader = widget.NewSelectEntry(nil)
	s.reader.SetPlaceHolder(lang.L("settings.reader_placeholder"))
	s.lockMins = widget.NewEntry()
	s.lockMins.Validator = validLockMinutes
	lockHint := widget.NewLabel(lang.L("settings.lock_minutes_hint"))
	lockHint.Wrapping = fyne.TextWrapWord

	form := widget.NewForm(
		widget.NewFormItem(lang.L("settings.language"), s.language),
		widget.NewFormItem(lang.L("settings.store"), container.NewBorder(nil, nil, nil, s.testBtn, s.dsn)),
		widget.NewFormItem("", s.result),
		widget.NewFormItem(lang.L("settings.reader"), s.reader),
		widget.NewFormItem(lang.L("settings.reader_model"), newReaderModelSetting(deps.Prefs, func() string { return s.reader.Text })),
		widget.NewFormItem(lang.L("settings.lock_minutes"), container.NewVBox(s.lockMins, lockHint)),
	)
	form.SubmitText = lang.L("settings.save")
	form.OnSubmit = s.save
	current := widget.NewLabel(lang.L("settings.current_store", map[string]any{"Where": deps.CurrentStore}))
	current.Wrapping = fyne.TextWrapWord
	note := widget.NewLabel(lang.L("settings.restart_note"))
	note.Wrapping = fyne.TextWrapWord
	s.content = container.NewVScroll(container.NewVBox(
		widget.NewLabelWithStyle(lang.L("nav.settings"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		current, form, note))
	s.load()
	return s
}

func (s *settingsScreen) load() {
	type loaded struct {
		language, reader, lock string
		readers                []string
	}
	Run(context.Background(), func(ctx context.Context) (loaded, error) {
		var l loaded
		var err error
		if l.language, err = s.deps.Service.GetSetting(ctx, trial.SettingLanguage); err != nil {
			return l, err
		}
		if l.reader, err = s.deps.Service.GetSetting(ctx, trial.SettingDefaultReader); err != nil {
			return l, err
		}
		if l.lock, err = s.deps.Service.GetSetting(ctx, SettingLockMinutes); err != nil {
			return l, err
		}
		if s.deps.Readers != nil {
			// No readers (or no pcscd) is not an error here: the name can be typed.
			rs, _ := s.deps.Readers.Readers(ctx)
			for _, r := range rs {
				l.readers = append(l.readers, r.Name)
			}
		}
		return l, nil
	}, func(l loaded, err error) {
		if err != nil {
			ShowError(s.w, err)
			return
		}
		if l.language == "" {
			l.language = DefaultLanguage
		}
		s.language.SetSelected(languageName(l.language))
		s.readers = l.readers
		s.reader.SetOptions(l.readers)
		s.reader.SetText(l.reader)
		s.lockMins.SetText(strconv.Itoa(int(LockTimeout(l.lock) / time.Minute)))
	})
}

// testConnection runs store.Test off the UI goroutine.
func (s *settingsScreen) testConnection() {
	dsn := strings.TrimSpace(s.dsn.Text)
	if missing := missingSQLiteFile(dsn); missing != "" {
		// store.Test would create it: say so instead of leaving stray files
		// behind a mistyped path.
		s.result.SetText(lang.L("settings.test_no_file", map[string]any{"Path": missing}))
		return
	}
	s.testBtn.Disable()
	s.result.SetText(lang.L("settings.testing"))
	Run(context.Background(), func(ctx context.Context) (string, error) {
		return s.deps.Test(ctx, dsn)
	}, func(found string, err error) {
		s.testBtn.Enable()
		if err != nil {
			s.result.SetText(lang.L("settings.test_failed", map[string]any{"Err": err.Error()}))
			return
		}
		s.result.SetText(lang.L("settings.test_ok", map[string]any{"Found": found}))
	})
}

// missingSQLiteFile returns the path of the SQLite file dsn names when that
// file does not exist yet, else "".
func missingSQLiteFile(dsn string) string {
	if store.IsPostgresDSN(dsn) {
		return ""
	}
	path := dsn
	if path == "" {
		p, err := store.DefaultPath()
		if err != nil {
			return ""
		}
		path = p
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return path
	}
	return ""
}

func (s *settingsScreen) selectedLanguage() string {
	for _, l := range Languages {
		if languageName(l) == s.language.Selected {
			return l
		}
	}
	return DefaultLanguage
}

func (s *settingsScreen) save() {
	language, reader, dsn := s.selectedLanguage(), s.reader.Text, s.dsn.Text
	if err := validLockMinutes(s.lockMins.Text); err != nil {
		ShowError(s.w, err)
		return
	}
	lockMins := strings.TrimSpace(s.lockMins.Text)
	Run(context.Background(), func(ctx context.Context) (struct{}, error) {
		if err := s.deps.Service.SetSetting(ctx, trial.SettingLanguage, language); err != nil {
			return struct{}{}, err
		}
		if err := s.deps.Service.SetSetting(ctx, SettingLockMinutes, lockMins); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, s.deps.Service.SetSetting(ctx, trial.SettingDefaultReader, reader)
	}, func(_ struct{}, err error) {
		if err != nil {
			ShowError(s.w, err)
			return
		}
		s.deps.Prefs.SetString(PrefStoreDSN, dsn)
		dialog.ShowInformation(lang.L("settings.saved_title"), lang.L("settings.saved"), s.w)
	})
}

// validLockMinutes accepts the inactivity lock's minutes: 0 (off) to 1440.
func validLockMinutes(v string) error {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 || n > 24*60 {
		return errors.New(lang.L("settings.lock_minutes_bad"))
	}
	return nil
}
