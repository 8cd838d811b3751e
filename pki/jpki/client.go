// Package jpki is a client for the JPKI application (公的個人認証AP) on a My
// Number card or on a phone's SIM: token info, the four certificates, PIN
// status, verification and change, and the two RSA keys as crypto.Signer.
//
// It speaks the APDUs public clients use (OpenSC's jpki driver, jpki/myna),
// sends no command it does not need, never retries a PIN on its own and
// checks the retry counter before a PIN leaves the host.
package jpki

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"

	"jpkipilot/device"
)

// ErrNotJPKI is wrapped when the card has no JPKI application (SELECT AP
// answered 6A82); the error also matches device.ErrNotFound.
var ErrNotJPKI = errors.New("no JPKI application on this card")

// ErrPINCancelled is what a PIN callback returns when the user cancels.
var ErrPINCancelled = errors.New("PIN entry cancelled")

// PINRequest is what a PIN callback is told: which PIN, how many tries the
// card has left for it, and what it is for, so the user knows why it is
// asked (e.g. "read the signature certificate").
type PINRequest struct {
	Kind      Kind
	TriesLeft int
	Max       int
	Purpose   string
}

// PINFunc asks the user for a PIN. It runs on the goroutine doing the card
// work (a worker, never the UI goroutine) while the client is busy, so it
// must not call the client. Return ErrPINCancelled (or ctx.Err()) to cancel.
type PINFunc func(ctx context.Context, req PINRequest) (string, error)

// PINStatus is a PIN's retry counter as the card reports it.
type PINStatus struct {
	Kind      Kind
	TriesLeft int
	Max       int
	Blocked   bool
	// Verified is set when the card answered the query with 9000: the PIN
	// is already verified in this session (the counter is then full).
	Verified bool
}

// Client drives the JPKI application on one card. Its methods are safe to
// call from several goroutines; they run one at a time.
type Client struct {
	card *device.Card

	mu sync.Mutex
	// apSelected records that the JPKI AP is the current application in
	// this session, so the next operation can skip SELECT AP. Any failed
	// exchange clears it (see fail), so after an error or a removal the
	// next operation starts from SELECT AP.
	apSelected bool
}

// New returns a client for card.
func New(card *device.Card) *Client { return &Client{card: card} }

// Card is the card the client talks to (for its trace and APDU count).
func (c *Client) Card() *device.Card { return c.card }

// Reset forgets the session state: the next operation selects the AP again,
// which also clears any verified PIN on the card.
func (c *Client) Reset() {
	c.mu.Lock()
	c.apSelected = false
	c.mu.Unlock()
}

// send exchanges one command. A transport error (such as a removed card)
// or a status word other than 9000 clears the session state, except the
// two refusals that leave the card's selection untouched: 63Cx (a PIN
// counter) and 6982 (security status not satisfied). The status word is
// returned for the caller to interpret.
func (c *Client) send(ctx context.Context, cmd device.Command) (device.Response, error) {
	resp, err := c.card.Send(ctx, cmd)
	if err != nil {
		c.apSelected = false
		return resp, err
	}
	if resp.SW != device.SWOK && resp.SW&0xFFF0 != 0x63C0 && resp.SW != device.SWSecurityStatus {
		c.apSelected = false
	}
	return resp, nil
}

