package screens

import (
	"fmt"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"

	"jpkipilot/assets"
)

// Languages are the UI languages, Japanese (the default) first.
var Languages = []string{"ja", "en"}

// DefaultLanguage is used when neither --lang nor a saved setting chooses.
const DefaultLanguage = "ja"

// LoadTranslations makes the UI speak language ("ja" or "en") and loads the
// bundled translations. Call it before building any screen: strings are looked
// up when a screen is built, so a change applies after a restart.
//
// Fyne's lang package picks the language from the environment
// (LC_ALL / LC_MESSAGES / LANG, then LANGUAGE) every time translations are
// added; we set those variables so that it picks ours, whatever the desktop
// session says.
func LoadTranslations(language string) error {
	if language == "" {
		language = DefaultLanguage
	}
	if language != "ja" && language != "en" {
		return fmt.Errorf("language must be ja or en, not %q", language)
	}
	forceLocale(language)
	uiLanguage = language
	return lang.AddTranslationsFS(assets.Translations, assets.TranslationsDir)
}

// forceLocale sets the environment the way github.com/jeandeaual/go-locale
// (used by fyne's lang) reads it: the first set of LC_ALL, LC_MESSAGES, LANG
// decides unless LANGUAGE is set and that one is not C/POSIX.
func forceLocale(language string) {
	posix := map[string]string{"ja": "ja_JP.UTF-8", "en": "en_US.UTF-8"}[language]
	os.Setenv("LANGUAGE", language)
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(name); v != "" {
			if v == "C" || v == "POSIX" { // these hide LANGUAGE
				os.Setenv(name, posix)
			}
			return
		}
	}
}

// uiLanguage is the language LoadTranslations chose.
var uiLanguage = DefaultLanguage

// textWrap is how a label of running text wraps in the UI language.
// Fyne's word wrap breaks lines only at spaces; Japanese has none between
// words, only around Latin ones ("試行 CA があれば"), so there word wrap
// ends lines early at those few spaces and leaves short ragged lines.
// Japanese breaks at any character instead, as Japanese typesetting does
// (a Latin word may then be split too).
func textWrap() fyne.TextWrap {
	if uiLanguage == "ja" {
		return fyne.TextWrapBreak
	}
	return fyne.TextWrapWord
}
