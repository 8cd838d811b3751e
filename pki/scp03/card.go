package scp03

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"jpkipilot/device"
)

// Status words the card side answers with (GP CS v2.3 §11.8/§11.9,
// Amendment D §7).
const (
	SWAuthFailed    uint16 = 0x6300 // EXTERNAL AUTHENTICATE: host cryptogram wrong
	SWSecurity      uint16 = 0x6982 // C-MAC wrong, or a command outside the channel
	SWConditions    uint16 = 0x6985 // EXTERNAL AUTHENTICATE without INITIALIZE UPDATE
	SWWrongLength   uint16 = 0x6700
	SWWrongData     uint16 = 0x6A80
	SWIncorrectP1P2 uint16 = 0x6A86
	SWKeyNotFound   uint16 = 0x6A88 // INITIALIZE UPDATE names a key version the card lacks
)

// StatusError is the status word a card-side failure is answered with.
type StatusError struct {
	SW  uint16
	Why string
}

func (e *StatusError) Error() string { return fmt.Sprintf("scp03: %04X: %s", e.SW, e.Why) }

// Is lets errors.Is(err, ErrMAC) and errors.Is(err, ErrAuth) see through.
func (e *StatusError) Is(target error) bool {
	switch target {
	case ErrMAC:
		return e.SW == SWSecurity
	case ErrAuth:
		return e.SW == SWAuthFailed
	}
	return false
}

func swErr(sw uint16, format string, a ...any) *StatusError {
	return &StatusError{SW: sw, Why: fmt.Sprintf(format, a...)}
}

// CardSession is the card side: the virtual SIM applet gives it every
// command whose CLA has the GP proprietary bit. It answers INITIALIZE
// UPDATE and EXTERNAL AUTHENTICATE itself and unwraps the rest. Any
// failure closes the channel: a replayed or tampered command gets 6982 and
// the host must authenticate again.
type CardSession struct {
	keys   Keys
	kdd    [10]byte
	param  byte
	random io.Reader

	// After INITIALIZE UPDATE: the context and the session keys, waiting
	// for EXTERNAL AUTHENTICATE.
	ctx   []byte
	keys0 *sessionKeys
	ch    *channel
}

// NewCardSession returns the card side for a static key set. kdd is the
// 10-byte key diversification data the card reports (e.g. from its
// ICCID); random supplies card challenges (nil: crypto/rand).
func NewCardSession(keys Keys, kdd []byte, random io.Reader) (*CardSession, error) {
	if err := keys.Validate(); err != nil {
		return nil, err
	}
	if len(kdd) != 10 {
		return nil, fmt.Errorf("scp03: key diversification data is %d bytes, want 10", len(kdd))
	}
	if random == nil {
		random = rand.Reader
	}
	c := &CardSession{keys: keys, param: ParamRMAC, random: random}
	copy(c.kdd[:], kdd)
	return c, nil
}

// Open reports whether a channel is authenticated.
func (c *CardSession) Open() bool { return c.ch != nil }

// Level is the security level of the open channel (0 when closed).
func (c *CardSession) Level() byte {
	if c.ch == nil {
		return 0
	}
	return c.ch.level
}

// Close forgets the channel (card reset, applet deselected).
func (c *CardSession) Close() { c.ctx, c.keys0, c.ch = nil, nil, nil }

// IsHandshake reports whether a command is INITIALIZE UPDATE or EXTERNAL
// AUTHENTICATE, which Handshake answers.
func IsHandshake(cmd []byte) bool {
	return len(cmd) >= 2 && cmd[0]&0x80 != 0 &&
		(cmd[1] == insInitializeUpdate || cmd[1] == insExternalAuthenticate)
}

// Handshake answers INITIALIZE UPDATE or EXTERNAL AUTHENTICATE with the
// full response APDU (data and status word). It never fails: problems are
// status words.
func (c *CardSession) Handshake(apdu []byte) []byte {
	data, err := c.handshake(apdu)
	var se *StatusError
	if err != nil {
		c.Close()
		if errors.As(err, &se) {
			return device.Response{SW: se.SW}.Bytes()
		}
		return device.Response{SW: device.SWNoPreciseDiagnose}.Bytes()
	}
	return device.Response{Data: data, SW: device.SWOK}.Bytes()
}

func (c *CardSession) handshake(apdu []byte) ([]byte, error) {
	cmd, err := device.ParseCommand(apdu)
	if err != nil {
		return nil, swErr(SWWrongLength, "%v", err)
	}
	switch cmd.INS {
	case insInitializeUpdate:
		return c.initializeUpdate(cmd)
	case insExternalAuthenticate:
		return nil, c.externalAuthenticate(cmd)
	}
	return nil, swErr(device.SWINSNotSupported, "INS %02X is not a handshake command", cmd.INS)
}

