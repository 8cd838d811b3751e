package audit

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"jpkipilot/trial/csvcell"
	"jpkipilot/trial/store"
)

// Sheet names of the audit workbook.
const (
	SheetReadme = "README"
	SheetLog    = "Log"
)

// ExportOptions select what an export holds and how it is labelled.
type ExportOptions struct {
	Filter Filter
	// By names who exports, for the README sheet; empty: the actor in ctx.
	By string
	// Location is the time zone of the Log sheet's times and the CSV's;
	// nil: time.Local. (Excel date-times carry no zone: README names it.)
	Location *time.Location
}

// ExportResult is what an export wrote.
type ExportResult struct {
	At      time.Time // when the export ran (its own audit entry is recorded just before)
	Entries int       // rows written
	Chain   Report    // Verify of the whole log at the time of the export
}

// ExportColumns are the Log sheet's and the CSV's columns.
var ExportColumns = []string{"seq", "time", "actor", "action", "action_ja", "action_en", "subject", "detail", "prev_hash", "hash"}

// prepare records the export itself (an export is an audited action, and
// this one then appears in its own file), verifies the chain and reads the
// entries the filter selects, up to the head Verify saw, so the README's
// head hash and the rows agree even while another laptop appends.
func prepare(ctx context.Context, db *store.DB, o *ExportOptions, format string) (ExportResult, []Entry, error) {
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.By == "" {
		o.By = ActorFrom(ctx)
	}
	var res ExportResult
	res.At = Now().UTC().Truncate(time.Microsecond)
	if err := RecordNow(ctx, db, Export, "audit log", fmt.Sprintf("audit log as %s, pseudonymous, filter: %s", format, describeFilter(o.Filter, o.Location))); err != nil {
		return res, nil, fmt.Errorf("audit export: %w", err)
	}
	var err error
	if res.Chain, err = Verify(ctx, db); err != nil {
		return res, nil, fmt.Errorf("audit export: %w", err)
	}
	es, err := List(ctx, db, o.Filter)
	if err != nil {
		return res, nil, fmt.Errorf("audit export: %w", err)
	}
	for i, e := range es {
		if e.Seq > res.Chain.HeadSeq {
			es = es[:i]
			break
		}
	}
	res.Entries = len(es)
	return res, es, nil
}

func describeFilter(f Filter, loc *time.Location) string {
	var parts []string
	if f.Action != "" {
		parts = append(parts, "action="+f.Action)
	}
	if f.Subject != "" {
		parts = append(parts, "subject="+f.Subject)
	}
	if !f.From.IsZero() {
		parts = append(parts, "from="+f.From.In(loc).Format(time.RFC3339))
	}
	if !f.Until.IsZero() {
		parts = append(parts, "until="+f.Until.In(loc).Format(time.RFC3339))
	}
	if f.Limit > 0 {
		parts = append(parts, "limit="+strconv.Itoa(f.Limit))
	}
	if len(parts) == 0 {
		return "none (every entry)"
	}
	return strings.Join(parts, " ")
}

// ChainStatus is the one-line verdict the README and `audit verify` print.
func (r Report) ChainStatus() string {
	if r.OK() {
		return fmt.Sprintf("OK: %d entries, head %s", r.Entries, r.HeadHash)
	}
	return fmt.Sprintf("BROKEN: %d problems in %d entries (head %d %s)", len(r.Problems), r.Entries, r.HeadSeq, r.HeadHash)
}

// ExportXLSX writes the audit log to w as an Excel workbook: a README sheet
// (export time, who, filter, entry count, chain status and head hash) and a
// Log sheet with one typed row per entry (seq a number, time an Excel
// date-time in o.Location). The export is itself recorded first. The
// workbook is streamed: on an error w holds part of it.
func ExportXLSX(ctx context.Context, db *store.DB, w io.Writer, o ExportOptions) (ExportResult, error) {
	res, es, err := prepare(ctx, db, &o, "xlsx")
	if err != nil {
		return res, err
	}
	x := excelize.NewFile()
	defer x.Close()
	if err := x.SetSheetName("Sheet1", SheetReadme); err != nil {
		return res, err
	}
	if _, err := x.NewSheet(SheetLog); err != nil {
		return res, err
	}
	bold, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}})
	if err != nil {
		return res, err
	}
	timeFmt := "yyyy-mm-dd hh:mm:ss"
	dt, err := x.NewStyle(&excelize.Style{CustomNumFmt: &timeFmt})
	if err != nil {
		return res, err
	}

	rd, err := x.NewStreamWriter(SheetReadme)
	if err != nil {
		return res, err
	}
	_ = rd.SetColWidth(1, 1, 22)
	_ = rd.SetColWidth(2, 2, 90)
	zone, _ := res.At.In(o.Location).Zone()
	readme := [][]any{
		{excelize.Cell{StyleID: bold, Value: "jpkipilot audit log / 監査ログ"}},
		{"exported at", excelize.Cell{StyleID: dt, Value: res.At.In(o.Location)}},
		{"time zone", fmt.Sprintf("%s (%s); every time on the Log sheet is in this zone", o.Location, zone)},
		{"exported by", o.By},
		{"filter", describeFilter(o.Filter, o.Location)},
		{"entries", res.Entries},
		{"chain", res.Chain.ChainStatus()},
		{"entries in the log", res.Chain.Entries},
		{"head seq", res.Chain.HeadSeq},
		{"head hash", res.Chain.HeadHash},
		{"note", "Entries hold no personal data: subjects are pseudonymous ids, logins and serials. " +
			"Each entry's hash covers the previous entry's hash; write the head hash into the trial report to pin the log."},
	}
	for _, p := range res.Chain.Problems {
		readme = append(readme, []any{"problem", p.String()})
	}
	for i, row := range readme {
		if err := rd.SetRow(cellName(1, i+1), row); err != nil {
			return res, err
		}
	}
	if err := rd.Flush(); err != nil {
		return res, err
	}

	sw, err := x.NewStreamWriter(SheetLog)
	if err != nil {
		return res, err
	}
	for i, wd := range []float64{7, 20, 16, 18, 22, 24, 36, 40, 20, 20} {
		_ = sw.SetColWidth(i+1, i+1, wd)
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return res, err
	}
	hdr := make([]any, len(ExportColumns))
	for i, c := range ExportColumns {
		hdr[i] = excelize.Cell{StyleID: bold, Value: c}
	}
	if err := sw.SetRow("A1", hdr, excelize.RowOpts{Height: 18}); err != nil {
		return res, err
	}
	for i, e := range es {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		row := []any{e.Seq, excelize.Cell{StyleID: dt, Value: e.At.In(o.Location)}, e.Actor, e.Action,
			ActionLabel(e.Action, "ja"), ActionLabel(e.Action, "en"), e.Subject, e.Detail, e.PrevHash, e.Hash}
		if err := sw.SetRow(cellName(1, i+2), row); err != nil {
			return res, err
		}
	}
	if err := sw.Flush(); err != nil {
		return res, err
	}
	if err := x.Write(w); err != nil {
		return res, err
	}
	return res, nil
}

