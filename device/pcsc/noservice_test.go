//go:build cgo

package pcsc

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"

	"jpkipilot/device"
)

// TestNoService points the PC/SC client of a child process at a socket
// where no pcscd listens: every entry point must say ErrNoService, and the
// watcher must report the service lost (then keep trying until cancelled).
func TestNoService(t *testing.T) {
	if os.Getenv("JPKIPILOT_NOSERVICE_CHILD") == "1" {
		noServiceChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoService$", "-test.v")
	// pcsc-lite reads PCSCLITE_CSOCK_NAME for its socket path.
	cmd.Env = append(os.Environ(), "JPKIPILOT_NOSERVICE_CHILD=1", "PCSCLITE_CSOCK_NAME="+t.TempDir()+"/no-pcscd.comm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func noServiceChild(t *testing.T) {
	ctx := context.Background()
	if _, err := ListReaders(ctx); !errors.Is(err, ErrNoService) {
		t.Errorf("ListReaders: %v", err)
	}
	if _, err := Readers(ctx); !errors.Is(err, ErrNoService) {
		t.Errorf("Readers: %v", err)
	}
	if _, err := Connect(ctx, "Virtual PCD 00 00"); !errors.Is(err, ErrNoService) || errors.Is(err, device.ErrCardRemoved) {
		t.Errorf("Connect: %v", err)
	}
	if _, err := WaitForCard(ctx, "Virtual PCD 00 00"); !errors.Is(err, ErrNoService) {
		t.Errorf("WaitForCard: %v", err)
	}
	wctx, cancel := context.WithCancel(ctx)
	events := make(chan Event, 8)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Watch(wctx, func(e Event) { events <- e })
	}()
	if e := <-events; e.Kind != ServiceLost || !errors.Is(e.Err, ErrNoService) {
		t.Errorf("first event %v, want %v wrapping ErrNoService", e, ServiceLost)
	}
	cancel()
	<-done
	close(events)
	for e := range events {
		t.Errorf("event %v after ServiceLost (reported once)", e)
	}
}