func (c *CardSession) initializeUpdate(cmd device.Command) ([]byte, error) {
	c.Close() // a new INITIALIZE UPDATE ends any channel
	if cmd.CLA != 0x80 {
		return nil, swErr(device.SWCLANotSupported, "INITIALIZE UPDATE with CLA %02X", cmd.CLA)
	}
	if cmd.P2 != 0x00 {
		return nil, swErr(SWIncorrectP1P2, "INITIALIZE UPDATE P2 %02X", cmd.P2)
	}
	if cmd.P1 != 0x00 && cmd.P1 != c.keys.KVN {
		return nil, swErr(SWKeyNotFound, "no key set with version %02X", cmd.P1)
	}
	if len(cmd.Data) != 8 {
		return nil, swErr(SWWrongLength, "host challenge of %d bytes", len(cmd.Data))
	}
	r := InitResponse{KVN: c.keys.KVN, SCP: 0x03, Param: c.param, KeyDiversification: c.kdd}
	if _, err := io.ReadFull(c.random, r.CardChallenge[:]); err != nil {
		return nil, swErr(device.SWNoPreciseDiagnose, "card challenge: %v", err)
	}
	ctx := append(append([]byte(nil), cmd.Data...), r.CardChallenge[:]...)
	keys, err := deriveSessionKeys(c.keys, ctx)
	if err != nil {
		return nil, swErr(device.SWNoPreciseDiagnose, "%v", err)
	}
	cc, err := cryptogram(keys.mac, ddCardCryptogram, ctx)
	if err != nil {
		return nil, swErr(device.SWNoPreciseDiagnose, "%v", err)
	}
	copy(r.CardCryptogram[:], cc)
	c.ctx, c.keys0 = ctx, &keys
	return r.Bytes(), nil
}

func (c *CardSession) externalAuthenticate(cmd device.Command) error {
	if c.keys0 == nil || c.ch != nil {
		return swErr(SWConditions, "EXTERNAL AUTHENTICATE without a fresh INITIALIZE UPDATE")
	}
	keys, ctx := *c.keys0, c.ctx
	c.keys0 = nil // one attempt per INITIALIZE UPDATE
	if cmd.CLA != 0x84 {
		return swErr(SWSecurity, "EXTERNAL AUTHENTICATE without C-MAC (CLA %02X)", cmd.CLA)
	}
	if cmd.P2 != 0x00 || checkLevel(cmd.P1) != nil {
		return swErr(SWIncorrectP1P2, "security level %02X not supported", cmd.P1)
	}
	if cmd.P1&LevelRMAC != 0 && c.param&ParamRMAC == 0 {
		return swErr(SWIncorrectP1P2, "R-MAC not supported")
	}
	if len(cmd.Data) != 16 {
		return swErr(SWWrongLength, "EXTERNAL AUTHENTICATE with %d data bytes", len(cmd.Data))
	}
	want, err := cryptogram(keys.mac, ddHostCryptogram, ctx)
	if err != nil {
		return swErr(device.SWNoPreciseDiagnose, "%v", err)
	}
	ch, err := newChannel(keys)
	if err != nil {
		return swErr(device.SWNoPreciseDiagnose, "%v", err)
	}
	// The MAC is checked first: a tampered EXTERNAL AUTHENTICATE is a
	// security error, a well-formed one with the wrong cryptogram is 6300.
	hdr := [5]byte{cmd.CLA, cmd.INS, cmd.P1, cmd.P2, byte(len(cmd.Data))}
	next := ch.cmac.Sum(ch.chain[:], hdr[:], cmd.Data[:8])
	hostOK := subtle.ConstantTimeCompare(want, cmd.Data[:8]) == 1
	macOK := subtle.ConstantTimeCompare(next[:8], cmd.Data[8:]) == 1
	switch {
	case !hostOK:
		return swErr(SWAuthFailed, "host cryptogram does not match")
	case !macOK:
		return swErr(SWSecurity, "C-MAC of EXTERNAL AUTHENTICATE does not verify")
	}
	ch.chain = next
	ch.level = cmd.P1
	c.ch = ch
	return nil
}

// Unwrap checks and decrypts a protected command and returns the plain
// command for the applet. A command without secure messaging, a wrong MAC
// (tampered or replayed: the chaining value has moved on) or bad padding
// is a *StatusError with 6982, and closes the channel.
func (c *CardSession) Unwrap(apdu []byte) (device.Command, error) {
	if c.ch == nil {
		return device.Command{}, swErr(SWSecurity, "no secure channel")
	}
	cmd, err := device.ParseCommand(apdu)
	if err != nil {
		c.Close()
		return device.Command{}, swErr(SWWrongLength, "%v", err)
	}
	plain, err := c.ch.unwrap(cmd)
	if err != nil {
		c.Close()
		return device.Command{}, swErr(SWSecurity, "%v", err)
	}
	return plain, nil
}

// Respond builds the response APDU to the last unwrapped command: with
// R-MAC at that level (and a success or warning status word) the MAC is
// inserted before the status word.
func (c *CardSession) Respond(data []byte, sw uint16) []byte {
	if c.ch == nil || c.ch.level&LevelRMAC == 0 || isError(sw) {
		return device.Response{Data: data, SW: sw}.Bytes()
	}
	mac := c.ch.responseMAC(data, sw)
	return device.Response{Data: append(append([]byte(nil), data...), mac...), SW: sw}.Bytes()
}
