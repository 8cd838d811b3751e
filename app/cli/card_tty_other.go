//go:build !linux

package cli

import (
	"context"
	"errors"
	"os"
)

// Without x/term there is no portable way to switch echo off: PINs come from
// --pin-file or a pipe on other systems.
func isTerminal(*os.File) bool { return false }

func readPINNoEcho(context.Context, *os.File, func()) (string, error) {
	return "", errors.New("PIN prompt not supported on this system: use --pin-file")
}
