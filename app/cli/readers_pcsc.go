//go:build cgo

package cli

import (
	"context"
	"errors"
	"fmt"

	"jpkipilot/device"
	"jpkipilot/device/pcsc"
)

func init() { listReaders = listPCSCReaders }

// listPCSCReaders identifies each card by selecting the JPKI AP through an
// exclusive connection; a card another program holds is reported as such,
// never disturbed.
func listPCSCReaders(ctx context.Context) ([]ReaderLine, error) {
	readers, err := pcsc.Readers(ctx)
	if errors.Is(err, pcsc.ErrNoService) {
		return nil, fmt.Errorf("pcscd is not running (start it with \"pcscd\", or scripts/pcsc-harness.sh start for tests): %w", err)
	}
	if err != nil {
		return nil, err
	}
	lines := make([]ReaderLine, 0, len(readers))
	for _, r := range readers {
		l := ReaderLine{Name: r.Name, Card: "absent"}
		switch {
		case r.Mute:
			l.Card, l.Type = "mute", "card does not answer"
		case r.Present:
			l.Card, l.Type = "present", identifyIn(ctx, r.Name)
		}
		lines = append(lines, l)
	}
	return lines, nil
}

func identifyIn(ctx context.Context, reader string) string {
	conn, err := pcsc.Connect(ctx, reader)
	switch {
	case errors.Is(err, pcsc.ErrBusy):
		return "in use by another application"
	case errors.Is(err, device.ErrNoCard):
		return "removed while looking"
	case err != nil:
		return "cannot connect: " + err.Error()
	}
	defer conn.Close()
	kind, err := device.Identify(ctx, conn)
	if errors.Is(err, device.ErrCardRemoved) {
		return "removed while looking"
	}
	if err != nil {
		return "cannot read: " + err.Error()
	}
	return kind.String()
}
