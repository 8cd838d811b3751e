package survey

import (
	"encoding/json"
	"maps"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeAnswers: whatever SQLite or PostgreSQL write for a response's
// answers (a JSON object of strings, with or without spaces), decodeAnswers
// reads the same map as encoding/json; for any other input it fails or
// agrees with encoding/json (on valid UTF-8), and never panics.
func FuzzDecodeAnswers(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"q01":"3","q02":"where_to_hold card_loss"}`,
		`{ "comment" : "読み取り\"完了\"\\n", "x" : "\u00e9\ud83d\ude00" }`, // PostgreSQL's spacing
		`{"a":"1","a":"2"}`, `{"a":null}`, `{"a":1}`, `{"a":"1"} x`, `{"a":"\x01"}`, `[]`, `{"a" "b"}`, `{"a":"b",}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, js string) {
		got := map[string]string{}
		err := decodeAnswers(js, got)
		var want map[string]string
		jerr := json.Unmarshal([]byte(js), &want)
		if err == nil && jerr != nil {
			t.Fatalf("decodeAnswers(%q) = %v, encoding/json fails: %v", js, got, jerr)
		}
		// encoding/json turns invalid UTF-8 into U+FFFD; the export keeps
		// the stored bytes as the database returns them.
		if err == nil && utf8.ValidString(js) && !maps.Equal(got, want) {
			t.Fatalf("decodeAnswers(%q) = %v, encoding/json %v", js, got, want)
		}
		// Round trip: what encoding/json writes for the map read back.
		if jerr == nil && want != nil {
			b, _ := json.Marshal(want)
			again := map[string]string{}
			if err := decodeAnswers(string(b), again); err != nil || !maps.Equal(again, want) {
				t.Fatalf("round trip of %s: %v, %v", b, again, err)
			}
		}
	})
}
