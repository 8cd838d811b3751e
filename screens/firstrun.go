package screens

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial"
)

// DemoService fills an empty store with the seed's demo trials.
type DemoService interface {
	ListTrials(ctx context.Context) ([]trial.Trial, error)
	SeedDemo(ctx context.Context) (trial.DemoSummary, error)
}

// OfferDemo asks, when the store holds no trial yet, whether to load the
// demo data set or start empty; onLoaded runs (on the UI goroutine) after
// the demo data went in.
func OfferDemo(w fyne.Window, svc DemoService, onLoaded func()) {
	Run(context.Background(), func(ctx context.Context) ([]trial.Trial, error) {
		return svc.ListTrials(ctx)
	}, func(ts []trial.Trial, err error) {
		if err != nil {
			ShowError(w, err)
			return
		}
		if len(ts) > 0 {
			return
		}
		msg := widget.NewLabel(lang.L("firstrun.message"))
		msg.Wrapping = fyne.TextWrapWord
		msg.Resize(fyne.NewSize(460, msg.MinSize().Height))
		d := dialog.NewCustomConfirm(lang.L("firstrun.title"), lang.L("firstrun.demo"), lang.L("firstrun.empty"), msg,
			func(demo bool) {
				if demo {
					loadDemo(w, svc, onLoaded)
				}
			}, w)
		d.Resize(fyne.NewSize(520, 260))
		d.Show()
	})
}

func loadDemo(w fyne.Window, svc DemoService, onLoaded func()) {
	var sum trial.DemoSummary
	RunWithProgress(w, lang.L("firstrun.loading"), func(ctx context.Context, _ Progress) error {
		var err error
		sum, err = svc.SeedDemo(ctx)
		return err
	}, func(err error) {
		if err != nil {
			ShowError(w, err)
			return
		}
		dialog.ShowInformation(lang.L("firstrun.title"), lang.L("firstrun.loaded", map[string]any{
			"Trials": sum.Trials, "Sessions": sum.Sessions, "Monitors": sum.Monitors}), w)
		if onLoaded != nil {
			onLoaded()
		}
	})
}
