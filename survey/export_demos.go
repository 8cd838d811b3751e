package survey

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/xuri/excelize/v2"

	"jpkipilot/assets"
	"jpkipilot/trial/bank"
	"jpkipilot/trial/store"
)

// The demo stations' logs, when the store has any: every entry-gate
// decision and every bank registration or login attempt.
const (
	SheetGate      = "Gate"
	SheetBankLogin = "BankLogin"
)

// GateHeader is the first row of the Gate sheet.
var GateHeader = []string{"decision_id", "detected_at", "event_id", "event_name", "gate", "monitor_id", "trial_id", "ticket_id",
	"method", "method_label", "decision", "reason", "reason_label", "decision_ms", "apdus", "crl_age_s"}

// BankLoginHeader is the first row of the BankLogin sheet's attempts table.
var BankLoginHeader = []string{"attempt_id", "started_at", "trial_id", "monitor_id", "kind", "method", "method_label",
	"ok", "reason", "reason_label", "duration_ms", "tries"}

// BankSummaryHeader heads the login summary table beside the attempts (one
// row per trial and method, logins only, as the bank page shows it).
var BankSummaryHeader = []string{"summary_trial_id", "summary_method", "summary_method_label", "logins", "successes",
	"success_pct", "median_ms"}

// gateRow is one gate decision. The monitor is the holder of the trial
// CA's certificate the decision read; a real JPKI card's certificate names
// no monitor.
type gateRow struct {
	ID         int64         `db:"id"`
	EventID    string        `db:"event_id"`
	EventName  string        `db:"event_name"`
	Gate       string        `db:"gate"`
	DetectedAt time.Time     `db:"detected_at"`
	Method     string        `db:"method"`
	Admitted   bool          `db:"admitted"`
	Reason     string        `db:"reason"`
	TicketID   sql.NullInt64 `db:"ticket_id"`
	CRLAgeS    int64         `db:"crl_age_s"`
	DecisionUS int64         `db:"decision_us"`
	APDUs      int64         `db:"apdus"`
	MonitorID  string        `db:"monitor_id"`
	TrialID    sql.NullInt64 `db:"trial_id"`
}

// readGate reads the gate decisions. Decisions of monitors who withdrew are
// left out; with a trial filter, so are decisions no monitor of the trial
// can be tied to (a certificate not issued by the trial CA).
func readGate(ctx context.Context, rd reader, f Filter) ([]gateRow, error) {
	q := `SELECT g.id, g.event_id, COALESCE(ev.name, '') AS event_name, g.gate, g.detected_at, g.method, g.admitted, g.reason,
		g.ticket_id, g.crl_age_s, g.decision_us, g.apdus, COALESCE(m.id, '') AS monitor_id, m.trial_id
		FROM gate_decisions g
		LEFT JOIN ticket_events ev ON ev.id = g.event_id
		LEFT JOIN pki_certs c ON c.serial = g.cert_serial AND c.kind = 'auth'
		LEFT JOIN monitors m ON m.id = c.holder
		WHERE (m.id IS NULL OR m.status <> 'withdrawn')`
	var args []any
	if f.TrialID != nil {
		q += " AND m.trial_id = ?"
		args = append(args, *f.TrialID)
	}
	var rows []gateRow
	if err := rd.SelectContext(ctx, &rows, rd.Rebind(q+" ORDER BY g.id"), args...); err != nil {
		return nil, fmt.Errorf("survey: export gate decisions: %w", store.MapErr(err))
	}
	return rows, nil
}

// readBank reads the bank attempts of the filter's trial (all without
// one), leaving out monitors who withdrew.
func readBank(ctx context.Context, rd reader, f Filter) ([]bank.Attempt, error) {
	q := `SELECT a.id, a.trial_id, a.monitor_id, a.kind, a.method, a.ok, a.reason, a.started_at, a.duration_ms, a.tries
		FROM bank_attempts a LEFT JOIN monitors m ON m.id = a.monitor_id
		WHERE (m.id IS NULL OR m.status <> 'withdrawn')`
	var args []any
	if f.TrialID != nil {
		q += " AND a.trial_id = ?"
		args = append(args, *f.TrialID)
	}
	var rows []bank.Attempt
	if err := rd.SelectContext(ctx, &rows, rd.Rebind(q+" ORDER BY a.id"), args...); err != nil {
		return nil, fmt.Errorf("survey: export bank attempts: %w", store.MapErr(err))
	}
	return rows, nil
}

// gateMethodLabels name how a monitor showed themselves at the gate.
var gateMethodLabels = map[string][2]string{
	"card":  {"マイナンバーカード（暗証番号なし）", "My Number card (no PIN)"},
	"phone": {"スマートフォン（暗証番号あり）", "Phone (with PIN)"},
}

func (e *exporter) pick(l [2]string) string {
	if e.lang == "en" {
		return l[1]
	}
	return l[0]
}

