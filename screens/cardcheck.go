package screens

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"jpkipilot/device"
	"jpkipilot/pki/jpki"
)

// CardCheck is what a card check found: the token, both PIN counters and
// the user-authentication certificate (nil when the token only shows it
// after the auth PIN, as a phone's does).
type CardCheck struct {
	Token      jpki.TokenInfo
	Auth, Sign jpki.PINStatus
	AuthCert   *x509.Certificate
	// AuthCertNeedsPIN is set when the card refused the free read (6982).
	AuthCertNeedsPIN bool
	// PINVerified is set after a PIN action verified the auth PIN.
	PINVerified bool
	APDUs       int
	Trace       []device.TraceEntry
}

// checkCard reads token info, the tries left for both PINs and the auth
// certificate. With pin nil it never asks for a PIN; with pin set it asks
// for the auth PIN (showing the tries left), verifies it and then reads
// the certificate (which a phone token shows only after the PIN).
func checkCard(ctx context.Context, t device.Transport, pin jpki.PINFunc, purpose string) (CardCheck, error) {
	card := &device.Card{T: t}
	c := jpki.New(card)
	var res CardCheck
	err := func() error {
		var err error
		if res.Token, err = c.TokenInfo(ctx); err != nil {
			return err
		}
		if res.Auth, err = c.PINStatus(ctx, jpki.Auth); err != nil {
			return err
		}
		if res.Sign, err = c.PINStatus(ctx, jpki.Sign); err != nil && !errors.Is(err, device.ErrNotFound) {
			return err // a phone token may carry no signature pair (6A82)
		}
		if pin != nil {
			if res.Auth.Blocked {
				return fmt.Errorf("%w", device.ErrBlocked)
			}
			p, err := pin(ctx, jpki.PINRequest{Kind: jpki.Auth, TriesLeft: res.Auth.TriesLeft, Max: res.Auth.Max, Purpose: purpose})
			if err != nil {
				return err
			}
			err = c.Verify(ctx, jpki.Auth, p)
			if st, e := c.PINStatus(ctx, jpki.Auth); e == nil {
				res.Auth = st
			}
			if err != nil {
				return err
			}
			res.PINVerified = true
		}
		res.AuthCert, err = c.ReadCertificate(ctx, jpki.CertAuth, nil)
		if errors.Is(err, device.ErrSecurityStatus) {
			res.AuthCertNeedsPIN, err = true, nil
		}
		return err
	}()
	res.APDUs, res.Trace = card.APDUCount(), card.Trace()
	return res, err
}

// traceLines shows a trace one APDU a line: command (PIN bytes already
// redacted by device.Card), status word, response length, time.
func traceLines(tr []device.TraceEntry) []string {
	out := make([]string, 0, len(tr))
	for _, e := range tr {
		var b strings.Builder
		fmt.Fprintf(&b, "> %s", e.Command)
		if e.Err != "" {
			fmt.Fprintf(&b, "  ! %s", e.Err)
		} else {
			fmt.Fprintf(&b, "  < %04X", e.SW)
			if e.RespLen > 0 {
				fmt.Fprintf(&b, " (%d B)", e.RespLen)
			}
		}
		out = append(out, b.String())
	}
	return out
}
