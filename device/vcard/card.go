// Package vcard is a software JPKI application: a My Number card or a phone
// (SIM) token that answers the same APDUs as the real thing. It backs demos
// without hardware, the in-process VirtualReader for unit tests, and the vpcd
// bridge that serves a card into the real pcscd.
//
// Status words follow ISO 7816-4 where the public JPKI clients (OpenSC's jpki
// driver, jpki/myna) do not tell us more: READ BINARY with no current EF is
// 6986, READ BINARY of a key or PIN EF is 6981, a protected certificate read
// before its PIN is verified is 6982.
package vcard

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"

	"jpkipilot/device"
)

// AID is the JPKI application identifier.
var AID = []byte{0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01}

// Elementary file identifiers inside the JPKI application.
const (
	EFSignCert   uint16 = 0x0001
	EFSignCACert uint16 = 0x0002
	EFTokenInfo  uint16 = 0x0006
	EFAuthCert   uint16 = 0x000A
	EFAuthCACert uint16 = 0x000B
	EFAuthKey    uint16 = 0x0017
	EFAuthPIN    uint16 = 0x0018
	EFSignKey    uint16 = 0x001A
	EFSignPIN    uint16 = 0x001B
)

// PIN retry limits of the JPKI application.
const (
	AuthPINTries = 3
	SignPINTries = 5
)

// Token info strings (EF 0006 before the 0x20 padding to 32 bytes).
const (
	TokenMyNumber = "JPKIAPICCTOKEN2"
	TokenPhone    = "JPKIAPGPSETOKEN"
)

// Profile is the kind of token the virtual card plays.
type Profile int

const (
	// MyNumber is the My Number card: the auth certificate is free to read.
	MyNumber Profile = iota
	// Phone is the JPKI applet on a smartphone SIM: reading the auth
	// certificate needs the auth PIN, and the signature pair is optional.
	Phone
)

func (p Profile) String() string {
	switch p {
	case MyNumber:
		return "mynumber"
	case Phone:
		return "phone"
	}
	return fmt.Sprintf("Profile(%d)", int(p))
}

// ParseProfile reads "mynumber" or "phone".
func ParseProfile(s string) (Profile, error) {
	switch s {
	case "mynumber":
		return MyNumber, nil
	case "phone":
		return Phone, nil
	}
	return 0, fmt.Errorf("vcard: unknown profile %q (want mynumber or phone)", s)
}

// ATRs the virtual card reports. The My Number card answers with the ATR
// OpenSC's jpki driver knows; the phone token, held to a contactless reader,
// gets the PC/SC part 3 ATR of an ISO 14443-4 card without historical bytes.
// Clients must recognise JPKI by selecting the AP, never by these bytes.
var (
	ATRMyNumber = []byte{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14}
	ATRPhone    = []byte{0x3B, 0x80, 0x80, 0x01, 0x01}
)

// Config is what a virtual card holds. Certificates are DER.
type Config struct {
	Profile Profile

	AuthKey    *rsa.PrivateKey
	AuthCert   []byte
	AuthCACert []byte
	AuthPIN    string // exactly 4 digits

	// The signature pair is required on a My Number card and optional on a
	// phone token (left empty, its EFs answer 6A82).
	SignKey    *rsa.PrivateKey
	SignCert   []byte
	SignCACert []byte
	SignPIN    string // 6-16 of [A-Z0-9]
}

// ValidAuthPIN reports whether pin has the auth PIN format: 4 digits.
func ValidAuthPIN(pin []byte) bool {
	if len(pin) != 4 {
		return false
	}
	for _, b := range pin {
		if b < '0' || b > '9' {
			return false
		}
	}
	return true
}

// ValidSignPIN reports whether pin has the signature PIN format: 6 to 16
// upper-case letters and digits.
func ValidSignPIN(pin []byte) bool {
	if len(pin) < 6 || len(pin) > 16 {
		return false
	}
	for _, b := range pin {
		if (b < '0' || b > '9') && (b < 'A' || b > 'Z') {
			return false
		}
	}
	return true
}

func (c Config) hasSign() bool {
	return c.SignKey != nil || len(c.SignCert) > 0 || len(c.SignCACert) > 0 || c.SignPIN != ""
}

// Validate checks that every part is present and consistent.
func (c Config) Validate() error {
	if c.Profile != MyNumber && c.Profile != Phone {
		return fmt.Errorf("vcard: unknown profile %d", int(c.Profile))
	}
	if err := checkPair("auth", c.AuthKey, c.AuthCert, c.AuthCACert); err != nil {
		return err
	}
	if !ValidAuthPIN([]byte(c.AuthPIN)) {
		return errors.New("vcard: auth PIN must be exactly 4 digits")
	}
	if c.Profile == Phone && !c.hasSign() {
		return nil
	}
	if err := checkPair("sign", c.SignKey, c.SignCert, c.SignCACert); err != nil {
		return err
	}
	if !ValidSignPIN([]byte(c.SignPIN)) {
		return errors.New("vcard: sign PIN must be 6 to 16 of A-Z and 0-9")
	}
	return nil
}

