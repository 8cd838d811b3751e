package trial_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"jpkipilot/trial"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

func monitorCount(t testing.TB, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.Get(&n, "SELECT COUNT(*) FROM monitors"); err != nil {
		t.Fatal(err)
	}
	return n
}

func counter(t testing.TB, db *store.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Get(&n, "SELECT next_value FROM id_counters WHERE name = 'monitor'"); err != nil {
		t.Fatal(err)
	}
	return n
}

func byName(t *testing.T, s *trial.Service) map[string]trial.Monitor {
	t.Helper()
	ms, err := s.ListMonitors(context.Background(), trial.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]trial.Monitor{}
	for _, m := range ms {
		out[m.Name] = m
	}
	return out
}

func TestImportCSVInEveryEncoding(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		var progress [][2]int
		res, err := f.s.ImportFile(ctx, "testdata/monitors_utf8.csv", trial.ImportOptions{
			Progress: func(done, total int) { progress = append(progress, [2]int{done, total}) }})
		if err != nil {
			t.Fatal(err)
		}
		if res.Count != 4 || res.FirstID != "M-0001" || res.LastID != "M-0004" || res.Encoding != "UTF-8" {
			t.Fatalf("utf8: %+v", res)
		}
		if len(progress) == 0 || progress[len(progress)-1] != [2]int{4, 4} {
			t.Fatalf("progress %v", progress)
		}
		res, err = f.s.ImportFile(ctx, "testdata/monitors_bom.csv", trial.ImportOptions{})
		if err != nil || res.Count != 2 || res.Encoding != "UTF-8 (BOM)" {
			t.Fatalf("bom: %+v, %v", res, err)
		}
		res, err = f.s.ImportFile(ctx, "testdata/monitors_sjis.csv", trial.ImportOptions{})
		if err != nil || res.Count != 2 || res.Encoding != "Shift_JIS" || res.FirstID != "M-0007" {
			t.Fatalf("sjis: %+v, %v", res, err)
		}
		ms := byName(t, f.s)
		hanako := ms["山田 花子"]
		if hanako.Kana != "ヤマダ ハナコ" || hanako.AgeBand != "40s" || hanako.CompanionOf == nil || *hanako.CompanionOf != ms["山田 太郎"].ID ||
			*hanako.SessionID != f.fApply.ID || hanako.TrialID != f.field.ID || hanako.Consent.SignedOn != "2017-02-07" {
			t.Errorf("山田 花子 = %+v", hanako)
		}
		if m := ms["佐藤 一郎"]; m.Kana != "サトウ イチロウ" || m.AgeBand != "70+" || m.Consent.Given() || *m.SessionID != f.v1.ID {
			t.Errorf("佐藤 一郎 = %+v", m)
		}
		if m := ms["鈴木, 次郎"]; m.Kana != "スズキ・ジロウ" || *m.SessionID != f.v2.ID || m.Consent.SignedOn != "2017-02-19" || m.Contact != "suzuki@example.jp" {
			t.Errorf("鈴木, 次郎 = %+v", m)
		}
		if m := ms["Smith, John"]; m.Kana != "スミス ジョン" || m.Consent.Staff != "Aoki" {
			t.Errorf("Smith = %+v", m)
		}
		if m, ok := ms["髙橋 誠"]; !ok || m.Kana != "タカハシ マコト" || m.AgeBand != "50s" || m.Contact != "03-1234-5678" {
			t.Errorf("Shift_JIS row (CP932 髙) = %+v, found %v", m, ok)
		}
		if len(ms) != 8 {
			t.Errorf("%d monitors, want 8", len(ms))
		}
	})
}

