//go:build cgo

package pcsc

import (
	"context"
	"crypto/x509"
	"os"
	"testing"
	"time"

	"jpkipilot/device"
)

// TestRealReader reads a real card when JPKIPILOT_REAL_READER names the
// reader it is in: identify it and, for JPKI, read the freely readable
// certificates (never a PIN: a real card must not lose a try to a test).
func TestRealReader(t *testing.T) {
	reader := os.Getenv("JPKIPILOT_REAL_READER")
	if reader == "" {
		t.Skip("JPKIPILOT_REAL_READER not set: no real reader to test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t.Logf("hold the card to %q", reader)
	atr, err := WaitForCard(ctx, reader)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ATR % X", atr)
	conn, err := Connect(ctx, reader)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	kind, err := device.Identify(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("card: %v", kind)
	if kind != device.MyNumberCard {
		return // a phone's auth certificate needs the PIN; other cards: nothing more to read
	}
	card := &device.Card{T: conn}
	if _, err := card.Do(ctx, device.Command{INS: 0xA4, P1: 4, P2: 0x0C, Data: device.JPKIAID, Le: device.NoLe}); err != nil {
		t.Fatal(err)
	}
	for _, fid := range []byte{0x0A, 0x0B, 0x02} {
		if _, err := card.Do(ctx, device.Command{INS: 0xA4, P1: 2, P2: 0x0C, Data: []byte{0, fid}, Le: device.NoLe}); err != nil {
			t.Fatalf("select EF %04X: %v", fid, err)
		}
		hdr, err := card.Do(ctx, device.Command{INS: 0xB0, Le: 4})
		if err != nil || len(hdr) != 4 || hdr[0] != 0x30 || hdr[1] != 0x82 {
			t.Fatalf("EF %04X header % X, %v", fid, hdr, err)
		}
		der := readEF(t, card)
		n := int(hdr[2])<<8 | int(hdr[3]) + 4
		if len(der) < n {
			t.Fatalf("EF %04X: %d bytes, DER says %d", fid, len(der), n)
		}
		cert, err := x509.ParseCertificate(der[:n])
		if err != nil {
			t.Fatalf("EF %04X: %v", fid, err)
		}
		t.Logf("EF %04X: %s, issued by %s", fid, cert.Subject, cert.Issuer)
	}
}