func (e *exporter) writeGate(rows []gateRow) error {
	if len(rows) == 0 {
		return nil
	}
	if _, err := e.x.NewSheet(SheetGate); err != nil {
		return err
	}
	out := [][]any{headerRow(GateHeader)}
	for _, g := range rows {
		decision := "deny"
		if g.Admitted {
			decision = "admit"
		}
		method := g.Method
		if l, ok := gateMethodLabels[g.Method]; ok {
			method = e.pick(l)
		}
		row := []any{idText(g.ID), excelize.Cell{StyleID: e.styleTime, Value: e.wall(g.DetectedAt)}, g.EventID, g.EventName, g.Gate,
			g.MonitorID, nil, nil, g.Method, method, decision, g.Reason, uiLabel(e.lang, "gate.reason."+g.Reason, g.Reason),
			float64(g.DecisionUS) / 1000, g.APDUs, g.CRLAgeS}
		if g.TrialID.Valid {
			row[6] = idText(g.TrialID.Int64)
		}
		if g.TicketID.Valid {
			row[7] = idText(g.TicketID.Int64)
		}
		out = append(out, row)
	}
	return e.finishTable(SheetGate, out, len(GateHeader))
}

func (e *exporter) writeBank(attempts []bank.Attempt) error {
	if len(attempts) == 0 {
		return nil
	}
	if _, err := e.x.NewSheet(SheetBankLogin); err != nil {
		return err
	}
	out := [][]any{headerRow(BankLoginHeader)}
	byTrial := map[int64][]bank.Attempt{}
	for _, a := range attempts {
		ok := 0
		if a.OK {
			ok = 1
		}
		out = append(out, []any{idText(a.ID), excelize.Cell{StyleID: e.styleTime, Value: e.wall(a.StartedAt)}, idText(a.TrialID),
			a.MonitorID, string(a.Kind), string(a.Method), uiLabel(e.lang, "bank.method."+string(a.Method), string(a.Method)),
			ok, string(a.Reason), uiLabel(e.lang, "bank.reason."+string(a.Reason), string(a.Reason)), a.DurationMS, a.Tries})
		byTrial[a.TrialID] = append(byTrial[a.TrialID], a)
	}
	if err := e.finishTable(SheetBankLogin, out, len(BankLoginHeader)); err != nil {
		return err
	}
	// The login summary, one empty column to the right of the attempts.
	trials := make([]int64, 0, len(byTrial))
	for id := range byTrial {
		trials = append(trials, id)
	}
	sort.Slice(trials, func(i, j int) bool { return trials[i] < trials[j] })
	sum := [][]any{headerRow(BankSummaryHeader)}
	for _, id := range trials {
		for _, ms := range bank.Summarize(byTrial[id]) {
			if ms.Attempts == 0 {
				continue
			}
			sum = append(sum, []any{idText(id), string(ms.Method), uiLabel(e.lang, "bank.method."+string(ms.Method), string(ms.Method)),
				ms.Attempts, ms.Successes, excelize.Cell{StyleID: e.stylePct, Value: round2(100 * ms.SuccessRate)}, ms.MedianMS})
		}
	}
	col := len(BankLoginHeader) + 2
	for i, row := range sum {
		for j, v := range row {
			cell, _ := excelize.CoordinatesToCellName(col+j, i+1)
			style := 0
			if c, ok := v.(excelize.Cell); ok {
				v, style = c.Value, c.StyleID
			}
			if i == 0 {
				style = e.styleHeader
			}
			if err := e.x.SetCellValue(SheetBankLogin, cell, v); err != nil {
				return err
			}
			if style != 0 {
				if err := e.x.SetCellStyle(SheetBankLogin, cell, cell, style); err != nil {
					return err
				}
			}
		}
	}
	a, _ := excelize.ColumnNumberToName(col)
	b, _ := excelize.ColumnNumberToName(col + len(BankSummaryHeader) - 1)
	return e.x.SetColWidth(SheetBankLogin, a, b, 16)
}

func headerRow(h []string) []any {
	out := make([]any, len(h))
	for i, s := range h {
		out[i] = s
	}
	return out
}

// finishTable writes a small sheet's rows, its header bold and frozen.
func (e *exporter) finishTable(sheet string, rows [][]any, ncols int) error {
	if err := e.setRows(sheet, rows); err != nil {
		return err
	}
	if err := e.boldRow(sheet, 1, ncols); err != nil {
		return err
	}
	last, _ := excelize.ColumnNumberToName(ncols)
	if err := e.x.SetColWidth(sheet, "A", last, 16); err != nil {
		return err
	}
	return e.x.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
}

// uiTexts are the app's own translations (assets/translations), so that
// the export names reasons and methods as the screens do.
var uiTexts = sync.OnceValue(func() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, lang := range []string{"ja", "en"} {
		b, err := assets.Translations.ReadFile(assets.TranslationsDir + "/" + lang + ".json")
		if err != nil {
			continue
		}
		var raw map[string]json.RawMessage
		if json.Unmarshal(b, &raw) != nil {
			continue
		}
		m := map[string]string{}
		for k, v := range raw {
			var s string
			if json.Unmarshal(v, &s) == nil { // plural forms are objects: not used here
				m[k] = s
			}
		}
		out[lang] = m
	}
	return out
})

// templatePart is a placeholder of a translation, with the brackets around
// it: "（残り {{.N}} 回）" says nothing in an export.
var templatePart = regexp.MustCompile(`\s*[（(][^（()）]*\{\{[^}]*\}\}[^（()）]*[）)]|\{\{[^}]*\}\}`)

// uiLabel is the app's text for key in lang, without placeholders;
// fallback when there is none.
func uiLabel(lang, key, fallback string) string {
	s, ok := uiTexts()[lang][key]
	if !ok || s == "" {
		return fallback
	}
	return strings.TrimSpace(templatePart.ReplaceAllString(s, ""))
}
