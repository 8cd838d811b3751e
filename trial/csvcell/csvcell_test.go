package csvcell

import "testing"

func TestSafe(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "",
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
		"+81 90":                   "'+81 90",
		"-1+2":                     "'-1+2",
		"@SUM(A1)":                 "'@SUM(A1)",
		"\t=1":                     "'\t=1",
		"\r=1":                     "'\r=1",
		"かざす場所=分からない":              "かざす場所=分からない",
		"M-0001":                   "M-0001",
		" =1":                      " =1",
	} {
		if got := Safe(in); got != want {
			t.Errorf("Safe(%q) = %q, want %q", in, got, want)
		}
	}
}
