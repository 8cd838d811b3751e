package trial

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/store"
)

// DeviceKind says whether a device is a smartphone or a SIM.
type DeviceKind string

const (
	KindPhone DeviceKind = "phone"
	KindSIM   DeviceKind = "sim"
)

// Carrier is the mobile network a phone or SIM belongs to.
type Carrier string

const (
	CarrierDocomo   Carrier = "docomo"
	CarrierKDDI     Carrier = "kddi" // KDDI / au
	CarrierSoftBank Carrier = "softbank"
	CarrierMVNO     Carrier = "mvno"
)

// Carriers lists every carrier in display order.
var Carriers = []Carrier{CarrierDocomo, CarrierKDDI, CarrierSoftBank, CarrierMVNO}

// OS is a phone's operating system: it decides the provisioning path
// (Android: key on the SIM applet; iOS: key in the Keychain).
type OS string

const (
	OSAndroid OS = "android"
	OSiOS     OS = "ios"
)

// AppletState is where a SIM's JPKI applet is: blank (nothing written),
// provisioned (key and certificate of a monitor), wiped (after a return),
// or unknown (a flow was interrupted; check over the secure channel).
type AppletState string

const (
	AppletBlank       AppletState = "blank"
	AppletProvisioned AppletState = "provisioned"
	AppletWiped       AppletState = "wiped"
	AppletUnknown     AppletState = "unknown"
)

// AppletStates lists every applet state.
var AppletStates = []AppletState{AppletBlank, AppletProvisioned, AppletWiped, AppletUnknown}

// Device is a phone or a SIM of the lending pool. A SIM's SCP03 keys are
// never part of a Device: Loans.SIMKeys reads them for the provisioning
// flow alone, so no list or export can show them.
type Device struct {
	ID          int64
	Kind        DeviceKind
	Serial      string // IMEI of a phone, ICCID of a SIM
	Carrier     Carrier
	Model       string
	OS          OS // phones only
	Accessories []string
	AppletState AppletState // SIMs only
	KeyVersion  int         // SIMs: the SCP03 key version on file, 0 for none
	Notes       string
	CreatedAt   time.Time
	// Loan is the open loan holding the device, nil when it is free.
	Loan *LoanRef
}

// LoanRef names the open loan a device is out on.
type LoanRef struct {
	ID        int64
	MonitorID string
	DueOn     string
}

// SIMKeys is a SIM's SCP03 static key set. Printing it shows no key bytes.
type SIMKeys struct {
	KVN           int
	ENC, MAC, DEK []byte
}

func (k SIMKeys) String() string {
	return fmt.Sprintf("SCP03 keys KVN %d (AES-%d, redacted)", k.KVN, 8*len(k.ENC))
}

// GoString keeps %#v from printing the keys.
func (k SIMKeys) GoString() string { return k.String() }

// Validate checks the version (1..127) and the key lengths (16, 24 or 32
// bytes, all three alike).
func (k SIMKeys) Validate() error {
	var es FieldErrors
	if k.KVN < 1 || k.KVN > 127 {
		es.add("key_version", ReasonKVNRange, "must be 1 to 127, got %d", k.KVN)
	}
	n := len(k.ENC)
	for _, f := range []struct {
		name string
		key  []byte
	}{{"key_enc", k.ENC}, {"key_mac", k.MAC}, {"key_dek", k.DEK}} {
		switch l := len(f.key); {
		case l != 16 && l != 24 && l != 32:
			es.add(f.name, ReasonAESKeyLength, "an AES key is 16, 24 or 32 bytes (32, 48 or 64 hex digits), got %d bytes", l)
		case l != n && f.name != "key_enc":
			es.add(f.name, ReasonKeyLengthsDiffer, "%d bytes, but key_enc is %d: a key set has one length", l, n)
		}
	}
	return es.err()
}

