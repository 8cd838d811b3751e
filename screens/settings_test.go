package screens

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"jpkipilot/trial"
	"jpkipilot/trial/store"
)

func newSettings(t *testing.T, svc *trial.Service) (*settingsScreen, fyne.Window) {
	t.Helper()
	w := newWindow(t)
	s := newSettingsScreen(w, SettingsDeps{
		Service: svc, Prefs: fyne.CurrentApp().Preferences(), Test: store.Test,
		Readers: fixedReaders{readers: []ReaderInfo{{Name: "Virtual PCD 00 00"}}}, CurrentStore: "sqlite /tmp/test.db",
	})
	show(w, s.content)
	return s, w
}

func TestSettingsConnectionTest(t *testing.T) {
	s, w := newSettings(t, newService(t))
	test.AssertRendersToMarkup(t, "settings.xml", w.Canvas())

	// A path with no database yet is reported, not created.
	good := filepath.Join(t.TempDir(), "other.db")
	s.dsn.SetText(good)
	test.Tap(s.testBtn)
	waitIdle()
	if !strings.Contains(s.result.Text, good+" にはまだデータベースがありません") {
		t.Errorf("test of a missing SQLite file: %q", s.result.Text)
	}
	if _, err := os.Stat(good); err == nil {
		t.Fatal("the connection test created the SQLite file")
	}

	db, err := store.Open(context.Background(), good)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	test.Tap(s.testBtn)
	waitIdle()
	if !strings.HasPrefix(s.result.Text, "接続できました: sqlite "+good+" (schema version ") {
		t.Errorf("test of a SQLite file: %q", s.result.Text)
	}
	if s.testBtn.Disabled() {
		t.Error("the test button stays disabled")
	}

	// Nothing listens on port 1: the test must fail and say why.
	s.dsn.SetText("postgres://jpkipilot@127.0.0.1:1/jpkipilot?connect_timeout=5")
	test.Tap(s.testBtn)
	waitIdle()
	if !strings.HasPrefix(s.result.Text, "接続できません: ") || !strings.Contains(s.result.Text, "127.0.0.1") {
		t.Errorf("test of an unreachable PostgreSQL: %q", s.result.Text)
	}
}

func TestSettingsSaveLanguageReaderAndStore(t *testing.T) {
	svc := newService(t)
	s, _ := newSettings(t, svc)
	if s.language.Selected != "日本語" {
		t.Errorf("language shown = %q, want the default 日本語", s.language.Selected)
	}
	if len(s.readers) != 1 || s.readers[0] != "Virtual PCD 00 00" {
		t.Errorf("reader options = %v", s.readers)
	}
	s.language.SetSelected(languageName("en"))
	s.reader.SetText("Virtual PCD 00 01")
	s.dsn.SetText("/srv/trial.db")
	s.save()
	waitIdle()
	ctx := context.Background()
	if v, _ := svc.GetSetting(ctx, trial.SettingLanguage); v != "en" {
		t.Errorf("saved language = %q", v)
	}
	if v, _ := svc.GetSetting(ctx, trial.SettingDefaultReader); v != "Virtual PCD 00 01" {
		t.Errorf("saved reader = %q", v)
	}
	if v := fyne.CurrentApp().Preferences().String(PrefStoreDSN); v != "/srv/trial.db" {
		t.Errorf("saved store = %q", v)
	}
}

// The inactivity lock's minutes: shown (default 10), saved, and refused
// out of range without saving anything.
func TestSettingsLockMinutes(t *testing.T) {
	svc := newService(t)
	s, _ := newSettings(t, svc)
	if s.lockMins.Text != "10" {
		t.Errorf("lock minutes shown = %q, want the default 10", s.lockMins.Text)
	}
	ctx := context.Background()
	s.lockMins.SetText("25")
	s.save()
	waitIdle()
	if v, _ := svc.GetSetting(ctx, SettingLockMinutes); v != "25" || LockTimeout(v) != 25*time.Minute {
		t.Errorf("saved lock minutes = %q", v)
	}
	for _, bad := range []string{"-1", "abc", "1441", ""} {
		s.lockMins.SetText(bad)
		s.save()
		waitIdle()
		if v, _ := svc.GetSetting(ctx, SettingLockMinutes); v != "25" {
			t.Errorf("after %q the setting is %q", bad, v)
		}
	}
}
