//go:build cgo

package pcsc

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"slices"
	"testing"

	"github.com/ebfe/scard"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
)

func TestErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		op   string
		code scard.Error
		is   []error
		not  []error
	}{
		{"transmit", scard.ErrRemovedCard, []error{device.ErrCardRemoved}, []error{ErrNoService}},
		{"transmit", scard.ErrResetCard, []error{device.ErrCardRemoved}, nil},
		{"transmit", scard.ErrNoSmartcard, []error{device.ErrCardRemoved}, nil},
		{"transmit", scard.ErrNoService, []error{device.ErrCardRemoved, ErrNoService}, nil},
		{"transmit", scard.ErrInvalidHandle, []error{device.ErrCardRemoved}, nil},
		{"connect", scard.ErrNoSmartcard, []error{device.ErrNoCard}, []error{device.ErrCardRemoved}},
		{"connect", scard.ErrRemovedCard, []error{device.ErrNoCard}, nil},
		{"connect", scard.ErrSharingViolation, []error{ErrBusy}, nil},
		{"connect", scard.ErrUnknownReader, []error{device.ErrNoReader}, nil},
		{"establish context", scard.ErrNoService, []error{ErrNoService}, []error{device.ErrCardRemoved}},
		{"transmit", scard.ErrNotTransacted, []error{device.ErrCardRemoved}, []error{ErrNoService}},
		{"connect", scard.ErrUnresponsiveCard, nil, []error{device.ErrCardRemoved, device.ErrNoCard, ErrBusy}},
	} {
		err := wrap(tc.op, "Virtual PCD 00 00", tc.code)
		for _, want := range tc.is {
			if !errors.Is(err, want) {
				t.Errorf("%s %v: %q does not wrap %q", tc.op, tc.code, err, want)
			}
		}
		for _, not := range tc.not {
			if errors.Is(err, not) {
				t.Errorf("%s %v: %q wraps %q", tc.op, tc.code, err, not)
			}
		}
		var code scard.Error
		if errors.As(err, &code) {
			t.Errorf("%q leaks the scard error type", err)
		}
	}
}

