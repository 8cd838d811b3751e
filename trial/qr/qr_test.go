package qr

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"image"
	"image/png"
	"testing"
)

// An RSA-2048 request, the largest thing the iOS path puts in a QR code,
// survives a round trip through a QR code PNG and still proves possession.
func TestQRRoundTripOfACSR(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "iPhone of M-0001"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	text := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	img, err := PNG(text, 600)
	if err != nil {
		t.Fatal(err)
	}
	if !IsImage(img) {
		t.Fatal("QRPNG did not write a PNG")
	}
	if _, err := png.Decode(bytes.NewReader(img)); err != nil {
		t.Fatal(err)
	}
	back, err := Read(img)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, text) {
		t.Fatalf("QR gave back %d bytes, want the %d of the request", len(back), len(text))
	}
	blk, _ := pem.Decode(back)
	csr, err := x509.ParseCertificateRequest(blk.Bytes)
	if err != nil || csr.CheckSignature() != nil {
		t.Fatalf("request read from the QR code: %v", err)
	}
}

func TestQRRefusals(t *testing.T) {
	if _, err := PNG(nil, 300); err == nil {
		t.Error("empty QR encoded")
	}
	if _, err := PNG(bytes.Repeat([]byte("A"), maxQRBytes+1), 300); err == nil {
		t.Error("oversized QR encoded")
	}
	// A picture without a QR code in it.
	var buf bytes.Buffer
	white := image.NewGray(image.Rect(0, 0, 200, 200))
	for i := range white.Pix {
		white.Pix[i] = 0xFF
	}
	if err := png.Encode(&buf, white); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(buf.Bytes()); err == nil {
		t.Error("a blank picture decoded as a QR code")
	}
	if _, err := Read([]byte("not an image")); err == nil {
		t.Error("text decoded as an image")
	}
}
