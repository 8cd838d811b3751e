// Package screens holds jpkipilot's Fyne screens. Each screen is a
// constructor taking the window and the narrow interface it needs, so a test
// hands it the real trial service over a temp SQLite file. Nothing here
// imports fyne.io/fyne/v2/app or cgo: screen tests run with CGO_ENABLED=0.
package screens

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"jpkipilot/assets"
)

// The bundled Japanese font: Fyne's default font has no Japanese glyphs.
var (
	fontRegular = fyne.NewStaticResource("NotoSansJP-Regular.ttf", assets.FontRegular)
	fontBold    = fyne.NewStaticResource("NotoSansJP-Bold.ttf", assets.FontBold)
	// AppIcon is the application icon.
	AppIcon = fyne.NewStaticResource("icon.png", assets.Icon)
)

// Theme is Fyne's default theme with the bundled Japanese font.
type Theme struct{ fyne.Theme }

// NewTheme returns the application theme.
func NewTheme() *Theme { return &Theme{Theme: theme.DefaultTheme()} }

// Font returns Noto Sans JP for text (it has no italic, so italic text uses
// the upright face) and the default font for monospace and symbols.
func (t *Theme) Font(s fyne.TextStyle) fyne.Resource {
	switch {
	case s.Monospace, s.Symbol:
		return t.Theme.Font(s)
	case s.Bold:
		return fontBold
	default:
		return fontRegular
	}
}
