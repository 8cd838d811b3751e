package audit_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// BenchmarkExport is the export of a trial's whole trail (20,000 entries:
// a venue trial's logins, edits, loans and certificates, several times
// over), verified and written as a workbook or a CSV.
func BenchmarkExport(b *testing.B) {
	const n = 20000
	storetest.EachB(b, func(b *testing.B, db *store.DB) {
		ctx := audit.WithActor(context.Background(), "alice")
		err := db.Tx(ctx, func(tx *sqlx.Tx) error {
			for i := range n {
				if err := audit.Record(ctx, tx, audit.MonitorEdit, fmt.Sprintf("M-%04d", i%9999+1), "status, consent"); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		for _, format := range []string{"xlsx", "csv"} {
			b.Run(format, func(b *testing.B) {
				for b.Loop() {
					var res audit.ExportResult
					var err error
					if format == "csv" {
						res, err = audit.ExportCSV(ctx, db, io.Discard, audit.ExportOptions{})
					} else {
						res, err = audit.ExportXLSX(ctx, db, io.Discard, audit.ExportOptions{})
					}
					if err != nil || !res.Chain.OK() || res.Entries < n {
						b.Fatalf("%+v, %v", res.Chain, err)
					}
				}
			})
		}
	})
}