// do is send with the status word mapped to an error.
func (c *Client) do(ctx context.Context, cmd device.Command) ([]byte, error) {
	resp, err := c.send(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if err := resp.Err(); err != nil {
		return nil, err
	}
	return resp.Data, nil
}

func (c *Client) selectAP(ctx context.Context) error {
	if c.apSelected {
		return nil
	}
	_, err := c.do(ctx, device.Command{INS: 0xA4, P1: 0x04, P2: 0x0C, Data: aid, Le: device.NoLe})
	if err != nil {
		if errors.Is(err, device.ErrNotFound) {
			return fmt.Errorf("%w: %w", ErrNotJPKI, err)
		}
		return fmt.Errorf("SELECT JPKI AP: %w", err)
	}
	c.apSelected = true
	return nil
}

func (c *Client) selectEF(ctx context.Context, fid uint16) error {
	_, err := c.do(ctx, device.Command{INS: 0xA4, P1: 0x02, P2: 0x0C, Data: []byte{byte(fid >> 8), byte(fid)}, Le: device.NoLe})
	if err != nil {
		return fmt.Errorf("SELECT EF %04X: %w", fid, err)
	}
	return nil
}

// readBinary reads n (1..256) bytes at off of the current EF. The card may
// answer fewer at the end of the file, never more.
func (c *Client) readBinary(ctx context.Context, off, n int) ([]byte, error) {
	if off < 0 || off > maxOffset {
		return nil, fmt.Errorf("READ BINARY: offset %d out of range", off)
	}
	data, err := c.do(ctx, device.Command{INS: 0xB0, P1: byte(off >> 8), P2: byte(off), Le: n})
	if err != nil {
		return nil, fmt.Errorf("READ BINARY at offset %d: %w", off, err)
	}
	if len(data) > n {
		c.apSelected = false
		return nil, fmt.Errorf("READ BINARY at offset %d: card returned %d bytes, more than the %d asked for", off, len(data), n)
	}
	return data, nil
}

// TokenInfo reads EF 0006 and tells a My Number card from a phone token.
func (c *Client) TokenInfo(ctx context.Context) (TokenInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ti, err := c.tokenInfo(ctx)
	if err != nil {
		return TokenInfo{}, fmt.Errorf("jpki: token info: %w", err)
	}
	return ti, nil
}

func (c *Client) tokenInfo(ctx context.Context) (TokenInfo, error) {
	if err := c.selectAP(ctx); err != nil {
		return TokenInfo{}, err
	}
	if err := c.selectEF(ctx, efTokenInfo); err != nil {
		return TokenInfo{}, err
	}
	b, err := c.readBinary(ctx, 0, tokenInfoLen)
	if err != nil {
		return TokenInfo{}, err
	}
	return ParseTokenInfo(b)
}

// Detect tells what the card in a reader is: a My Number card, a phone
// token, or not JPKI at all (SELECT AP answered 6A82). Other failures, such
// as a removed card, are errors.
func Detect(ctx context.Context, card *device.Card) (TokenKind, error) {
	ti, err := New(card).TokenInfo(ctx)
	if errors.Is(err, ErrNotJPKI) {
		return NotJPKI, nil
	}
	if err != nil {
		return NotJPKI, err
	}
	return ti.Kind, nil
}

// ReadCertificate reads one of the four certificates: SELECT AP (skipped when
// this session already selected it), SELECT EF, then READ BINARY in 256-byte
// chunks, the first of which carries the DER length, so exactly
// ceil(len/256) reads. The signature certificate needs the sign PIN, asked
// through pin; on a phone token the auth certificate needs the auth PIN, asked
// when the card refuses the read (6982). pin may be nil for the free ones.
func (c *Client) ReadCertificate(ctx context.Context, kind CertKind, pin PINFunc) (*x509.Certificate, error) {
	if kind.ef() == 0 {
		return nil, fmt.Errorf("jpki: unknown certificate kind %d", int(kind))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cert, err := c.readCertificate(ctx, kind, pin)
	if err != nil {
		return nil, fmt.Errorf("jpki: read %s certificate: %w", kind, err)
	}
	return cert, nil
}

func (c *Client) readCertificate(ctx context.Context, kind CertKind, pin PINFunc) (*x509.Certificate, error) {
	if kind == CertSign {
		if pin == nil {
			return nil, fmt.Errorf("the signature certificate needs the sign PIN: %w", device.ErrSecurityStatus)
		}
		if err := c.verifyWith(ctx, Sign, pin, PurposeReadSignCert); err != nil {
			return nil, err
		}
	}
	der, err := c.readCertEF(ctx, kind.ef())
	if kind == CertAuth && pin != nil && errors.Is(err, device.ErrSecurityStatus) {
		// A phone token guards its auth certificate with the auth PIN.
		if err := c.verifyWith(ctx, Auth, pin, PurposeReadAuthCert); err != nil {
			return nil, err
		}
		der, err = c.readCertEF(ctx, kind.ef())
	}
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCertificate, err)
	}
	return cert, nil
}

// readCertEF selects a certificate EF and reads exactly the DER object.
func (c *Client) readCertEF(ctx context.Context, fid uint16) ([]byte, error) {
	if err := c.selectAP(ctx); err != nil {
		return nil, err
	}
	if err := c.selectEF(ctx, fid); err != nil {
		return nil, err
	}
	first, err := c.readBinary(ctx, 0, chunkLen)
	if err != nil {
		return nil, err
	}
	total, err := certLength(first)
	if err != nil {
		return nil, err
	}
	if len(first) < chunkLen && len(first) < total {
		// A short read means the file ended there.
		return nil, fmt.Errorf("%w: truncated: the file ended after %d of %d bytes", ErrBadCertificate, len(first), total)
	}
	der := make([]byte, 0, total)
	der = append(der, first...) // total >= 256 >= len(first)
	for off := len(der); off < total; off = len(der) {
		want := min(chunkLen, total-off)
		chunk, err := c.readBinary(ctx, off, want)
		if err != nil {
			return nil, err
		}
		if len(chunk) < want {
			return nil, fmt.Errorf("%w: truncated: the file ended after %d of %d bytes", ErrBadCertificate, off+len(chunk), total)
		}
		der = append(der, chunk...)
	}
	return der, nil
}