// Luhn reports whether a string of digits ends in a valid Luhn check digit.
func Luhn(digits string) bool {
	if len(digits) < 2 {
		return false
	}
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if d < 0 || d > 9 {
			return false
		}
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// NormalizeSerial folds full-width digits and drops the spaces and hyphens
// people type between groups ("35-209900-176148-1").
func NormalizeSerial(s string) string {
	s = fold(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u00a0' {
			return -1
		}
		return r
	}, s)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// CheckIMEI explains what is wrong with an IMEI (normalised) in a
// *ReasonError, nil if it is 15 digits with a valid Luhn check digit.
func CheckIMEI(imei string) error { return checkIMEI(imei).err() }

func checkIMEI(imei string) *ReasonError {
	switch {
	case strings.ContainsAny(imei, "Ee") && strings.Contains(imei, "+"):
		return reasonf(ReasonExcelShortened, "%q looks like a number Excel shortened: format the column as text", imei)
	case !allDigits(imei):
		return reasonf(ReasonIMEIDigits, "an IMEI is 15 digits, got %q", imei)
	case len(imei) != 15:
		return reasonf(ReasonIMEILength, "an IMEI is 15 digits, got %d", len(imei))
	case !Luhn(imei):
		return reasonf(ReasonIMEILuhn, "IMEI %s: the check digit (last) is wrong (Luhn): a typing error?", imei)
	}
	return nil
}

// CheckICCID explains what is wrong with an ICCID (normalised) in a
// *ReasonError, nil if it is 19 or 20 digits starting with 89
// (telecommunications, ITU-T E.118) with a valid Luhn check digit.
func CheckICCID(iccid string) error { return checkICCID(iccid).err() }

func checkICCID(iccid string) *ReasonError {
	switch {
	case strings.ContainsAny(iccid, "Ee") && strings.Contains(iccid, "+"):
		return reasonf(ReasonExcelShortened, "%q looks like a number Excel shortened (ICCIDs are too long for Excel numbers): format the column as text", iccid)
	case !allDigits(iccid):
		return reasonf(ReasonICCIDDigits, "an ICCID is 19 or 20 digits, got %q", iccid)
	case len(iccid) != 19 && len(iccid) != 20:
		return reasonf(ReasonICCIDLength, "an ICCID is 19 or 20 digits, got %d", len(iccid))
	case !strings.HasPrefix(iccid, "89"):
		return reasonf(ReasonICCIDPrefix, "ICCID %s does not start with 89 (telecommunications)", iccid)
	case !Luhn(iccid):
		return reasonf(ReasonICCIDLuhn, "ICCID %s: the check digit (last) is wrong (Luhn): a typing error?", iccid)
	}
	return nil
}

// ParseCarrier reads the spellings on Japanese inventories: ドコモ, NTT
// docomo, au, KDDI, KDDI/au, ソフトバンク, SoftBank, MVNO, 格安SIM.
func ParseCarrier(s string) (Carrier, bool) {
	k := SearchKey(s)
	switch k {
	case "docomo", "ドコモ", "nttdocomo", "nttドコモ":
		return CarrierDocomo, true
	case "kddi", "au", "kddi/au", "au/kddi", "kddi(au)", "エーユー":
		return CarrierKDDI, true
	case "softbank", "ソフトバンク", "sb":
		return CarrierSoftBank, true
	case "mvno", "格安sim":
		return CarrierMVNO, true
	}
	return "", false
}

// ParseOS reads android / アンドロイド and ios / iphone / アイフォーン.
func ParseOS(s string) (OS, bool) {
	switch SearchKey(s) {
	case "android", "アンドロイド":
		return OSAndroid, true
	case "ios", "iphone", "アイフォーン", "アイフォン":
		return OSiOS, true
	}
	return "", false
}

