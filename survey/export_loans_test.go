package survey_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"jpkipilot/survey"
	"jpkipilot/trial"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// TestExportLoans: the Loans sheet appears once the store has loans, with
// typed cells and without names; before that there is no such sheet.
func TestExportLoans(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, fx := seeded(t, db)
		opt := survey.ExportOptions{Filter: survey.Filter{TrialID: &fx.trialID}, Location: time.UTC}
		_, x := export(t, svc, opt)
		for _, s := range x.GetSheetList() {
			if s == survey.SheetLoans {
				t.Fatal("Loans sheet without loans")
			}
		}

		desk := trial.NewLoans(db)
		clock := time.Date(2017, 2, 1, 1, 0, 0, 0, time.UTC)
		desk.Now = func() time.Time { return clock }
		desk.Zone = time.UTC
		phones := []string{"352099001761481", "356938035643809"}
		sims := []string{"8981101000000000019", "8981101000000000027"}
		for i := range phones {
			if _, err := desk.AddDevice(ctx, trial.Device{Kind: trial.KindPhone, Serial: phones[i], Carrier: trial.CarrierKDDI, OS: trial.OSiOS, Model: "iPhone 15"}, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := desk.AddDevice(ctx, trial.Device{Kind: trial.KindSIM, Serial: sims[i], Carrier: trial.CarrierDocomo, AppletState: trial.AppletBlank}, nil); err != nil {
				t.Fatal(err)
			}
		}
		var loans []trial.Loan
		for i, m := range []string{"M-0001", "M-0002"} {
			ln, err := desk.Checkout(ctx, trial.Checkout{MonitorID: m, Phone: phones[i], SIM: sims[i], Charger: true, Staff: "田中", DueOn: "2017-02-05"})
			if err != nil {
				t.Fatal(err)
			}
			loans = append(loans, ln)
		}
		if _, err := desk.Extend(ctx, loans[0].ID, "2017-02-08", "田中"); err != nil {
			t.Fatal(err)
		}
		clock = time.Date(2017, 2, 10, 1, 0, 0, 0, time.UTC) // two days late
		if _, err := desk.Checkin(ctx, loans[0].ID, trial.Return{Staff: "田中", Missing: []string{"充電器", "ケース"}}); err != nil {
			t.Fatal(err)
		}
		svc.Now = func() time.Time { return time.Date(2017, 2, 12, 3, 0, 0, 0, time.UTC) }

		raw, x := export(t, svc, opt)
		rows, err := x.GetRows(survey.SheetLoans)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 {
			t.Fatalf("Loans has %d rows, want header + 2: %v", len(rows), rows)
		}
		hdr := rows[0]
		for i, h := range survey.LoansHeader {
			if hdr[i] != h {
				t.Fatalf("Loans header %v", hdr)
			}
		}
		want := []map[string]string{
			{"loan_id": trial.FormatLoanID(loans[0].ID), "monitor_id": "M-0001", "phone_model": "iPhone 15", "phone_os": "ios",
				"phone_carrier": "kddi", "sim_carrier": "docomo", "days_overdue": "2", "extended": "1", "extensions": "1", "missing_items": "充電器; ケース"},
			{"loan_id": trial.FormatLoanID(loans[1].ID), "monitor_id": "M-0002", "days_overdue": "7", "extended": "0", "checked_in_at": "", "missing_items": ""},
		}
		kinds := map[string]string{"loan_id": "string", "monitor_id": "string", "trial_id": "string", "checked_out_at": "datetime",
			"due_on": "date", "days_overdue": "number", "extended": "number"}
		for i, w := range want {
			r := i + 2
			for name, v := range w {
				cell := colOf(t, hdr, name) + strconv.Itoa(r)
				got, _ := x.GetCellValue(survey.SheetLoans, cell)
				if got != v {
					t.Errorf("row %d %s = %q, want %q", r, name, got, v)
				}
			}
			for name, k := range kinds {
				if got := cellKind(t, x, survey.SheetLoans, colOf(t, hdr, name)+strconv.Itoa(r)); got != k {
					t.Errorf("row %d %s is %s, want %s", r, name, got, k)
				}
			}
		}
		if got := cellKind(t, x, survey.SheetLoans, colOf(t, hdr, "checked_in_at")+"2"); got != "datetime" {
			t.Errorf("checked_in_at of the returned loan is %s", got)
		}
		assertNoNames(t, raw, demoMonitors)
	})
}
