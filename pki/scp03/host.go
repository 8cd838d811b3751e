package scp03

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"jpkipilot/device"
)

// Instructions of the handshake.
const (
	insInitializeUpdate     = 0x50
	insExternalAuthenticate = 0x82
)

// InitResponse is the card's answer to INITIALIZE UPDATE.
type InitResponse struct {
	KeyDiversification [10]byte
	KVN                byte
	SCP                byte // 0x03
	Param              byte // the "i" parameter
	CardChallenge      [8]byte
	CardCryptogram     [8]byte
	// SequenceCounter is present (3 bytes) when the card makes pseudo-random
	// challenges (i has bit 0x10 set).
	SequenceCounter []byte
}

// i parameter bits (Amendment D §5.1).
const (
	ParamPseudoRandom = 0x10 // card challenge is pseudo-random; a sequence counter follows
	ParamRMAC         = 0x20 // R-MAC supported
	ParamRENC         = 0x40 // R-ENCRYPTION supported
)

// ParseInitResponse decodes the data of an INITIALIZE UPDATE response
// (without the status word): 29 bytes, or 32 with a sequence counter.
func ParseInitResponse(b []byte) (InitResponse, error) {
	var r InitResponse
	if len(b) != 29 && len(b) != 32 {
		return r, fmt.Errorf("scp03: INITIALIZE UPDATE answered %d bytes, want 29 or 32", len(b))
	}
	copy(r.KeyDiversification[:], b[0:10])
	r.KVN, r.SCP, r.Param = b[10], b[11], b[12]
	copy(r.CardChallenge[:], b[13:21])
	copy(r.CardCryptogram[:], b[21:29])
	if r.SCP != 0x03 {
		return r, fmt.Errorf("scp03: the card offers SCP%02X, not SCP03", r.SCP)
	}
	if len(b) == 32 {
		r.SequenceCounter = append([]byte(nil), b[29:32]...)
	}
	if (r.Param&ParamPseudoRandom != 0) != (len(b) == 32) {
		return r, fmt.Errorf("scp03: i parameter %02X does not match a %d-byte answer", r.Param, len(b))
	}
	return r, nil
}

// Bytes encodes the response data (no status word).
func (r InitResponse) Bytes() []byte {
	b := make([]byte, 0, 32)
	b = append(b, r.KeyDiversification[:]...)
	b = append(b, r.KVN, r.SCP, r.Param)
	b = append(b, r.CardChallenge[:]...)
	b = append(b, r.CardCryptogram[:]...)
	return append(b, r.SequenceCounter...)
}

// Session is the host side of one secure channel: build it with
// NewSession, send InitializeUpdate, give the card's answer to
// ExternalAuthenticate, send that, then Wrap every command and Unwrap every
// response. It is not safe for concurrent use (neither is a card).
type Session struct {
	keys    Keys
	level   byte
	host    [8]byte
	init    *InitResponse
	ch      *channel
	pending bool // EXTERNAL AUTHENTICATE sent, its answer not yet seen
	broken  bool
}

// NewSession starts a host session with a static key set at a security
// level: LevelCMAC|LevelCDEC (the usual), optionally |LevelRMAC. random
// supplies the host challenge (nil: crypto/rand).
func NewSession(keys Keys, level byte, random io.Reader) (*Session, error) {
	if err := keys.Validate(); err != nil {
		return nil, err
	}
	if err := checkLevel(level); err != nil {
		return nil, err
	}
	if random == nil {
		random = rand.Reader
	}
	s := &Session{keys: keys, level: level}
	if _, err := io.ReadFull(random, s.host[:]); err != nil {
		return nil, fmt.Errorf("scp03: host challenge: %w", err)
	}
	return s, nil
}

func checkLevel(level byte) error {
	switch level {
	case LevelCMAC, LevelCMAC | LevelCDEC, LevelCMAC | LevelRMAC, LevelCMAC | LevelCDEC | LevelRMAC:
		return nil
	}
	return fmt.Errorf("scp03: security level %02X is not supported (C-MAC, C-DECRYPTION and R-MAC only)", level)
}

// HostChallenge is the 8-byte challenge sent in INITIALIZE UPDATE.
func (s *Session) HostChallenge() []byte { return append([]byte(nil), s.host[:]...) }

// InitializeUpdate is the command `80 50 KVN 00 08 <host challenge> 00`.
func (s *Session) InitializeUpdate() []byte {
	b := []byte{0x80, insInitializeUpdate, s.keys.KVN, 0x00, 0x08}
	b = append(b, s.host[:]...)
	return append(b, 0x00)
}

