// Package assets holds the files bundled into the binary: the Japanese UI
// font (Noto Sans JP, SIL OFL 1.1, licence in fonts/OFL.txt), the app icon
// and the UI translations. It only exposes bytes, so packages that must not
// import Fyne can still use it; screens/ turns them into Fyne resources.
package assets

import (
	"embed"
	_ "embed"
)

// FontRegular and FontBold are single TTF files: Fyne cannot use a .ttc
// collection, and its default font has no Japanese glyphs.
var (
	//go:embed fonts/NotoSansJP-Regular.ttf
	FontRegular []byte
	//go:embed fonts/NotoSansJP-Bold.ttf
	FontBold []byte
	//go:embed fonts/OFL.txt
	FontLicence []byte
)

// Icon is the application icon (256×256 PNG).
//
//go:embed icon.png
var Icon []byte

// Translations holds translations/ja.json and translations/en.json in the
// go-i18n JSON format that fyne.io/fyne/v2/lang reads.
//
//go:embed translations/*.json
var Translations embed.FS

// TranslationsDir is the directory of Translations to hand to
// lang.AddTranslationsFS.
const TranslationsDir = "translations"

// Readers holds the pictures of where to hold a card: readers/pad.svg
// (a contactless pad: the card laid flat on top), readers/slot.svg (a
// contact slot: the card inserted chip first), readers/phone.svg (a
// phone's back on a pad) and readers/generic.svg. Drawn for jpkipilot.
//
//go:embed readers/*.svg
var Readers embed.FS

// ReaderPicture is the SVG readers/<name>.svg, or nil when there is none.
func ReaderPicture(name string) []byte {
	b, err := Readers.ReadFile("readers/" + name + ".svg")
	if err != nil {
		return nil
	}
	return b
}
