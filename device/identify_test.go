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
	for _, p := range []struct {
		profile vcard.Profile
		want    device.CardKind
	}{{vcard.MyNumber, device.MyNumberCard}, {vcard.Phone, device.PhoneToken}} {
		cfg, err := vcard.NewDemo(p.profile, "DEMO TARO")
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
