//go:build cgo

package cli

import (
	"context"
	"fmt"
	"strings"

	"jpkipilot/device"
	"jpkipilot/device/pcsc"
)

// The PC/SC adapter needs cgo; without it the cli package still builds and
// the card commands say that this build cannot reach readers.
func init() { openCard = openPCSC }

func openPCSC(ctx context.Context, name string) (*CardConn, error) {
	if name == "" {
		readers, err := pcsc.Readers(ctx)
		if err != nil {
			return nil, err
		}
		if len(readers) == 0 {
			return nil, fmt.Errorf("no PC/SC reader is connected: %w", device.ErrNoReader)
		}
		var names []string
		for _, r := range readers {
			if r.Present && !r.Mute {
				name = r.Name
				break
			}
			names = append(names, fmt.Sprintf("%q", r.Name))
		}
		if name == "" {
			return nil, fmt.Errorf("no card in %s: %w", strings.Join(names, ", "), device.ErrNoCard)
		}
	}
	conn, err := pcsc.Connect(ctx, name)
	if err != nil {
		return nil, err
	}
	return &CardConn{Reader: name, Card: &device.Card{T: conn}, Close: conn.Close}, nil
}