// ParseAppletState reads blank/未書込, provisioned/書込済, wiped/消去済,
// unknown/不明.
func ParseAppletState(s string) (AppletState, bool) {
	switch SearchKey(s) {
	case "blank", "未書込", "未書き込み", "空":
		return AppletBlank, true
	case "provisioned", "書込済", "書き込み済み", "発行済":
		return AppletProvisioned, true
	case "wiped", "消去済", "消去済み":
		return AppletWiped, true
	case "unknown", "不明":
		return AppletUnknown, true
	}
	return "", false
}

// splitItems reads a list of items typed in one cell or flag: separated by
// commas, 、, ; or new lines; empty items and repeats dropped.
func splitItems(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '、' || r == ';' || r == '\n' || r == '，' || r == '；'
	}) {
		p = collapseSpaces(p)
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// SplitItems is splitItems for the command line and screens.
func SplitItems(s string) []string { return splitItems(s) }

// items are stored one per line.
func joinItems(items []string) string { return strings.Join(items, "\n") }

func parseItems(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// parseHexKey reads a key typed in hex, with spaces or colons between bytes.
func parseHexKey(s string) ([]byte, *ReasonError) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == ':' || r == '-' {
			return -1
		}
		return r
	}, fold(strings.TrimSpace(s)))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, reasonf(ReasonNotHex, "not hexadecimal (0-9, A-F)")
	}
	return b, nil
}

// parseKVN reads a key version number: decimal (48) or hex (0x30, 30h).
func parseKVN(s string) (int, *ReasonError) {
	s = strings.ToLower(fold(strings.TrimSpace(s)))
	var v int64
	var err error
	switch {
	case strings.HasPrefix(s, "0x"):
		v, err = strconv.ParseInt(s[2:], 16, 32)
	case strings.HasSuffix(s, "h"):
		v, err = strconv.ParseInt(s[:len(s)-1], 16, 32)
	default:
		v, err = strconv.ParseInt(s, 10, 32)
	}
	if err != nil {
		return 0, reasonf(ReasonKVNSyntax, "not a key version number: %q", s)
	}
	return int(v), nil
}

// Normalize tidies a device typed by a person.
func (d *Device) Normalize() {
	d.Serial = NormalizeSerial(d.Serial)
	d.Model = collapseSpaces(d.Model)
	d.Notes = strings.TrimSpace(d.Notes)
	d.Accessories = splitItems(strings.Join(d.Accessories, ","))
	if d.Kind == KindSIM && d.AppletState == "" {
		d.AppletState = AppletUnknown
	}
}

// Validate checks a device's own fields.
func (d *Device) Validate() error {
	var es FieldErrors
	switch d.Kind {
	case KindPhone:
		if r := checkIMEI(d.Serial); r != nil {
			es = append(es, r.on("imei"))
		}
		if d.OS != OSAndroid && d.OS != OSiOS {
			es.add("os", ReasonOSRequired, "required for a phone: android or ios (got %q)", d.OS)
		}
		if d.AppletState != "" || d.KeyVersion != 0 {
			es.add("applet_state", ReasonAppletSIMOnly, "only SIMs have an applet and keys")
		}
	case KindSIM:
		if r := checkICCID(d.Serial); r != nil {
			es = append(es, r.on("iccid"))
		}
		if d.OS != "" {
			es.add("os", ReasonSIMNoOS, "a SIM has no OS")
		}
		known := false
		for _, s := range AppletStates {
			known = known || s == d.AppletState
		}
		if !known {
			es.add("applet_state", ReasonAppletState, "unknown applet state %q (blank, provisioned, wiped or unknown)", d.AppletState)
		}
	default:
		es.add("kind", ReasonDeviceKind, "unknown kind %q (phone or sim)", d.Kind)
	}
	known := false
	for _, c := range Carriers {
		known = known || c == d.Carrier
	}
	if !known {
		es.add("carrier", ReasonCarrier, "unknown carrier %q (docomo, KDDI/au, SoftBank or MVNO)", d.Carrier)
	}
	if utf8.RuneCountInString(d.Model) > maxName {
		es.add("model", ReasonTooLong, "longer than %d characters", maxName)
	}
	if utf8.RuneCountInString(joinItems(d.Accessories)) > maxText {
		es.add("accessories", ReasonTooLong, "longer than %d characters", maxText)
	}
	if utf8.RuneCountInString(d.Notes) > maxText {
		es.add("notes", ReasonTooLong, "longer than %d characters", maxText)
	}
	return es.err()
}

