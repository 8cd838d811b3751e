package trial

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/audit"
)

// DeviceColumns are the columns of a device import, Japanese first. A row
// is a phone when it has an IMEI and a SIM when it has an ICCID; the kind
// column, when present, must agree. A SIM's key set (version and the three
// keys in hex) is given whole or not at all.
var DeviceColumns = []ImportColumn{
	{Field: "kind", Names: []string{"種別", "区分", "kind", "type"}},
	{Field: "imei", Names: []string{"IMEI", "端末番号", "imei"}},
	{Field: "iccid", Names: []string{"ICCID", "SIM番号", "iccid"}},
	{Field: "carrier", Names: []string{"キャリア", "通信事業者", "事業者", "carrier"}, Required: true},
	{Field: "model", Names: []string{"機種", "機種名", "モデル", "model"}},
	{Field: "os", Names: []string{"OS", "os"}},
	{Field: "accessories", Names: []string{"付属品", "accessories"}},
	{Field: "applet_state", Names: []string{"アプレット状態", "アプレット", "applet_state", "applet state", "applet"}},
	{Field: "key_version", Names: []string{"鍵バージョン", "KVN", "key_version", "key version"}},
	{Field: "key_enc", Names: []string{"ENC鍵", "ENC", "key_enc"}},
	{Field: "key_mac", Names: []string{"MAC鍵", "MAC", "key_mac"}},
	{Field: "key_dek", Names: []string{"DEK鍵", "DEK", "key_dek"}},
	{Field: "notes", Names: []string{"備考", "メモ", "notes"}},
}

// DeviceImportResult says what a device import did.
type DeviceImportResult struct {
	Phones, SIMs int
	Encoding     string
}

// deviceCandidate is a parsed row of a device import.
type deviceCandidate struct {
	row  int
	d    Device
	keys *SIMKeys
}

// mapColumns matches a header to the columns: the column index (+1, 0 =
// absent) of each field, the header-less columns, and the problems of row 1.
func mapColumns(t *Table, cols []ImportColumn) (map[string]int, []int, []Problem) {
	var probs []Problem
	col := map[string]int{}
	known := map[string]string{}
	var names []string
	for _, c := range cols {
		for _, n := range c.Names {
			known[SearchKey(n)] = c.Field
		}
		names = append(names, c.Names[0]+"/"+c.Field)
	}
	var unnamed []int
	for i, h := range t.Header {
		key := SearchKey(strings.TrimPrefix(h, "\ufeff"))
		if key == "" {
			unnamed = append(unnamed, i)
			continue
		}
		f, ok := known[key]
		switch {
		case !ok:
			probs = append(probs, problem(1, h, ReasonUnknownColumn, "unknown column (known: %s)", strings.Join(names, ", ")))
		case col[f] != 0:
			probs = append(probs, problem(1, f, ReasonColumnTwice, "column given twice (column %s and column %s)", columnLetters(col[f]-1), columnLetters(i)))
		default:
			col[f] = i + 1
		}
	}
	for _, c := range cols {
		if c.Required && col[c.Field] == 0 {
			probs = append(probs, problem(1, c.Field, ReasonColumnMissing, "column missing (header %s or %s)", c.Names[0], c.Names[len(c.Names)-1]))
		}
	}
	return col, unnamed, probs
}

