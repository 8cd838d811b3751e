package jpki

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"io"
)

// ProveAuthKey is challenge-response with the auth key: it reads the auth
// certificate (asking pin where the token guards it), has the token sign a
// fresh random challenge bound to purpose, and verifies the signature with
// the certificate's key. The certificate is returned even when the proof
// fails, so the caller can log whose it was; validating it is the caller's.
func ProveAuthKey(ctx context.Context, c *Client, purpose string, random io.Reader, pin PINFunc) (*x509.Certificate, error) {
	signer, err := c.Signer(ctx, Auth, pin)
	if err != nil {
		return nil, err
	}
	cert := signer.Certificate()
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return cert, fmt.Errorf("the authentication certificate holds a %T key, not RSA", cert.PublicKey)
	}
	challenge := make([]byte, 32)
	if _, err := io.ReadFull(random, challenge); err != nil {
		return cert, err
	}
	h := sha256.New()
	io.WriteString(h, purpose)
	h.Write([]byte{0})
	h.Write(challenge)
	digest := h.Sum(nil)
	sig, err := signer.SignContext(ctx, digest, crypto.SHA256)
	if err != nil {
		return cert, err
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig); err != nil {
		return cert, fmt.Errorf("the signature of the challenge does not verify with the certificate: %w", err)
	}
	return cert, nil
}
