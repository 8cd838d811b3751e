package screens

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/staff"
	"jpkipilot/trial/store"
)

// auditDesk is staffDesk's store (its account changes are in the trail)
// plus a few monitor and loan entries by sato, one a minute from testClock.
func auditDesk(t *testing.T) (*store.DB, *staff.Session) {
	t.Helper()
	_, sess, db := staffDesk(t)
	ctx := audit.WithActor(context.Background(), "sato")
	for _, e := range []struct{ action, subject, detail string }{
		{audit.MonitorEnrol, "M-0001", "session LOAN-1"},
		{audit.MonitorConsent, "M-0001", "consent v1.0 signed 2017-01-20"},
		{audit.LoanCheckout, "L-0001", "M-0001: phone 356938035643809, SIM 89812000123456789017"},
		{audit.MonitorEdit, "M-0002", "contact changed"},
	} {
		if err := audit.RecordNow(ctx, db, e.action, e.subject, e.detail); err != nil {
			t.Fatal(err)
		}
	}
	return db, sess
}

func auditScreenFor(t *testing.T, db *store.DB, sess *staff.Session) *auditScreen {
	t.Helper()
	w := newWindow(t)
	s := newAuditScreen(w, AuditDeps{DB: db, Session: sess})
	show(w, s.content)
	return s
}

// shownSeqs are the entry numbers in the table, top to bottom.
func shownSeqs(s *auditScreen) []int64 {
	out := make([]int64, len(s.entries))
	for i, e := range s.entries {
		out[i] = e.Seq
	}
	return out
}

func TestAuditTableNewestFirstWithFilters(t *testing.T) {
	db, sess := auditDesk(t)
	s := auditScreenFor(t, db, sess)
	all, err := audit.List(context.Background(), db, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.entries) != len(all) || s.entries[0].Seq != all[len(all)-1].Seq {
		t.Fatalf("table shows %v, the log has %d entries", shownSeqs(s), len(all))
	}
	if got := s.count.Text; got != strings.Replace("N 件", "N", strconv.Itoa(len(all)), 1) {
		t.Errorf("count %q", got)
	}
	top := s.entries[0]
	cells := make([]string, len(auditColumnWidths))
	for i := range cells {
		cells[i] = s.cellText(top, i)
	}
	if want := strconv.Itoa(len(all)) + "|" + top.At.Format("2006-01-02 15:04:05") + "|sato|" + audit.ActionLabel(audit.MonitorEdit, "ja") + "|M-0002|contact changed"; strings.Join(cells, "|") != want {
		t.Errorf("top row %q, want %q", strings.Join(cells, "|"), want)
	}

	choose(s.action, audit.ActionLabel(audit.Login, "ja"))
	waitIdle()
	for _, e := range s.entries {
		if e.Action != audit.Login {
			t.Errorf("action filter lets %s through", e.Action)
		}
	}
	if len(s.entries) == 0 {
		t.Error("no login entries (CreateFirst and sato's login)")
	}

	choose(s.action, "すべての操作")
	waitIdle()
	s.subject.SetText("M-0001")
	s.load()
	waitIdle()
	if len(s.entries) != 2 || s.entries[0].Action != audit.MonitorConsent || s.entries[1].Action != audit.MonitorEnrol {
		t.Errorf("subject M-0001: %+v, want its consent and enrolment", s.entries)
	}

	// Dates are local days, the until day included; a bad one is named.
	s.subject.SetText("")
	s.from.SetText("2017-01-21")
	s.load()
	waitIdle()
	if len(s.entries) != 0 {
		t.Errorf("from the next day: %d entries", len(s.entries))
	}
	s.from.SetText("2017-01-20")
	s.until.SetText("2017-01-20")
	s.load()
	waitIdle()
	if len(s.entries) != len(all) {
		t.Errorf("within the day of every entry: %d of %d", len(s.entries), len(all))
	}
	s.until.SetText("2017-01-32")
	s.load()
	waitIdle()
	if s.filtErr.Text != "終了日: 日付は YYYY-MM-DD の形で入力してください: 2017-01-32" || len(s.entries) != len(all) {
		t.Errorf("bad until date: %q (table %d)", s.filtErr.Text, len(s.entries))
	}
	s.from.SetText("2017-02-01")
	s.until.SetText("2017-01-31")
	s.load()
	if s.filtErr.Text != "終了日: 開始日より前の日付です" {
		t.Errorf("until before from: %q", s.filtErr.Text)
	}
}

