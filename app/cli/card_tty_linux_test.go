package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unsafe"

	"jpkipilot/pki/jpki"
)

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlockpt: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("ptsname: %v", e)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

// promptWatch is stderr that tells when the prompt has been written.
type promptWatch struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	shown chan struct{}
	once  sync.Once
}

func (w *promptWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), "tries left): ") {
		w.once.Do(func() { close(w.shown) })
	}
	return n, err
}

func (w *promptWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestPINPromptOnATerminalDoesNotEcho(t *testing.T) {
	master, slave := openPTY(t)
	// The user types once the prompt shows.
	stderr := &promptWatch{shown: make(chan struct{})}
	go func() {
		<-stderr.shown
		master.Write([]byte("4711\n"))
	}()
	env := &Env{Ctx: context.Background(), Stdin: slave, Stdout: io.Discard, Stderr: stderr}
	pin, err := pinSource(env, "")(context.Background(), jpki.PINRequest{Kind: jpki.Auth, TriesLeft: 2, Max: 3, Purpose: "sign with the auth key"})
	if err != nil || pin != "4711" {
		t.Fatalf("PIN = %q, %v; want 4711", pin, err)
	}
	if got := stderr.String(); !strings.Contains(got, "auth PIN to sign with the auth key (2 of 3 tries left): ") || strings.Contains(got, "warning") {
		t.Errorf("prompt %q", got)
	}
	// Whatever the terminal echoed is readable on the master side now; a
	// marker written with echo back on shows where the echo would end.
	st, err := getTermios(slave)
	if err != nil || st.Lflag&syscall.ECHO == 0 {
		t.Fatalf("echo not restored after the prompt: %v", err)
	}
	master.Write([]byte("END\n"))
	var echoed []byte
	buf := make([]byte, 256)
	for !bytes.Contains(echoed, []byte("END")) {
		n, err := master.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		echoed = append(echoed, buf[:n]...)
	}
	if bytes.Contains(echoed, []byte("4711")) {
		t.Errorf("the terminal echoed the PIN: %q", echoed)
	}
}

func TestPINPromptCancelledRestoresTheTerminal(t *testing.T) {
	_, slave := openPTY(t)
	ctx, cancel := context.WithCancel(context.Background())
	env := &Env{Ctx: ctx, Stdin: slave, Stdout: io.Discard, Stderr: io.Discard}
	done := make(chan error, 1)
	go func() {
		_, err := pinSource(env, "")(ctx, jpki.PINRequest{Kind: jpki.Sign, TriesLeft: 5, Max: 5})
		done <- err
	}()
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if st, err := getTermios(slave); err != nil || st.Lflag&syscall.ECHO == 0 {
		t.Fatalf("echo not restored after a cancel: %v", err)
	}
}
