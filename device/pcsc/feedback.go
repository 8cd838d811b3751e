//go:build cgo

package pcsc

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ebfe/scard"
)

// ErrFeedbackUnsupported means the reader's beeper and LEDs cannot be
// driven from here: the UI falls back to its own sound and picture.
var ErrFeedbackUnsupported = errors.New("reader has no beeper or LED we can drive")

// Feedback is what the reader signals to the person holding the card.
type Feedback int

const (
	FeedbackDone  Feedback = iota // reading finished: green light, one short beep
	FeedbackError                 // failed: red light, two beeps
)

// ACS ACR122U-family "bi-color LED and buzzer control" pseudo-APDUs
// (FF 00 40 <LED state> 04 <T1> <T2> <repetitions> <buzzer link>), T1/T2 in
// 100 ms units. The reader answers 90 <LED state>.
var acsFeedback = map[Feedback][]byte{
	FeedbackDone:  {0xFF, 0x00, 0x40, 0x2E, 0x04, 0x01, 0x00, 0x01, 0x01},
	FeedbackError: {0xFF, 0x00, 0x40, 0x5D, 0x04, 0x02, 0x01, 0x02, 0x01},
}

// acsEscape is IOCTL_CCID_ESCAPE: SCardControl to the reader itself,
// which works without a card (needs the CCID driver's escape option).
var acsEscape = scard.CtlCode(3500)

// isACS reports whether the reader name looks like an ACS ACR12xx reader,
// the only family whose feedback commands we know.
func isACS(reader string) bool {
	return strings.HasPrefix(reader, "ACS ACR12")
}

// Signal makes the reader beep and light up, where it can. Any reader but
// the ACS ACR12xx family, and an ACS reader whose driver refuses the escape
// command, gives an error wrapping ErrFeedbackUnsupported.
func Signal(ctx context.Context, reader string, f Feedback) error {
	cmd, ok := acsFeedback[f]
	if !ok {
		return fmt.Errorf("pcsc: unknown feedback %d", int(f))
	}
	if !isACS(reader) {
		return fmt.Errorf("pcsc: %q: %w", reader, ErrFeedbackUnsupported)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	sc, err := establish()
	if err != nil {
		return err
	}
	defer sc.Release()
	card, err := sc.Connect(reader, scard.ShareDirect, scard.ProtocolUndefined)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrFeedbackUnsupported, wrap("connect direct", reader, err))
	}
	defer card.Disconnect(scard.LeaveCard)
	resp, err := card.Control(acsEscape, cmd)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrFeedbackUnsupported, wrap("escape", reader, err))
	}
	if len(resp) != 2 || resp[0] != 0x90 {
		return fmt.Errorf("pcsc: %q: LED/buzzer command answered % X: %w", reader, resp, ErrFeedbackUnsupported)
	}
	return nil
}