func TestAuditVerifyOK(t *testing.T) {
	db, sess := auditDesk(t)
	s := auditScreenFor(t, db, sess)
	rep, err := audit.Verify(context.Background(), db)
	if err != nil || !rep.OK() {
		t.Fatalf("the fresh log does not verify: %+v, %v", rep, err)
	}
	test.Tap(s.verify)
	waitIdle()
	want := "OK: " + strconv.Itoa(rep.Entries) + " 件の項目に改ざんはありません。最後の項目 " + strconv.Itoa(int(rep.HeadSeq)) + "、先頭ハッシュ " + rep.HeadHash
	if !strings.HasPrefix(s.verdict.Text, want) || s.verdict.Importance != widget.SuccessImportance {
		t.Errorf("verdict %q, want it to start %q", s.verdict.Text, want)
	}
	if len(s.problems) != 0 || s.verify.Disabled() {
		t.Errorf("problems %v, verify disabled %v", s.problems, s.verify.Disabled())
	}
	s.table.Select(widget.TableCellID{Row: 0, Col: 3})
	if !strings.Contains(s.detail.Text, "この項目のハッシュ: "+s.entries[0].Hash) {
		t.Errorf("entry detail %q", s.detail.Text)
	}
	relayout(s.w.Canvas())
	test.AssertRendersToMarkup(t, "audit_verify_ok.xml", s.w.Canvas())
}

func TestAuditVerifyNamesEachTamperedEntry(t *testing.T) {
	db, sess := auditDesk(t)
	ctx := context.Background()
	all, err := audit.List(ctx, db, audit.Filter{})
	if err != nil || len(all) < 8 {
		t.Fatalf("%d entries, %v", len(all), err)
	}
	edited, deleted := all[3].Seq, all[6].Seq
	// Someone with the database file rewrites one entry and deletes another.
	if _, err := db.ExecContext(ctx, db.Rebind("UPDATE audit_log SET detail = ? WHERE seq = ?"), "role coordinator", edited); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, db.Rebind("DELETE FROM audit_log WHERE seq = ?"), deleted); err != nil {
		t.Fatal(err)
	}
	s := auditScreenFor(t, db, sess)
	test.Tap(s.verify)
	waitIdle()
	if s.verdict.Importance != widget.DangerImportance || !strings.HasPrefix(s.verdict.Text, "改ざんの疑い: "+strconv.Itoa(len(all)-1)+" 件中 2 か所の不整合") {
		t.Errorf("verdict %q", s.verdict.Text)
	}
	var texts []string
	for _, p := range s.problems {
		texts = append(texts, s.problemText(p))
	}
	want := []string{
		"項目 " + strconv.Itoa(int(edited)) + ": 内容がハッシュと一致しません（書き換えられています）",
		"項目 " + strconv.Itoa(int(deleted)+1) + ": その前の項目 " + strconv.Itoa(int(deleted)) + " がありません（削除されています）",
	}
	if strings.Join(texts, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(texts, "\n"), strings.Join(want, "\n"))
	}
	// Picking a problem shows its entry.
	s.plist.Select(0)
	if !strings.HasPrefix(s.detail.Text, "項目 "+strconv.Itoa(int(edited))+"　") || !strings.Contains(s.detail.Text, "内容: role coordinator") {
		t.Errorf("the edited entry is not shown: %q", s.detail.Text)
	}
	relayout(s.w.Canvas())
	test.AssertRendersToMarkup(t, "audit_verify_problem.xml", s.w.Canvas())
}

