package screens

import "testing"

func TestClipText(t *testing.T) {
	for _, c := range []struct {
		in   string
		em   float64
		want string
	}{
		{"山田 太郎", 8.5, "山田 太郎"},
		{"イシカワ ショウタ", 9.5, "イシカワ ショウタ"},
		{"チョウソカベ モトチカノスケ", 9.5, "チョウソカベ モト…"},
		{"abcdefghijklmnopqrstuvwxyz", 8.5, "abcdefghijklmno…"},
		{"", 3, ""},
	} {
		if got := clipText(c.in, c.em); got != c.want {
			t.Errorf("clipText(%q, %v) = %q, want %q", c.in, c.em, got, c.want)
		}
	}
}