// xlsxFile writes a workbook with a decoy first sheet and a "monitors"
// sheet whose dates are real Excel dates.
func xlsxFile(t *testing.T, rows [][]any) string {
	t.Helper()
	x := excelize.NewFile()
	defer x.Close()
	if err := x.SetCellValue("Sheet1", "A1", "説明: 2枚目のシートを読み込みます"); err != nil {
		t.Fatal(err)
	}
	if _, err := x.NewSheet("monitors"); err != nil {
		t.Fatal(err)
	}
	dateStyle, err := x.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	for r, row := range rows {
		for c, v := range row {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			if err := x.SetCellValue("monitors", cell, v); err != nil {
				t.Fatal(err)
			}
			if _, ok := v.(time.Time); ok {
				_ = x.SetCellStyle("monitors", cell, cell, dateStyle)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "monitors.xlsx")
	if err := x.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImportXLSX(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		first := f.enrol(t, "既存 太郎", "キゾン タロウ", f.fApply)
		path := xlsxFile(t, [][]any{
			{"Name", "Kana", "Age band", "Contact", "Session", "Companion of", "Consent version", "Consent signed on", "Consent staff"},
			{"山田 太郎", "やまだ たろう", "40代", 9011112222, "FIELD-APPLY", "", "v1.0", time.Date(2017, 2, 7, 0, 0, 0, 0, time.UTC), "受付"},
			{"山田 花子", "ヤマダ ハナコ", "40s", "", "FIELD-APPLY", first.ID, "v1.0", "2017/2/7", "受付"},
			{},
			{"山田 次郎", "ヤマダ ジロウ", "10s", "", "FIELD-APPLY", 2, "", "", ""},
		})
		// Saved under a .csv name, the workbook is still read as one.
		misnamed := strings.TrimSuffix(path, ".xlsx") + ".csv"
		if err := os.Rename(path, misnamed); err != nil {
			t.Fatal(err)
		}
		res, err := f.s.ImportFile(ctx, misnamed, trial.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Count != 3 || res.Encoding != "XLSX" || res.FirstID != "M-0002" {
			t.Fatalf("xlsx: %+v", res)
		}
		ms := byName(t, f.s)
		taro := ms["山田 太郎"]
		if taro.Kana != "ヤマダ タロウ" || taro.Consent.SignedOn != "2017-02-07" || taro.Contact != "9011112222" {
			t.Errorf("山田 太郎 = %+v", taro)
		}
		if m := ms["山田 花子"]; m.CompanionOf == nil || *m.CompanionOf != first.ID || m.Consent.SignedOn != "2017-02-07" {
			t.Errorf("山田 花子 = %+v", m)
		}
		if m := ms["山田 次郎"]; m.CompanionOf == nil || *m.CompanionOf != taro.ID {
			t.Errorf("山田 次郎 (companion of row 2) = %+v", m)
		}
		// Problems carry the row number Excel shows, blank rows counted.
		bad := xlsxFile(t, [][]any{
			{"氏名", "フリガナ", "セッション"},
			{"田中 誠", "タナカ マコト", "FIELD-APPLY"},
			{},
			{},
			{"田中 彩", "Tanaka Aya", "FIELD-APPLY"},
		})
		_, err = f.s.ImportFile(ctx, bad, trial.ImportOptions{})
		var ie *trial.ImportError
		if !errors.As(err, &ie) || len(ie.Problems) != 1 || ie.Problems[0].Row != 5 || ie.Problems[0].Field != "kana" {
			t.Fatalf("bad xlsx: %v", err)
		}
	})
}

func TestImportRejectsEveryBadRowAndChangesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		before := counter(t, db)
		_, err := f.s.ImportFile(ctx, "testdata/monitors_bad.csv", trial.ImportOptions{})
		var ie *trial.ImportError
		if !errors.As(err, &ie) {
			t.Fatalf("bad file: %v", err)
		}
		want := []struct {
			row   int
			field string
			says  string
		}{
			{3, "name", "required"},
			{4, "kana", "katakana"},
			{5, "session", "VENUE-9"},
			{6, "age_band", "teens"},
			{7, "name", "duplicate of row 2"},
			{8, "consent_signed_on", "2017-02-31"},
			{8, "companion_of", "row 99"},
		}
		if len(ie.Problems) != len(want) {
			t.Fatalf("problems:\n%s", problemsText(ie))
		}
		for i, w := range want {
			p := ie.Problems[i]
			if p.Row != w.row || p.Field != w.field || !strings.Contains(p.Reason, w.says) {
				t.Errorf("problem %d = %s, want row %d %s ~%q", i, p, w.row, w.field, w.says)
			}
		}
		if !strings.Contains(err.Error(), "nothing imported") {
			t.Errorf("error %q does not say nothing was imported", err)
		}
		if n := monitorCount(t, db); n != 0 {
			t.Fatalf("%d monitors after a rejected import", n)
		}
		if after := counter(t, db); after != before {
			t.Fatalf("id counter moved %d → %d on a rejected file", before, after)
		}
	})
}

