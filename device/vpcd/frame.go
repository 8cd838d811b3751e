// Package vpcd serves a virtual card into the real pcscd through
// vsmartcard's vpcd reader driver. The card side is the TCP client: it
// connects to the driver's port (35963 for "Virtual PCD 00 00"), and both
// directions carry frames of a 2-byte big-endian length and a payload. A
// 1-byte payload is a control code; anything longer is a command APDU
// answered with the response APDU. Closing the socket is card removal.
//
// One quirk of vpcd to keep in mind: it accepts a new connection inside its
// presence check, so a card that connects before pcscd has polled the slot
// empty (about 400 ms) replaces the old one unannounced; and a card pulled
// in the middle of an APDU, then reset on disconnect, leaves the slot marked
// empty until pcscd's next poll. Wait for pcscd's own removal event (its
// event counter changes) before serving the next card on the same port.
package vpcd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Control codes vpcd sends as 1-byte payloads.
const (
	CtrlPowerOff byte = 0
	CtrlPowerOn  byte = 1
	CtrlReset    byte = 2
	CtrlGetATR   byte = 4
)

// MaxCommand is the longest command the bridge accepts: a short APDU with
// 255 data bytes and Le. JPKI uses no extended APDUs.
const MaxCommand = 4 + 1 + 255 + 1

// ErrEmptyFrame is a frame announcing length 0, which vpcd never sends.
var ErrEmptyFrame = errors.New("vpcd: frame of length 0")

// FrameTooLongError is a frame longer than the reader's limit. The payload
// has not been read: the stream is still positioned after the 2-byte header.
type FrameTooLongError struct{ Len, Max int }

func (e *FrameTooLongError) Error() string {
	return fmt.Sprintf("vpcd: frame of %d bytes exceeds the %d-byte limit", e.Len, e.Max)
}

// ReadFrame reads one frame of at most max payload bytes. It returns io.EOF
// only when the stream ends cleanly between frames, io.ErrUnexpectedEOF when
// it ends inside one.
func ReadFrame(r io.Reader, max int) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if n == 0 {
		return nil, ErrEmptyFrame
	}
	if n > max {
		return nil, &FrameTooLongError{Len: n, Max: max}
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("vpcd: frame of %d bytes cut short: %w", n, err)
	}
	return buf, nil
}

// WriteFrame writes one frame in a single Write call.
func WriteFrame(w io.Writer, payload []byte) error {
	if len(payload) == 0 || len(payload) > 0xFFFF {
		return fmt.Errorf("vpcd: cannot frame %d bytes (1 to 65535)", len(payload))
	}
	buf := make([]byte, 2+len(payload))
	binary.BigEndian.PutUint16(buf, uint16(len(payload)))
	copy(buf[2:], payload)
	_, err := w.Write(buf)
	return err
}
