package earlyenv

import (
	"os"
	"testing"
)

func TestFix(t *testing.T) {
	for _, tc := range []struct {
		lang, language, want string
	}{
		{"C.UTF-8", "", "en"},
		{"POSIX.UTF-8", "", "en"},
		{"ja_JP.UTF-8", "", ""},
		{"C", "", ""},           // Fyne handles plain C itself
		{"C.UTF-8", "ja", "ja"}, // the user's LANGUAGE wins
		{"", "", ""},
	} {
		t.Setenv("LC_ALL", "")
		t.Setenv("LC_MESSAGES", "")
		t.Setenv("LANG", tc.lang)
		t.Setenv("LANGUAGE", tc.language)
		fix()
		if got := os.Getenv("LANGUAGE"); got != tc.want {
			t.Errorf("LANG=%q LANGUAGE=%q: LANGUAGE becomes %q, want %q", tc.lang, tc.language, got, tc.want)
		}
	}
}
