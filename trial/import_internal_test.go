package trial

import "testing"

// A column given twice is named by its letters, as values of the reason, so
// a translation can put its own word for "column" around them.
func TestColumnGivenTwiceNamesLetters(t *testing.T) {
	_, probs := parseTable(&Table{Header: []string{"name", "kana", "name"}}, false)
	for _, p := range probs {
		if p.Code != ReasonColumnTwice {
			continue
		}
		if p.Reason != "column given twice (column A and column C)" || len(p.Args) != 2 || p.Args[0] != "A" || p.Args[1] != "C" {
			t.Fatalf("column twice: reason %q args %q", p.Reason, p.Args)
		}
		return
	}
	t.Fatalf("no column-twice problem in %v", probs)
}