func cellName(col, row int) string {
	c, _ := excelize.CoordinatesToCellName(col, row)
	return c
}

// ExportCSV writes the entries as CSV (UTF-8 with a BOM, so Excel reads the
// Japanese labels) with ExportColumns as the header. Times are RFC 3339 with
// microseconds in o.Location: exact, so an entry's hash can be recomputed
// from the file. A cell that a spreadsheet would take for a formula (=, +,
// -, @ first) is prefixed with an apostrophe. The chain status is in the
// result (a CSV has no README); the export is itself recorded first.
func ExportCSV(ctx context.Context, db *store.DB, w io.Writer, o ExportOptions) (ExportResult, error) {
	res, es, err := prepare(ctx, db, &o, "csv")
	if err != nil {
		return res, err
	}
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return res, err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(ExportColumns); err != nil {
		return res, err
	}
	for _, e := range es {
		rec := []string{strconv.FormatInt(e.Seq, 10), e.At.In(o.Location).Format("2006-01-02T15:04:05.000000Z07:00"),
			csvcell.Safe(e.Actor), e.Action, ActionLabel(e.Action, "ja"), ActionLabel(e.Action, "en"),
			csvcell.Safe(e.Subject), csvcell.Safe(e.Detail), e.PrevHash, e.Hash}
		if err := cw.Write(rec); err != nil {
			return res, err
		}
	}
	cw.Flush()
	return res, cw.Error()
}

var actionLabels = map[string][2]string{
	Login:             {"ログイン", "logged in"},
	LoginFailed:       {"ログイン失敗", "failed login"},
	Logout:            {"ログアウト", "logged out"},
	SessionLocked:     {"セッションロック", "session locked"},
	StaffCreate:       {"スタッフ登録", "staff account created"},
	StaffUpdate:       {"スタッフ変更", "staff account changed"},
	StaffDisable:      {"スタッフ無効化", "staff account disabled"},
	StaffPassword:     {"パスワード変更", "password changed"},
	StaffPIN:          {"スタッフPIN設定", "staff PIN set"},
	DataKeyRotate:     {"データ鍵の更新", "data key rotated"},
	MonitorEnrol:      {"モニター登録", "monitor enrolled"},
	MonitorEdit:       {"モニター編集", "monitor edited"},
	MonitorStatus:     {"モニター状態変更", "monitor status changed"},
	MonitorConsent:    {"同意の変更", "consent changed"},
	MonitorWithdraw:   {"参加辞退", "monitor withdrew"},
	MonitorDelete:     {"モニター削除", "monitor deleted"},
	MonitorImport:     {"モニター取込", "monitors imported"},
	RetentionPurge:    {"保存期限による消去", "retention purge"},
	Export:            {"エクスポート", "exported"},
	CAInit:            {"CA初期化", "CA initialised"},
	CAKeyUse:          {"CA秘密鍵の使用", "CA private key used"},
	CertIssue:         {"証明書発行", "certificate issued"},
	CertRevoke:        {"証明書失効", "certificate revoked"},
	CRLPublish:        {"CRL発行", "CRL published"},
	LoanCheckout:      {"端末貸出", "device lent"},
	LoanReturn:        {"端末返却", "device returned"},
	LoanEvent:         {"貸出記録", "loan event"},
	KioskLeave:        {"キオスク終了", "kiosk left"},
	KioskLeaveRefused: {"キオスク終了拒否", "kiosk leave refused"},
	TrialCreate:       {"試行の作成", "trial created"},
	TrialRetention:    {"保存期限の設定", "retention date set"},
	DeviceAdd:         {"端末登録", "device added"},
	DeviceImport:      {"端末取込", "devices imported"},
	TokenIssue:        {"CLIログイン", "command-line session opened"},
	TokenRevoke:       {"CLIログアウト", "command-line session closed"},
}

// ActionLabel is a reader's name for action in lang ("ja" or "en"); an
// action without a label is returned as it is.
func ActionLabel(action, lang string) string {
	l, ok := actionLabels[action]
	if !ok {
		return action
	}
	if lang == "en" {
		return l[1]
	}
	return l[0]
}
