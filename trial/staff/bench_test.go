package staff

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

// BenchmarkLogin is a venue staff login with the production argon2id cost
// (DefaultKDF): the password check, opening the private key, unwrapping the
// data key, and the audit entry.
func BenchmarkLogin(b *testing.B) {
	storetest.EachB(b, func(b *testing.B, db *store.DB) {
		ctx := context.Background()
		s := New(db)
		co, err := s.CreateFirst(ctx, "coord", "Coordinator", coordPW)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Create(ctx, co, "venue", "Venue", VenueStaff, staffPW); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		cpu := cpuTime()
		for b.Loop() {
			if sess, err := s.Login(ctx, "venue", staffPW); err != nil || sess.Key == nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, cpu)
	})
}

// BenchmarkCheckPIN is leaving a kiosk with 10 accounts holding PINs, the
// matching one last, at the production PIN cost (DefaultPINKDF).
func BenchmarkCheckPIN(b *testing.B) {
	db := storetest.SQLite(b)
	ctx := context.Background()
	s := New(db)
	s.KDF = TestKDF // account creation only; PINs use DefaultPINKDF
	co, err := s.CreateFirst(ctx, "coord", "Coordinator", coordPW)
	if err != nil {
		b.Fatal(err)
	}
	s.KDF = DefaultKDF
	for i, login := range []string{"v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9"} {
		if _, err := s.Create(ctx, co, "staff-"+login, "Staff", VenueStaff, staffPW); err != nil {
			b.Fatal(err)
		}
		if err := s.SetPIN(ctx, co, "staff-"+login, "1000000"+string(rune('0'+i))); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.SetPIN(ctx, co, "coord", "424242"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		if a, err := s.CheckPIN(ctx, "10000008"); err != nil || a.Login != "staff-v9" {
			b.Fatal(a, err)
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkRefusedLogin is one attempt refused by the back-off after the
// window's first (which wrote the entry): what someone hammering a login
// field costs the store now that each refusal is only counted. It also
// reports the audit entries added per refusal (0 after the first).
func BenchmarkRefusedLogin(b *testing.B) {
	storetest.EachB(b, func(b *testing.B, db *store.DB) {
		ctx := context.Background()
		s := New(db)
		s.KDF = TestKDF
		s.Now = func() time.Time { return time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC) }
		if _, err := s.CreateFirst(ctx, "coord", "Coordinator", coordPW); err != nil {
			b.Fatal(err)
		}
		for range freeFailures + 1 {
			s.Login(ctx, "coord", "Wrong-password1")
		}
		var before int
		if err := db.GetContext(ctx, &before, "SELECT COUNT(*) FROM audit_log"); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for b.Loop() {
			var te *ThrottledError
			if _, err := s.Login(ctx, "coord", coordPW); !errors.As(err, &te) {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		var after int
		if err := db.GetContext(ctx, &after, "SELECT COUNT(*) FROM audit_log"); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(after-before)/float64(b.N), "entries/op")
	})
}

// cpuTime is the process's CPU time so far. On a shared, loaded machine the
// wall time per login says more about the neighbours than about argon2id;
// CPU time per operation (all threads, this process only: the PostgreSQL
// server's share is not in it) is the figure to compare.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, since time.Duration) {
	b.ReportMetric(float64((cpuTime()-since).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}