func problemsText(ie *trial.ImportError) string {
	var b strings.Builder
	for _, p := range ie.Problems {
		b.WriteString(p.String() + "\n")
	}
	return b.String()
}

func TestImportDuplicateOfExistingMonitor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		sid := f.v1.ID
		if _, err := f.s.Enrol(ctx, trial.Monitor{TrialID: f.venue.ID, SessionID: &sid, Name: "佐藤 一郎", Kana: "サトウ イチロウ"}); err != nil {
			t.Fatal(err)
		}
		csv := "氏名,フリガナ,セッション\n佐藤　一郎,さとう いちろう,VENUE-2\n佐藤 一郎,サトウ イチロウ,FIELD-APPLY\n"
		_, err := f.s.Import(ctx, mustCSV(t, csv), trial.ImportOptions{})
		var ie *trial.ImportError
		if !errors.As(err, &ie) || len(ie.Problems) != 1 || ie.Problems[0].Row != 2 || !strings.Contains(ie.Problems[0].Reason, "M-0001") {
			t.Fatalf("duplicate of existing: %v", err)
		}
		// A withdrawn monitor has no name left to collide with.
		if _, err := f.s.Withdraw(ctx, "M-0001"); err != nil {
			t.Fatal(err)
		}
		if res, err := f.s.Import(ctx, mustCSV(t, csv), trial.ImportOptions{}); err != nil || res.Count != 2 {
			t.Fatalf("after withdrawal: %+v, %v", res, err)
		}
	})
}

func mustCSV(t testing.TB, s string) *trial.Table {
	t.Helper()
	tb, err := trial.ReadCSV(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestImportCompanionMustExistInTheTrial(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		venueMonitor := f.enrol(t, "佐藤 一郎", "サトウ イチロウ", f.v1)
		fieldMonitor := f.enrol(t, "山田 太郎", "ヤマダ タロウ", f.fApply)
		csv := "氏名,フリガナ,セッション,同行者\n" +
			"山田 花子,ヤマダ ハナコ,FIELD-APPLY," + fieldMonitor.ID + "\n" + // fine
			"山田 次郎,ヤマダ ジロウ,FIELD-APPLY,M-0999\n" +
			"山田 三郎,ヤマダ サブロウ,FIELD-APPLY," + venueMonitor.ID + "\n" +
			"山田 四郎,ヤマダ シロウ,FIELD-APPLY,row 5\n" +
			"山田 五郎,ヤマダ ゴロウ,VENUE-1,2\n"
		_, err := f.s.Import(ctx, mustCSV(t, csv), trial.ImportOptions{})
		var ie *trial.ImportError
		if !errors.As(err, &ie) {
			t.Fatalf("bad companions: %v", err)
		}
		want := []string{"row 3: companion_of: no monitor M-0999", "row 4: companion_of: M-0001 is in another trial",
			"row 5: companion_of: a monitor cannot be their own companion", "row 6: companion_of: row 2 is in another trial"}
		if len(ie.Problems) != len(want) {
			t.Fatalf("problems:\n%s", problemsText(ie))
		}
		for i, w := range want {
			if ie.Problems[i].String() != w {
				t.Errorf("problem %d = %q, want %q", i, ie.Problems[i], w)
			}
		}
	})
}

