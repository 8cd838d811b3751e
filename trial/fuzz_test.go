package trial

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// FuzzReadCSV drives the import parser (decoding, CSV, header mapping, row
// validation) with arbitrary bytes. Whatever it accepts must be importable:
// rows numbered as Excel shows them, names present, kana valid katakana,
// dates real; whatever it rejects must say where.
func FuzzReadCSV(f *testing.F) {
	for _, name := range []string{"monitors_utf8.csv", "monitors_bom.csv", "monitors_sjis.csv", "monitors_bad.csv"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("name,kana,session\n\"a\"\"b\",ｱ,X\n,,\nc,ア,\"multi\nline\"\n"))
	f.Add([]byte("name\tkana\n\xff\tア\n"))
	f.Add([]byte("氏名,フリガナ,同行者,セッション\nx,ア,3,S\ny,イ,2,S\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tb, err := ReadCSV(bytes.NewReader(b))
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		last := 1
		for _, r := range tb.Rows {
			if r.Row <= last {
				t.Fatalf("row numbers not increasing: %d after %d", r.Row, last)
			}
			last = r.Row
		}
		for _, sessionRequired := range []bool{true, false} {
			cands, probs := parseTable(tb, sessionRequired)
			for _, p := range probs {
				if p.Row < 1 || p.Reason == "" || !utf8.ValidString(p.String()) {
					t.Fatalf("problem without a place or reason: %+v", p)
				}
				if n, ok := ReasonCodes[p.Code]; !ok || len(p.Args) != n {
					t.Fatalf("problem %+v: a translation wants a code of ReasonCodes and its values", p)
				}
			}
			bad := map[int]bool{}
			for _, p := range probs {
				bad[p.Row] = true
			}
			for _, c := range cands {
				if bad[c.row] != c.bad {
					t.Fatalf("row %d: bad=%v but problems say %v", c.row, c.bad, bad[c.row])
				}
				if c.bad {
					continue
				}
				m := c.m
				if m.Name == "" || strings.TrimSpace(m.Name) != m.Name {
					t.Fatalf("row %d accepted with name %q", c.row, m.Name)
				}
				if k, err := NormalizeKana(m.Kana); err != nil || k != m.Kana {
					t.Fatalf("row %d accepted with kana %q (%v)", c.row, m.Kana, err)
				}
				if m.AgeBand != "" && !KnownAgeBand(m.AgeBand) {
					t.Fatalf("row %d accepted with age band %q", c.row, m.AgeBand)
				}
				if m.Consent.SignedOn != "" && !ValidDate(m.Consent.SignedOn) {
					t.Fatalf("row %d accepted with date %q", c.row, m.Consent.SignedOn)
				}
			}
		}
	})
}

// FuzzReadXLSX feeds arbitrary bytes (seeded with real workbooks) to the
// XLSX reader: it must return a table or an error, never panic, and number
// rows as Excel does.
func FuzzReadXLSX(f *testing.F) {
	x := excelize.NewFile()
	_ = x.SetSheetRow("Sheet1", "A1", &[]any{"氏名", "フリガナ", "セッション", "同意日"})
	_ = x.SetSheetRow("Sheet1", "A2", &[]any{"山田 太郎", "やまだ たろう", "S-1", 42773})
	_ = x.SetSheetRow("Sheet1", "A4", &[]any{"", "ア", "S-1", "x"})
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		tb, err := ReadXLSX(bytes.NewReader(b))
		if err != nil {
			return
		}
		last := 1
		for _, r := range tb.Rows {
			if r.Row <= last {
				t.Fatalf("row numbers not increasing: %d after %d", r.Row, last)
			}
			last = r.Row
		}
		parseTable(tb, true)
	})
}
