package trial_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/japanese"

	"jpkipilot/trial"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

func TestLuhnIMEIICCID(t *testing.T) {
	for _, s := range []string{"352099001761481", "356938035643809", "013263006427826", "79927398713"} {
		if !trial.Luhn(s) {
			t.Errorf("Luhn(%s) = false", s)
		}
	}
	for _, s := range []string{"352099001761482", "79927398710", "", "7", "3520990017614a1"} {
		if trial.Luhn(s) {
			t.Errorf("Luhn(%q) = true", s)
		}
	}
	// Every single-digit typing error of a valid IMEI is caught.
	good := "352099001761481"
	for i := range good {
		for d := byte('0'); d <= '9'; d++ {
			if d == good[i] {
				continue
			}
			bad := good[:i] + string(d) + good[i+1:]
			if trial.CheckIMEI(bad) == nil {
				t.Fatalf("IMEI %s (one digit changed) accepted", bad)
			}
		}
	}
	for _, tc := range []struct {
		imei string
		want string // part of the error, "" = valid
	}{
		{"352099001761481", ""},
		{"35209900176148", "15 digits, got 14"},
		{"3520990017614810", "15 digits, got 16"},
		{"352099001761482", "check digit"},
		{"3.52099E+14", "Excel"},
		{"35209900176148X", "15 digits"},
	} {
		err := trial.CheckIMEI(tc.imei)
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckIMEI(%s) = %v, want %q", tc.imei, err, tc.want)
		}
	}
	for _, tc := range []struct {
		iccid string
		want  string
	}{
		{"8981101000000000019", ""},
		{"89812000123456789017", ""},
		{"8981101000000000018", "check digit"},
		{"898110100000000001", "19 or 20 digits, got 18"},
		{"898120001234567890170", "19 or 20 digits, got 21"},
		{"1981101000000000016", "89"},
		{"8.98101E+18", "Excel"},
	} {
		err := trial.CheckICCID(tc.iccid)
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckICCID(%s) = %v, want %q", tc.iccid, err, tc.want)
		}
	}
	if got := trial.NormalizeSerial(" ３５-２０９９００ １７６１４８-1 "); got != "352099001761481" {
		t.Errorf("NormalizeSerial = %q", got)
	}
}

func TestParseCarrierOSApplet(t *testing.T) {
	for in, want := range map[string]trial.Carrier{"NTTドコモ": trial.CarrierDocomo, "ＤＯＣＯＭＯ": trial.CarrierDocomo, "au": trial.CarrierKDDI,
		"KDDI/au": trial.CarrierKDDI, "ソフトバンク": trial.CarrierSoftBank, "SoftBank": trial.CarrierSoftBank, "mvno": trial.CarrierMVNO} {
		if got, ok := trial.ParseCarrier(in); !ok || got != want {
			t.Errorf("ParseCarrier(%q) = %q, %v", in, got, ok)
		}
	}
	if _, ok := trial.ParseCarrier("楽天"); ok {
		t.Error("an unknown carrier was accepted")
	}
	if o, ok := trial.ParseOS("iPhone"); !ok || o != trial.OSiOS {
		t.Errorf("ParseOS(iPhone) = %q", o)
	}
	if s, ok := trial.ParseAppletState("未書込"); !ok || s != trial.AppletBlank {
		t.Errorf("ParseAppletState(未書込) = %q", s)
	}
}

func newDesk(db *store.DB) *trial.Loans {
	l := trial.NewLoans(db)
	l.Now = func() time.Time { return loanClock }
	return l
}

func importProblems(t *testing.T, err error) []trial.Problem {
	t.Helper()
	var ie *trial.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("want an *ImportError, got %v", err)
	}
	return ie.Problems
}

func hasProblem(ps []trial.Problem, row int, field, reason string) bool {
	for _, p := range ps {
		if p.Row == row && p.Field == field && strings.Contains(p.Reason, reason) {
			return true
		}
	}
	return false
}

