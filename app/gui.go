package app

import (
	"context"
	"errors"
)

// runGUI opens the store and shows the main window (or a kiosk) until it closes.
// (The GUI helper replaces this placeholder.)
func runGUI(ctx context.Context, opts Options) error {
	return errors.New("GUI not built yet")
}
