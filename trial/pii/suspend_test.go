package pii_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"jpkipilot/trial/pii"
)

// A suspended key is no key until the same key resumes it; another key
// cannot, and it keeps its fingerprint for that comparison only.
func TestSuspendResume(t *testing.T) {
	k := mustKey(t)
	check, raw := k.Check(), k.Bytes()
	sealed, err := k.Seal("monitors.name", "M-0001", "山田 太郎")
	if err != nil {
		t.Fatal(err)
	}
	k.Suspend()
	if !k.Suspended() {
		t.Fatal("Suspended() is false after Suspend")
	}
	if _, err := k.Open("monitors.name", "M-0001", sealed); !errors.Is(err, pii.ErrLocked) {
		t.Fatalf("Open on a suspended key: %v, want ErrLocked", err)
	}
	if _, err := k.Seal("monitors.name", "M-0001", "x"); !errors.Is(err, pii.ErrLocked) {
		t.Fatalf("Seal on a suspended key: %v, want ErrLocked", err)
	}
	if got, err := k.Open("monitors.name", "M-0001", "plain"); err != nil || got != "plain" {
		t.Fatalf("a suspended key on plaintext = %q, %v (want it passed through, as with no key)", got, err)
	}
	if b := k.Bytes(); b != nil {
		t.Fatalf("Bytes of a suspended key = %x, want nil", b)
	}
	if c := k.Check(); c != "" {
		t.Fatalf("Check of a suspended key = %q: it would pass for the store's key", c)
	}
	k.Suspend() // twice: nothing more to do

	if err := k.Resume(mustKey(t)); !errors.Is(err, pii.ErrKeyMismatch) {
		t.Fatalf("resume from another key: %v, want ErrKeyMismatch", err)
	}
	if err := k.Resume(nil); !errors.Is(err, pii.ErrLocked) {
		t.Fatalf("resume from no key: %v, want ErrLocked", err)
	}
	gone, err := pii.KeyFromBytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	gone.Suspend()
	if err := k.Resume(gone); !errors.Is(err, pii.ErrLocked) {
		t.Fatalf("resume from a suspended copy: %v, want ErrLocked", err)
	}
	if !k.Suspended() {
		t.Fatal("a refused Resume left the key usable")
	}

	fresh, err := pii.KeyFromBytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Resume(fresh); err != nil {
		t.Fatalf("resume from the same key: %v", err)
	}
	if k.Suspended() || k.Check() != check || !bytes.Equal(k.Bytes(), raw) {
		t.Fatal("the resumed key is not the key it was")
	}
	if got, err := k.Open("monitors.name", "M-0001", sealed); err != nil || got != "山田 太郎" {
		t.Fatalf("Open after Resume = %q, %v", got, err)
	}
	// The copy it was resumed from is independent: suspending it leaves k.
	fresh.Suspend()
	if _, err := k.Seal("monitors.name", "M-0001", "y"); err != nil {
		t.Fatalf("suspending the copy broke the resumed key: %v", err)
	}
	// Resuming a key that is not suspended is harmless.
	again, _ := pii.KeyFromBytes(raw)
	if err := k.Resume(again); err != nil || k.Check() != check {
		t.Fatalf("resume of a live key: %v", err)
	}
	if err := k.Resume(k); err != nil {
		t.Fatalf("resume from itself while live: %v", err)
	}
	k.Suspend()
	if err := k.Resume(k); !errors.Is(err, pii.ErrLocked) {
		t.Fatalf("resume from itself while suspended: %v, want ErrLocked", err)
	}
}

func TestSuspendNilKey(t *testing.T) {
	var none *pii.Key
	none.Suspend() // no panic, nothing to do
	if none.Suspended() {
		t.Error("a nil key reports itself suspended")
	}
	if none.Check() != "" {
		t.Error("a nil key has a fingerprint")
	}
	if err := none.Resume(mustKey(t)); err == nil {
		t.Error("resuming a nil key succeeded")
	}
}

// Workers sealing and opening on other goroutines when the key is
// suspended: each operation either completes with the right plaintext or
// fails with ErrLocked, and every operation started after Suspend returned
// fails. Run with -race: Suspend's zeroing must not race the cipher.
func TestSuspendDuringSealAndOpen(t *testing.T) {
	k := mustKey(t)
	before, err := k.Seal("monitors.contact", "M-0009", "090-0000-0000")
	if err != nil {
		t.Fatal(err)
	}
	const workers = 8
	started := make(chan struct{}, workers)
	suspended := make(chan struct{})
	errs := make(chan error, workers*4)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("M-%04d", w)
			want := fmt.Sprintf("worker %d", w)
			for n := 0; ; n++ {
				select {
				case <-suspended:
					if _, err := k.Seal("monitors.name", id, want); !errors.Is(err, pii.ErrLocked) {
						errs <- fmt.Errorf("worker %d: Seal after Suspend: %v", w, err)
					}
					if _, err := k.Open("monitors.contact", "M-0009", before); !errors.Is(err, pii.ErrLocked) {
						errs <- fmt.Errorf("worker %d: Open after Suspend: %v", w, err)
					}
					return
				default:
				}
				s, err := k.Seal("monitors.name", id, want)
				if err == nil {
					var got string
					if got, err = k.Open("monitors.name", id, s); err == nil && got != want {
						errs <- fmt.Errorf("worker %d: opened %q, want %q", w, got, want)
						return
					}
				}
				if err != nil && !errors.Is(err, pii.ErrLocked) {
					errs <- fmt.Errorf("worker %d: %v (want success or ErrLocked)", w, err)
					return
				}
				if got, err := k.Open("monitors.contact", "M-0009", before); err == nil && got != "090-0000-0000" || err != nil && !errors.Is(err, pii.ErrLocked) {
					errs <- fmt.Errorf("worker %d: Open of the old value = %q, %v", w, got, err)
					return
				}
				if n == 0 {
					started <- struct{}{}
				}
			}
		}()
	}
	for range workers {
		<-started // every worker is sealing and opening
	}
	k.Suspend()
	close(suspended)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
