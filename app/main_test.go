package app

import (
	"io"
	"testing"
)

// The global flags, values included, come before the command; --token-file
// is one of them, and the GUI accepts it (it logs in by itself).
func TestFirstCommandSkipsGlobalFlagValues(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--db", "x.db", "monitors", "list"}, "monitors"},
		{[]string{"--token-file", "/tmp/t", "whoami"}, "whoami"},
		{[]string{"--token-file", "/tmp/t"}, ""},
		{[]string{"--lang", "en", "--kiosk", "gate", "--event", "E1"}, ""},
	} {
		if got := firstCommand(c.args); got != c.want {
			t.Errorf("firstCommand(%q) = %q, want %q", c.args, got, c.want)
		}
	}
	if _, code := parseGUIFlags([]string{"--token-file", "/tmp/t", "--lang", "en"}, io.Discard); code >= 0 {
		t.Errorf("the GUI refused --token-file (exit %d)", code)
	}
}
