package trial

import (
	"bytes"
	"os"
	"testing"
)

// FuzzParseDevices drives the device import parser with arbitrary CSV
// bytes: it must not panic, every problem names a row of the file, and a
// row it accepts is a valid device with a checked IMEI or ICCID and, for a
// key set, keys of one valid length.
func FuzzParseDevices(f *testing.F) {
	for _, name := range []string{"devices_utf8.csv", "devices_bad.csv"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("IMEI,carrier,os\n352099001761481,au,ios\n"))
	f.Add([]byte("ICCID,carrier,KVN,ENC,MAC,DEK\n8981101000000000019,docomo,0x30,00,00,00\n"))
	f.Add([]byte("iccid\tcarrier\n89 81 10 10 00 00 00 00 01 9\tmvno\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tb, err := ReadCSV(bytes.NewReader(b))
		if err != nil {
			return
		}
		cands, probs := parseDevices(tb)
		maxRow := 1
		for _, r := range tb.Rows {
			maxRow = r.Row
		}
		for _, p := range probs {
			if p.Row < 1 || p.Row > maxRow || p.Reason == "" {
				t.Fatalf("problem %v outside the file (last row %d)", p, maxRow)
			}
			if n, ok := ReasonCodes[p.Code]; !ok || len(p.Args) != n {
				t.Fatalf("problem %+v: a translation wants a code of ReasonCodes and its values", p)
			}
		}
		if len(probs) > 0 {
			return
		}
		seen := map[string]bool{}
		for _, c := range cands {
			if err := c.d.Validate(); err != nil {
				t.Fatalf("row %d accepted but invalid: %v", c.row, err)
			}
			if seen[c.d.Serial] {
				t.Fatalf("serial %s accepted twice", c.d.Serial)
			}
			seen[c.d.Serial] = true
			if c.keys != nil {
				if err := c.keys.Validate(); err != nil || c.d.Kind != KindSIM || c.d.KeyVersion != c.keys.KVN {
					t.Fatalf("row %d: key set accepted: %v", c.row, err)
				}
			}
		}
	})
}
