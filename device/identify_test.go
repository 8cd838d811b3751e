package device_test

import (
	"context"
	"errors"
	"testing"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
)

// otherCard is a card without the JPKI application: it answers 6A82 to
// every SELECT, like a foreign card would.
type otherCard struct{}

func (otherCard) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	return []byte{0x6A, 0x82}, nil
}

// tokenCard has the JPKI AP but a token info of its own.
type tokenCard struct{ info string }

func (c tokenCard) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	if apdu[1] == 0xB0 {
		return append([]byte(c.info), 0x90, 0x00), nil
	}
	return []byte{0x90, 0x00}, nil
}

func TestIdentify(t *testing.T) {
	ctx := context.Background()
	ca, err := vcard.NewDemoCA()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		profile vcard.Profile
		want    device.CardKind
	}{{vcard.MyNumber, device.MyNumberCard}, {vcard.Phone, device.PhoneToken}} {
		cfg, err := ca.Issue(p.profile, "DEMO TARO")
		if err != nil {
			t.Fatal(err)
		}
		c, err := vcard.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var r vcard.VirtualReader
		r.Insert(c)
		if got, err := device.Identify(ctx, &r); err != nil || got != p.want {
			t.Fatalf("%v: Identify = %v, %v; want %v", p.profile, got, err, p.want)
		}
		// Removal is an error, not an "unknown card".
		r.Remove()
		if _, err := device.Identify(ctx, &r); !errors.Is(err, device.ErrCardRemoved) {
			t.Fatalf("removed card: %v", err)
		}
	}
	if got, err := device.Identify(ctx, otherCard{}); err != nil || got != device.UnknownCard {
		t.Fatalf("foreign card: %v, %v", got, err)
	}
	if got, err := device.Identify(ctx, tokenCard{"JPKIAPXXXTOKEN"}); err != nil || got != device.OtherJPKI {
		t.Fatalf("odd token: %v, %v", got, err)
	}
	if got, _ := device.Identify(ctx, tokenCard{"JPKIAPICCTOKEN                  "}); got != device.MyNumberCard {
		t.Fatalf("first-generation token info: %v", got)
	}
}

// scriptedCard answers the n-th APDU with the n-th fuzzed response.
type scriptedCard struct{ answers [][]byte }

func (c *scriptedCard) Transmit(context.Context, []byte) ([]byte, error) {
	if len(c.answers) == 0 {
		return nil, device.ErrCardRemoved
	}
	a := c.answers[0]
	c.answers = c.answers[1:]
	return a, nil
}

// FuzzIdentify feeds Identify arbitrary card answers: it must classify or
// fail cleanly, and only call a card JPKI when the AP was selected.
func FuzzIdentify(f *testing.F) {
	f.Add([]byte{0x90, 0x00}, []byte{0x90, 0x00}, append([]byte("JPKIAPICCTOKEN2                  "), 0x90, 0x00))
	f.Add([]byte{0x90, 0x00}, []byte{0x90, 0x00}, append([]byte("JPKIAPGPSETOKEN"), 0x90, 0x00))
	f.Add([]byte{0x6A, 0x82}, []byte{}, []byte{})
	f.Add([]byte{0x90}, []byte{0x63, 0xC1}, []byte{0x00})
	f.Fuzz(func(t *testing.T, sel, ef, info []byte) {
		kind, err := device.Identify(context.Background(), &scriptedCard{answers: [][]byte{sel, ef, info}})
		if err != nil && kind != device.UnknownCard {
			t.Fatalf("error %v with kind %v", err, kind)
		}
		selected := len(sel) >= 2 && sel[len(sel)-2] == 0x90 && sel[len(sel)-1] == 0x00
		if kind != device.UnknownCard && !selected {
			t.Fatalf("kind %v although SELECT AP answered %X", kind, sel)
		}
	})
}