// ExternalAuthenticate takes the card's raw answer to INITIALIZE UPDATE
// (data and status word), checks the card cryptogram in constant time and
// returns the EXTERNAL AUTHENTICATE command `84 82 SL 00 10 <host
// cryptogram> <C-MAC>`. A wrong cryptogram is ErrAuth: the card holds other
// keys, and nothing more is sent.
func (s *Session) ExternalAuthenticate(resp []byte) ([]byte, error) {
	if s.init != nil || s.broken {
		return nil, errors.New("scp03: ExternalAuthenticate called twice; start a new Session")
	}
	r, err := device.ParseResponse(resp)
	if err != nil {
		return nil, fmt.Errorf("scp03: INITIALIZE UPDATE: %w", err)
	}
	if r.SW != device.SWOK {
		s.broken = true
		return nil, fmt.Errorf("scp03: INITIALIZE UPDATE (KVN %02X): %w", s.keys.KVN, device.StatusError(r.SW))
	}
	ir, err := ParseInitResponse(r.Data)
	if err != nil {
		s.broken = true
		return nil, err
	}
	if ir.KVN != s.keys.KVN {
		s.broken = true
		return nil, fmt.Errorf("scp03: asked for key version %02X, the card answered with %02X", s.keys.KVN, ir.KVN)
	}
	if s.level&LevelRMAC != 0 && ir.Param&ParamRMAC == 0 {
		s.broken = true
		return nil, fmt.Errorf("scp03: the card does not support R-MAC (i=%02X)", ir.Param)
	}
	ctx := append(s.host[:], ir.CardChallenge[:]...)
	keys, err := deriveSessionKeys(s.keys, ctx)
	if err != nil {
		return nil, err
	}
	want, err := cryptogram(keys.mac, ddCardCryptogram, ctx)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(want, ir.CardCryptogram[:]) != 1 {
		s.broken = true
		return nil, ErrAuth
	}
	hostCrypto, err := cryptogram(keys.mac, ddHostCryptogram, ctx)
	if err != nil {
		return nil, err
	}
	ch, err := newChannel(keys)
	if err != nil {
		return nil, err
	}
	// EXTERNAL AUTHENTICATE is itself C-MACed (never encrypted) and opens
	// the chaining; the level it sets applies from the next command.
	hdr := [5]byte{0x84, insExternalAuthenticate, s.level, 0x00, 0x10}
	mac := ch.macCommand(hdr, hostCrypto)
	ch.level = s.level
	s.init, s.ch, s.pending = &ir, ch, true
	out := append(hdr[:], hostCrypto...)
	return append(out, mac...), nil
}

// Authenticated takes the card's answer to EXTERNAL AUTHENTICATE. 6300 is
// the card rejecting the host cryptogram (other keys on the card).
func (s *Session) Authenticated(resp []byte) error {
	if !s.pending {
		return errors.New("scp03: no EXTERNAL AUTHENTICATE is waiting for an answer")
	}
	s.pending = false
	r, err := device.ParseResponse(resp)
	if err != nil {
		s.broken = true
		return fmt.Errorf("scp03: EXTERNAL AUTHENTICATE: %w", err)
	}
	if r.SW != device.SWOK {
		s.broken = true
		if r.SW == 0x6300 {
			return fmt.Errorf("%w: the card rejected the host cryptogram (6300)", ErrAuth)
		}
		return fmt.Errorf("scp03: EXTERNAL AUTHENTICATE: %w", device.StatusError(r.SW))
	}
	return nil
}

// Open reports whether commands can be wrapped.
func (s *Session) Open() bool { return s.ch != nil && !s.pending && !s.broken }

// Level is the security level asked for.
func (s *Session) Level() byte { return s.level }

// Wrap protects a command APDU for the card.
func (s *Session) Wrap(cmd []byte) ([]byte, error) {
	if !s.Open() {
		return nil, ErrClosed
	}
	c, err := device.ParseCommand(cmd)
	if err != nil {
		return nil, fmt.Errorf("scp03: wrap: %w", err)
	}
	return s.ch.wrap(c)
}

// Unwrap checks a response to the last wrapped command. With R-MAC the
// 8-byte MAC before the status word is verified (constant time) and
// removed; an error status word carries no R-MAC. Without R-MAC the
// response is returned as it came. A failed check closes the session.
func (s *Session) Unwrap(resp []byte) ([]byte, error) {
	if !s.Open() {
		return nil, ErrClosed
	}
	r, err := device.ParseResponse(resp)
	if err != nil {
		return nil, fmt.Errorf("scp03: unwrap: %w", err)
	}
	if s.level&LevelRMAC == 0 || isError(r.SW) {
		if isError(r.SW) && r.SW == device.SWSecurityStatus {
			// The card closes its side after a security error.
			s.broken = true
		}
		return resp, nil
	}
	if len(r.Data) < 8 {
		s.broken = true
		return nil, fmt.Errorf("%w: response of %d bytes has no R-MAC", ErrMAC, len(r.Data))
	}
	data, mac := r.Data[:len(r.Data)-8], r.Data[len(r.Data)-8:]
	if subtle.ConstantTimeCompare(s.ch.responseMAC(data, r.SW), mac) != 1 {
		s.broken = true
		return nil, fmt.Errorf("%w (R-MAC)", ErrMAC)
	}
	return device.Response{Data: data, SW: r.SW}.Bytes(), nil
}
