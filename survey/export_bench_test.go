package survey_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/xuri/excelize/v2"

	"jpkipilot/survey"
	"jpkipilot/survey/internal/formgen"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// benchForm builds a form of nq questions: half 1–5 scales, then
// select_multiple, integer, decimal, date and text in turn.
func benchForm(tb testing.TB, nq int) []byte {
	tb.Helper()
	rows := [][]string{{"type", "name", "label::Japanese (ja)", "label::English (en)"}}
	types := []string{"select_multiple reasons", "integer", "decimal", "date", "text"}
	for i := range nq {
		typ := "select_one scale"
		if i >= nq/2 {
			typ = types[(i-nq/2)%len(types)]
		}
		rows = append(rows, []string{typ, fmt.Sprintf("q%02d", i+1), fmt.Sprintf("質問%d", i+1), fmt.Sprintf("Question %d", i+1)})
	}
	choices := [][]string{{"list_name", "name", "label::Japanese (ja)", "label::English (en)"}}
	for i := 1; i <= 5; i++ {
		choices = append(choices, []string{"scale", strconv.Itoa(i), "評価" + strconv.Itoa(i), "Rating " + strconv.Itoa(i)})
	}
	for _, c := range []string{"where_to_hold", "read_done", "pinless_worry", "card_loss"} {
		choices = append(choices, []string{"reasons", c, c, c})
	}
	b, err := formgen.Workbook(formgen.Sheet{Name: "survey", Rows: rows}, formgen.Sheet{Name: "choices", Rows: choices},
		formgen.Sheet{Name: "settings", Rows: [][]string{{"form_id", "version"}, {"bench", "1"}}})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func benchValue(rng *rand.Rand, q *survey.Question) string {
	switch q.Type {
	case survey.TypeSelectOne:
		return strconv.Itoa(1 + rng.IntN(5))
	case survey.TypeSelectMultiple:
		return "where_to_hold card_loss"
	case survey.TypeInteger:
		return strconv.Itoa(rng.IntN(15))
	case survey.TypeDecimal:
		return strconv.FormatFloat(float64(rng.IntN(10000))/100, 'f', -1, 64)
	case survey.TypeDate:
		return "2017-02-" + fmt.Sprintf("%02d", 1+rng.IntN(28))
	}
	return "かざす場所が分かりにくかった。読み取り完了の音があるとよい。"
}

// fillBench stores n responses to a form of nq questions, every question
// answered, in bulk.
func fillBench(tb testing.TB, db *store.DB, n, nq int) {
	tb.Helper()
	ctx := context.Background()
	svc := survey.New(db)
	info, _, err := svc.AddForm(ctx, benchForm(tb, nq))
	if err != nil {
		tb.Fatal(err)
	}
	f, err := svc.Form(ctx, info.Ref)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Date(2017, 2, 7, 1, 0, 0, 0, time.UTC)
	var trialID int64
	if err := db.GetContext(ctx, &trialID, db.Rebind(`INSERT INTO trials (name, kind, created_at) VALUES ('bench', 'field', ?) RETURNING id`), now); err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const perMonitor = 10
	err = db.Tx(ctx, func(tx *sqlx.Tx) error {
		for m := 0; m < (n+perMonitor-1)/perMonitor; m++ {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO monitors (id, trial_id, name, status, created_at, updated_at) VALUES (?, ?, ?, 'attended', ?, ?)`),
				fmt.Sprintf("M-%05d", m+1), trialID, "bench", now, now); err != nil {
				return err
			}
		}
		qs := f.Questions()
		for i := range n {
			var id int64
			if err := tx.GetContext(ctx, &id, tx.Rebind(`INSERT INTO survey_responses (form_ref, monitor_id, trial_id, step, mode, started_at, updated_at, completed_at)
				VALUES (?, ?, ?, 'entry', 'kiosk', ?, ?, ?) RETURNING id`), info.Ref, fmt.Sprintf("M-%05d", i/perMonitor+1), trialID, now, now, now); err != nil {
				return err
			}
			// One multi-row insert per response.
			var sb strings.Builder
			args := make([]any, 0, 4*len(qs))
			sb.WriteString("INSERT INTO survey_answers (response_id, question, value, answered_at) VALUES ")
			for j, q := range qs {
				if j > 0 {
					sb.WriteString(", ")
				}
				sb.WriteString("(?, ?, ?, ?)")
				args = append(args, id, q.Name, benchValue(rng, q), now)
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind(sb.String()), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	// A store that has been in use has been vacuumed: without it the
	// first read of 4M freshly inserted rows sets their hint bits and
	// measures that instead of the export.
	if db.Dialect == store.Postgres {
		if _, err := db.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
			tb.Fatal(err)
		}
	}
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakHeap samples the live heap from the export's progress callback.
type peakHeap struct{ max uint64 }

func (p *peakHeap) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p.max = max(p.max, ms.HeapInuse)
}

func benchExport(b *testing.B, db *store.DB, n int) {
	svc := survey.New(db)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	var peak peakHeap
	var out countWriter
	cpu0 := cpuTime()
	for b.Loop() {
		out = 0
		err := svc.Export(ctx, &out, survey.ExportOptions{}, func(done, total int) {
			if done%5000 == 0 || done == total {
				peak.sample()
			}
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	// CPU time says more than wall time on a shared, loaded machine.
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(peak.max)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(n), "responses")
	b.ReportMetric(float64(out)/(1<<20), "file-MiB")
}

// countWriter counts the bytes of the workbook (its size says whether the
// compression is still doing its job).
type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}

// BenchmarkExport: the whole workbook for 10,000 responses × 20 questions.
// JPKIPILOT_BENCH_BIG=1 adds 100,000 × 40 (slow to set up).
func BenchmarkExport(b *testing.B) {
	sizes := [][2]int{{10000, 20}}
	if os.Getenv("JPKIPILOT_BENCH_BIG") == "1" {
		sizes = append(sizes, [2]int{100000, 40})
	}
	for _, sz := range sizes {
		b.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(b *testing.B) {
			storetest.EachB(b, func(b *testing.B, db *store.DB) {
				fillBench(b, db, sz[0], sz[1])
				benchExport(b, db, sz[0])
			})
		})
	}
}

// BenchmarkSetCellValueBaseline writes the same Data matrix (10,000 × 20
// plus meta columns, twice: codes and labels) with plain SetCellValue and
// no database, the approach Export's StreamWriter is compared with.
func BenchmarkSetCellValueBaseline(b *testing.B) {
	const n, nq = 10000, 20
	rng := rand.New(rand.NewPCG(1, 2))
	row := make([]any, 10+nq+4)
	b.ReportAllocs()
	for b.Loop() {
		x := excelize.NewFile()
		for _, sheet := range []string{"Data", "Data_Labels"} {
			x.NewSheet(sheet)
			for r := 1; r <= n; r++ {
				for c := range row {
					switch {
					case c < 10:
						row[c] = strconv.Itoa(r)
					case c < 10+nq/2:
						row[c] = 1 + rng.IntN(5)
					default:
						row[c] = "かざす場所が分かりにくかった。"
					}
				}
				for c, v := range row {
					cell, _ := excelize.CoordinatesToCellName(c+1, r)
					if err := x.SetCellValue(sheet, cell, v); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
		if err := x.Write(io.Discard); err != nil {
			b.Fatal(err)
		}
		x.Close()
	}
}
