package screens

import (
	"context"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func TestFirstRunOffersTheDemoData(t *testing.T) {
	svc := newService(t)
	w := newWindow(t)
	loaded := false
	OfferDemo(w, svc, func() { loaded = true })
	waitIdle()
	test.AssertRendersToMarkup(t, "firstrun.xml", w.Canvas())
	test.Tap(findButton(t, w.Canvas(), "デモデータを読み込む"))
	waitIdle()
	if !loaded {
		t.Fatal("onLoaded was not called")
	}
	ts, err := svc.ListTrials(context.Background())
	if err != nil || len(ts) != 3 {
		t.Fatalf("after loading the demo: %d trials, %v", len(ts), err)
	}

	// With trials in the store it asks nothing.
	w2 := test.NewTempWindow(t, widget.NewLabel(""))
	OfferDemo(w2, svc, nil)
	waitIdle()
	if n := len(w2.Canvas().Overlays().List()); n != 0 {
		t.Fatalf("%d dialogs shown on a store that has trials", n)
	}
}

func TestFirstRunStartEmpty(t *testing.T) {
	svc := newService(t)
	w := newWindow(t)
	OfferDemo(w, svc, func() { t.Error("onLoaded called after Start empty") })
	waitIdle()
	test.Tap(findButton(t, w.Canvas(), "空で始める"))
	waitIdle()
	if ts, _ := svc.ListTrials(context.Background()); len(ts) != 0 {
		t.Fatalf("Start empty left %d trials", len(ts))
	}
}