// --- store ---------------------------------------------------------------

// deviceRow is a devices row without its keys.
type deviceRow struct {
	ID          int64          `db:"id"`
	Kind        string         `db:"kind"`
	Serial      string         `db:"serial"`
	Carrier     string         `db:"carrier"`
	Model       string         `db:"model"`
	OS          string         `db:"os"`
	Accessories string         `db:"accessories"`
	AppletState string         `db:"applet_state"`
	KeyVersion  sql.NullInt64  `db:"key_version"`
	Notes       string         `db:"notes"`
	CreatedAt   time.Time      `db:"created_at"`
	LoanID      sql.NullInt64  `db:"loan_id"`
	LoanMonitor sql.NullString `db:"loan_monitor"`
	LoanDue     sql.NullString `db:"loan_due"`
}

func (r deviceRow) device() Device {
	d := Device{ID: r.ID, Kind: DeviceKind(r.Kind), Serial: r.Serial, Carrier: Carrier(r.Carrier), Model: r.Model,
		OS: OS(r.OS), Accessories: parseItems(r.Accessories), AppletState: AppletState(r.AppletState),
		KeyVersion: int(r.KeyVersion.Int64), Notes: r.Notes, CreatedAt: r.CreatedAt}
	if r.LoanID.Valid {
		d.Loan = &LoanRef{ID: r.LoanID.Int64, MonitorID: r.LoanMonitor.String, DueOn: r.LoanDue.String}
	}
	return d
}

// deviceSelect never names the key columns.
const deviceSelect = `SELECT d.id, d.kind, d.serial, d.carrier, d.model, d.os, d.accessories, d.applet_state,
	d.key_version, d.notes, d.created_at, l.id AS loan_id, l.monitor_id AS loan_monitor, l.due_on AS loan_due
	FROM devices d LEFT JOIN loans l ON l.in_at IS NULL AND (l.phone_id = d.id OR l.sim_id = d.id)`

// DeviceFilter selects devices; zero fields select everything.
type DeviceFilter struct {
	Kind DeviceKind
	Free bool // only devices not on loan
}

// ListDevices returns devices, phones first, each kind by serial.
func (l *Loans) ListDevices(ctx context.Context, f DeviceFilter) ([]Device, error) {
	q := deviceSelect + " WHERE 1 = 1"
	var args []any
	if f.Kind != "" {
		q += " AND d.kind = ?"
		args = append(args, f.Kind)
	}
	if f.Free {
		q += " AND l.id IS NULL"
	}
	q += " ORDER BY d.kind, d.serial"
	var rows []deviceRow
	if err := l.DB.SelectContext(ctx, &rows, l.DB.Rebind(q), args...); err != nil {
		return nil, store.MapErr(err)
	}
	out := make([]Device, len(rows))
	for i, r := range rows {
		out[i] = r.device()
	}
	return out, nil
}

// GetDevice finds a device by IMEI or ICCID (as typed; spaces and hyphens
// ignored), or an error wrapping store.ErrNotFound.
func (l *Loans) GetDevice(ctx context.Context, serial string) (Device, error) {
	serial = NormalizeSerial(serial)
	var r deviceRow
	err := l.DB.GetContext(ctx, &r, l.DB.Rebind(deviceSelect+" WHERE d.serial = ?"), serial)
	if err != nil {
		return Device{}, fmt.Errorf("device %s: %w", serial, store.MapErr(err))
	}
	return r.device(), nil
}

