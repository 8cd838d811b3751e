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

// PNG encodes text (a PEM request or certificate) as a QR code PNG at least
// px pixels a side, with the standard four-module quiet zone. Each module is
// a whole number of pixels, never fewer than minModulePx: scanners (and our
// own Read) miss finely scaled codes.
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
	// Size 0 asks for one pixel a module; the scaling is done here.
	m, err := qrcode.NewQRCodeWriter().Encode(string(text), gozxing.BarcodeFormat_QR_CODE, 0, 0, hints)
	if err != nil {
		return nil, fmt.Errorf("QR: %w", err)
	}
	modules := m.GetWidth()
	scale := max(minModulePx, (px+modules-1)/modules)
	img := image.NewGray(image.Rect(0, 0, modules*scale, modules*scale))
	for y := range modules * scale {
		row := img.Pix[y*img.Stride : y*img.Stride+modules*scale]
		for x := range row {
			if m.Get(x/scale, y/scale) {
				row[x] = 0x00
			} else {
				row[x] = 0xFF
			}
		}
	}
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		return nil, fmt.Errorf("QR: %w", err)
	}
	return out.Bytes(), nil
}

// minModulePx is the smallest module size PNG draws.
const minModulePx = 4

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
	// A clean image (a PNG saved by the phone app, or by PNG) reads best as
	// a pure code; a photo needs the finder-pattern detector. Try both.
	var firstErr error
	for _, hints := range []map[gozxing.DecodeHintType]any{
		{gozxing.DecodeHintType_PURE_BARCODE: true},
		{gozxing.DecodeHintType_TRY_HARDER: true},
	} {
		res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
		if err == nil {
			return []byte(res.GetText()), nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, fmt.Errorf("QR image: no readable QR code found (%v)", firstErr)
}