func checkPair(name string, key *rsa.PrivateKey, cert, caCert []byte) error {
	if key == nil {
		return fmt.Errorf("vcard: %s key missing", name)
	}
	if key.N.BitLen() != 2048 {
		return fmt.Errorf("vcard: %s key is RSA-%d, JPKI uses RSA-2048", name, key.N.BitLen())
	}
	for _, f := range []struct {
		what string
		der  []byte
	}{{name + " certificate", cert}, {name + " CA certificate", caCert}} {
		if len(f.der) < 256 || len(f.der) > 65535 || f.der[0] != 0x30 || f.der[1] != 0x82 {
			return fmt.Errorf("vcard: %s must be DER of 256 to 65535 bytes starting 30 82 (got %d bytes)", f.what, len(f.der))
		}
	}
	x, err := x509.ParseCertificate(cert)
	if err != nil {
		return fmt.Errorf("vcard: %s certificate: %w", name, err)
	}
	if _, err := x509.ParseCertificate(caCert); err != nil {
		return fmt.Errorf("vcard: %s CA certificate: %w", name, err)
	}
	if pub, ok := x.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return fmt.Errorf("vcard: %s certificate does not hold the %s key's public key", name, name)
	}
	return nil
}

type pinState struct {
	value    []byte
	tries    int
	max      int
	verified bool
	valid    func([]byte) bool
}

type efKind int

const (
	efBinary efKind = iota
	efKey
	efPIN
)

type file struct {
	kind efKind
	data []byte          // efBinary
	read *pinState       // efBinary: PIN needed to read, nil if free
	key  *rsa.PrivateKey // efKey
	pin  *pinState       // efKey: PIN needed to sign; efPIN: the PIN itself
}

// Card is a virtual JPKI token. Process is safe for concurrent use; PIN
// values and retry counters persist across Reset like on a real card.
type Card struct {
	profile Profile
	atr     []byte

	mu       sync.Mutex
	files    map[uint16]*file
	auth     *pinState
	sign     *pinState // nil on a phone token without the signature pair
	apActive bool
	current  *file
}

// New builds a card from a validated config. The config's byte slices are
// copied; the keys are shared.
func New(cfg Config) (*Card, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Card{profile: cfg.Profile, files: map[uint16]*file{}}
	c.atr = ATRMyNumber
	token := TokenMyNumber
	if cfg.Profile == Phone {
		c.atr, token = ATRPhone, TokenPhone
	}
	info := bytes.Repeat([]byte{0x20}, 32)
	copy(info, token)

	c.auth = &pinState{value: []byte(cfg.AuthPIN), tries: AuthPINTries, max: AuthPINTries, valid: ValidAuthPIN}
	var authCertPIN *pinState
	if cfg.Profile == Phone {
		authCertPIN = c.auth
	}
	c.files[EFTokenInfo] = &file{kind: efBinary, data: info}
	c.files[EFAuthCert] = &file{kind: efBinary, data: clone(cfg.AuthCert), read: authCertPIN}
	c.files[EFAuthCACert] = &file{kind: efBinary, data: clone(cfg.AuthCACert)}
	c.files[EFAuthKey] = &file{kind: efKey, key: cfg.AuthKey, pin: c.auth}
	c.files[EFAuthPIN] = &file{kind: efPIN, pin: c.auth}
	if cfg.Profile == MyNumber || cfg.hasSign() {
		c.sign = &pinState{value: []byte(cfg.SignPIN), tries: SignPINTries, max: SignPINTries, valid: ValidSignPIN}
		c.files[EFSignCert] = &file{kind: efBinary, data: clone(cfg.SignCert), read: c.sign}
		c.files[EFSignCACert] = &file{kind: efBinary, data: clone(cfg.SignCACert)}
		c.files[EFSignKey] = &file{kind: efKey, key: cfg.SignKey, pin: c.sign}
		c.files[EFSignPIN] = &file{kind: efPIN, pin: c.sign}
	}
	return c, nil
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// Profile is the token kind the card plays.
func (c *Card) Profile() Profile { return c.profile }

// ATR is the answer to reset.
func (c *Card) ATR() []byte { return clone(c.atr) }

// Reset is a warm reset or power cycle: no application selected, no PIN
// verified. Retry counters and PIN values stay.
func (c *Card) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resetLocked()
}

func (c *Card) resetLocked() {
	c.apActive = false
	c.current = nil
	c.clearPINs()
}

func (c *Card) clearPINs() {
	c.auth.verified = false
	if c.sign != nil {
		c.sign.verified = false
	}
}

// Process answers one command APDU with a response APDU (data + SW1 SW2).
// Any input gives a well-formed response.
func (c *Card) Process(apdu []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	data, sw := c.process(apdu)
	return device.Response{Data: data, SW: sw}.Bytes()
}