// AddDevice validates and saves one device, with its key set for a SIM
// (keys may be nil: added later by a new import).
func (l *Loans) AddDevice(ctx context.Context, d Device, keys *SIMKeys) (Device, error) {
	d.Normalize()
	if keys != nil {
		d.KeyVersion = keys.KVN
	}
	if err := d.Validate(); err != nil {
		return Device{}, err
	}
	if keys != nil {
		if d.Kind != KindSIM {
			return Device{}, FieldErrors{fieldErr("key_version", ReasonKeysSIMOnly, "only SIMs have SCP03 keys")}
		}
		if err := keys.Validate(); err != nil {
			return Device{}, err
		}
	}
	d.CreatedAt = l.now()
	ctx = audit.Default(ctx, l.Actor)
	err := l.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		if err := insertDevice(ctx, tx, &d, keys); err != nil {
			return err
		}
		detail := string(d.Kind)
		if keys != nil {
			detail += fmt.Sprintf(", SCP03 key set version %d", keys.KVN)
		}
		return audit.Record(ctx, tx, auditDeviceAdd, d.Serial, detail)
	})
	if err != nil {
		return Device{}, fmt.Errorf("add device: %w", err)
	}
	return d, nil
}

func insertDevice(ctx context.Context, tx *sqlx.Tx, d *Device, keys *SIMKeys) error {
	var kvn any
	var enc, mac, dek []byte
	if keys != nil {
		kvn, enc, mac, dek = keys.KVN, keys.ENC, keys.MAC, keys.DEK
	}
	err := insertReturningID(ctx, tx, &d.ID, `INSERT INTO devices (kind, serial, carrier, model, os, accessories,
		applet_state, key_version, key_enc, key_mac, key_dek, notes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Kind, d.Serial, d.Carrier, d.Model, d.OS, joinItems(d.Accessories), d.AppletState, kvn, enc, mac, dek, d.Notes, d.CreatedAt)
	if store.IsUniqueViolation(err) {
		return FieldErrors{fieldErr(serialField(d.Kind), ReasonSerialTaken, "%s is already in the inventory", d.Serial)}
	}
	return err
}

func serialField(k DeviceKind) string {
	if k == KindSIM {
		return "iccid"
	}
	return "imei"
}

// SIMKeys returns the SCP03 key set of a SIM for the provisioning flow, or
// an error wrapping store.ErrNotFound when the SIM or its keys are missing.
func (l *Loans) SIMKeys(ctx context.Context, iccid string) (SIMKeys, error) {
	iccid = NormalizeSerial(iccid)
	var r struct {
		KVN sql.NullInt64 `db:"key_version"`
		ENC []byte        `db:"key_enc"`
		MAC []byte        `db:"key_mac"`
		DEK []byte        `db:"key_dek"`
	}
	err := l.DB.GetContext(ctx, &r, l.DB.Rebind(
		"SELECT key_version, key_enc, key_mac, key_dek FROM devices WHERE kind = 'sim' AND serial = ?"), iccid)
	if err != nil {
		return SIMKeys{}, fmt.Errorf("SIM %s: %w", iccid, store.MapErr(err))
	}
	if !r.KVN.Valid {
		return SIMKeys{}, fmt.Errorf("SIM %s has no SCP03 keys on file: %w", iccid, store.ErrNotFound)
	}
	return SIMKeys{KVN: int(r.KVN.Int64), ENC: r.ENC, MAC: r.MAC, DEK: r.DEK}, nil
}

// SetAppletState records where a SIM's applet is now; the provisioning
// flow calls it after each step it completes.
func (l *Loans) SetAppletState(ctx context.Context, iccid string, st AppletState) error {
	if _, ok := ParseAppletState(string(st)); !ok {
		return FieldErrors{fieldErr("applet_state", ReasonAppletState, "unknown applet state %q", st)}
	}
	iccid = NormalizeSerial(iccid)
	return l.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind("UPDATE devices SET applet_state = ? WHERE kind = 'sim' AND serial = ?"), st, iccid)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("SIM %s: %w", iccid, store.ErrNotFound)
		}
		return nil
	})
}
