package qr

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"testing"
)

// Every size up to a QR code's capacity comes back whole (random content):
// large codes are where a finder-pattern scan of a clean image went wrong.
func TestRoundTripUpToCapacity(t *testing.T) {
	for _, n := range []int{1, 700, 1300, 1600, 1936, 2036, 2236, 2500, 2668, maxQRBytes} {
		raw := make([]byte, n)
		_, _ = rand.Read(raw)
		text := []byte(base64.StdEncoding.EncodeToString(raw))[:n]
		img, err := PNG(text, 600)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		back, err := Read(img)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(back, text) {
			t.Fatalf("%d bytes came back as %d different bytes", n, len(back))
		}
	}
}
