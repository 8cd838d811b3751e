//go:build cgo

package cli

import (
	"context"
	"fmt"

	"jpkipilot/device/pcsc"
)

func init() { awaitSwap = pcscAwaitSwap }

// pcscAwaitSwap waits on pcscd's reader events (no polling of our own) for
// the card to leave reader and the next one to arrive.
func pcscAwaitSwap(ctx context.Context, reader string) error {
	if err := pcsc.WaitForRemoval(ctx, reader); err != nil {
		return fmt.Errorf("waiting for the card to leave %q: %w", reader, err)
	}
	if _, err := pcsc.WaitForCard(ctx, reader); err != nil {
		return fmt.Errorf("waiting for the phone on %q: %w", reader, err)
	}
	return nil
}
