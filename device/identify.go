package device

import (
	"bytes"
	"context"
	"errors"
)

// CardKind is what Identify found on a card.
type CardKind int

const (
	UnknownCard  CardKind = iota // no JPKI application
	MyNumberCard                 // JPKI AP with token JPKIAPICCTOKEN(2)
	PhoneToken                   // JPKI AP with token JPKIAPGPSETOKEN (smartphone SIM)
	OtherJPKI                    // JPKI AP with a token info we do not know
)

func (k CardKind) String() string {
	switch k {
	case MyNumberCard:
		return "My Number card (JPKI)"
	case PhoneToken:
		return "Phone token (JPKI)"
	case OtherJPKI:
		return "JPKI token (unrecognised token info)"
	}
	return "unknown card"
}

// JPKIAID is the JPKI application identifier.
var JPKIAID = []byte{0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01}

// Identify tells a JPKI card from others by selecting the JPKI application
// and reading its token info (EF 0006); the ATR is never trusted for this.
// Selecting the AP clears any verified PIN on the card. A transport error
// (card removed...) is returned as is; a card that refuses the AP is an
// UnknownCard with a nil error.
func Identify(ctx context.Context, t Transport) (CardKind, error) {
	c := &Card{T: t}
	if _, err := c.Do(ctx, Command{INS: 0xA4, P1: 0x04, P2: 0x0C, Data: JPKIAID, Le: NoLe}); err != nil {
		return UnknownCard, cardOnly(err)
	}
	if _, err := c.Do(ctx, Command{INS: 0xA4, P1: 0x02, P2: 0x0C, Data: []byte{0x00, 0x06}, Le: NoLe}); err != nil {
		if e := cardOnly(err); e != nil {
			return UnknownCard, e
		}
		return OtherJPKI, nil
	}
	info, err := c.Do(ctx, Command{INS: 0xB0, Le: 32})
	if err != nil {
		if e := cardOnly(err); e != nil {
			return UnknownCard, e
		}
		return OtherJPKI, nil
	}
	return ClassifyTokenInfo(info), nil
}

// ClassifyTokenInfo tells the token kind from the label in EF 0006 (padded
// with spaces, or NULs on some implementations): the one rule both the
// readers panel and the JPKI client use.
func ClassifyTokenInfo(info []byte) CardKind {
	token := bytes.TrimRight(info, " \x00")
	switch {
	case bytes.HasPrefix(token, []byte("JPKIAPICCTOKEN")):
		// JPKIAPICCTOKEN2 on current cards; the digit is a generation, so a
		// later one is still a card.
		return MyNumberCard
	case bytes.Equal(token, []byte("JPKIAPGPSETOKEN")):
		return PhoneToken
	}
	return OtherJPKI
}

// cardOnly drops status-word errors (the card answered) and keeps
// transport errors.
func cardOnly(err error) error {
	var sw *SWError
	var pin *WrongPINError
	if errors.As(err, &sw) || errors.As(err, &pin) {
		return nil
	}
	return err
}
