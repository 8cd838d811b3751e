package survey_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"jpkipilot/survey"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// checkAnswersObjects compares every response's answers object (what the
// export reads) with its survey_answers rows (the record), decoding the
// object with encoding/json, and returns the number of responses.
func checkAnswersObjects(t *testing.T, db *store.DB, when string) int {
	t.Helper()
	ctx := context.Background()
	var resp []struct {
		ID      int64          `db:"id"`
		Answers sql.NullString `db:"answers"`
	}
	if err := db.SelectContext(ctx, &resp, `SELECT id, answers FROM survey_responses ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		ID       int64  `db:"response_id"`
		Question string `db:"question"`
		Value    string `db:"value"`
	}
	if err := db.SelectContext(ctx, &rows, `SELECT response_id, question, value FROM survey_answers`); err != nil {
		t.Fatal(err)
	}
	want := map[int64]map[string]string{}
	for _, r := range rows {
		if want[r.ID] == nil {
			want[r.ID] = map[string]string{}
		}
		want[r.ID][r.Question] = r.Value
	}
	for _, r := range resp {
		got := map[string]string{}
		if r.Answers.Valid {
			if err := json.Unmarshal([]byte(r.Answers.String), &got); err != nil {
				t.Fatalf("%s: response %d: answers %q: %v", when, r.ID, r.Answers.String, err)
			}
		}
		if w := want[r.ID]; !maps.Equal(got, w) && (len(got) > 0 || len(w) > 0) {
			t.Errorf("%s: response %d: answers object %v, answer rows %v", when, r.ID, got, w)
		}
	}
	return len(resp)
}

// The object each response carries is kept equal to its answer rows by the
// store, whichever way they are written: kiosk answers given, changed,
// cleared and hidden by skip logic, a grid transcription, an XLSX import
// and the demo seed.
func TestAnswersObjectFollowsEveryWrite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, forms := paperStore(t, db)
		v := addForm(t, svc, goodSurvey(), goodChoices(), goodSettings())
		r, err := svc.Start(ctx, v.Ref, survey.Subject{MonitorID: "M-0001", Step: "entry"})
		if err != nil {
			t.Fatal(err)
		}
		checkAnswersObjects(t, db, "started")
		for _, a := range [][2]string{{"conv", "2"}, {"why", "where done"}, {"days", "3"}, {"fee", "1.5"},
			{"comment", "\"引用\" and \\ back\nslash\t改行"}} {
			if err := svc.SaveAnswer(ctx, r.ID, a[0], a[1]); err != nil {
				t.Fatalf("save %s: %v", a[0], err)
			}
			checkAnswersObjects(t, db, "after saving "+a[0])
		}
		if err := svc.SaveAnswer(ctx, r.ID, "conv", "3"); err != nil { // changed
			t.Fatal(err)
		}
		checkAnswersObjects(t, db, "after changing conv")
		if err := svc.SaveAnswer(ctx, r.ID, "comment", ""); err != nil { // cleared
			t.Fatal(err)
		}
		checkAnswersObjects(t, db, "after clearing comment")
		// Convenience 5 hides why (conv <= 3) and the group with days and
		// fee (conv < 5): their answers leave the rows and the object.
		if err := svc.SaveAnswer(ctx, r.ID, "conv", "5"); err != nil {
			t.Fatal(err)
		}
		checkAnswersObjects(t, db, "after hiding answers")
		got, err := svc.Response(ctx, r.ID)
		if err != nil || len(got.Answers) != 1 || got.Answers["conv"] != "5" {
			t.Fatalf("answers after hiding: %v, %v", got.Answers, err)
		}

		if _, err := svc.Transcribe(ctx, forms["ticket_entry"].Ref, survey.Subject{MonitorID: "M-0002", Step: "entry"},
			map[string]string{"entry_method": "card", "convenience": "4", "willingness": "2", "reasons": "where_to_hold card_loss"}); err != nil {
			t.Fatal(err)
		}
		checkAnswersObjects(t, db, "after a transcription")

		x := template(t, svc, forms["lent_phone"].Ref)
		for _, c := range [][2]any{{"A2", "M-0001"}, {"C2", 5}, {"E2", "4"}, {"F2", "5"}, {"G2", "none"}, {"I2", "よかった"},
			{"A3", "M-0002"}, {"C3", 2}, {"E3", "2"}, {"F3", "3"}, {"G3", "battery"}} {
			if err := x.SetCellValue(survey.SheetPaperData, c[0].(string), c[1]); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := svc.ImportPaper(ctx, forms["lent_phone"].Ref, bytes.NewReader(workbookBytes(t, x)), survey.Subject{}); err != nil || n != 2 {
			t.Fatalf("import: %d, %v", n, err)
		}
		checkAnswersObjects(t, db, "after an import")

		if _, err := survey.SeedDemo(ctx, db); err != nil {
			t.Fatal(err)
		}
		if n := checkAnswersObjects(t, db, "after the demo seed"); n < 5 {
			t.Fatalf("only %d responses checked", n)
		}
	})
}

// Two laptops answering one response at the same moment (a kiosk and a
// coordinator correcting it, say) on one PostgreSQL: every answer that was
// stored is in the object, none is dropped by the other's write.
func TestAnswersObjectTwoLaptops(t *testing.T) {
	ctx := context.Background()
	dbs := storetest.Laptops(t, 2)
	addFixture(t, dbs[0], [3]string{"M-0001", "山田太郎", "attended"})
	svc := [2]*survey.Service{survey.New(dbs[0]), survey.New(dbs[1])}
	v := addForm(t, svc[0], goodSurvey(), goodChoices(), goodSettings())
	r, err := svc[0].Start(ctx, v.Ref, survey.Subject{MonitorID: "M-0001"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc[0].SaveAnswer(ctx, r.ID, "conv", "1"); err != nil {
		t.Fatal(err)
	}
	const rounds = 20
	questions := [2][2]string{{"fee", "comment"}, {"days", "when"}}
	var wg sync.WaitGroup
	errs := make(chan error, 2*rounds)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range rounds {
				vals := [2]string{fmt.Sprint(k), fmt.Sprintf("laptop %d round %d", i, k)}
				if i == 1 { // days is 0–14
					vals = [2]string{fmt.Sprint(k % 15), fmt.Sprintf("2017-02-%02d", 1+k%28)}
				}
				for j, q := range questions[i] {
					if err := svc[i].SaveAnswer(ctx, r.ID, q, vals[j]); err != nil {
						errs <- fmt.Errorf("laptop %d round %d %s: %w", i, k, q, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkAnswersObjects(t, dbs[0], "after two laptops")

	// The same, step by step and whatever code writes: laptop 0 has added
	// an answer and not committed yet when laptop 1 adds another. Laptop 1
	// waits for the lock on the response; once laptop 0 commits, its
	// object must hold both answers.
	tx, err := dbs[0].BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE survey_answers SET value = 'first' WHERE response_id = $1 AND question = 'comment'`, r.ID); err != nil {
		t.Fatal(err)
	}
	second := make(chan error, 1)
	go func() {
		_, err := dbs[1].ExecContext(ctx, `UPDATE survey_answers SET value = '2017-03-01' WHERE response_id = $1 AND question = 'when'`, r.ID)
		second <- err
	}()
	for waited := 0; ; waited++ {
		var blocked int
		if err := dbs[0].GetContext(ctx, &blocked, `SELECT COUNT(*) FROM pg_locks WHERE NOT granted`); err != nil {
			t.Fatal(err)
		}
		if blocked > 0 {
			break
		}
		if waited > 1000 {
			t.Fatal("laptop 1 never waited for laptop 0")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	checkAnswersObjects(t, dbs[0], "after overlapping writes")
	got, err := svc[1].Response(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"conv": "1", "fee": fmt.Sprint(rounds - 1), "comment": "first",
		"days": fmt.Sprint((rounds - 1) % 15), "when": "2017-03-01"}
	if !maps.Equal(got.Answers, want) {
		t.Fatalf("answers %v, want %v", got.Answers, want)
	}
}

// A store with answers from before the object existed gets it filled in
// when the migration runs (here: undone by hand, then migrated again).
func TestAnswersObjectMigrationFillsExistingResponses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		addFixture(t, db, demoMonitors...)
		if n, err := survey.SeedDemo(ctx, db); err != nil || n == 0 {
			t.Fatalf("seed: %d, %v", n, err)
		}
		undo := []string{
			`DROP TRIGGER survey_answers_json_insert`, `DROP TRIGGER survey_answers_json_update`, `DROP TRIGGER survey_answers_json_delete`,
			`ALTER TABLE survey_responses DROP COLUMN answers`, `DELETE FROM schema_migrations WHERE version = 210`,
		}
		if db.Dialect == store.Postgres {
			for i := range 3 {
				undo[i] += " ON survey_answers"
			}
			undo = append(undo, `DROP FUNCTION survey_answers_json_trigger()`, `DROP FUNCTION survey_answers_json_sync(BIGINT[])`)
		}
		for _, q := range undo {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := db.Migrate(ctx, nil); err != nil {
			t.Fatal(err)
		}
		var filled int
		if err := db.GetContext(ctx, &filled, `SELECT COUNT(*) FROM survey_responses WHERE answers IS NOT NULL`); err != nil {
			t.Fatal(err)
		}
		if n := checkAnswersObjects(t, db, "after the migration"); filled != n || n == 0 {
			t.Fatalf("%d of %d responses have their answers object", filled, n)
		}
	})
}
