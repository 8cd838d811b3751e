package screens

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"jpkipilot/trial"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestImportFailureListsEveryProblemAndImportsNothing(t *testing.T) {
	svc := seeded(t)
	w := newWindow(t)
	s := newImportScreen(w, svc)
	show(w, s.content)
	before, _ := svc.ListMonitors(context.Background(), trial.Filter{})

	path := writeFile(t, "roster.csv", "氏名,フリガナ,年代,セッション\n"+
		"山田 太郎,ヤマダ タロウ,30s,VENUE-1\n"+
		",スズキ ハナコ,40s,VENUE-1\n"+
		"佐藤 次郎,sato,50s,VENUE-1\n"+
		"田中 三郎,タナカ サブロウ,20s,NO-SUCH-SESSION\n")
	s.importFile(path)
	waitIdle()

	if len(s.problems) < 3 {
		t.Fatalf("problems listed: %v", s.problems)
	}
	var lines []string
	for _, p := range s.problems {
		lines = append(lines, problemText(p))
	}
	text := strings.Join(lines, "\n")
	for _, want := range []string{"3 行目 · 名前 · 必須です", "4 行目 · よみがな · ", "5 行目 · セッション · "} {
		if !strings.Contains(text, want) {
			t.Errorf("problem list lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(s.result.Text, "何も取り込まれていません") {
		t.Errorf("result = %q", s.result.Text)
	}
	test.AssertRendersToMarkup(t, "import_errors.xml", w.Canvas())
	after, _ := svc.ListMonitors(context.Background(), trial.Filter{})
	if len(after) != len(before) {
		t.Fatalf("a rejected file imported %d monitors", len(after)-len(before))
	}
}

func TestImportOfAGoodFileReportsTheIDs(t *testing.T) {
	svc := seeded(t)
	w := newWindow(t)
	s := newImportScreen(w, svc)
	show(w, s.content)
	path := writeFile(t, "roster.csv", "\ufeff氏名,フリガナ,セッション\n山田 太郎,ヤマダ タロウ,"+firstSessionCode(t, svc)+"\n新井 花子,あらい はなこ,"+firstSessionCode(t, svc)+"\n")
	s.importFile(path)
	waitIdle()
	if len(s.problems) != 0 || !strings.Contains(s.result.Text, "2 名を取り込みました（M-0158〜M-0159") {
		t.Fatalf("result %q, problems %v", s.result.Text, s.problems)
	}
	if _, err := svc.GetMonitor(context.Background(), "M-0159"); err != nil {
		t.Fatal(err)
	}
}

func firstSessionCode(t *testing.T, svc *trial.Service) string {
	t.Helper()
	ss, err := svc.AllSessions(context.Background())
	if err != nil || len(ss) == 0 {
		t.Fatalf("sessions: %v %v", ss, err)
	}
	return ss[0].Code
}