func TestAuditExportCSVHoldsTheFilteredEntriesAndIsAudited(t *testing.T) {
	db, sess := auditDesk(t)
	s := auditScreenFor(t, db, sess)
	s.subject.SetText("M-0001")
	s.load()
	waitIdle()
	path := filepath.Join(t.TempDir(), "audit.csv")
	s.export("csv", path)
	waitIdle()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "seq" {
		t.Fatalf("csv rows %v", rows)
	}
	for _, r := range rows[1:] {
		if r[6] != "M-0001" {
			t.Errorf("row of subject %q in an export filtered to M-0001", r[6])
		}
	}
	es, err := audit.List(context.Background(), db, audit.Filter{Action: audit.Export})
	if err != nil || len(es) != 1 || es[0].Actor != "kato" {
		t.Fatalf("export entries %+v, %v", es, err)
	}
	if len(s.entries) != 2 {
		t.Errorf("the table lost its filter after the export: %d entries", len(s.entries))
	}
	if strings.Contains(string(b), katoPassword) || strings.Contains(string(b), satoPassword) {
		t.Error("a password is in the export")
	}
}

func TestAuditExportXLSXFailureLeavesNoFile(t *testing.T) {
	db, sess := auditDesk(t)
	s := auditScreenFor(t, db, sess)
	path := filepath.Join(t.TempDir(), "audit.xlsx")
	if err := os.WriteFile(path, nil, 0o600); err != nil { // what the save dialog leaves
		t.Fatal(err)
	}
	db.Close() // the store goes away before the export
	s.export("xlsx", path)
	waitIdle()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a failed export left %s (%v)", path, err)
	}
}

// Every action trial/audit declares has a place in the filter and a label.
func TestAuditFilterOffersEveryAction(t *testing.T) {
	src, err := os.ReadFile("../trial/audit/audit.go")
	if err != nil {
		t.Fatal(err)
	}
	offered := map[string]bool{}
	for _, a := range auditActions {
		offered[a] = true
	}
	decl := regexp.MustCompile(`(?m)^\t(\w+)\s+= "([a-z_]+(?:\.[a-z_]+)?)"$`)
	n := 0
	for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
		n++
		if !offered[m[2]] {
			t.Errorf("audit.%s (%q) is not in the audit page's action filter", m[1], m[2])
		}
		if audit.ActionLabel(m[2], "ja") == m[2] {
			t.Errorf("audit.%s has no label", m[1])
		}
	}
	if n < 20 {
		t.Fatalf("found %d actions in audit.go: the pattern is broken", n)
	}
}

// Action labels follow the language the app runs in (--lang en).
func TestAuditActionLabelsInEnglish(t *testing.T) {
	db, sess := auditDesk(t)
	s := newAuditScreen(newWindow(t), AuditDeps{DB: db, Session: sess, Lang: "en"})
	waitIdle()
	if got := s.cellText(s.entries[0], 3); got != audit.ActionLabel(audit.MonitorEdit, "en") {
		t.Errorf("action cell %q in English", got)
	}
	if got := s.action.Options[1]; got != audit.ActionLabel(audit.Login, "en") || got == audit.ActionLabel(audit.Login, "ja") {
		t.Errorf("first action in the filter %q in English", got)
	}
}

func TestAuditPageNeedsViewAudit(t *testing.T) {
	db, _ := auditDesk(t)
	for _, role := range []staff.Role{staff.VenueStaff, staff.Analyst} {
		s := newAuditScreen(newWindow(t), AuditDeps{DB: db, Session: &staff.Session{Account: staff.Account{Login: "x", Role: role}}})
		if s.table != nil {
			t.Errorf("%s gets the audit trail", role)
		}
	}
	if s := newAuditScreen(newWindow(t), AuditDeps{DB: db}); s.table != nil {
		t.Error("no session gets the audit trail")
	}
}

// choose picks opt in sel as a user does, but runs sel's change handler
// after sel has redrawn: the test driver runs the handler's fyne.Do on the
// worker goroutine, which would otherwise draw at the same time as the
// select (the desktop driver queues it to the UI goroutine).
func choose(sel *widget.Select, opt string) {
	changed := sel.OnChanged
	sel.OnChanged = nil
	sel.SetSelected(opt)
	sel.OnChanged = changed
	changed(opt)
}
