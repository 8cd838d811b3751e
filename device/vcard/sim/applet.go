package sim

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"sync"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/pki/scp03"
)

// Config is what a blank SIM holds from the factory: its SCP03 static keys.
type Config struct {
	Keys scp03.Keys
	// KDD is the 10-byte key diversification data INITIALIZE UPDATE
	// returns; zero: ten zero bytes.
	KDD []byte
	// GenerateKey makes the applet's key pair; nil: RSA-2048 from
	// crypto/rand. Tests hand in keys made ahead of time.
	GenerateKey func() (*rsa.PrivateKey, error)
	// Random feeds the SCP03 card challenges; nil: crypto/rand.
	Random io.Reader
}

// Applet is a virtual SIM's JPKI applet. Its personalisation (state, key,
// certificates, PIN) survives Reset like a SIM's persistent memory; the
// secure channel and a STORE DATA sequence in progress do not. Once
// provisioned it answers JPKI APDUs through a vcard phone token. It is safe
// for concurrent use and implements vcard.Token and vpcd.Card.
type Applet struct {
	mu     sync.Mutex
	cfg    Config
	cs     *scp03.CardSession
	keygen func() (*rsa.PrivateKey, error)

	selected bool
	state    State
	key      *rsa.PrivateKey
	cert     []byte
	caCert   []byte
	pin      []byte
	token    *vcard.Card // when provisioned

	store     []byte // STORE DATA stream being received
	nextBlock int    // -1: no sequence open
}

var _ vcard.Token = (*Applet)(nil)

// New makes a blank applet.
func New(cfg Config) (*Applet, error) {
	if err := cfg.Keys.Validate(); err != nil {
		return nil, err
	}
	kdd := cfg.KDD
	if kdd == nil {
		kdd = make([]byte, 10)
	}
	cs, err := scp03.NewCardSession(cfg.Keys, kdd, cfg.Random)
	if err != nil {
		return nil, err
	}
	a := &Applet{cfg: cfg, cs: cs, state: Blank, nextBlock: -1, keygen: cfg.GenerateKey}
	if a.keygen == nil {
		a.keygen = func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) }
	}
	return a, nil
}

// ATR is the contactless phone ATR the vcard phone token uses.
func (a *Applet) ATR() []byte { return append([]byte(nil), vcard.ATRPhone...) }

// Reset is a power cycle or the phone taken off the reader: the secure
// channel and a half-received STORE DATA are gone; what was committed to
// persistent memory stays.
func (a *Applet) Reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cs.Close()
	a.selected = false
	a.abortStore()
	if a.token != nil {
		a.token.Reset()
	}
}

// Status is the applet's state as GET STATUS reports it (for tests and demos).
func (a *Applet) Status() Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status()
}

func (a *Applet) status() Status {
	var p byte
	if a.key != nil {
		p |= PartKey
	}
	if a.cert != nil {
		p |= PartCert
	}
	if a.caCert != nil {
		p |= PartCACert
	}
	if a.pin != nil {
		p |= PartPIN
	}
	return Status{State: a.state, Parts: p}
}

func (a *Applet) abortStore() { a.store, a.nextBlock = nil, -1 }

func sw(s uint16) []byte { return device.Response{SW: s}.Bytes() }

