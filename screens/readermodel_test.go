package screens

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"jpkipilot/trial/ticket"
)

// The model guessed from the names PC/SC gives real readers.
func TestGuessReaderModel(t *testing.T) {
	for name, want := range map[string]ReaderModel{
		"SONY FeliCa RC-S380/P 00 00":                           ReaderPad,
		"Sony FeliCa Port/PaSoRi 4.0 00 00":                     ReaderPad, // RC-S300
		"ACS ACR1252 Dual Reader PICC 00 00":                    ReaderPad,
		"ACS ACR122U PICC Interface 00 00":                      ReaderPad,
		"SCM Microsystems Inc. SCR 3310 [CCID Interface] 00 00": ReaderSlot,
		"SCR33x USB Smart Card Reader 00 00":                    ReaderSlot,
		"Generic Smart Card Reader Interface (Contact) 00 00":   ReaderSlot,
		"Identiv uTrust 3700 F Contactless Reader [CCID] 00 00": ReaderGeneric,
		"Virtual PCD 00 00":                                     ReaderGeneric,
		"":                                                      ReaderGeneric,
	} {
		if got := GuessReaderModel(name); got != want {
			t.Errorf("%q: %s, want %s", name, got, want)
		}
	}
}

// The model chosen in settings wins over the guess; "auto" guesses.
func TestReaderModelOverride(t *testing.T) {
	prefs := test.NewTempApp(t).Preferences()
	const pasori = "SONY FeliCa RC-S380/P 00 00"
	if m := ReaderModelFor(prefs, pasori); m != ReaderPad {
		t.Fatalf("nothing chosen: %s", m)
	}
	prefs.SetString(PrefReaderModel, string(ReaderSlot))
	if m := ReaderModelFor(prefs, pasori); m != ReaderSlot {
		t.Fatalf("slot chosen: %s", m)
	}
	prefs.SetString(PrefReaderModel, string(ReaderAuto))
	if m := ReaderModelFor(prefs, pasori); m != ReaderPad {
		t.Fatalf("auto: %s", m)
	}
}

// Every picture renders with Fyne's own SVG renderer (it supports a
// subset of SVG): something is drawn, not a blank or broken image.
// JPKIPILOT_SAVE_PICTURES=DIR writes the renderings there for a look.
func TestReaderPicturesRender(t *testing.T) {
	newWindow(t)
	for _, name := range []string{"pad", "slot", "phone", "generic"} {
		img := readerPicture(name)
		w := test.NewTempWindow(t, img)
		w.SetPadded(false)
		w.Resize(fyne.NewSize(320, 220))
		shot := w.Canvas().Capture()
		if n := inkPixels(shot); n < 320*220/10 {
			t.Errorf("%s.svg: only %d pixels drawn", name, n)
		}
		if dir := os.Getenv("JPKIPILOT_SAVE_PICTURES"); dir != "" {
			f, err := os.Create(filepath.Join(dir, name+".png"))
			if err != nil {
				t.Fatal(err)
			}
			_ = png.Encode(f, shot)
			f.Close()
		}
	}
}

// inkPixels counts pixels that differ clearly from the top-left one (the
// background).
func inkPixels(img image.Image) int {
	b := img.Bounds()
	br, bg, bb, _ := img.At(b.Min.X, b.Min.Y).RGBA()
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if absDiff(r, br)+absDiff(g, bg)+absDiff(bl, bb) > 0x3000 {
				n++
			}
		}
	}
	return n
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// The gate's idle screen shows the picture of the reader model chosen in
// settings: a pad with a card and a phone on it; a slot reader has no
// phone picture (it cannot read one).
func TestGateIdlePicturePerModel(t *testing.T) {
	w := newWindow(t)
	prefs := fyne.CurrentApp().Preferences()
	prefs.SetString(PrefReaderModel, string(ReaderPad))
	virt := NewVirtualReaders("仮想リーダー")
	g := NewGateKiosk(w, GateDeps{Event: gateEvent(), Readers: virt, MaxCRLAge: ticket.DefaultMaxCRLAge,
		CRLAge: func() time.Duration { return 3*time.Hour + 20*time.Minute }})
	show(w, g.Object())
	if g.picture.model != ReaderPad || !g.picture.content.Objects[1].Visible() {
		t.Fatalf("pad chosen: showing %s, phone picture shown %v", g.picture.model, g.picture.content.Objects[1].Visible())
	}
	test.AssertRendersToMarkup(t, "gate_idle_pad.xml", w.Canvas())

	prefs.SetString(PrefReaderModel, string(ReaderSlot))
	g.readersChanged()
	waitIdle()
	if g.picture.model != ReaderSlot || g.picture.content.Objects[1].Visible() {
		t.Fatalf("slot chosen: showing %s, phone picture shown %v", g.picture.model, g.picture.content.Objects[1].Visible())
	}
	test.AssertRendersToMarkup(t, "gate_idle_slot.xml", w.Canvas())
}
