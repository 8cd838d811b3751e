//go:build cgo

package pcsc

import (
	"bytes"
	"context"
	"testing"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
)

// BenchmarkReadAuthCert reads the user-authentication certificate the way
// a JPKI client does (SELECT AP, SELECT EF 000A, READ BINARY in 256-byte
// chunks) through pcscd and vpcd, on an open connection.
func BenchmarkReadAuthCert(b *testing.B) {
	addr := vpcdAddr(b)
	ctx := context.Background()
	cfg := demoConfig(b, vcard.MyNumber)
	insert(b, addr, newCard(b, vcard.MyNumber))
	conn, err := Connect(ctx, readerFor(b, addr))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	card := &device.Card{T: conn}
	before := card.APDUCount()
	b.ResetTimer()
	for b.Loop() {
		if _, err := card.Do(ctx, device.Command{INS: 0xA4, P1: 4, P2: 0x0C, Data: vcard.AID, Le: device.NoLe}); err != nil {
			b.Fatal(err)
		}
		if _, err := card.Do(ctx, device.Command{INS: 0xA4, P1: 2, P2: 0x0C, Data: []byte{0, 0x0A}, Le: device.NoLe}); err != nil {
			b.Fatal(err)
		}
		if cert := readEF(b, card); !bytes.Equal(cert, cfg.AuthCert) {
			b.Fatal("certificate differs")
		}
	}
	b.ReportMetric(float64(card.APDUCount()-before)/float64(b.N), "APDUs/op")
	b.ReportMetric(float64(len(cfg.AuthCert)), "cert-bytes")
}

// BenchmarkConnectIdentify is what "jpkipilot readers" pays per card:
// an exclusive connection, SELECT AP, token info, reset on close.
func BenchmarkConnectIdentify(b *testing.B) {
	addr := vpcdAddr(b)
	ctx := context.Background()
	insert(b, addr, newCard(b, vcard.Phone))
	reader := readerFor(b, addr)
	for b.Loop() {
		conn, err := Connect(ctx, reader)
		if err != nil {
			b.Fatal(err)
		}
		if kind, err := device.Identify(ctx, conn); err != nil || kind != device.PhoneToken {
			b.Fatalf("Identify: %v %v", kind, err)
		}
		conn.Close()
	}
}