// parseDevices turns a table into devices without looking at the store:
// header, each row's fields, and serials repeated within the file. It is
// the part of ImportDevices a fuzzer drives.
func parseDevices(t *Table) ([]deviceCandidate, []Problem) {
	col, unnamed, probs := mapColumns(t, DeviceColumns)
	if col["imei"] == 0 && col["iccid"] == 0 {
		probs = append(probs, problem(1, "imei", ReasonColSerialMissing, "column missing: an IMEI column (phones) or an ICCID column (SIMs) is needed"))
	}
	if len(probs) > 0 {
		return nil, probs
	}
	cell := func(r TableRow, field string) string {
		i := col[field] - 1
		if i < 0 || i >= len(r.Cells) {
			return ""
		}
		return strings.TrimSpace(r.Cells[i])
	}
	seen := map[string]int{}
	cands := make([]deviceCandidate, 0, len(t.Rows))
	for _, r := range t.Rows {
		pass := func(fe FieldError) { probs = append(probs, fe.at(r.Row)) }
		add := func(field string, code ReasonCode, format string, a ...any) {
			pass(fieldErr(field, code, format, a...))
		}
		for _, i := range unnamed {
			if i < len(r.Cells) && strings.TrimSpace(r.Cells[i]) != "" {
				add(excelColumn(i), ReasonNoHeader, "value in a column without a header")
			}
		}
		for i := len(t.Header); i < len(r.Cells); i++ {
			if strings.TrimSpace(r.Cells[i]) != "" {
				add(excelColumn(i), ReasonBeyondHeader, "value beyond the last column of the header")
				break
			}
		}
		imei, iccid := NormalizeSerial(cell(r, "imei")), NormalizeSerial(cell(r, "iccid"))
		d := Device{Model: cell(r, "model"), Notes: cell(r, "notes"), Accessories: splitItems(cell(r, "accessories"))}
		switch {
		case imei != "" && iccid != "":
			add("iccid", ReasonPhoneAndSIM, "a row is a phone (IMEI) or a SIM (ICCID), not both: put the SIM on its own row")
			continue
		case imei != "":
			d.Kind, d.Serial = KindPhone, imei
		case iccid != "":
			d.Kind, d.Serial = KindSIM, iccid
		default:
			add("imei", ReasonSerialRequired, "required: the IMEI of a phone or the ICCID of a SIM")
			continue
		}
		if k := SearchKey(cell(r, "kind")); k != "" {
			var kind DeviceKind
			switch k {
			case "phone", "smartphone", "スマートフォン", "スマホ", "端末", "携帯電話":
				kind = KindPhone
			case "sim", "simカード", "usim":
				kind = KindSIM
			default:
				add("kind", ReasonDeviceKind, "unknown kind %q (phone/スマートフォン or sim)", cell(r, "kind"))
			}
			if kind != "" && kind != d.Kind {
				add("kind", ReasonKindMismatch, "says %s, but the row has an %s", kind, map[DeviceKind]string{KindPhone: "ICCID", KindSIM: "IMEI"}[kind])
			}
		}
		if c, ok := ParseCarrier(cell(r, "carrier")); ok {
			d.Carrier = c
		} else if cell(r, "carrier") == "" {
			add("carrier", ReasonCarrierRequired, "required (docomo, KDDI/au, SoftBank or MVNO)")
		} else {
			add("carrier", ReasonCarrier, "unknown carrier %q (docomo, KDDI/au, SoftBank or MVNO)", cell(r, "carrier"))
		}
		if s := cell(r, "os"); s != "" {
			if o, ok := ParseOS(s); ok {
				d.OS = o
			} else {
				add("os", ReasonOSUnknown, "unknown OS %q (android or ios)", s)
			}
		}
		if s := cell(r, "applet_state"); s != "" {
			if st, ok := ParseAppletState(s); ok {
				d.AppletState = st
			} else {
				add("applet_state", ReasonAppletState, "unknown applet state %q (blank, provisioned, wiped or unknown)", s)
			}
		}
		var keys *SIMKeys
		kv, enc, mac, dek := cell(r, "key_version"), cell(r, "key_enc"), cell(r, "key_mac"), cell(r, "key_dek")
		if kv != "" || enc != "" || mac != "" || dek != "" {
			keys = &SIMKeys{}
			ok := true
			if d.Kind != KindSIM {
				add("key_version", ReasonKeysSIMOnly, "only SIMs have SCP03 keys")
				ok = false
			}
			for _, f := range []struct {
				name, v string
				dst     *[]byte
			}{{"key_enc", enc, &keys.ENC}, {"key_mac", mac, &keys.MAC}, {"key_dek", dek, &keys.DEK}} {
				if f.v == "" {
					add(f.name, ReasonKeysetIncomplete, "missing: a key set is version, ENC, MAC and DEK together")
					ok = false
					continue
				}
				b, bad := parseHexKey(f.v)
				if bad != nil {
					pass(bad.on(f.name))
					ok = false
					continue
				}
				*f.dst = b
			}
			if kv == "" {
				add("key_version", ReasonKeysetIncomplete, "missing: a key set is version, ENC, MAC and DEK together")
				ok = false
			} else if n, bad := parseKVN(kv); bad != nil {
				pass(bad.on("key_version"))
				ok = false
			} else {
				keys.KVN = n
			}
			if ok {
				if err := keys.Validate(); err != nil {
					for _, fe := range err.(FieldErrors) {
						pass(fe)
					}
				} else {
					d.KeyVersion = keys.KVN
				}
			}
		}
		d.Normalize()
		if err := d.Validate(); err != nil {
			for _, fe := range err.(FieldErrors) {
				if fe.Field == "applet_state" && keys != nil && d.Kind != KindSIM {
					continue // already said
				}
				pass(fe)
			}
		}
		if prev, dup := seen[d.Serial]; dup {
			add(serialField(d.Kind), ReasonSerialDupRow, "%s is also on row %d", d.Serial, prev)
		} else {
			seen[d.Serial] = r.Row
		}
		cands = append(cands, deviceCandidate{row: r.Row, d: d, keys: keys})
	}
	return cands, probs
}

