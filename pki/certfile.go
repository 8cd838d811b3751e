package pki

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// pemBlock returns the first PEM block of type typ when b is PEM text.
func pemBlock(b []byte, typ string) ([]byte, bool) {
	rest := b
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return nil, false
		}
		if blk.Type == typ {
			return blk.Bytes, true
		}
	}
}

// ParseCertificates reads one or more certificates from PEM ("CERTIFICATE"
// blocks, other blocks ignored) or from one DER certificate.
func ParseCertificates(b []byte) ([]*x509.Certificate, error) {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return nil, errors.New("empty certificate file")
	}
	if bytes.HasPrefix(trimmed, []byte("-----BEGIN")) {
		var certs []*x509.Certificate
		rest := trimmed
		for n := 1; ; n++ {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			if blk.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("PEM block %d: %w", n, err)
			}
			certs = append(certs, c)
		}
		if len(certs) == 0 {
			return nil, errors.New("no CERTIFICATE block in the PEM text")
		}
		return certs, nil
	}
	c, err := x509.ParseCertificate(b)
	if err != nil {
		return nil, fmt.Errorf("neither PEM nor a DER certificate: %w", err)
	}
	return []*x509.Certificate{c}, nil
}

// LoadCertificate reads the first certificate of a PEM or DER file.
func LoadCertificate(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs, err := ParseCertificates(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return certs[0], nil
}

// PEMCertificate encodes a certificate as PEM.
func PEMCertificate(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
