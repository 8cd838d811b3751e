package vpcd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
)

func TestReadFrame(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want []byte
		err  func(error) bool
	}{
		{"control", []byte{0, 1, 4}, []byte{4}, nil},
		{"apdu", []byte{0, 4, 0, 0xA4, 4, 0}, []byte{0, 0xA4, 4, 0}, nil},
		{"clean end", nil, nil, func(e error) bool { return e == io.EOF }},
		{"half header", []byte{0}, nil, func(e error) bool { return errors.Is(e, io.ErrUnexpectedEOF) }},
		{"short payload", []byte{0, 3, 1}, nil, func(e error) bool { return errors.Is(e, io.ErrUnexpectedEOF) }},
		{"no payload", []byte{0, 3}, nil, func(e error) bool { return errors.Is(e, io.ErrUnexpectedEOF) }},
		{"zero length", []byte{0, 0}, nil, func(e error) bool { return errors.Is(e, ErrEmptyFrame) }},
		{"too long", []byte{0x01, 0x06}, nil, func(e error) bool {
			var l *FrameTooLongError
			return errors.As(e, &l) && l.Len == 262 && l.Max == MaxCommand
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadFrame(bytes.NewReader(tc.in), MaxCommand)
			if tc.err != nil {
				if err == nil || !tc.err(err) {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("got %X, %v", got, err)
			}
		})
	}
	if err := WriteFrame(io.Discard, nil); err == nil {
		t.Fatal("WriteFrame framed an empty payload")
	}
	if err := WriteFrame(io.Discard, make([]byte, 0x10000)); err == nil {
		t.Fatal("WriteFrame framed 65536 bytes")
	}
}

// FuzzReadFrame: any byte stream gives frames or an error, never a panic,
// and every frame read re-encodes to the bytes it came from.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0, 1, 4})
	f.Add([]byte{0, 1, 4, 0, 5, 0, 0xB0, 0, 0, 0})
	f.Add([]byte{0, 0})
	f.Add([]byte{0xFF, 0xFF, 1, 2})
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		var out bytes.Buffer
		for {
			frame, err := ReadFrame(r, MaxCommand)
			if err != nil {
				if err.Error() == "" {
					t.Fatal("error without a message")
				}
				break
			}
			if len(frame) == 0 || len(frame) > MaxCommand {
				t.Fatalf("frame of %d bytes passed the limit", len(frame))
			}
			if err := WriteFrame(&out, frame); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.HasPrefix(in, out.Bytes()) {
			t.Fatalf("re-encoded frames %X are not a prefix of the input %X", out.Bytes(), in)
		}
	})
}

// FuzzBridge: whatever the driver sends, the bridge answers well-formed
// frames or ends the session with an error; it never panics or hangs.
func FuzzBridge(f *testing.F) {
	f.Add([]byte{0, 1, 4, 0, 1, 1, 0, 15, 0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01})
	f.Add([]byte{0, 1, 9})
	f.Add([]byte{1, 6, 0, 0})
	card := newCard(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		b := &Bridge{Card: card}
		err := b.answer(context.Background(), struct {
			io.Reader
			io.Writer
		}{bytes.NewReader(in), &out})
		if err == nil {
			t.Fatal("answer returned nil at end of input")
		}
		for r := bytes.NewReader(out.Bytes()); r.Len() > 0; {
			if _, err := ReadFrame(r, 0xFFFF); err != nil {
				t.Fatalf("bridge wrote a bad frame: %v", err)
			}
		}
	})
}