func TestImportHeaderProblems(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		cases := []struct {
			csv, field, says string
		}{
			{"氏名,セッション\nx,VENUE-1\n", "kana", "missing"},
			{"氏名,フリガナ,誕生日,セッション\nx,エックス,1990,VENUE-1\n", "誕生日", "unknown column"},
			{"name,kana,氏名,session\nx,エックス,x,VENUE-1\n", "name", "twice"},
			{"name,kana\nx,エックス\n", "session", "missing"},
		}
		for _, c := range cases {
			_, err := f.s.Import(ctx, mustCSV(t, c.csv), trial.ImportOptions{})
			var ie *trial.ImportError
			if !errors.As(err, &ie) || len(ie.Problems) != 1 || ie.Problems[0].Row != 1 ||
				ie.Problems[0].Field != c.field || !strings.Contains(ie.Problems[0].Reason, c.says) {
				t.Errorf("%q: %v", c.csv, err)
			}
		}
		if _, err := f.s.Import(ctx, mustCSV(t, "name,kana,session\n,,\n"), trial.ImportOptions{}); err == nil {
			t.Error("a file without monitors was accepted")
		}
		if n := monitorCount(t, db); n != 0 {
			t.Fatalf("%d monitors", n)
		}
	})
}

func TestImportIntoChosenTrial(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		// Without a session column every row joins the trial, no session.
		res, err := f.s.Import(ctx, mustCSV(t, "name,kana\n山田 太郎,ヤマダ タロウ\n"), trial.ImportOptions{TrialID: f.venue.ID})
		if err != nil || res.Count != 1 {
			t.Fatalf("%+v, %v", res, err)
		}
		m, _ := f.s.GetMonitor(ctx, res.FirstID)
		if m.TrialID != f.venue.ID || m.SessionID != nil {
			t.Fatalf("%+v", m)
		}
		_, err = f.s.Import(ctx, mustCSV(t, "name,kana,session\n山田 花子,ヤマダ ハナコ,FIELD-APPLY\n"), trial.ImportOptions{TrialID: f.venue.ID})
		var ie *trial.ImportError
		if !errors.As(err, &ie) || ie.Problems[0].Field != "session" || !strings.Contains(ie.Problems[0].Reason, "another trial") {
			t.Fatalf("session of another trial: %v", err)
		}
	})
}

func TestImportRefusesUndecodableFiles(t *testing.T) {
	for name, b := range map[string][]byte{
		"neither": {'n', 'a', 'm', 'e', ',', 'k', 'a', 'n', 'a', '\n', 0x81, 0x20, 0xff, 0xff, '\n'},
		"utf16":   {0xff, 0xfe, 'n', 0, 'a', 0},
		"bom+bad": append(append([]byte{}, 0xef, 0xbb, 0xbf), 0xff, 0xfe, 0xfd),
	} {
		_, err := trial.ReadCSV(bytes.NewReader(b))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !strings.Contains(err.Error(), "UTF") {
			t.Errorf("%s: error %q does not name the encodings", name, err)
		}
	}
	// Shift_JIS encoded by iconv (testdata) decodes; Excel's tab-separated text too.
	tb, err := trial.ReadCSV(strings.NewReader("name\tkana\tsession\nx\tエックス\tV\n"))
	if err != nil || len(tb.Header) != 3 || len(tb.Rows) != 1 || tb.Rows[0].Row != 2 {
		t.Fatalf("tab-separated: %+v, %v", tb, err)
	}
}

// genCSV is a valid import of n monitors in one session.
func genCSV(n int, session string) []byte {
	family := []string{"サトウ", "スズキ", "タカハシ", "タナカ", "イトウ", "ワタナベ", "ヤマモト", "ナカムラ"}
	given := []string{"タロウ", "ハナコ", "ショウタ", "ヒナ", "ダイスケ", "ミサキ"}
	var b bytes.Buffer
	b.WriteString("氏名,フリガナ,年代,連絡先,セッション,同意書版,同意日,同意確認者\r\n")
	for i := range n {
		fmt.Fprintf(&b, "モニター %05d,%s %s,%s,m%05d@%s.example.jp,%s,v1.0,2017-02-18,受付\r\n",
			i, family[i%len(family)], given[i%len(given)], trial.AgeBands[i%len(trial.AgeBands)], i, strings.ToLower(session), session)
	}
	return b.Bytes()
}

