package trial

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// fold applies NFKC: full-width Latin and digits become ASCII, half-width
// katakana become full-width (with their voicing marks composed), the
// ideographic space becomes a space.
func fold(s string) string {
	if isASCII(s) {
		return s
	}
	return norm.NFKC.String(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// hiraganaToKatakana maps ぁ..ゖ and ゝゞ to their katakana; other runes pass.
func hiraganaToKatakana(r rune) rune {
	switch {
	case r >= 'ぁ' && r <= 'ゖ', r == 'ゝ', r == 'ゞ':
		return r + ('ァ' - 'ぁ')
	}
	return r
}

// isKanaRune is what a フリガナ may hold after normalisation: full-width
// katakana (ァ..ヺ), the long vowel mark ー, the middle dot ・, the iteration
// marks ヽヾ, and spaces between family and given name.
func isKanaRune(r rune) bool {
	return (r >= 'ァ' && r <= 'ヺ') || r == 'ー' || r == '・' || r == 'ヽ' || r == 'ヾ' || r == ' '
}

// collapseSpaces trims s and turns every run of white space (the ideographic
// space included) into one ASCII space.
func collapseSpaces(s string) string {
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// NormalizeKana turns a typed フリガナ into the stored form: full-width
// katakana with single ASCII spaces. Hiragana is accepted and converted
// (やまだ → ヤマダ), and so is half-width katakana (ﾔﾏﾀﾞ → ヤマダ). Latin
// letters, digits, kanji and other symbols are rejected: the error names the
// first offending character (a *ReasonError).
func NormalizeKana(s string) (string, error) {
	k, r := normalizeKana(s)
	return k, r.err()
}

func normalizeKana(s string) (string, *ReasonError) {
	s = collapseSpaces(strings.Map(hiraganaToKatakana, fold(s)))
	for _, r := range s {
		if !isKanaRune(r) {
			return s, reasonf(ReasonKatakana, "must be katakana (hiragana is converted), found %q", r)
		}
	}
	return s, nil
}

// SearchKey folds text for matching as a person types: NFKC width folding,
// hiragana → katakana, lower case, spaces removed. "ﾔﾏﾀﾞ ﾀﾛｳ", "やまだたろう"
// and "ヤマダ　タロウ" share one key, as do "M-0012" and "ｍ－００１２".
func SearchKey(s string) string {
	if isASCII(s) {
		var b strings.Builder
		b.Grow(len(s))
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c == ' ' || c >= '\t' && c <= '\r':
				continue
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			}
			b.WriteByte(c)
		}
		return b.String()
	}
	s = fold(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		b.WriteRune(unicode.ToLower(hiraganaToKatakana(r)))
	}
	return b.String()
}
