package jpki

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"

	"jpkipilot/device"
)

// KeySigner is one of the card's RSA keys as a crypto.Signer. Every
// signature asks for the PIN through the callback and verifies it on the
// card first; the PIN is neither stored nor retried.
type KeySigner struct {
	c    *Client
	kind Kind
	pin  PINFunc
	cert *x509.Certificate
	pub  *rsa.PublicKey
}

var _ crypto.Signer = (*KeySigner)(nil)

// Signer returns the auth or sign key as a crypto.Signer. It reads the key's
// certificate once, for Public() (the signature certificate needs the sign
// PIN for that, asked through pin).
func (c *Client) Signer(ctx context.Context, kind Kind, pin PINFunc) (*KeySigner, error) {
	if !kind.valid() {
		return nil, fmt.Errorf("jpki: unknown key kind %d", int(kind))
	}
	if pin == nil {
		return nil, errors.New("jpki: a signer needs a PIN callback")
	}
	ck := CertAuth
	if kind == Sign {
		ck = CertSign
	}
	cert, err := c.ReadCertificate(ctx, ck, pin)
	if err != nil {
		return nil, err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("jpki: the %s certificate holds a %T key, not RSA", ck, cert.PublicKey)
	}
	return &KeySigner{c: c, kind: kind, pin: pin, cert: cert, pub: pub}, nil
}

// Public is the key from the certificate read when the signer was made.
func (s *KeySigner) Public() crypto.PublicKey { return s.pub }

// Certificate is the key's certificate as read from the card.
func (s *KeySigner) Certificate() *x509.Certificate { return s.cert }

// Kind is which key this is.
func (s *KeySigner) Kind() Kind { return s.kind }

// Sign implements crypto.Signer; see SignContext. rand is unused: the card
// makes PKCS#1 v1.5 signatures, which need no randomness.
func (s *KeySigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.SignContext(context.Background(), digest, opts)
}

// SignContext makes an RSA PKCS#1 v1.5 signature of digest (SHA-256, -384,
// -512 or SHA-1; PSS is refused). It asks for the PIN with the tries left,
// then sends SELECT PIN EF, VERIFY, SELECT key EF and COMPUTE DIGITAL
// SIGNATURE over the DigestInfo.
func (s *KeySigner) SignContext(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil {
		return nil, fmt.Errorf("jpki: sign with %s key: no hash given (opts is nil)", s.kind)
	}
	if _, pss := opts.(*rsa.PSSOptions); pss {
		return nil, fmt.Errorf("jpki: sign with %s key: the card makes PKCS#1 v1.5 signatures only, not PSS", s.kind)
	}
	di, err := digestInfo(opts.HashFunc(), digest)
	if err != nil {
		return nil, fmt.Errorf("jpki: sign with %s key: %w", s.kind, err)
	}
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	sig, err := s.c.sign(ctx, s.kind, s.pin, di, s.pub.Size())
	if err != nil {
		return nil, fmt.Errorf("jpki: sign with %s key: %w", s.kind, err)
	}
	return sig, nil
}

func (c *Client) sign(ctx context.Context, kind Kind, pin PINFunc, di []byte, sigLen int) ([]byte, error) {
	if err := c.verifyWith(ctx, kind, pin, signPurpose(kind)); err != nil {
		return nil, err
	}
	if err := c.selectEF(ctx, kind.keyEF()); err != nil {
		return nil, err
	}
	sig, err := c.do(ctx, device.Command{CLA: 0x80, INS: 0x2A, P1: 0x00, P2: 0x80, Data: di, Le: 256})
	if err != nil {
		return nil, fmt.Errorf("COMPUTE DIGITAL SIGNATURE: %w", err)
	}
	if len(sig) != sigLen {
		return nil, fmt.Errorf("COMPUTE DIGITAL SIGNATURE: card returned %d bytes, want %d for the certificate's key", len(sig), sigLen)
	}
	return sig, nil
}

// The purposes the client asks a PIN for (PINRequest.Purpose). They are
// English for logs and the command line; a GUI shows its own words for them.
const (
	PurposeReadSignCert = "read the signature certificate"
	PurposeReadAuthCert = "read the authentication certificate"
	PurposeSignAuth     = "sign with the auth key"
	PurposeSignSign     = "sign with the sign key"
)

func signPurpose(k Kind) string {
	if k == Sign {
		return PurposeSignSign
	}
	return PurposeSignAuth
}
