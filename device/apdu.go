// Package device talks to smart-card readers and cards: APDUs, status words
// as errors, readers behind a small interface, and virtual cards for demos
// and tests. Nothing here imports Fyne; the PC/SC adapter lives in
// device/pcsc so that only it needs cgo.
package device

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Command is a short ISO 7816-4 command APDU. JPKI uses no extended APDUs.
type Command struct {
	CLA, INS, P1, P2 byte
	Data             []byte
	// Le is the expected response length: -1 means no Le field, 1..256 is
	// sent as one byte (256 as 00).
	Le int
	// Secret marks Data as a PIN or other secret: traces redact it.
	Secret bool
}

// NoLe is the Le value for a command without an Le field.
const NoLe = -1

// Bytes encodes the command (case 1-4 short APDU).
func (c Command) Bytes() ([]byte, error) {
	if len(c.Data) > 255 {
		return nil, fmt.Errorf("apdu: %d data bytes do not fit a short APDU", len(c.Data))
	}
	if c.Le < NoLe || c.Le > 256 || c.Le == 0 {
		return nil, fmt.Errorf("apdu: Le %d out of range", c.Le)
	}
	b := make([]byte, 0, 5+len(c.Data)+1)
	b = append(b, c.CLA, c.INS, c.P1, c.P2)
	if len(c.Data) > 0 {
		b = append(b, byte(len(c.Data)))
		b = append(b, c.Data...)
	}
	if c.Le != NoLe {
		b = append(b, byte(c.Le)) // 256 wraps to 00 as ISO 7816 wants
	}
	return b, nil
}

// ParseCommand decodes a short command APDU, as a virtual card receives it.
func ParseCommand(b []byte) (Command, error) {
	if len(b) < 4 {
		return Command{}, fmt.Errorf("apdu: command of %d bytes is shorter than a header", len(b))
	}
	c := Command{CLA: b[0], INS: b[1], P1: b[2], P2: b[3], Le: NoLe}
	body := b[4:]
	switch {
	case len(body) == 0: // case 1
	case len(body) == 1: // case 2
		c.Le = int(body[0])
		if c.Le == 0 {
			c.Le = 256
		}
	default:
		lc := int(body[0])
		if lc == 0 {
			return Command{}, errors.New("apdu: extended length is not supported")
		}
		switch len(body) {
		case 1 + lc: // case 3
		case 2 + lc: // case 4
			c.Le = int(body[1+lc])
			if c.Le == 0 {
				c.Le = 256
			}
		default:
			return Command{}, fmt.Errorf("apdu: Lc %d does not match %d body bytes", lc, len(body))
		}
		c.Data = append([]byte(nil), body[1:1+lc]...)
	}
	return c, nil
}

// Response is a response APDU split into data and status word.
type Response struct {
	Data []byte
	SW   uint16
}

// ParseResponse splits a raw response; it must hold at least SW1 SW2.
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 2 {
		return Response{}, fmt.Errorf("apdu: response of %d bytes has no status word", len(b))
	}
	n := len(b) - 2
	return Response{Data: append([]byte(nil), b[:n]...), SW: uint16(b[n])<<8 | uint16(b[n+1])}, nil
}

// Bytes encodes the response as data followed by SW1 SW2.
func (r Response) Bytes() []byte {
	b := make([]byte, 0, len(r.Data)+2)
	b = append(b, r.Data...)
	return append(b, byte(r.SW>>8), byte(r.SW))
}

// Err maps the status word to an error value: nil for 9000.
func (r Response) Err() error { return StatusError(r.SW) }

// Redacted renders the command for a trace: secret data shows as its length only.
func (c Command) Redacted() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%02X %02X %02X %02X", c.CLA, c.INS, c.P1, c.P2)
	if len(c.Data) > 0 {
		fmt.Fprintf(&sb, " %02X ", len(c.Data))
		if c.Secret {
			sb.WriteString(strings.Repeat("**", len(c.Data)))
		} else {
			sb.WriteString(strings.ToUpper(hex.EncodeToString(c.Data)))
		}
	}
	if c.Le != NoLe {
		fmt.Fprintf(&sb, " %02X", byte(c.Le))
	}
	return sb.String()
}