// ImportDevicesFile imports devices from a .xlsx file or, for any other
// name, a CSV file (UTF-8 or Shift_JIS). See ImportDevices.
func (l *Loans) ImportDevicesFile(ctx context.Context, path string) (DeviceImportResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return DeviceImportResult{}, err
	}
	defer f.Close()
	var t *Table
	if strings.EqualFold(filepath.Ext(path), ".xlsx") {
		t, err = ReadXLSX(f)
	} else {
		t, err = ReadCSV(f)
	}
	if err != nil {
		return DeviceImportResult{}, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return l.importDevices(ctx, t, filepath.Base(path))
}

// ImportDevices checks every row and, only if all are good, adds them in
// one transaction. A bad file returns an *ImportError with every problem by
// Excel row (bad IMEI/ICCID check digits, unknown carriers, half key sets,
// serials repeated or already in the inventory) and adds nothing. The
// transaction records one "device.import" audit entry with the counts.
func (l *Loans) ImportDevices(ctx context.Context, t *Table) (DeviceImportResult, error) {
	return l.importDevices(ctx, t, "")
}

func (l *Loans) importDevices(ctx context.Context, t *Table, file string) (DeviceImportResult, error) {
	res := DeviceImportResult{Encoding: t.Encoding}
	ctx = audit.Default(ctx, l.Actor)
	cands, probs := parseDevices(t)
	if len(probs) > 0 {
		return res, &ImportError{Problems: probs}
	}
	if len(cands) == 0 {
		return res, fmt.Errorf("the file has a header but no devices")
	}
	now := l.now()
	err := l.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		// Serials already in the inventory are problems of their rows. The
		// check is inside the transaction and the UNIQUE column backs it.
		var have []string
		if err := tx.SelectContext(ctx, &have, "SELECT serial FROM devices"); err != nil {
			return err
		}
		exists := make(map[string]bool, len(have))
		for _, s := range have {
			exists[s] = true
		}
		for _, c := range cands {
			if exists[c.d.Serial] {
				probs = append(probs, problem(c.row, serialField(c.d.Kind), ReasonSerialTaken, "%s is already in the inventory", c.d.Serial))
			}
		}
		if len(probs) > 0 {
			return &ImportError{Problems: probs}
		}
		for i := range cands {
			if err := ctx.Err(); err != nil {
				return err
			}
			c := &cands[i]
			c.d.CreatedAt = now
			if err := insertDevice(ctx, tx, &c.d, c.keys); err != nil {
				if fe, ok := err.(FieldErrors); ok {
					return &ImportError{Problems: []Problem{fe[0].at(c.row)}}
				}
				return fmt.Errorf("row %d: %w", c.row, err)
			}
			if c.d.Kind == KindPhone {
				res.Phones++
			} else {
				res.SIMs++
			}
		}
		detail := fmt.Sprintf("%d phones, %d SIMs", res.Phones, res.SIMs)
		if file != "" {
			detail += " from " + file
		}
		return audit.Record(ctx, tx, auditDeviceImport, "inventory", detail)
	})
	if err != nil {
		if _, ok := err.(*ImportError); ok {
			return DeviceImportResult{Encoding: t.Encoding}, err
		}
		return DeviceImportResult{Encoding: t.Encoding}, fmt.Errorf("import: nothing imported: %w", err)
	}
	return res, nil
}
