package survey_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"jpkipilot/survey"
	"jpkipilot/trial/pii"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// workbookText is every part of an xlsx, unzipped and joined.
func workbookText(t *testing.T, raw []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		sb.Write(b)
	}
	return sb.String()
}

// TestExportOpensSealedNames: with the monitors' names sealed (trial/pii),
// the identified export and CSV show the names in the clear given the data
// key, fail with pii.ErrLocked without it (writing nothing) and with
// pii.ErrTampered under another key; the pseudonymised export needs no key
// and holds neither names nor ciphertext.
func TestExportOpensSealedNames(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, fx := seeded(t, db)
		key, err := pii.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		kana := map[string]string{"M-0001": "ヤマダタロウ", "M-0002": "スズキハナコ"}
		for _, m := range demoMonitors {
			name, err := key.Seal("monitors.name", m[0], m[1])
			if err != nil {
				t.Fatal(err)
			}
			k, err := key.Seal("monitors.kana", m[0], kana[m[0]])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, db.Rebind(`UPDATE monitors SET name = ?, kana = ? WHERE id = ?`), name, k, m[0]); err != nil {
				t.Fatal(err)
			}
		}
		opt := survey.ExportOptions{Filter: survey.Filter{TrialID: &fx.trialID}, Identified: true, PII: key, Location: time.UTC}

		raw, x := export(t, svc, opt)
		data, _ := x.GetRows(survey.SheetData)
		hdr := data[0]
		nameCol, kanaCol, monCol := -1, -1, -1
		for i, h := range hdr {
			switch h {
			case "name":
				nameCol = i
			case "kana":
				kanaCol = i
			case "monitor_id":
				monCol = i
			}
		}
		if nameCol < 0 || kanaCol < 0 {
			t.Fatalf("identified Data header %v lacks name or kana", hdr)
		}
		names := map[string]string{}
		for _, m := range demoMonitors {
			names[m[0]] = m[1]
		}
		seen := 0
		for _, r := range data[1:] {
			if r[nameCol] != names[r[monCol]] {
				t.Errorf("%s is named %q, want %q", r[monCol], r[nameCol], names[r[monCol]])
			}
			if k := kana[r[monCol]]; k != "" {
				seen++
				if r[kanaCol] != k {
					t.Errorf("%s kana %q, want %q", r[monCol], r[kanaCol], k)
				}
			}
		}
		if seen == 0 {
			t.Fatal("no response of M-0001 or M-0002 to check the kana on")
		}
		if strings.Contains(workbookText(t, raw), pii.Prefix) {
			t.Fatal("the identified workbook holds sealed text")
		}

		var csvOut bytes.Buffer
		if err := svc.ExportCSV(ctx, &csvOut, opt, nil); err != nil {
			t.Fatal(err)
		}
		if s := csvOut.String(); !strings.Contains(s, "鈴木花子") || !strings.Contains(s, "スズキハナコ") || strings.Contains(s, pii.Prefix) {
			t.Fatalf("identified CSV: names in the clear %v, sealed text %v", strings.Contains(s, "鈴木花子"), strings.Contains(s, pii.Prefix))
		}

		// Locked: no key, nothing written.
		locked := opt
		locked.PII = nil
		var buf bytes.Buffer
		if err := svc.Export(ctx, &buf, locked, nil); !errors.Is(err, pii.ErrLocked) || buf.Len() != 0 {
			t.Fatalf("identified export without the key: %v, %d bytes written", err, buf.Len())
		}
		buf.Reset()
		if err := svc.ExportCSV(ctx, &buf, locked, nil); !errors.Is(err, pii.ErrLocked) || strings.Contains(buf.String(), pii.Prefix) {
			t.Fatalf("identified CSV without the key: %v (sealed text written: %v)", err, strings.Contains(buf.String(), pii.Prefix))
		}
		// Another key does not open them.
		other, _ := pii.NewKey()
		wrong := opt
		wrong.PII = other
		if err := svc.Export(ctx, io.Discard, wrong, nil); !errors.Is(err, pii.ErrTampered) {
			t.Fatalf("identified export under another key: %v, want ErrTampered", err)
		}

		// Pseudonymised: no key needed, no names, no ciphertext.
		raw, x = export(t, svc, survey.ExportOptions{Filter: survey.Filter{TrialID: &fx.trialID}})
		for _, h := range mustRow(t, x) {
			if h == "name" || h == "kana" {
				t.Fatalf("pseudonymised export has a %s column", h)
			}
		}
		if strings.Contains(workbookText(t, raw), pii.Prefix) {
			t.Fatal("the pseudonymised workbook holds sealed text")
		}
		assertNoNames(t, raw, demoMonitors)
	})
}

func mustRow(t *testing.T, x *excelize.File) []string {
	t.Helper()
	rows, err := x.GetRows(survey.SheetData)
	if err != nil || len(rows) == 0 {
		t.Fatalf("Data: %v", err)
	}
	return rows[0]
}