func TestListReaders(t *testing.T) {
	addr := vpcdAddr(t)
	names, err := ListReaders(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(names, readerFor(t, addr)) {
		t.Fatalf("readers %q lack %q", names, readerFor(t, addr))
	}
}

func TestConnectErrors(t *testing.T) {
	addr := vpcdAddr(t)
	ctx := context.Background()
	if _, err := Connect(ctx, "No Such Reader 00 00"); !errors.Is(err, device.ErrNoReader) {
		t.Fatalf("unknown reader: %v", err)
	}
	if _, err := Connect(ctx, readerFor(t, addr)); !errors.Is(err, device.ErrNoCard) {
		t.Fatalf("empty reader: %v", err)
	}
}

func TestCardThroughPCSCD(t *testing.T) {
	addr := vpcdAddr(t)
	reader := readerFor(t, addr)
	ctx := context.Background()
	for _, tc := range []struct {
		profile vcard.Profile
		kind    device.CardKind
		atr     []byte
	}{{vcard.MyNumber, device.MyNumberCard, vcard.ATRMyNumber}, {vcard.Phone, device.PhoneToken, vcard.ATRPhone}} {
		t.Run(tc.profile.String(), func(t *testing.T) {
			cfg := demoConfig(t, tc.profile)
			remove := insert(t, addr, newCard(t, tc.profile))

			st, err := Readers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(st, func(r ReaderStatus) bool { return r.Name == reader })
			if i < 0 || !st[i].Present || !bytes.Equal(st[i].ATR, tc.atr) {
				t.Fatalf("Readers: %+v, want %q present with ATR %X", st, reader, tc.atr)
			}

			conn, err := Connect(ctx, reader)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if !bytes.Equal(conn.ATR(), tc.atr) {
				t.Fatalf("ATR %X", conn.ATR())
			}
			// Exclusive: nobody else gets in while we hold the card.
			if _, err := Connect(ctx, reader); !errors.Is(err, ErrBusy) {
				t.Fatalf("second connection: %v, want ErrBusy", err)
			}
			if kind, err := device.Identify(ctx, conn); err != nil || kind != tc.kind {
				t.Fatalf("Identify: %v, %v", kind, err)
			}

			card := &device.Card{T: conn}
			do := func(cmd device.Command) []byte {
				t.Helper()
				data, err := card.Do(ctx, cmd)
				if err != nil {
					t.Fatalf("%s: %v", cmd.Redacted(), err)
				}
				return data
			}
			selEF := func(fid uint16) device.Command {
				return device.Command{INS: 0xA4, P1: 2, P2: 0x0C, Data: []byte{byte(fid >> 8), byte(fid)}, Le: device.NoLe}
			}
			do(device.Command{INS: 0xA4, P1: 4, P2: 0x0C, Data: vcard.AID, Le: device.NoLe})
			if tc.profile == vcard.Phone {
				do(selEF(vcard.EFAuthPIN))
				do(device.Command{INS: 0x20, P2: 0x80, Data: []byte(vcard.DemoAuthPIN), Le: device.NoLe, Secret: true})
			}
			do(selEF(vcard.EFAuthCert))
			got := readEF(t, card)
			if !bytes.Equal(got, cfg.AuthCert) {
				t.Fatalf("auth certificate: %d bytes differ from the card's %d", len(got), len(cfg.AuthCert))
			}

			// Sign with the auth key through pcscd and check with the certificate.
			do(selEF(vcard.EFAuthPIN))
			do(device.Command{INS: 0x20, P2: 0x80, Data: []byte(vcard.DemoAuthPIN), Le: device.NoLe, Secret: true})
			do(selEF(vcard.EFAuthKey))
			h := sha256.Sum256([]byte("login 2026-11-27"))
			di := append([]byte{0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}, h[:]...)
			sig := do(device.Command{CLA: 0x80, INS: 0x2A, P2: 0x80, Data: di, Le: 256})
			cert, err := x509.ParseCertificate(cfg.AuthCert)
			if err != nil {
				t.Fatal(err)
			}
			if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, h[:], sig); err != nil {
				t.Fatalf("signature through pcscd: %v", err)
			}
			// A wrong PIN comes back as tries left.
			do(selEF(vcard.EFAuthPIN))
			_, err = card.Do(ctx, device.Command{INS: 0x20, P2: 0x80, Data: []byte("0000"), Le: device.NoLe, Secret: true})
			var wrong *device.WrongPINError
			if !errors.As(err, &wrong) || wrong.TriesLeft != vcard.AuthPINTries-1 {
				t.Fatalf("wrong PIN: %v", err)
			}

			// Pull the card out: the next APDU fails as removed, without retry.
			remove()
			_, err = conn.Transmit(ctx, []byte{0x00, 0xB0, 0x00, 0x00, 0x00})
			if !errors.Is(err, device.ErrCardRemoved) {
				t.Fatalf("after removal: %v, want ErrCardRemoved", err)
			}
			if err := conn.Close(); err != nil {
				t.Fatalf("Close after removal: %v", err)
			}
			if _, err := conn.Transmit(ctx, []byte{0, 0xB0, 0, 0, 0}); !errors.Is(err, ErrClosed) {
				t.Fatalf("after Close: %v", err)
			}
		})
	}
}

// readEF reads the current EF in 256-byte chunks until a short read.
func readEF(t testing.TB, card *device.Card) []byte {
	t.Helper()
	var out []byte
	for {
		off := len(out)
		resp, err := card.Send(context.Background(), device.Command{INS: 0xB0, P1: byte(off >> 8), P2: byte(off), Le: 256})
		if err == nil && resp.SW == 0x6B00 && off > 0 {
			return out // the file ended on a chunk boundary
		}
		if err == nil {
			err = resp.Err()
		}
		if err != nil {
			t.Fatalf("READ BINARY at %d: %v", off, err)
		}
		out = append(out, resp.Data...)
		if len(resp.Data) < 256 {
			return out
		}
	}
}
