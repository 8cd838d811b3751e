package screens

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"jpkipilot/trial/store"
)

func TestStoreProblemTestsAndSavesAnotherStore(t *testing.T) {
	w := newWindow(t)
	bad := "postgres://jpkipilot@127.0.0.1:1/jpkipilot?connect_timeout=5"
	_, openErr := store.OpenNoMigrate(context.Background(), bad)
	if openErr == nil {
		t.Fatal("opening a store on port 1 succeeded")
	}
	quit := false
	p := newStoreProblem(openErr, bad, false, fyne.CurrentApp().Preferences(), store.Test, func() { quit = true })
	w.SetContent(p.content)

	good := filepath.Join(t.TempDir(), "trial.db")
	db, err := store.Open(context.Background(), good)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	p.dsn.SetText(good)
	test.Tap(p.testBtn)
	waitIdle()
	if !strings.HasPrefix(p.result.Text, "接続できました: sqlite "+good) {
		t.Fatalf("test result %q", p.result.Text)
	}
	test.Tap(p.save)
	if got := fyne.CurrentApp().Preferences().String(PrefStoreDSN); got != good || !quit {
		t.Fatalf("saved %q, quit %v", got, quit)
	}
}

func TestStoreProblemSaysWhenTheFlagOverrides(t *testing.T) {
	w := newWindow(t)
	p := newStoreProblem(errors.New("store: open /nope: permission denied"), "/nope/x.db", true,
		fyne.CurrentApp().Preferences(), store.Test, nil)
	w.SetContent(p.content)
	test.AssertRendersToMarkup(t, "store_problem.xml", w.Canvas())
}
