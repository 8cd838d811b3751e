package survey

import (
	"encoding/xml"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzAppendInlineStr: whatever a monitor types, the cell is well-formed
// XML, and text XML can hold comes back exactly as typed.
func FuzzAppendInlineStr(f *testing.F) {
	for _, s := range []string{"", "読み取り完了が分かりにくい", " 前後に空白 ", "a & b < c > d \"e\"", "行1\r\n行2\n", "tab\there",
		"ctl\x01\x1f", "emoji 🙂", "bad \xff utf-8", "\uFFFE\uFFFF", "]]>", "全角（括弧）：１２３", "a\uFFFEb", "\xef\xbf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 1000 {
			return
		}
		b := appendInlineStr([]byte(`<c r="A1"`), s)
		var c struct {
			IS struct {
				T string `xml:"t"`
			} `xml:"is"`
		}
		if err := xml.Unmarshal(b, &c); err != nil {
			t.Fatalf("%q gives bad XML %q: %v", s, b, err)
		}
		clean := utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
			return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF
		})
		if clean && c.IS.T != s {
			t.Fatalf("%q came back as %q", s, c.IS.T)
		}
	})
}
