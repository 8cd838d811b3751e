package vcard

import (
	"crypto/sha256"
	"testing"
)

// BenchmarkReadAuthCert is the in-process cost of the 6-APDU certificate
// read (the pcsc package benchmarks the same through pcscd and vpcd).
func BenchmarkReadAuthCert(b *testing.B) {
	c := newCard(b, MyNumber)
	sel, ef := mustHex(b, selectAP), mustHex(b, selectAuthCert)
	for b.Loop() {
		send(b, c, sel)
		send(b, c, ef)
		readAll(b, c)
	}
}

// BenchmarkSign is one RSA-2048 signature by the card (VERIFY excluded).
func BenchmarkSign(b *testing.B) {
	c := newCard(b, MyNumber)
	want(b, c, selectAP, 0x9000)
	want(b, c, selectAuthPIN, 0x9000)
	send1(b, c, verifyCmd(DemoAuthPIN), 0x9000)
	want(b, c, selectAuthKey, 0x9000)
	h := sha256.Sum256([]byte("bench"))
	cmd := signCmd(append(append([]byte(nil), digestInfoSHA256...), h[:]...))
	for b.Loop() {
		send1(b, c, cmd, 0x9000)
	}
}