// queryPIN queries the retry counter of the current PIN EF: VERIFY with no
// data costs no try.
func (c *Client) queryPIN(ctx context.Context, kind Kind) (PINStatus, error) {
	st := PINStatus{Kind: kind, Max: kind.MaxTries()}
	resp, err := c.send(ctx, device.Command{INS: 0x20, P1: 0x00, P2: 0x80, Le: device.NoLe})
	if err != nil {
		return st, fmt.Errorf("VERIFY (query %s PIN): %w", kind, err)
	}
	switch {
	case resp.SW == device.SWOK:
		st.TriesLeft, st.Verified = st.Max, true
	case resp.SW&0xFFF0 == 0x63C0:
		st.TriesLeft = int(resp.SW & 0x0F)
		st.Blocked = st.TriesLeft == 0
	case resp.SW == device.SWAuthBlocked || resp.SW == device.SWRefDataBlocked:
		st.Blocked = true
	default:
		return st, fmt.Errorf("VERIFY (query %s PIN): %w", kind, resp.Err())
	}
	return st, nil
}

// PINStatus reports the tries left for a PIN without spending one.
func (c *Client) PINStatus(ctx context.Context, kind Kind) (PINStatus, error) {
	if !kind.valid() {
		return PINStatus{}, fmt.Errorf("jpki: unknown PIN kind %d", int(kind))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := c.pinStatus(ctx, kind)
	if err != nil {
		return PINStatus{}, fmt.Errorf("jpki: %s PIN status: %w", kind, err)
	}
	return st, nil
}

func (c *Client) pinStatus(ctx context.Context, kind Kind) (PINStatus, error) {
	if err := c.selectAP(ctx); err != nil {
		return PINStatus{}, err
	}
	if err := c.selectEF(ctx, kind.pinEF()); err != nil {
		return PINStatus{}, err
	}
	return c.queryPIN(ctx, kind)
}

// blockedError is returned instead of sending a PIN to a blocked counter.
func blockedError(kind Kind) error {
	return fmt.Errorf("the %s PIN is blocked; no PIN was sent (unblock it at a municipal counter): %w", kind, device.ErrBlocked)
}

// Verify checks the PIN locally, then asks the card for the tries left and,
// unless the PIN is blocked, verifies it. A wrong PIN is a
// *device.WrongPINError carrying the tries left; nothing is retried.
func (c *Client) Verify(ctx context.Context, kind Kind, pin string) error {
	if err := CheckPIN(kind, pin); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.verify(ctx, kind, func(context.Context, PINRequest) (string, error) { return pin, nil }, "verify"); err != nil {
		return fmt.Errorf("jpki: verify %s PIN: %w", kind, err)
	}
	return nil
}

// verifyWith is verify with the caller's callback, its errors annotated.
func (c *Client) verifyWith(ctx context.Context, kind Kind, pin PINFunc, purpose string) error {
	if err := c.verify(ctx, kind, pin, purpose); err != nil {
		return fmt.Errorf("verify %s PIN: %w", kind, err)
	}
	return nil
}

// verify selects the PIN EF, queries the counter, asks pin for the PIN with
// the tries left, checks its format and sends one VERIFY.
func (c *Client) verify(ctx context.Context, kind Kind, pin PINFunc, purpose string) error {
	st, err := c.pinStatus(ctx, kind)
	if err != nil {
		return err
	}
	if st.Blocked {
		return blockedError(kind)
	}
	p, err := pin(ctx, PINRequest{Kind: kind, TriesLeft: st.TriesLeft, Max: st.Max, Purpose: purpose})
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("PIN entry: %w", err)
	}
	if err := CheckPIN(kind, p); err != nil {
		return err
	}
	return c.sendPIN(ctx, device.Command{INS: 0x20, P1: 0x00, P2: 0x80, Data: []byte(p), Le: device.NoLe, Secret: true}, kind)
}

// sendPIN sends VERIFY or CHANGE REFERENCE DATA and maps the PIN answers.
func (c *Client) sendPIN(ctx context.Context, cmd device.Command, kind Kind) error {
	_, err := c.do(ctx, cmd)
	var wrong *device.WrongPINError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &wrong):
		// Not retried: the user decides whether to spend another try.
		return err
	case errors.Is(err, device.ErrBlocked):
		return fmt.Errorf("the %s PIN is blocked: %w", kind, err)
	}
	if cmd.INS == 0x24 {
		return fmt.Errorf("CHANGE PIN: %w", err)
	}
	return fmt.Errorf("VERIFY: %w", err)
}

// ChangePIN verifies the old PIN and sets the new one. Both are checked
// locally first; nothing is sent if either is malformed or the PIN is blocked.
func (c *Client) ChangePIN(ctx context.Context, kind Kind, oldPIN, newPIN string) error {
	if err := CheckPIN(kind, oldPIN); err != nil {
		return fmt.Errorf("%w (current PIN)", err)
	}
	if err := CheckPIN(kind, newPIN); err != nil {
		return fmt.Errorf("%w (new PIN)", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.verify(ctx, kind, func(context.Context, PINRequest) (string, error) { return oldPIN, nil }, "change the PIN")
	if err == nil {
		err = c.sendPIN(ctx, device.Command{INS: 0x24, P1: 0x01, P2: 0x80, Data: []byte(newPIN), Le: device.NoLe, Secret: true}, kind)
	}
	if err != nil {
		return fmt.Errorf("jpki: change %s PIN: %w", kind, err)
	}
	return nil
}
