package cli

import (
	"bufio"
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

// readPINNoEcho reads one line from the terminal with echo switched off,
// restoring the terminal afterwards.
func readPINNoEcho(f *os.File) (string, error) {
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
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return "", err
	}
	return firstLine(line), nil
}
