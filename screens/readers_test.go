package screens

import (
	"context"
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
)

// fixedReaders is a ReaderSource with set answers: the screen's states
// are what is tested here, not PC/SC (the device package tests that).
type fixedReaders struct {
	readers []ReaderInfo
	err     error
	trace   []string
}

func (f fixedReaders) Readers(context.Context) ([]ReaderInfo, error) { return f.readers, f.err }
func (f fixedReaders) LastTrace() []string                           { return f.trace }

func TestReadersScreenStates(t *testing.T) {
	for _, c := range []struct {
		name  string
		src   fixedReaders
		state string
		rows  int
	}{
		{"pcscd not running", fixedReaders{err: errors.New("SCardEstablishContext: Service not available")},
			"リーダーを使えません（pcscd が動いていない可能性があります）: SCardEstablishContext: Service not available", 0},
		{"no readers", fixedReaders{}, "リーダーが接続されていません。", 0},
		{"two readers", fixedReaders{readers: []ReaderInfo{
			{Name: "Virtual PCD 00 00", CardPresent: true, CardType: "JPKI card"}, {Name: "Virtual PCD 00 01"}},
			trace: []string{"> 00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01", "< 90 00"}},
			"2 台のリーダー", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWindow(t)
			s := newReadersScreen(w, c.src)
			show(w, s.content)
			if s.state.Text != c.state {
				t.Errorf("state = %q, want %q", s.state.Text, c.state)
			}
			if s.list.Length() != c.rows {
				t.Errorf("%d rows, want %d", s.list.Length(), c.rows)
			}
			if len(c.src.trace) > 0 {
				if !strings.Contains(s.trace.Text, "D3 92 F0") {
					t.Errorf("trace = %q", s.trace.Text)
				}
				test.AssertRendersToMarkup(t, "readers.xml", w.Canvas())
			}
		})
	}
}