// Process answers one command APDU. Any input gives a well-formed response.
func (a *Applet) Process(apdu []byte) []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	cmd, err := device.ParseCommand(apdu)
	if err != nil {
		return sw(device.SWWrongLength)
	}
	if scp03.IsHandshake(apdu) {
		a.abortStore()
		if !a.selected {
			a.cs.Close()
			return sw(device.SWConditionsOfUse)
		}
		return a.cs.Handshake(apdu)
	}
	if cmd.CLA == CLASecure {
		if !a.selected || !a.cs.Open() {
			a.abortStore()
			return sw(device.SWSecurityStatus)
		}
		plain, err := a.cs.Unwrap(apdu)
		if err != nil {
			// The card session has closed itself: a bad MAC, a replay or
			// a command out of order ends the channel.
			a.abortStore()
			var se *scp03.StatusError
			if errors.As(err, &se) {
				return sw(se.SW)
			}
			return sw(device.SWSecurityStatus)
		}
		data, s := a.personalise(plain)
		return a.cs.Respond(data, s)
	}
	// Anything sent in clear ends a secure channel session (GP: a command
	// without secure messaging aborts the session).
	if a.cs.Open() {
		a.cs.Close()
		a.abortStore()
	}
	if cmd.CLA == CLA && isPersonalisation(cmd.INS) {
		return sw(device.SWSecurityStatus) // only inside the secure channel
	}
	if cmd.INS == 0xA4 && cmd.P1 == 0x04 {
		if cmd.CLA == 0x00 && bytes.Equal(cmd.Data, AID) {
			a.selected = true
		}
		if a.token != nil {
			return a.token.Process(apdu)
		}
		switch {
		case cmd.CLA != 0x00:
			return sw(device.SWCLANotSupported)
		case cmd.P2 != 0x0C && cmd.P2 != 0x00:
			return sw(device.SWIncorrectP1P2)
		case !bytes.Equal(cmd.Data, AID):
			return sw(device.SWFileNotFound)
		}
		return sw(device.SWOK)
	}
	if a.state != Provisioned {
		// The applet is there but not a JPKI token yet (or half-written).
		return sw(device.SWConditionsOfUse)
	}
	return a.token.Process(apdu)
}

func isPersonalisation(ins byte) bool {
	switch ins {
	case INSGenerateKeyPair, INSStoreData, INSSetStatus, INSGetStatus:
		return true
	}
	return false
}

func (a *Applet) personalise(c device.Command) ([]byte, uint16) {
	if c.CLA != CLA {
		return nil, device.SWCLANotSupported
	}
	if c.INS != INSStoreData {
		a.abortStore() // a STORE DATA sequence is not interleaved with others
	}
	switch c.INS {
	case INSGenerateKeyPair:
		return a.generate(c)
	case INSStoreData:
		return nil, a.storeData(c)
	case INSSetPIN:
		return nil, a.setPIN(c)
	case INSSetStatus:
		return nil, a.setStatus(c)
	case INSGetStatus:
		if c.P1 != P1Application || c.P2 != P2GetStatusTLV {
			return nil, device.SWIncorrectP1P2
		}
		return EncodeStatus(a.status()), device.SWOK
	}
	return nil, device.SWINSNotSupported
}

func (a *Applet) generate(c device.Command) ([]byte, uint16) {
	switch c.P1 {
	case P1Generate:
		if c.P2 != 0 {
			return nil, device.SWIncorrectP1P2
		}
		if a.state != Blank {
			return nil, device.SWConditionsOfUse
		}
		k, err := a.keygen()
		if err != nil || k.N.BitLen() != 2048 {
			return nil, device.SWNoPreciseDiagnose
		}
		a.key, a.state = k, KeyGenerated
	case P1ReadPublicKey:
		if a.key == nil {
			return nil, device.SWConditionsOfUse
		}
	default:
		return nil, device.SWIncorrectP1P2
	}
	tmpl := EncodePublicKey(&a.key.PublicKey)
	off := int(c.P2) * PublicBlockSize
	if off >= len(tmpl) {
		return nil, device.SWWrongP1P2
	}
	return append([]byte(nil), tmpl[off:min(off+PublicBlockSize, len(tmpl))]...), device.SWOK
}

