package screens

import (
	"context"
	"errors"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"jpkipilot/pki/jpki"
)

// askPIN calls the PIN callback on a worker, as a card flow does, and
// hands back the pad once it is on screen and the callback's result.
func askPIN(t *testing.T, ctx context.Context, req jpki.PINRequest) (fyne.Window, *pinPad, <-chan pinResult) {
	t.Helper()
	w := newWindow(t)
	pads := make(chan *pinPad, 1)
	ask := pinPadFunc(w, func(p *pinPad) { pads <- p })
	out := make(chan pinResult, 1)
	go func() {
		pin, err := ask(ctx, req)
		out <- pinResult{pin, err}
	}()
	return w, <-pads, out
}

func TestPINPadRefusesWrongFormat(t *testing.T) {
	for _, c := range []struct {
		name      string
		kind      jpki.Kind
		bad, good string
		want      string
	}{
		{"auth", jpki.Auth, "123", "1234", "1234"},
		{"auth letters", jpki.Auth, "12a4", "0000", "0000"},
		{"sign too short", jpki.Sign, "AB123", "ABCDEF1234", "ABCDEF1234"},
		{"sign symbols", jpki.Sign, "ABC-DEF-12", "abcdef12", "ABCDEF12"}, // lower case typed, upper case sent
	} {
		t.Run(c.name, func(t *testing.T) {
			_, p, out := askPIN(t, context.Background(), jpki.PINRequest{Kind: c.kind, TriesLeft: 3, Max: 3, Purpose: "テスト"})
			test.Type(p.entry, c.bad)
			test.Tap(p.ok)
			select {
			case r := <-out:
				t.Fatalf("%q of the wrong format was returned (%v)", r.pin, r.err)
			default:
			}
			if p.problem.Text == "" {
				t.Error("no reason shown for the refused PIN")
			}
			p.entry.SetText("")
			test.Type(p.entry, c.good)
			p.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) // Enter submits too
			r := <-out
			if r.err != nil || r.pin != c.want {
				t.Fatalf("got %q, %v; want %q", r.pin, r.err, c.want)
			}
			if p.entry.Text != "" {
				t.Error("the pad kept the PIN after handing it over")
			}
		})
	}
}

func TestPINPadCancel(t *testing.T) {
	_, p, out := askPIN(t, context.Background(), jpki.PINRequest{Kind: jpki.Auth, TriesLeft: 3, Max: 3, Purpose: "ログイン"})
	test.Type(p.entry, "12")
	test.Tap(p.cancel)
	r := <-out
	if !errors.Is(r.err, jpki.ErrPINCancelled) || r.pin != "" {
		t.Fatalf("got %q, %v; want ErrPINCancelled", r.pin, r.err)
	}
}

func TestPINPadContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	_, _, out := askPIN(t, ctx, jpki.PINRequest{Kind: jpki.Sign, TriesLeft: 5, Max: 5, Purpose: "署名"})
	cancel()
	if r := <-out; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", r.err)
	}
}

func TestPINPadTriesLeft(t *testing.T) {
	if err := LoadTranslations("ja"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		req  jpki.PINRequest
		want string
	}{
		{jpki.PINRequest{Kind: jpki.Auth, TriesLeft: 3, Max: 3}, "残り 3 回（最大 3 回）"},
		{jpki.PINRequest{Kind: jpki.Sign, TriesLeft: 4, Max: 5}, "残り 4 回（最大 5 回）"},
		{jpki.PINRequest{Kind: jpki.Auth, TriesLeft: 1, Max: 3}, "残り 1 回です。間違えると PIN がロックされます（最大 3 回）。"},
	} {
		if got := pinTriesText(c.req); got != c.want {
			t.Errorf("%+v: %q, want %q", c.req, got, c.want)
		}
	}
}

func TestPINPadMarkup(t *testing.T) {
	w, p, out := askPIN(t, context.Background(), jpki.PINRequest{Kind: jpki.Auth, TriesLeft: 1, Max: 3,
		Purpose: "インターネットバンキングにログインする"})
	test.Type(p.entry, "12")
	test.Tap(p.ok) // refused: the reason shows under the masked entry
	test.AssertRendersToMarkup(t, "pinpad.xml", w.Canvas())
	test.Tap(p.cancel)
	<-out
}

func TestPINPadKeypad(t *testing.T) {
	w, p, out := askPIN(t, context.Background(), jpki.PINRequest{Kind: jpki.Auth, TriesLeft: 3, Max: 3, Purpose: "テスト"})
	for _, k := range []string{"1", "2", "3", "4", "5"} { // the fifth digit does not go in
		test.Tap(findButton(t, w.Canvas(), k))
	}
	test.Tap(p.ok)
	if r := <-out; r.err != nil || r.pin != "1234" {
		t.Fatalf("got %q, %v; want 1234", r.pin, r.err)
	}
}

// The card client's purposes (English, for logs) show in the UI language.
func TestPINPadPurposeTranslated(t *testing.T) {
	_, p, out := askPIN(t, context.Background(), jpki.PINRequest{Kind: jpki.Auth, TriesLeft: 3, Max: 3, Purpose: jpki.PurposeSignAuth})
	got := p.purpose.Text
	test.Tap(p.cancel)
	<-out
	if got != "用途: 利用者証明用の鍵で署名（本人確認）" {
		t.Errorf("the pad says %q", got)
	}
	t.Cleanup(func() { _ = LoadTranslations("ja") })
	for _, c := range []struct{ lang, purpose, want string }{
		{"ja", jpki.PurposeReadSignCert, "署名用電子証明書の読み取り"},
		{"ja", jpki.PurposeSignSign, "署名用の鍵で署名"},
		{"en", jpki.PurposeSignAuth, "sign with the user-authentication key (proves it is you)"},
		{"en", jpki.PurposeReadAuthCert, "read the user-authentication certificate"},
		{"ja", "インターネットバンキングにログインする", "インターネットバンキングにログインする"},
	} {
		if err := LoadTranslations(c.lang); err != nil {
			t.Fatal(err)
		}
		if got := purposeLabel(c.purpose); got != c.want {
			t.Errorf("%s %q: %q, want %q", c.lang, c.purpose, got, c.want)
		}
	}
}
