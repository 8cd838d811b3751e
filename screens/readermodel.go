package screens

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/assets"
)

// ReaderModel is the shape of this laptop's card reader, for the picture
// of where to hold the card: monitors in the trial could not tell where.
type ReaderModel string

const (
	ReaderAuto    ReaderModel = "auto"    // guessed from the reader's PC/SC name
	ReaderPad     ReaderModel = "pad"     // contactless pad: the card laid flat on top
	ReaderSlot    ReaderModel = "slot"    // contact slot: the card inserted chip first
	ReaderGeneric ReaderModel = "generic" // anything else
)

// ReaderModels are the choices in settings, in order.
var ReaderModels = []ReaderModel{ReaderAuto, ReaderPad, ReaderSlot, ReaderGeneric}

// PrefReaderModel is the Fyne preference (per laptop, as the reader is)
// holding the chosen ReaderModel; empty or "auto" means guessed.
const PrefReaderModel = "reader.model"

// GuessReaderModel guesses the model from a PC/SC reader name: Sony
// PaSoRi (RC-S3xx) and ACS ACR12xx are pads; SCM SCR33xx ("SCR 3310" in
// its CCID name) and readers that call themselves contact readers are
// slots; anything else gets the generic picture.
func GuessReaderModel(name string) ReaderModel {
	n := strings.ToUpper(name)
	switch {
	case strings.Contains(n, "RC-S3"), strings.Contains(n, "PASORI"), strings.Contains(n, "ACR12"):
		return ReaderPad
	case strings.Contains(n, "SCR33"), strings.Contains(n, "SCR 33"), strings.Contains(n, "CONTACT") && !strings.Contains(n, "CONTACTLESS"):
		return ReaderSlot
	}
	return ReaderGeneric
}

// ReaderModelFor is the model to show for the reader named: the one
// chosen in settings, or else the guess from its name.
func ReaderModelFor(prefs fyne.Preferences, reader string) ReaderModel {
	if prefs != nil {
		switch m := ReaderModel(prefs.String(PrefReaderModel)); m {
		case ReaderPad, ReaderSlot, ReaderGeneric:
			return m
		}
	}
	return GuessReaderModel(reader)
}

// appPrefs is the running app's preferences (nil without an app).
func appPrefs() fyne.Preferences {
	if a := fyne.CurrentApp(); a != nil {
		return a.Preferences()
	}
	return nil
}

func readerModelName(m ReaderModel) string { return lang.L("readermodel." + string(m)) }

// holdPicture shows where to hold the card on this reader, with the same
// words beside it; with phones it also shows a phone's back on the reader
// (a slot reader cannot read a phone, so then there is no phone picture).
type holdPicture struct {
	content      *fyne.Container
	card, phone  *canvas.Image
	cardCaption  *widget.Label
	phoneCaption *widget.Label
	phones       bool
	model        ReaderModel
}

func readerPicture(name string) *canvas.Image {
	img := canvas.NewImageFromResource(fyne.NewStaticResource(name+".svg", assets.ReaderPicture(name)))
	img.FillMode = canvas.ImageFillContain
	img.SetMinSize(fyne.NewSize(260, 170))
	return img
}

func newHoldPicture(phones bool) *holdPicture {
	h := &holdPicture{phones: phones}
	h.cardCaption = widget.NewLabel("")
	h.cardCaption.Wrapping = fyne.TextWrapWord
	h.cardCaption.Alignment = fyne.TextAlignCenter
	h.phoneCaption = widget.NewLabel(lang.L("readermodel.hold_phone"))
	h.phoneCaption.Wrapping = fyne.TextWrapWord
	h.phoneCaption.Alignment = fyne.TextAlignCenter
	h.card = readerPicture(string(ReaderGeneric))
	h.phone = readerPicture("phone")
	h.content = container.NewGridWithColumns(2,
		container.NewVBox(h.card, h.cardCaption),
		container.NewVBox(h.phone, h.phoneCaption))
	h.show(ReaderGeneric)
	return h
}

// show draws the picture for model m (on the UI goroutine).
func (h *holdPicture) show(m ReaderModel) {
	if m == ReaderAuto || m == "" {
		m = ReaderGeneric
	}
	if m == h.model {
		return
	}
	h.model = m
	h.card.Resource = fyne.NewStaticResource(string(m)+".svg", assets.ReaderPicture(string(m)))
	h.card.Refresh()
	h.cardCaption.SetText(lang.L("readermodel.hold_" + string(m)))
	// Without the phone the card picture and its words take the whole
	// width (in half of it the words wrapped, leaving い。 alone).
	if h.phones && m != ReaderSlot {
		h.content.Objects[1].Show()
		h.content.Layout = layout.NewGridLayoutWithColumns(2)
	} else {
		h.content.Objects[1].Hide()
		h.content.Layout = layout.NewGridLayoutWithColumns(1)
	}
	h.content.Refresh()
}

// showFor draws the picture for the reader named, as settings say.
func (h *holdPicture) showFor(reader string) { h.show(ReaderModelFor(appPrefs(), reader)) }

// newReaderModelSetting is the settings row choosing this laptop's reader
// model (saved at once in prefs), with the picture it gives. reader names
// the reader "auto" guesses from.
func newReaderModelSetting(prefs fyne.Preferences, reader func() string) fyne.CanvasObject {
	pic := newHoldPicture(false)
	names := make([]string, len(ReaderModels))
	for i, m := range ReaderModels {
		names[i] = readerModelName(m)
	}
	sel := widget.NewSelect(names, nil)
	current := ReaderModel(prefs.String(PrefReaderModel))
	if current == "" {
		current = ReaderAuto
	}
	sel.SetSelected(readerModelName(current))
	update := func() {
		m := ReaderModel(prefs.String(PrefReaderModel))
		if m == "" || m == ReaderAuto {
			m = GuessReaderModel(reader())
		}
		pic.show(m)
	}
	sel.OnChanged = func(string) {
		i := sel.SelectedIndex()
		if i < 0 {
			return
		}
		prefs.SetString(PrefReaderModel, string(ReaderModels[i]))
		update()
	}
	update()
	return container.NewVBox(sel, pic.content)
}