func (c *Card) process(raw []byte) ([]byte, uint16) {
	cmd, err := device.ParseCommand(raw)
	if err != nil {
		return nil, device.SWWrongLength
	}
	switch cmd.INS {
	case 0xA4:
		return nil, c.selectFile(cmd)
	case 0xB0:
		return c.readBinary(cmd)
	case 0x20:
		return nil, c.verify(cmd)
	case 0x24:
		return nil, c.changePIN(cmd)
	case 0x2A:
		return c.computeSignature(cmd)
	}
	if cmd.CLA != 0x00 && cmd.CLA != 0x80 {
		return nil, device.SWCLANotSupported
	}
	return nil, device.SWINSNotSupported
}

func (c *Card) selectFile(cmd device.Command) uint16 {
	if cmd.CLA != 0x00 {
		return device.SWCLANotSupported
	}
	switch {
	case cmd.P1 == 0x04 && cmd.P2 == 0x0C:
		if len(cmd.Data) == 0 {
			return device.SWWrongLength
		}
		if !bytes.Equal(cmd.Data, AID) {
			return device.SWFileNotFound
		}
		// Selecting the AP (again) starts a fresh security state.
		c.apActive = true
		c.current = nil
		c.clearPINs()
		return device.SWOK
	case cmd.P1 == 0x02 && cmd.P2 == 0x0C:
		if len(cmd.Data) != 2 {
			return device.SWWrongLength
		}
		f, ok := c.files[uint16(cmd.Data[0])<<8|uint16(cmd.Data[1])]
		if !c.apActive || !ok {
			return device.SWFileNotFound
		}
		c.current = f
		return device.SWOK
	}
	return device.SWIncorrectP1P2
}

func (c *Card) readBinary(cmd device.Command) ([]byte, uint16) {
	if cmd.CLA != 0x00 {
		return nil, device.SWCLANotSupported
	}
	if len(cmd.Data) > 0 || cmd.Le == device.NoLe {
		return nil, device.SWWrongLength
	}
	f := c.current
	switch {
	case f == nil:
		return nil, 0x6986 // command not allowed: no current EF
	case f.kind != efBinary:
		return nil, 0x6981 // command incompatible with file structure
	case f.read != nil && !f.read.verified:
		return nil, device.SWSecurityStatus
	}
	off := int(cmd.P1&0x7F)<<8 | int(cmd.P2)
	if off >= len(f.data) {
		return nil, device.SWWrongP1P2
	}
	end := min(off+cmd.Le, len(f.data))
	return clone(f.data[off:end]), device.SWOK
}

func (c *Card) verify(cmd device.Command) uint16 {
	if cmd.CLA != 0x00 {
		return device.SWCLANotSupported
	}
	if cmd.P1 != 0x00 || cmd.P2 != 0x80 {
		return device.SWIncorrectP1P2
	}
	if cmd.Le != device.NoLe {
		return device.SWWrongLength
	}
	if c.current == nil || c.current.kind != efPIN {
		return 0x6986
	}
	p := c.current.pin
	if len(cmd.Data) == 0 {
		return 0x63C0 | uint16(p.tries)
	}
	if p.tries == 0 {
		return device.SWRefDataBlocked
	}
	if !bytes.Equal(cmd.Data, p.value) {
		p.tries--
		p.verified = false
		return 0x63C0 | uint16(p.tries)
	}
	p.tries = p.max
	p.verified = true
	return device.SWOK
}

func (c *Card) changePIN(cmd device.Command) uint16 {
	if cmd.CLA != 0x00 {
		return device.SWCLANotSupported
	}
	if cmd.P1 != 0x01 || cmd.P2 != 0x80 {
		return device.SWIncorrectP1P2
	}
	if len(cmd.Data) == 0 || cmd.Le != device.NoLe {
		return device.SWWrongLength
	}
	if c.current == nil || c.current.kind != efPIN {
		return 0x6986
	}
	p := c.current.pin
	if !p.verified {
		return device.SWSecurityStatus
	}
	if !p.valid(cmd.Data) {
		return device.SWWrongData
	}
	p.value = clone(cmd.Data)
	p.tries = p.max
	return device.SWOK
}

func (c *Card) computeSignature(cmd device.Command) ([]byte, uint16) {
	if cmd.CLA != 0x80 {
		return nil, device.SWCLANotSupported
	}
	if cmd.P1 != 0x00 || cmd.P2 != 0x80 {
		return nil, device.SWIncorrectP1P2
	}
	if len(cmd.Data) == 0 {
		return nil, device.SWWrongLength
	}
	f := c.current
	if f == nil || f.kind != efKey {
		return nil, 0x6986
	}
	if !f.pin.verified {
		return nil, device.SWSecurityStatus
	}
	if len(cmd.Data) > f.key.Size()-11 {
		return nil, device.SWWrongLength
	}
	// The card applies PKCS#1 v1.5 type 1 padding to whatever DigestInfo
	// the host sends; hash 0 tells crypto/rsa to sign the bytes as given.
	sig, err := rsa.SignPKCS1v15(rand.Reader, f.key, 0, cmd.Data)
	if err != nil {
		return nil, device.SWNoPreciseDiagnose
	}
	return sig, device.SWOK
}