// Cancelling during the insert rolls every row back, and the ids the import
// had reserved are never handed out again.
func TestImportCancelLeavesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		tb, err := trial.ReadCSV(bytes.NewReader(genCSV(2000, "VENUE-1")))
		if err != nil {
			t.Fatal(err)
		}
		sawCancel := false
		_, err = f.s.Import(ctx, tb, trial.ImportOptions{Progress: func(done, total int) {
			if done >= 500 && !sawCancel {
				sawCancel = true
				cancel()
			}
		}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled import: %v", err)
		}
		if n := monitorCount(t, db); n != 0 {
			t.Fatalf("%d monitors left by a cancelled import", n)
		}
		m := f.enrol(t, "山田 太郎", "ヤマダ タロウ", f.v1)
		if n, _ := trial.ParseMonitorID(m.ID); n <= 2000 {
			t.Fatalf("after a cancelled import of 2000 the next id is %s: ids reused", m.ID)
		}
	})
}

// A second program holding SQLite's write lock makes writes fail with
// ErrBusy and leaves nothing half-written: no monitor, no id taken, no
// half-erased withdrawal.
func TestBusyDatabase(t *testing.T) {
	old := store.BusyTimeout
	store.BusyTimeout = 100 * time.Millisecond
	defer func() { store.BusyTimeout = old }()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "busy.db")
	a, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	f := setup(t, b)
	m := f.enrol(t, "山田 太郎", "ヤマダ タロウ", f.v1)
	before := counter(t, b)

	lock, err := a.BeginTxx(ctx, nil) // immediate: takes the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	sid := f.v1.ID
	if _, err := f.s.Enrol(ctx, trial.Monitor{TrialID: f.venue.ID, SessionID: &sid, Name: "佐藤", Kana: "サトウ"}); !errors.Is(err, store.ErrBusy) {
		t.Errorf("Enrol while locked: %v", err)
	}
	if _, err := f.s.Import(ctx, mustCSV(t, string(genCSV(10, "VENUE-1"))), trial.ImportOptions{}); !errors.Is(err, store.ErrBusy) {
		t.Errorf("Import while locked: %v", err)
	}
	if _, err := f.s.Withdraw(ctx, m.ID); !errors.Is(err, store.ErrBusy) {
		t.Errorf("Withdraw while locked: %v", err)
	}
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n := monitorCount(t, b); n != 1 {
		t.Errorf("%d monitors after busy writes, want 1", n)
	}
	if after := counter(t, b); after != before {
		t.Errorf("id counter moved %d → %d while busy", before, after)
	}
	if name, _, _, at := rawPersonal(t, b, m.ID); name != "山田 太郎" || at != nil {
		t.Errorf("half-withdrawn: name %q withdrawn_at %v", name, at)
	}
}

// Two laptops enrolling at once on one PostgreSQL database (or two
// goroutines on SQLite's single connection) never get the same id.
func TestConcurrentEnrolGetsDistinctIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		const workers, each = 4, 10
		ids := make(chan string, workers*each)
		errs := make(chan error, workers)
		for w := range workers {
			go func() {
				for i := range each {
					m, err := f.s.Enrol(context.Background(), trial.Monitor{TrialID: f.venue.ID,
						Name: fmt.Sprintf("並行 %d-%d", w, i), Kana: "ヘイコウ"})
					if err != nil {
						errs <- err
						return
					}
					ids <- m.ID
				}
				errs <- nil
			}()
		}
		for range workers {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		close(ids)
		seen := map[string]bool{}
		for id := range ids {
			if seen[id] {
				t.Fatalf("id %s given twice", id)
			}
			seen[id] = true
		}
		if len(seen) != workers*each || !seen["M-0040"] {
			t.Fatalf("%d ids, M-0040 given: %v", len(seen), seen["M-0040"])
		}
	})
}

func TestImportFileErrorsNameTheFile(t *testing.T) {
	s := trial.New(storetest.SQLite(t))
	dir := t.TempDir()
	bad := filepath.Join(dir, "broken.xlsx")
	if err := os.WriteFile(bad, []byte("not a zip"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := s.ImportFile(context.Background(), bad, trial.ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "broken.xlsx") || !strings.Contains(err.Error(), "XLSX") {
		t.Fatalf("broken xlsx: %v", err)
	}
	old := filepath.Join(dir, "monitors.xls")
	if err := os.WriteFile(old, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportFile(context.Background(), old, trial.ImportOptions{}); err == nil || !strings.Contains(err.Error(), ".xls") {
		t.Fatalf("old .xls: %v", err)
	}
}
