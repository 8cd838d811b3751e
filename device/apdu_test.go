package device

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func TestCommandEncodesEveryCase(t *testing.T) {
	for _, tc := range []struct {
		name string
		cmd  Command
		want []byte
	}{
		{"case 1", Command{CLA: 0x00, INS: 0x20, P1: 0x00, P2: 0x80, Le: NoLe}, []byte{0x00, 0x20, 0x00, 0x80}},
		{"case 2, Le 256 as 00", Command{INS: 0xB0, Le: 256}, []byte{0x00, 0xB0, 0x00, 0x00, 0x00}},
		{"case 3 (SELECT AP)", Command{INS: 0xA4, P1: 4, P2: 0x0C, Data: []byte{0xD3, 0x92}, Le: NoLe}, []byte{0x00, 0xA4, 0x04, 0x0C, 0x02, 0xD3, 0x92}},
		{"case 4 (sign)", Command{CLA: 0x80, INS: 0x2A, P2: 0x80, Data: []byte{1, 2, 3}, Le: 256}, []byte{0x80, 0x2A, 0x00, 0x80, 0x03, 1, 2, 3, 0x00}},
	} {
		got, err := tc.cmd.Bytes()
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("%s: % X, %v; want % X", tc.name, got, err, tc.want)
			continue
		}
		back, err := ParseCommand(got)
		if err != nil {
			t.Errorf("%s: parse back: %v", tc.name, err)
			continue
		}
		if back.INS != tc.cmd.INS || back.Le != tc.cmd.Le || !bytes.Equal(back.Data, tc.cmd.Data) {
			t.Errorf("%s: parsed back as %+v", tc.name, back)
		}
	}
}

func TestCommandRefusesWhatAShortAPDUCannotCarry(t *testing.T) {
	if _, err := (Command{Data: make([]byte, 256), Le: NoLe}).Bytes(); err == nil {
		t.Error("256 data bytes encoded")
	}
	for _, le := range []int{0, -2, 257} {
		if _, err := (Command{Le: le}).Bytes(); err == nil {
			t.Errorf("Le %d encoded", le)
		}
	}
	for _, raw := range [][]byte{{0x00, 0xA4, 0x04}, {0, 0xA4, 4, 0x0C, 0x05, 1, 2}, {0, 0xA4, 4, 0x0C, 0x00, 0x01, 0x00}} {
		if _, err := ParseCommand(raw); err == nil {
			t.Errorf("% X parsed", raw)
		}
	}
}

func TestStatusWordsAreErrors(t *testing.T) {
	if StatusError(0x9000) != nil {
		t.Fatal("9000 is an error")
	}
	var wrong *WrongPINError
	if err := StatusError(0x63C2); !errors.As(err, &wrong) || wrong.TriesLeft != 2 || errors.Is(err, ErrBlocked) {
		t.Errorf("63C2 = %v", err)
	}
	if err := StatusError(0x63C0); !errors.Is(err, ErrBlocked) {
		t.Errorf("63C0 is not blocked: %v", err)
	}
	for sw, want := range map[uint16]error{0x6983: ErrBlocked, 0x6984: ErrBlocked, 0x6A82: ErrNotFound, 0x6982: ErrSecurityStatus} {
		err := StatusError(sw)
		if !errors.Is(err, want) {
			t.Errorf("%04X = %v, want %v", sw, err, want)
		}
		var swErr *SWError
		if !errors.As(err, &swErr) || swErr.SW != sw {
			t.Errorf("%04X does not carry its status word: %v", sw, err)
		}
	}
	if err := StatusError(0x6F00); err == nil || !strings.Contains(err.Error(), "6F00") {
		t.Errorf("6F00 = %v: the message must name the status word", err)
	}
}

func TestResponseParse(t *testing.T) {
	r, err := ParseResponse([]byte{0xAA, 0xBB, 0x90, 0x00})
	if err != nil || !bytes.Equal(r.Data, []byte{0xAA, 0xBB}) || r.SW != 0x9000 || r.Err() != nil {
		t.Fatalf("parse: %+v %v", r, err)
	}
	if !bytes.Equal(r.Bytes(), []byte{0xAA, 0xBB, 0x90, 0x00}) {
		t.Fatalf("round trip: % X", r.Bytes())
	}
	if _, err := ParseResponse([]byte{0x90}); err == nil {
		t.Fatal("one byte parsed as a response")
	}
}

// pinCard answers 9000 to everything; the test looks at the trace.
type pinCard struct{}

func (pinCard) Transmit(context.Context, []byte) ([]byte, error) { return []byte{0x90, 0x00}, nil }

func TestTraceRedactsPINs(t *testing.T) {
	c := &Card{T: pinCard{}}
	if _, err := c.Do(context.Background(), Command{INS: 0x20, P2: 0x80, Data: []byte("1234"), Le: NoLe, Secret: true}); err != nil {
		t.Fatal(err)
	}
	tr := c.Trace()
	if len(tr) != 1 || c.APDUCount() != 1 {
		t.Fatalf("trace %v, count %d", tr, c.APDUCount())
	}
	if got := tr[0].Command; got != "00 20 00 80 04 ********" || strings.Contains(got, "31323334") {
		t.Fatalf("trace shows %q", got)
	}
}

func TestTraceIsBounded(t *testing.T) {
	c := &Card{T: pinCard{}}
	for range MaxTrace + 50 {
		if _, err := c.Send(context.Background(), Command{INS: 0xB0, Le: 256}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.Trace()); n != MaxTrace {
		t.Fatalf("trace holds %d entries, want %d", n, MaxTrace)
	}
	if c.APDUCount() != MaxTrace+50 {
		t.Fatalf("count %d", c.APDUCount())
	}
}

func FuzzParseCommand(f *testing.F) {
	f.Add([]byte{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01})
	f.Add([]byte{0x00, 0xB0, 0x00, 0x00, 0x00})
	f.Add([]byte{0x80, 0x2A, 0x00, 0x80, 0x01, 0xFF, 0x00})
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := ParseCommand(raw)
		if err != nil {
			return
		}
		// Whatever parses encodes back to the same bytes.
		back, err := c.Bytes()
		if err != nil {
			t.Fatalf("% X parsed to %+v, which does not encode: %v", raw, c, err)
		}
		if !bytes.Equal(back, raw) {
			t.Fatalf("% X parsed and encoded back as % X", raw, back)
		}
	})
}
