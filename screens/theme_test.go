package screens

import (
	"bytes"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"github.com/go-text/typesetting/font"

	"jpkipilot/assets"
)

func TestThemeUsesBundledJapaneseFont(t *testing.T) {
	th := NewTheme()
	for _, c := range []struct {
		style fyne.TextStyle
		want  []byte
	}{
		{fyne.TextStyle{}, assets.FontRegular},
		{fyne.TextStyle{Italic: true}, assets.FontRegular},
		{fyne.TextStyle{Bold: true}, assets.FontBold},
		{fyne.TextStyle{Bold: true, Italic: true}, assets.FontBold},
	} {
		got := th.Font(c.style)
		if !bytes.Equal(got.Content(), c.want) {
			t.Errorf("Font(%+v) = %s, want the bundled font", c.style, got.Name())
		}
	}
	// Monospace text (APDU traces) keeps Fyne's monospace face.
	if got, want := th.Font(fyne.TextStyle{Monospace: true}), theme.DefaultTheme().Font(fyne.TextStyle{Monospace: true}); got.Name() != want.Name() {
		t.Errorf("monospace font = %s, want %s", got.Name(), want.Name())
	}
}

// The bundled faces are single TTFs (a .ttc makes Fyne panic) that have
// glyphs for the Japanese the UI shows: without them text renders as tofu.
func TestBundledFontsHaveJapaneseGlyphs(t *testing.T) {
	for name, data := range map[string][]byte{"regular": assets.FontRegular, "bold": assets.FontBold} {
		face, err := font.ParseTTF(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: not a single TTF: %v", name, err)
		}
		for _, r := range "ダッシュボード試験モニター設定漢字ｶﾅ。、〜ー①ABC123" {
			if _, ok := face.NominalGlyph(r); !ok {
				t.Errorf("%s font has no glyph for %q", name, r)
			}
		}
	}
	if !bytes.Contains(assets.FontLicence, []byte("SIL Open Font License")) {
		t.Error("the font licence shipped beside the fonts is not the SIL OFL")
	}
}
