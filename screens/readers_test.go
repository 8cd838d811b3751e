package screens

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"jpkipilot/device"
	"jpkipilot/pki/jpki"
)

// fixedReaders stands in for the PC/SC side, which needs cgo and pcscd
// (device/pcsc tests that): it answers with set readers or an error. The
// card side of these tests is real: vcard cards in VirtualReaders.
type fixedReaders struct {
	readers []ReaderInfo
	err     error
}

func (f fixedReaders) Readers(context.Context) ([]ReaderInfo, error) { return f.readers, f.err }
func (f fixedReaders) Open(context.Context, string) (device.Transport, func(), error) {
	return nil, nil, device.ErrNoCard
}
func (f fixedReaders) Signal(context.Context, string, bool) error { return ErrNoReaderFeedback }
func (f fixedReaders) OnChange(func())                            {}

const virtualName = "jpkipilot 仮想リーダー"

// readersFor builds the readers screen over hw joined with one virtual
// reader, the monitors coming from a seeded store.
func readersFor(t *testing.T, hw ReaderSource) (fyne.Window, *readersScreen, *VirtualReaders) {
	t.Helper()
	w := newWindow(t)
	virt := NewVirtualReaders(virtualName)
	s := newReadersScreen(w, ReadersDeps{Source: JoinReaders(hw, virt), Virtual: virt, Monitors: seeded(t)})
	show(w, s.content)
	return w, s, virt
}

func TestReadersNoPCSCD(t *testing.T) {
	hw := fixedReaders{err: fmt.Errorf("%w (SCardEstablishContext: Service not available)", ErrPCSCNotRunning)}
	w, s, _ := readersFor(t, hw)
	if want := "pcscdが動いていません。実機のリーダーは使えません（仮想カードは使えます）。"; s.state.Text != want {
		t.Errorf("state = %q, want %q", s.state.Text, want)
	}
	if s.list.Length() != 1 || !s.readers[0].Virtual {
		t.Errorf("readers = %+v, want the virtual reader only", s.readers)
	}
	test.AssertRendersToMarkup(t, "readers_no_pcscd.xml", w.Canvas())
}

func TestReadersOtherPCSCError(t *testing.T) {
	_, s, _ := readersFor(t, fixedReaders{err: errors.New("SCardListReaders: Internal error")})
	if !strings.Contains(s.state.Text, "Internal error") {
		t.Errorf("state = %q, want the error", s.state.Text)
	}
}

func TestReadersNone(t *testing.T) {
	w, s, _ := readersFor(t, fixedReaders{})
	if want := "リーダーが接続されていません。"; s.state.Text != want {
		t.Errorf("state = %q, want %q", s.state.Text, want)
	}
	if s.check.Disabled() == false {
		t.Error("card check enabled with no card anywhere")
	}
	test.AssertRendersToMarkup(t, "readers_none.xml", w.Canvas())
}

// holdVirtual picks monitor id in the virtual card section, chooses the
// profile and taps Hold, as staff do.
func holdVirtual(t *testing.T, w fyne.Window, s *readersScreen, id, profile string) {
	t.Helper()
	test.Type(s.holder.entry, strings.Replace(strings.ToLower(id), "-000", "-", 1)) // "m-1" for M-0001, as people type
	if _, ok := s.holder.selected(); !ok {
		t.Fatalf("typing %s did not pick it", id)
	}
	s.profile.SetSelected(profile)
	test.Tap(findButton(t, w.Canvas(), "カードをかざす"))
	waitIdle()
}

func TestReadersVirtualCardInserted(t *testing.T) {
	w, s, _ := readersFor(t, fixedReaders{readers: []ReaderInfo{{Name: "Virtual PCD 00 00"}}})
	if want := "1 台のリーダー"; s.state.Text != want {
		t.Errorf("state = %q, want %q", s.state.Text, want)
	}
	holdVirtual(t, w, s, "M-0001", "マイナンバーカード")
	r := s.readers[1]
	if !r.CardPresent || r.Kind != device.MyNumberCard || r.Holder != "M-0001" {
		t.Fatalf("virtual reader = %+v, want M-0001's My Number card identified", r)
	}
	if s.selected != virtualName || s.check.Disabled() {
		t.Errorf("selected %q, check disabled %v: want the virtual reader ready to check", s.selected, s.check.Disabled())
	}
	test.AssertRendersToMarkup(t, "readers_virtual.xml", w.Canvas())

	// The card check reads token, both PIN counters and the auth
	// certificate without asking any PIN, and says reading finished.
	test.Tap(s.check)
	waitIdle()
	for _, want := range []string{"JPKIAPICCTOKEN2", "利用者証明用 PIN（4桁）: 残り 3 回（最大 3 回）",
		"署名用 PIN（6〜16文字）: 残り 5 回（最大 5 回）", "利用者証明用証明書: ", "シリアル番号 "} {
		if !strings.Contains(s.result.Text, want) {
			t.Errorf("result lacks %q:\n%s", want, s.result.Text)
		}
	}
	if !strings.Contains(s.trace.Text, "> 00 A4 04 0C 0A D392F0") || strings.Contains(s.trace.Text, "00 20 00 80 04") {
		t.Errorf("trace = %q: want SELECT AP and no VERIFY with data", s.trace.Text)
	}
	if !strings.Contains(s.fb.label.Text, "読み取りが終わりました") || !strings.Contains(s.fb.label.Text, "画面の色だけ") {
		t.Errorf("feedback = %q: want done, visual only (a virtual reader cannot beep)", s.fb.label.Text)
	}

	test.Tap(findButton(t, w.Canvas(), "カードを離す"))
	waitIdle()
	if s.readers[1].CardPresent || !s.check.Disabled() {
		t.Errorf("after removal: %+v, check disabled %v", s.readers[1], s.check.Disabled())
	}
}

