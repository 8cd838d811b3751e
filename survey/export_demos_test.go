package survey_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"jpkipilot/pki"
	"jpkipilot/survey"
	"jpkipilot/trial/bank"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// sheetRows reads a sheet into maps by header, formatted as Excel shows
// the cells; the header must be want.
func sheetRows(t *testing.T, x *excelize.File, sheet string, want []string) (hdr []string, rows []map[string]string) {
	t.Helper()
	all, err := x.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatalf("%s is empty", sheet)
	}
	hdr = all[0]
	for i, h := range want {
		if i >= len(hdr) || hdr[i] != h {
			t.Fatalf("%s header %v, want %v first", sheet, hdr, want)
		}
	}
	for _, r := range all[1:] {
		m := map[string]string{}
		for i, v := range r {
			if i < len(hdr) {
				m[hdr[i]] = v
			}
		}
		rows = append(rows, m)
	}
	return hdr, rows
}

func hasSheet(x *excelize.File, name string) bool {
	for _, s := range x.GetSheetList() {
		if s == name {
			return true
		}
	}
	return false
}

// TestExportGateAndBank: the Gate and BankLogin sheets hold every gate
// decision and bank attempt the store has for the trial, typed, labelled,
// without withdrawn monitors; without such data there are no such sheets.
func TestExportGateAndBank(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, fx := seeded(t, db)
		opt := survey.ExportOptions{Filter: survey.Filter{TrialID: &fx.trialID}, Location: time.UTC}
		_, x := export(t, svc, opt)
		if hasSheet(x, survey.SheetGate) || hasSheet(x, survey.SheetBankLogin) {
			t.Fatalf("sheets %v without gate or bank data", x.GetSheetList())
		}

		// Trial CA certificates for an attending and the withdrawn monitor.
		ca, err := pki.Init(ctx, db, []byte("trial passphrase 2016"), pki.InitOptions{KDF: pki.KDFParams{Time: 1, Memory: 64, Threads: 1}})
		if err != nil {
			t.Fatal(err)
		}
		serial := map[string]string{}
		for _, m := range []string{"M-0001", "M-0010"} {
			issued, _, err := ca.IssueWithNewKey(ctx, pki.IssueRequest{Kind: pki.RoleAuth, Holder: m})
			if err != nil {
				t.Fatal(err)
			}
			serial[m] = pki.SerialHex(issued.Serial)
		}
		if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO ticket_events (id, name, venue, starts_at, price_yen) VALUES (?, ?, ?, ?, ?)`),
			"live2017", "実証コンサート", "会場A", time.Date(2017, 2, 7, 18, 0, 0, 0, time.UTC), 5000); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2017, 2, 7, 17, 30, 15, 0, time.UTC)
		type gd struct {
			method, reason, serial string
			admitted               bool
			ticket                 any
			us, apdus, crl         int64
		}
		for i, g := range []gd{
			{"card", "admitted", serial["M-0001"], true, 7, 412345, 9, 3600},
			{"phone", "already_entered", serial["M-0001"], false, nil, 1803000, 14, 60},
			{"card", "unknown_issuer", "abcdef0123", false, nil, 250500, 6, 3600}, // a real card: no monitor
			{"card", "admitted", serial["M-0010"], true, 8, 400000, 9, 3600},      // withdrew: left out
		} {
			if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO gate_decisions (event_id, gate, detected_at, method, admitted, reason,
				ticket_id, cert_serial, crl_age_s, decision_us, apdus) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
				"live2017", "gate-1", at.Add(time.Duration(i)*time.Minute), g.method, g.admitted, g.reason, g.ticket, g.serial, g.crl, g.us, g.apdus); err != nil {
				t.Fatal(err)
			}
		}
		other := fx.trialID + 1000
		type ba struct {
			trial          int64
			monitor, kind  string
			method, reason string
			ok             bool
			ms, tries      int64
		}
		for i, a := range []ba{
			{fx.trialID, "M-0001", "register", "card", "ok", true, 5100, 1},
			{fx.trialID, "M-0001", "login", "card", "wrong_pin", false, 900, 1},
			{fx.trialID, "M-0001", "login", "card", "ok", true, 1500, 2},
			{fx.trialID, "M-0002", "login", "card", "ok", true, 2500, 1},
			{fx.trialID, "M-0002", "login", "totp", "ok", true, 9000, 1},
			{fx.trialID, "M-0010", "login", "card", "ok", true, 100, 1}, // withdrew: left out
			{other, "M-0003", "login", "phone", "ok", true, 3000, 1},    // another trial
		} {
			if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO bank_attempts (trial_id, monitor_id, kind, method, ok, reason,
				started_at, duration_ms, tries) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
				a.trial, a.monitor, a.kind, a.method, a.ok, a.reason, at.Add(time.Duration(i)*time.Hour), a.ms, a.tries); err != nil {
				t.Fatal(err)
			}
		}

		raw, x := export(t, svc, opt)
		hdr, gate := sheetRows(t, x, survey.SheetGate, survey.GateHeader)
		if len(gate) != 2 {
			t.Fatalf("Gate has %d decisions for the trial, want M-0001's 2: %v", len(gate), gate)
		}
		want := []map[string]string{
			{"detected_at": "2017-02-07 17:30:15", "event_id": "live2017", "event_name": "実証コンサート", "gate": "gate-1",
				"monitor_id": "M-0001", "trial_id": strconv.FormatInt(fx.trialID, 10), "ticket_id": "7", "method": "card",
				"method_label": "マイナンバーカード（暗証番号なし）", "decision": "admit", "reason": "admitted",
				"reason_label": "チケットを確認しました", "decision_ms": "412.345", "apdus": "9", "crl_age_s": "3600"},
			{"detected_at": "2017-02-07 17:31:15", "monitor_id": "M-0001", "ticket_id": "", "method": "phone",
				"method_label": "スマートフォン（暗証番号あり）", "decision": "deny", "reason": "already_entered",
				"reason_label": "このチケットは入場済みです", "decision_ms": "1803", "apdus": "14", "crl_age_s": "60"},
		}
		for i, w := range want {
			for k, v := range w {
				if gate[i][k] != v {
					t.Errorf("Gate row %d %s = %q, want %q", i+2, k, gate[i][k], v)
				}
			}
		}
		kinds := map[string]string{"decision_id": "string", "detected_at": "datetime", "monitor_id": "string", "trial_id": "string",
			"ticket_id": "string", "decision_ms": "number", "apdus": "number", "crl_age_s": "number", "reason_label": "string"}
		for col, k := range kinds {
			if got := cellKind(t, x, survey.SheetGate, colOf(t, hdr, col)+"2"); got != k {
				t.Errorf("Gate %s is %s, want %s", col, got, k)
			}
		}
		var ids []int64
		if err := db.SelectContext(ctx, &ids, db.Rebind(`SELECT id FROM gate_decisions WHERE cert_serial = ? ORDER BY id`), serial["M-0001"]); err != nil {
			t.Fatal(err)
		}
		for i, id := range ids {
			if gate[i]["decision_id"] != strconv.FormatInt(id, 10) {
				t.Errorf("Gate row %d is decision %s, the store's is %d", i+2, gate[i]["decision_id"], id)
			}
		}

		hdr, attempts := sheetRows(t, x, survey.SheetBankLogin, survey.BankLoginHeader)
		var stored []bank.Attempt
		for _, a := range mustAttempts(t, db, fx.trialID) {
			if a.MonitorID != "M-0010" {
				stored = append(stored, a)
			}
		}
		n := 0
		for _, r := range attempts {
			if r["attempt_id"] != "" {
				n++
			}
		}
		if n != 5 || len(stored) != 5 {
			t.Fatalf("BankLogin has %d attempts, the store %d for the trial without M-0010; want 5", n, len(stored))
		}
		for i, a := range stored {
			r := attempts[i]
			ok := "0"
			if a.OK {
				ok = "1"
			}
			for k, v := range map[string]string{"attempt_id": strconv.FormatInt(a.ID, 10), "monitor_id": a.MonitorID, "kind": string(a.Kind),
				"method": string(a.Method), "ok": ok, "reason": string(a.Reason), "duration_ms": strconv.FormatInt(a.DurationMS, 10),
				"tries": strconv.FormatInt(a.Tries, 10), "started_at": a.StartedAt.UTC().Format("2006-01-02 15:04:05")} {
				if r[k] != v {
					t.Errorf("BankLogin row %d %s = %q, the store has %q", i+2, k, r[k], v)
				}
			}
		}
		if attempts[1]["reason_label"] != "暗証番号が違います" || attempts[0]["method_label"] != "マイナンバーカード" {
			t.Errorf("BankLogin labels %q, %q", attempts[1]["reason_label"], attempts[0]["method_label"])
		}
		for col, k := range map[string]string{"attempt_id": "string", "trial_id": "string", "started_at": "datetime", "ok": "number",
			"duration_ms": "number", "tries": "number"} {
			if got := cellKind(t, x, survey.SheetBankLogin, colOf(t, hdr, col)+"2"); got != k {
				t.Errorf("BankLogin %s is %s, want %s", col, got, k)
			}
		}
		// The summary: logins only, per method, as trial/bank sums them up.
		sum := map[string]map[string]string{}
		for _, r := range attempts {
			if r["summary_method"] != "" {
				sum[r["summary_method"]] = r
			}
		}
		for _, ms := range bank.Summarize(stored) {
			r, ok := sum[string(ms.Method)]
			if ms.Attempts == 0 {
				if ok {
					t.Errorf("summary row for %s without logins", ms.Method)
				}
				continue
			}
			if !ok {
				t.Fatalf("no summary row for %s: %v", ms.Method, sum)
			}
			for k, v := range map[string]string{"summary_trial_id": strconv.FormatInt(fx.trialID, 10), "logins": strconv.Itoa(ms.Attempts),
				"successes": strconv.Itoa(ms.Successes), "median_ms": strconv.FormatFloat(ms.MedianMS, 'f', -1, 64)} {
				if r[k] != v {
					t.Errorf("summary %s %s = %q, want %q", ms.Method, k, r[k], v)
				}
			}
		}
		if got := sum["card"]["success_pct"]; got != "66.7" { // 2 of 3 card logins
			t.Errorf("card success_pct shows %q, want 66.7", got)
		}
		if got := sum["card"]["median_ms"]; got != "2000" { // the successful 1500 and 2500
			t.Errorf("card median_ms %q, want 2000", got)
		}
		assertNoNames(t, raw, demoMonitors)

		// Without a trial filter: the decision no monitor is tied to, and
		// the other trial's attempt; still nothing of M-0010.
		_, x = export(t, svc, survey.ExportOptions{Location: time.UTC, Lang: "en"})
		_, gate = sheetRows(t, x, survey.SheetGate, survey.GateHeader)
		if len(gate) != 3 || gate[2]["monitor_id"] != "" || gate[2]["reason"] != "unknown_issuer" || gate[2]["reason_label"] != "The certificate's issuer is not trusted" {
			t.Fatalf("unfiltered Gate: %v", gate)
		}
		if gate[0]["method_label"] != "My Number card (no PIN)" {
			t.Errorf("English method label %q", gate[0]["method_label"])
		}
		_, attempts = sheetRows(t, x, survey.SheetBankLogin, survey.BankLoginHeader)
		trials := map[string]bool{}
		for _, r := range attempts {
			if r["monitor_id"] == "M-0010" {
				t.Errorf("BankLogin holds the withdrawn monitor: %v", r)
			}
			if r["summary_trial_id"] != "" {
				trials[r["summary_trial_id"]] = true
			}
		}
		if !trials[strconv.FormatInt(other, 10)] || !trials[strconv.FormatInt(fx.trialID, 10)] {
			t.Errorf("unfiltered summary covers trials %v", trials)
		}
	})
}

func mustAttempts(t *testing.T, db *store.DB, trialID int64) []bank.Attempt {
	t.Helper()
	all, err := bank.New(db).Attempts(context.Background(), trialID)
	if err != nil {
		t.Fatal(err)
	}
	return all
}
