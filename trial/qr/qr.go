// Package qr moves text between the counter and a phone as QR codes: the
// iOS path's requests and certificates, the bank demo's authenticator
// enrolment.
package qr

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // a photo of the phone's screen
	"image/png"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
)

// A QR code carries text; version 40 with ~7 % error correction holds
// 2,953 bytes, room for an RSA-2048 request or certificate in PEM.

// maxQRBytes is a version 40-L QR code's byte-mode capacity.
const maxQRBytes = 2953

// PNG encodes text (a PEM request or certificate) as a QR code PNG,
// px pixels a side at least, with the standard four-module quiet zone.
func PNG(text []byte, px int) ([]byte, error) {
	if len(text) == 0 {
		return nil, errors.New("QR: nothing to encode")
	}
	if len(text) > maxQRBytes {
		return nil, fmt.Errorf("QR: %d bytes do not fit one QR code (at most %d)", len(text), maxQRBytes)
	}
	hints := map[gozxing.EncodeHintType]any{
		gozxing.EncodeHintType_ERROR_CORRECTION: decoder.ErrorCorrectionLevel_L,
		gozxing.EncodeHintType_MARGIN:           4,
	}
	m, err := qrcode.NewQRCodeWriter().Encode(string(text), gozxing.BarcodeFormat_QR_CODE, px, px, hints)
	if err != nil {
		return nil, fmt.Errorf("QR: %w", err)
	}
	var out bytes.Buffer
	if err := png.Encode(&out, m); err != nil {
		return nil, fmt.Errorf("QR: %w", err)
	}
	return out.Bytes(), nil
}

// IsImage reports whether b starts like a PNG or JPEG file.
func IsImage(b []byte) bool {
	return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF})
}

// Read decodes the QR code in a PNG or JPEG image and returns its text.
func Read(img []byte) ([]byte, error) {
	pic, _, err := image.Decode(bytes.NewReader(img))
	if err != nil {
		return nil, fmt.Errorf("QR image: %w", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(pic)
	if err != nil {
		return nil, fmt.Errorf("QR image: %w", err)
	}
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		return nil, fmt.Errorf("QR image: no readable QR code found (%v)", err)
	}
	return []byte(res.GetText()), nil
}
