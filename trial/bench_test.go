package trial_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"jpkipilot/trial"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// BenchmarkImport10k imports a 10,000-row CSV (decode, parse, validate,
// insert in one transaction) into a new trial's session; earlier runs'
// monitors stay in the store. Goal: under 1 s per import on both databases.
// This is a store without staff accounts: personal fields in the clear.
func BenchmarkImport10k(b *testing.B) { benchImport10k(b, false) }

// BenchmarkImport10kSealed is BenchmarkImport10k on a sealed store with the
// data key: 30,000 personal fields sealed with AES-GCM on the way in. Goal:
// within 20% of the clear import.
func BenchmarkImport10kSealed(b *testing.B) { benchImport10k(b, true) }

func benchImport10k(b *testing.B, sealed bool) {
	storetest.EachB(b, func(b *testing.B, db *store.DB) {
		ctx := context.Background()
		s := trial.New(db)
		if sealed {
			s.PII = sealStore(b, db)
		}
		data := make(map[int][]byte)
		for i := range b.N {
			// A trial per import: each run imports into an empty trial.
			tr, err := s.CreateTrial(ctx, trial.Trial{Name: fmt.Sprintf("会場実証 %d", i), Kind: trial.KindVenue})
			if err != nil {
				b.Fatal(err)
			}
			code := fmt.Sprintf("VENUE-%d", i)
			if _, err := s.CreateSession(ctx, trial.Session{TrialID: tr.ID, Code: code, StartsOn: "2017-02-18", Capacity: 10000, Target: 10000}); err != nil {
				b.Fatal(err)
			}
			data[i] = genCSV(10000, code)
		}
		b.ResetTimer()
		for i := range b.N {
			tb, err := trial.ReadCSV(bytes.NewReader(data[i]))
			if err != nil {
				b.Fatal(err)
			}
			res, err := s.Import(ctx, tb, trial.ImportOptions{})
			if err != nil || res.Count != 10000 {
				b.Fatalf("%+v, %v", res, err)
			}
		}
	})
}

// BenchmarkFilter10k is one keystroke in the monitor list: filter 10,000
// indexed monitors by a kana query typed in hiragana. Goal: under 50 ms.
func BenchmarkFilter10k(b *testing.B) {
	tb, err := trial.ReadCSV(bytes.NewReader(genCSV(10000, "V")))
	if err != nil {
		b.Fatal(err)
	}
	ms := make([]trial.Monitor, len(tb.Rows))
	for i, r := range tb.Rows {
		ms[i] = trial.Monitor{ID: trial.FormatMonitorID(int64(i + 1)), TrialID: 1, Name: r.Cells[0], Kana: r.Cells[1], Status: trial.Statuses[i%len(trial.Statuses)]}
	}
	ix := trial.NewIndex(ms)
	queries := []string{"た", "たか", "たかは", "タカハシ ひ", "m-00", "ﾓﾆﾀｰ 0123"}
	b.ResetTimer()
	n := 0
	for i := range b.N {
		n += len(ix.Filter(trial.Filter{Query: queries[i%len(queries)], Status: trial.StatusEnrolled}))
	}
	if n == 0 {
		b.Fatal("no matches")
	}
}
