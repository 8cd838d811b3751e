package cli

import (
	"bufio"
	"context"
	"os"
	"syscall"
	"unsafe"
)

// golang.org/x/term is not a dependency; on Linux the termios ioctls are
// enough to read a PIN without echo.

func isTerminal(f *os.File) bool {
	_, err := getTermios(f)
	return err == nil
}

func getTermios(f *os.File) (syscall.Termios, error) {
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	if errno != 0 {
		return t, errno
	}
	return t, nil
}

func setTermios(f *os.File, t *syscall.Termios) error {
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCSETS, uintptr(unsafe.Pointer(t)))
	if errno != 0 {
		return errno
	}
	return nil
}

// readPINNoEcho switches echo off, shows the prompt, reads one line and
// restores the terminal, also when ctx ends first (Ctrl-C). Echo goes off
// before the prompt shows so that nothing typed after it is echoed.
func readPINNoEcho(ctx context.Context, f *os.File, prompt func()) (string, error) {
	old, err := getTermios(f)
	if err != nil {
		return "", err
	}
	quiet := old
	quiet.Lflag &^= syscall.ECHO
	if err := setTermios(f, &quiet); err != nil {
		return "", err
	}
	defer setTermios(f, &old)
	prompt()
	type result struct {
		line string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		line, err := bufio.NewReader(f).ReadString('\n')
		got <- result{line, err}
	}()
	select {
	case <-ctx.Done():
		// The reader goroutine stays blocked until the process exits.
		return "", ctx.Err()
	case r := <-got:
		if r.err != nil && r.line == "" {
			return "", r.err
		}
		return firstLine(r.line), nil
	}
}
