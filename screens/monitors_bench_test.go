package screens

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"jpkipilot/trial"
	"jpkipilot/trial/store/storetest"
)

// BenchmarkMonitorFilterKeystroke is one keystroke in the monitor filter
// with 10,000 monitors: the index filter plus the list refresh (goal: well
// under 50 ms).
func BenchmarkMonitorFilterKeystroke(b *testing.B) {
	if err := LoadTranslations("ja"); err != nil {
		b.Fatal(err)
	}
	a := test.NewTempApp(b)
	a.Settings().SetTheme(NewTheme())
	svc := trial.New(storetest.SQLite(b))
	ctx := context.Background()
	if _, err := svc.SeedDemo(ctx); err != nil {
		b.Fatal(err)
	}
	family := []string{"ヤマダ", "スズキ", "タナカ", "サトウ", "イトウ", "ワタナベ", "ナカムラ", "コバヤシ"}
	given := []string{"タロウ", "ハナコ", "ジロウ", "ユミ", "ケン", "サクラ", "ヒロシ", "マユミ"}
	var sb strings.Builder
	sb.WriteString("氏名,フリガナ,連絡先,セッション\n")
	n := 10000 - 157
	for i := 0; i < n; i++ {
		f, g := family[i%len(family)], given[(i/len(family))%len(given)]
		fmt.Fprintf(&sb, "モニター %d,%s %s,m%05d@example.jp,VENUE-1\n", i, f, g, i)
	}
	path := filepath.Join(b.TempDir(), "10k.csv")
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.ImportFile(ctx, path, trial.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	w := test.NewTempWindow(b, widget.NewLabel(""))
	w.Resize(fyne.NewSize(1280, 800))
	s := newMonitorsScreen(w, svc)
	waitIdle()
	w.SetContent(s.content)
	if s.index.Len() != 10000 {
		b.Fatalf("%d monitors loaded", s.index.Len())
	}
	queries := []string{"や", "やま", "やまだ", "やまだた", "m-01", "m-012", ""}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		s.query.SetText(queries[i%len(queries)])
		i++
	}
}