func TestImportDevices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := newDesk(db)
		res, err := l.ImportDevicesFile(ctx, "testdata/devices_utf8.csv")
		if err != nil {
			t.Fatal(err)
		}
		if res.Phones != 2 || res.SIMs != 3 || res.Encoding != "UTF-8" {
			t.Fatalf("import result %+v", res)
		}
		ds, err := l.ListDevices(ctx, trial.DeviceFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 5 || ds[0].Kind != trial.KindPhone || ds[2].Kind != trial.KindSIM {
			t.Fatalf("devices listed: %+v", ds)
		}
		p, err := l.GetDevice(ctx, "35 2099 0017 6148 1")
		if err != nil {
			t.Fatal(err)
		}
		if p.Carrier != trial.CarrierDocomo || p.OS != trial.OSAndroid || p.Model != "Xperia X Performance SO-04H" ||
			strings.Join(p.Accessories, "|") != "ケース|保護フィルム" || p.Notes != "貸出用1" || p.Loan != nil {
			t.Fatalf("phone = %+v", p)
		}
		s, err := l.GetDevice(ctx, "89812000123456789017")
		if err != nil {
			t.Fatal(err)
		}
		if s.Carrier != trial.CarrierKDDI || s.AppletState != trial.AppletUnknown || s.KeyVersion != 48 {
			t.Fatalf("SIM = %+v", s)
		}
		keys, err := l.SIMKeys(ctx, "8981101000000000019")
		if err != nil {
			t.Fatal(err)
		}
		if keys.KVN != 0x30 || len(keys.ENC) != 16 || keys.ENC[0] != 0x40 || keys.DEK[15] != 0x4F {
			t.Fatalf("SIM keys KVN %d ENC % X", keys.KVN, keys.ENC)
		}
		if k, _ := l.SIMKeys(ctx, "89812000123456789017"); len(k.MAC) != 32 {
			t.Fatalf("AES-256 key set read back as %d bytes", len(k.MAC))
		}
		if _, err := l.SIMKeys(ctx, "8981300000000000091"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("keys of a SIM without keys: %v", err)
		}
		printed := fmt.Sprintf("%v %+v %#v %+v", keys, keys, keys, ds)
		if strings.Contains(printed, "404142") || strings.Contains(printed, "64 65 66") || strings.Contains(printed, "[64 65") {
			t.Fatalf("keys show when printed: %s", printed)
		}

		// The same file again: every row already there, nothing added.
		_, err = l.ImportDevicesFile(ctx, "testdata/devices_utf8.csv")
		ps := importProblems(t, err)
		if len(ps) != 5 || !hasProblem(ps, 2, "imei", "already in the inventory") || !hasProblem(ps, 6, "iccid", "already in the inventory") {
			t.Fatalf("re-import problems: %v", ps)
		}
		if ds, _ := l.ListDevices(ctx, trial.DeviceFilter{}); len(ds) != 5 {
			t.Fatalf("%d devices after a refused import", len(ds))
		}
	})
}

func TestImportDevicesBadRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := newDesk(db)
		_, err := l.ImportDevicesFile(ctx, "testdata/devices_bad.csv")
		ps := importProblems(t, err)
		for _, want := range []struct {
			row           int
			field, reason string
		}{
			{2, "imei", "check digit"},
			{3, "carrier", "unknown carrier \"楽天\""},
			{4, "iccid", "Excel"},
			{5, "key_dek", "missing"},
			{6, "iccid", "also on row 5"},
			{7, "iccid", "not both"},
			{8, "os", "required for a phone"},
		} {
			if !hasProblem(ps, want.row, want.field, want.reason) {
				t.Errorf("no problem row %d %s %q in\n%v", want.row, want.field, want.reason, ps)
			}
		}
		if !strings.Contains(err.Error(), "nothing imported") {
			t.Errorf("error %q does not say nothing was imported", err)
		}
		if ds, _ := l.ListDevices(ctx, trial.DeviceFilter{}); len(ds) != 0 {
			t.Fatalf("%d devices after a refused import", len(ds))
		}
	})
}

func TestImportDevicesHeaderProblems(t *testing.T) {
	db := storetest.SQLite(t)
	l := newDesk(db)
	tb, err := trial.ReadCSV(strings.NewReader("IMEI,色,IMEI\n352099001761481,黒,\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.ImportDevices(context.Background(), tb)
	ps := importProblems(t, err)
	if !hasProblem(ps, 1, "色", "unknown column") || !hasProblem(ps, 1, "imei", "twice") || !hasProblem(ps, 1, "carrier", "column missing") {
		t.Fatalf("header problems: %v", ps)
	}
}

func TestImportDevicesShiftJISAndXLSX(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	l := newDesk(db)
	sjis, err := japanese.ShiftJIS.NewEncoder().String("IMEI,キャリア,機種,OS,付属品\n352099001761481,ソフトバンク,AQUOS,アンドロイド,充電器、ケース\n")
	if err != nil {
		t.Fatal(err)
	}
	tb, err := trial.ReadCSV(strings.NewReader(sjis))
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.ImportDevices(ctx, tb)
	if err != nil || res.Encoding != "Shift_JIS" || res.Phones != 1 {
		t.Fatalf("Shift_JIS import: %+v, %v", res, err)
	}
	d, _ := l.GetDevice(ctx, "352099001761481")
	if d.Carrier != trial.CarrierSoftBank || d.Model != "AQUOS" || strings.Join(d.Accessories, "|") != "充電器|ケース" {
		t.Fatalf("device from Shift_JIS = %+v", d)
	}

	x := excelize.NewFile()
	_ = x.SetSheetRow("Sheet1", "A1", &[]any{"ICCID", "キャリア", "KVN", "ENC", "MAC", "DEK"})
	k := "000102030405060708090a0b0c0d0e0f"
	_ = x.SetSheetRow("Sheet1", "A2", &[]any{"8981101000000000019", "docomo", 1, k, k, k})
	_ = x.SetSheetRow("Sheet1", "A3", &[]any{"8981101000000000027", "docomo", 200, k, k, k})
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		t.Fatal(err)
	}
	tb, err = trial.ReadXLSX(&buf)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.ImportDevices(ctx, tb)
	ps := importProblems(t, err)
	if len(ps) != 1 || !hasProblem(ps, 3, "key_version", "1 to 127") {
		t.Fatalf("XLSX problems: %v", ps)
	}
}
