package staff_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"jpkipilot/trial/staff"
	"jpkipilot/trial/store"
)

// The life of a store's accounts: the first run, a venue staff account, a
// login, a command-line token.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "staff-example")
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, filepath.Join(dir, "trial.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	s := staff.New(db)
	s.KDF = staff.TestKDF // tests only: production keeps staff.DefaultKDF

	if has, _ := s.HasAccounts(ctx); !has {
		// First run: the GUI asks for the first coordinator.
		if _, err := s.CreateFirst(ctx, "tanaka", "田中 (coordinator)", "Correct-horse-1"); err != nil {
			fmt.Println(err)
			return
		}
	}
	co, err := s.Login(ctx, "tanaka", "Correct-horse-1")
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := s.Create(ctx, co, "suzuki", "鈴木", staff.VenueStaff, "Venue-staff-22"); err != nil {
		fmt.Println(err)
		return
	}
	v, _ := s.Login(ctx, "suzuki", "Venue-staff-22")
	fmt.Println(v.Account.Role, v.May(staff.RunKiosk), v.May(staff.ExportIdentified), v.Key != nil)

	// The command line keeps a token instead of the password.
	token, _ := s.IssueToken(ctx, v, 0)
	again, _ := s.Resume(ctx, token)
	fmt.Println(again.Account.Login, again.Key.Check() == co.Key.Check())

	_, err = s.Create(ctx, v, "sato", "佐藤", staff.Analyst, "Analyst-pass-3")
	fmt.Println(err)
	// Output:
	// staff true false true
	// suzuki true
	// suzuki (staff) may not do staff.manage
}