func (a *Applet) storeData(c device.Command) uint16 {
	if c.P1&^(P1LastBlock|P1DGIFormat) != 0 || c.P1&P1DGIFormat == 0 {
		a.abortStore()
		return device.SWIncorrectP1P2 // only DGI format, no DEK encryption
	}
	if a.state != KeyGenerated && a.state != CertStored {
		a.abortStore()
		return device.SWConditionsOfUse
	}
	if c.P2 == 0 {
		a.store, a.nextBlock = nil, 0
	}
	if int(c.P2) != a.nextBlock || len(c.Data) == 0 {
		a.abortStore()
		return device.SWIncorrectP1P2
	}
	if len(a.store)+len(c.Data) > 5+65535 {
		a.abortStore()
		return 0x6A84 // not enough memory
	}
	a.store = append(a.store, c.Data...)
	a.nextBlock++
	if c.P1&P1LastBlock == 0 {
		if a.nextBlock >= MaxStoreBlocks {
			a.abortStore()
			return 0x6A84
		}
		return device.SWOK
	}
	stream := a.store
	a.abortStore()
	tag, data, err := DecodeDGI(stream)
	if err != nil {
		return device.SWWrongData
	}
	cert, err := parseCert(data)
	if err != nil {
		return device.SWWrongData
	}
	switch tag {
	case DGIAuthCert:
		if a.state != KeyGenerated {
			return device.SWConditionsOfUse
		}
		// Accept only a certificate for the key this applet generated.
		if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&a.key.PublicKey) {
			return device.SWWrongData
		}
		a.cert, a.state = append([]byte(nil), data...), CertStored
	case DGIAuthCACert:
		if a.state != CertStored {
			return device.SWConditionsOfUse
		}
		leaf, _ := x509.ParseCertificate(a.cert)
		if !cert.IsCA || leaf == nil || leaf.CheckSignatureFrom(cert) != nil {
			return device.SWWrongData
		}
		a.caCert = append([]byte(nil), data...)
	default:
		return 0x6A88 // referenced data not found
	}
	return device.SWOK
}

// parseCert accepts what the JPKI EFs can hold: DER 30 82 of 256-65535 bytes.
func parseCert(der []byte) (*x509.Certificate, error) {
	if len(der) < 256 || der[0] != 0x30 || der[1] != 0x82 {
		return nil, fmt.Errorf("not a DER certificate of 256 bytes or more")
	}
	return x509.ParseCertificate(der)
}

func (a *Applet) setPIN(c device.Command) uint16 {
	if c.P1 != P1SetPINNew || c.P2 != P2PIN {
		return device.SWIncorrectP1P2
	}
	if a.cs.Level()&scp03.LevelCDEC == 0 {
		return device.SWSecurityStatus // a PIN never travels unencrypted
	}
	if a.state != CertStored {
		return device.SWConditionsOfUse
	}
	if !vcard.ValidAuthPIN(c.Data) {
		return device.SWWrongData
	}
	a.pin = append([]byte(nil), c.Data...)
	return device.SWOK
}

func (a *Applet) setStatus(c device.Command) uint16 {
	if c.P1 != P1Application || (len(c.Data) > 0 && !bytes.Equal(c.Data, AID)) {
		return device.SWIncorrectP1P2
	}
	switch c.P2 {
	case P2Personalized:
		st := a.status()
		if a.state != CertStored || !st.Has(PartKey|PartCert|PartCACert|PartPIN) {
			return device.SWConditionsOfUse
		}
		tok, err := vcard.New(vcard.Config{Profile: vcard.Phone, AuthKey: a.key, AuthCert: a.cert,
			AuthCACert: a.caCert, AuthPIN: string(a.pin)})
		if err != nil {
			return device.SWConditionsOfUse
		}
		a.token, a.state = tok, Provisioned
		if a.selected {
			// The token starts with the JPKI AP selected, as this applet is.
			tok.Process(SelectAIDBytes())
		}
		return device.SWOK
	case P2Selectable:
		a.key, a.cert, a.caCert, a.pin, a.token = nil, nil, nil, nil, nil
		a.state = Blank
		return device.SWOK
	}
	return device.SWIncorrectP1P2
}

// SelectAIDBytes is SelectAID encoded.
func SelectAIDBytes() []byte {
	b, _ := SelectAID().Bytes()
	return b
}