// A phone token shows its auth certificate only after the auth PIN: the
// plain check says so without asking; the PIN action asks through the pad
// (wrong format refused there), verifies and then reads it.
func TestReadersPhoneTokenPINAction(t *testing.T) {
	w, s, _ := readersFor(t, fixedReaders{})
	holdVirtual(t, w, s, "M-0002", "スマートフォン")
	if s.readers[0].Kind != device.PhoneToken {
		t.Fatalf("kind = %v, want phone token", s.readers[0].Kind)
	}
	test.Tap(s.check)
	waitIdle()
	if !strings.Contains(s.result.Text, "PIN の確認後に読めます") || strings.Contains(s.result.Text, "シリアル番号") {
		t.Errorf("result = %q", s.result.Text)
	}

	pads := make(chan *pinPad, 1)
	s.pin = pinPadFunc(w, func(p *pinPad) { pads <- p })
	test.Tap(s.checkPIN)
	p := <-pads
	if !strings.Contains(p.tries.Text, "残り 3 回") {
		t.Errorf("tries = %q", p.tries.Text)
	}
	test.Type(p.entry, "12")
	test.Tap(p.ok)
	if p.problem.Text == "" {
		t.Error("a 2-digit PIN was accepted")
	}
	p.entry.SetText("")
	test.Type(p.entry, "1234") // vcard.DemoAuthPIN
	test.Tap(p.ok)
	waitIdle()
	for _, want := range []string{"利用者証明用 PIN を確認しました。", "シリアル番号 "} {
		if !strings.Contains(s.result.Text, want) {
			t.Errorf("result lacks %q:\n%s", want, s.result.Text)
		}
	}
	if !strings.Contains(s.trace.Text, "00 20 00 80 04 ********") {
		t.Errorf("trace has no VERIFY: %q", s.trace.Text)
	}
	if strings.Contains(s.trace.Text, "31323334") {
		t.Errorf("the PIN bytes are in the trace: %q", s.trace.Text)
	}

	// A wrong PIN shows the tries left and spends one; nothing is retried.
	test.Tap(s.checkPIN)
	p = <-pads
	test.Type(p.entry, "9999")
	test.Tap(p.ok)
	waitIdle()
	if !strings.Contains(s.result.Text, "PIN が違います。残り 2 回です。") {
		t.Errorf("result = %q", s.result.Text)
	}
	if !strings.Contains(s.fb.label.Text, "読み取れませんでした") {
		t.Errorf("feedback = %q", s.fb.label.Text)
	}

	// Cancel sends nothing.
	test.Tap(s.checkPIN)
	p = <-pads
	test.Tap(p.cancel)
	waitIdle()
	if !strings.Contains(s.fb.label.Text, "取りやめました") {
		t.Errorf("feedback after cancel = %q", s.fb.label.Text)
	}
	if !strings.Contains(s.result.Text, "残り 2 回") {
		t.Errorf("a cancelled PIN changed the counter: %q", s.result.Text)
	}
}

func TestCardCheckRemovedCard(t *testing.T) {
	virt := NewVirtualReaders(virtualName)
	ctx := context.Background()
	if err := virt.Hold(ctx, virtualName, "M-0003", 0); err != nil {
		t.Fatal(err)
	}
	tr, done, err := virt.Open(ctx, virtualName)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	virt.slot(virtualName).reader.RemoveAfter(3)
	_, err = checkCard(ctx, tr, nil, "")
	if !errors.Is(err, device.ErrCardRemoved) {
		t.Fatalf("err = %v, want card removed", err)
	}
	if got := cardErrorText(err); got != "カードが離されました。もう一度かざしてください。" {
		t.Errorf("text = %q", got)
	}
	var _ jpki.PINFunc = NewPINPad(nil)
}
