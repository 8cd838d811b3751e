package cli

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// promptSeen is stderr that tells when a given prompt has been written.
type promptSeen struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	prompt string
	shown  chan struct{}
	once   sync.Once
}

func (w *promptSeen) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.prompt) {
		w.once.Do(func() { close(w.shown) })
	}
	return n, err
}

func (w *promptSeen) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestLoginPasswordOnATerminalDoesNotEcho(t *testing.T) {
	db := filepath.Join(t.TempDir(), "jp.db")
	tf := filepath.Join(t.TempDir(), "session")
	mustRunIn(t, db, "", pw("carol")+pw("carol"), "staff", "init", "--login", "carol")

	master, slave := openPTY(t)
	stderr := &promptSeen{prompt: "Password for carol: ", shown: make(chan struct{})}
	go func() {
		<-stderr.shown // echo is off before the prompt shows
		master.Write([]byte(pw("carol")))
	}()
	var out bytes.Buffer
	code := Run(context.Background(), []string{"--db", db, "--token-file", tf, "login", "--user", "carol"}, slave, &out, stderr)
	if code != 0 || !strings.HasPrefix(out.String(), "logged in as carol") {
		t.Fatalf("login at a terminal: exit %d, %q %q", code, out.String(), stderr.String())
	}
	if st, err := getTermios(slave); err != nil || st.Lflag&syscall.ECHO == 0 {
		t.Fatalf("echo not restored after the prompt: %v", err)
	}
	// What the terminal echoed is on the master side, up to a marker
	// typed with echo back on.
	master.Write([]byte("END\n"))
	var echoed []byte
	buf := make([]byte, 256)
	for !bytes.Contains(echoed, []byte("END")) {
		n, err := master.Read(buf)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		echoed = append(echoed, buf[:n]...)
	}
	if bytes.Contains(echoed, []byte(strings.TrimSpace(pw("carol")))) {
		t.Error("the terminal echoed the password")
	}
	mustRunIn(t, db, tf, "", "whoami")
}
