package app

import (
	"context"
	"errors"

	"jpkipilot/screens"
)

// noReaders stands in until the PC/SC reader source (device helper) is
// wired in: the readers screen says plainly that there is no PC/SC access.
type noReaders struct{}

var errNoPCSC = errors.New("this build has no PC/SC reader access yet")

func (noReaders) Readers(context.Context) ([]screens.ReaderInfo, error) { return nil, errNoPCSC }
func (noReaders) LastTrace() []string                                   { return nil }
