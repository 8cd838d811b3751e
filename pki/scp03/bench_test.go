package scp03

import (
	"testing"
)

// BenchmarkHandshake is INITIALIZE UPDATE and EXTERNAL AUTHENTICATE on both
// sides (AES-128): the key derivations and cryptograms.
func BenchmarkHandshake(b *testing.B) {
	k := gpKeys(b, 0x30)
	for b.Loop() {
		h, _ := NewSession(k, LevelCMAC|LevelCDEC|LevelRMAC, nil)
		c, _ := NewCardSession(k, kdd, nil)
		ea, err := h.ExternalAuthenticate(c.Handshake(h.InitializeUpdate()))
		if err != nil {
			b.Fatal(err)
		}
		if err := h.Authenticated(c.Handshake(ea)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStoreData is one 230-byte STORE DATA through an open channel at
// C-MAC + C-DECRYPTION + R-MAC: host wrap, card unwrap, card response,
// host check — what a certificate write costs per APDU.
func BenchmarkStoreData(b *testing.B) {
	k := gpKeys(b, 0x30)
	h, _ := NewSession(k, LevelCMAC|LevelCDEC|LevelRMAC, nil)
	c, _ := NewCardSession(k, kdd, nil)
	ea, _ := h.ExternalAuthenticate(c.Handshake(h.InitializeUpdate()))
	if err := h.Authenticated(c.Handshake(ea)); err != nil {
		b.Fatal(err)
	}
	cmd := append([]byte{0x80, 0xE2, 0x00, 0x00, 230}, make([]byte, 230)...)
	b.SetBytes(230)
	for b.Loop() {
		w, err := h.Wrap(cmd)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Unwrap(w); err != nil {
			b.Fatal(err)
		}
		if _, err := h.Unwrap(c.Respond(nil, 0x9000)); err != nil {
			b.Fatal(err)
		}
	}
}
