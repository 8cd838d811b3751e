// Package sim is the JPKI applet on a phone's SIM as the counter terminal
// provisions it: the wire protocol both sides share (this file) and a
// virtual applet (applet.go) that answers it in-process or through vpcd.
//
// Before it is provisioned the applet answers only a GlobalPlatform SCP03
// secure channel and the personalisation commands inside it. The commands
// follow GlobalPlatform and ISO 7816 conventions where one exists:
//
//	GENERATE KEY PAIR  84 46 80 00 Le        ISO 7816-8 GENERATE ASYMMETRIC KEY PAIR (P1 80: generate)
//	                   84 46 81 nn Le        read block nn of the public key (P1 81: read, as in ISO 7816-8)
//	STORE DATA         84 E2 P1 nn Lc DGI…   GP STORE DATA: P1 b8 last block, b5-b4 = 01 (DGI format), nn block number
//	SET PIN            84 24 01 80 Lc PIN    ISO CHANGE REFERENCE DATA, P1 01: new value only; C-DECRYPTION required
//	PERSONALIZE        84 F0 40 0F           GP SET STATUS of the application to PERSONALIZED (commit)
//	WIPE               84 F0 40 07           GP SET STATUS back to SELECTABLE: key, certificates and PIN erased
//	GET STATUS         84 F2 40 02 Le        GP GET STATUS of the application, TLV answer (E3 { 4F AID, 9F70 state, DF70 parts })
//
// The public key comes back as the ISO 7816-8 public key template
// 7F49 { 81 modulus, 82 exponent }. The ISO commands use P2 as the key
// reference; here the applet has one key, so P2 numbers the 240-byte block
// of the template, because JPKI uses no extended APDUs and no 61xx
// chaining. STORE DATA carries one DGI per sequence: 000A the user-auth
// certificate, 000B its CA certificate (the numbers of the EFs they end up
// in).
package sim

import (
	"bytes"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"

	"jpkipilot/device"
)

// Instruction bytes and parameters of the personalisation commands.
const (
	CLA       = 0x80 // GP proprietary class; 0x84 once wrapped by SCP03
	CLASecure = 0x84

	INSGenerateKeyPair = 0x46
	INSStoreData       = 0xE2
	INSSetPIN          = 0x24
	INSSetStatus       = 0xF0
	INSGetStatus       = 0xF2

	P1Generate      = 0x80
	P1ReadPublicKey = 0x81

	P1LastBlock = 0x80
	P1DGIFormat = 0x08 // GP STORE DATA P1 b5-b4 = 01

	P1SetPINNew = 0x01
	P2PIN       = 0x80

	P1Application   = 0x40
	P2Personalized  = 0x0F // GP life cycle PERSONALIZED
	P2Selectable    = 0x07 // GP life cycle SELECTABLE: the blank applet
	P2GetStatusTLV  = 0x02
	DGIAuthCert     = 0x000A
	DGIAuthCACert   = 0x000B
	StoreBlockSize  = 224 // plain bytes per STORE DATA; padded and MACed it still fits a short APDU
	PublicBlockSize = 240 // bytes per public-key block; with the R-MAC it fits a short response
	MaxStoreBlocks  = 256
)

// State is the applet's life cycle, as GET STATUS reports it in tag 9F70.
// Blank and Provisioned use the GP codes SELECTABLE and PERSONALIZED; the
// two in between are application-specific states (low bits 111 as GP asks).
type State byte

const (
	Blank        State = 0x07
	KeyGenerated State = 0x17
	CertStored   State = 0x27
	Provisioned  State = 0x0F
)

func (s State) String() string {
	switch s {
	case Blank:
		return "blank"
	case KeyGenerated:
		return "keygen"
	case CertStored:
		return "cert-stored"
	case Provisioned:
		return "provisioned"
	}
	return fmt.Sprintf("State(%02X)", byte(s))
}

// Parts present in the applet (GET STATUS tag DF70).
const (
	PartKey    = 0x01
	PartCert   = 0x02
	PartCACert = 0x04
	PartPIN    = 0x08
)

// Status is the applet's answer to GET STATUS.
type Status struct {
	State State
	Parts byte
}

// Has reports whether all the given parts are present.
func (s Status) Has(parts byte) bool { return s.Parts&parts == parts }

// Provisioned reports a committed applet; nothing half-written counts.
func (s Status) Provisioned() bool { return s.State == Provisioned }

func (s Status) String() string {
	var ps []string
	for _, p := range []struct {
		bit  byte
		name string
	}{{PartKey, "key"}, {PartCert, "cert"}, {PartCACert, "CA cert"}, {PartPIN, "PIN"}} {
		if s.Parts&p.bit != 0 {
			ps = append(ps, p.name)
		}
	}
	if len(ps) == 0 {
		return s.State.String()
	}
	return fmt.Sprintf("%s (%s)", s.State, joinComma(ps))
}

func joinComma(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(x)
	}
	return b.String()
}

// AID is the JPKI applet's AID (the same application as on a card).
var AID = []byte{0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01}

// EncodeStatus is the GET STATUS answer.
func EncodeStatus(s Status) []byte {
	inner := tlv([]byte{0x4F}, AID)
	inner = append(inner, tlv([]byte{0x9F, 0x70}, []byte{byte(s.State)})...)
	inner = append(inner, tlv([]byte{0xDF, 0x70}, []byte{s.Parts})...)
	return tlv([]byte{0xE3}, inner)
}

// ParseStatus reads a GET STATUS answer.
func ParseStatus(b []byte) (Status, error) {
	var st Status
	body, rest, err := readTLV(b, []byte{0xE3})
	if err != nil {
		return st, fmt.Errorf("sim: GET STATUS: %w", err)
	}
	if len(rest) != 0 {
		return st, fmt.Errorf("sim: GET STATUS: %d bytes after the E3 template", len(rest))
	}
	aid, body, err := readTLV(body, []byte{0x4F})
	if err != nil {
		return st, fmt.Errorf("sim: GET STATUS: %w", err)
	}
	if !bytes.Equal(aid, AID) {
		return st, fmt.Errorf("sim: GET STATUS names AID %X, not the JPKI applet", aid)
	}
	lc, body, err := readTLV(body, []byte{0x9F, 0x70})
	if err != nil || len(lc) != 1 {
		return st, fmt.Errorf("sim: GET STATUS: bad life cycle (9F70)")
	}
	parts, body, err := readTLV(body, []byte{0xDF, 0x70})
	if err != nil || len(parts) != 1 || len(body) != 0 {
		return st, fmt.Errorf("sim: GET STATUS: bad parts (DF70)")
	}
	st.State, st.Parts = State(lc[0]), parts[0]
	switch st.State {
	case Blank, KeyGenerated, CertStored, Provisioned:
	default:
		return st, fmt.Errorf("sim: GET STATUS: unknown life cycle state %02X", lc[0])
	}
	if st.Parts&^(PartKey|PartCert|PartCACert|PartPIN) != 0 {
		return st, fmt.Errorf("sim: GET STATUS: unknown parts %02X", st.Parts)
	}
	return st, nil
}

// EncodePublicKey is the ISO 7816-8 public key template of an RSA key.
func EncodePublicKey(pub *rsa.PublicKey) []byte {
	inner := tlv([]byte{0x81}, pub.N.Bytes())
	inner = append(inner, tlv([]byte{0x82}, big.NewInt(int64(pub.E)).Bytes())...)
	return tlv([]byte{0x7F, 0x49}, inner)
}

// PublicKeyLength reads the total length of the template from its first
// bytes (at least 5), so the host knows how many blocks to read.
func PublicKeyLength(head []byte) (int, error) {
	if len(head) < 5 || head[0] != 0x7F || head[1] != 0x49 {
		return 0, errors.New("sim: public key does not start with the 7F49 template")
	}
	n, hl, err := readLen(head[2:])
	if err != nil {
		return 0, fmt.Errorf("sim: public key: %w", err)
	}
	return 2 + hl + n, nil
}

// ParsePublicKey reads an RSA-2048 public key template.
func ParsePublicKey(b []byte) (*rsa.PublicKey, error) {
	body, rest, err := readTLV(b, []byte{0x7F, 0x49})
	if err != nil {
		return nil, fmt.Errorf("sim: public key: %w", err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("sim: public key: %d bytes after the template", len(rest))
	}
	n, body, err := readTLV(body, []byte{0x81})
	if err != nil {
		return nil, fmt.Errorf("sim: public key modulus: %w", err)
	}
	e, body, err := readTLV(body, []byte{0x82})
	if err != nil || len(body) != 0 {
		return nil, errors.New("sim: public key exponent (82) missing or followed by junk")
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n)}
	if pub.N.BitLen() != 2048 {
		return nil, fmt.Errorf("sim: public key is RSA-%d, JPKI uses RSA-2048", pub.N.BitLen())
	}
	if len(e) == 0 || len(e) > 4 {
		return nil, fmt.Errorf("sim: public exponent of %d bytes", len(e))
	}
	ev := new(big.Int).SetBytes(e)
	if ev.Int64() < 3 || ev.Bit(0) == 0 {
		return nil, fmt.Errorf("sim: public exponent %v is not an odd number >= 3", ev)
	}
	pub.E = int(ev.Int64())
	return pub, nil
}

// EncodeDGI is one GP data grouping: 2-byte tag, length (1 byte, or FF and
// 2 bytes from 255 on), data.
func EncodeDGI(tag uint16, data []byte) []byte {
	b := []byte{byte(tag >> 8), byte(tag)}
	if len(data) < 255 {
		b = append(b, byte(len(data)))
	} else {
		b = append(b, 0xFF, byte(len(data)>>8), byte(len(data)))
	}
	return append(b, data...)
}

// DecodeDGI reads exactly one data grouping.
func DecodeDGI(b []byte) (uint16, []byte, error) {
	if len(b) < 3 {
		return 0, nil, errors.New("sim: DGI shorter than its header")
	}
	tag := uint16(b[0])<<8 | uint16(b[1])
	n, rest := int(b[2]), b[3:]
	if b[2] == 0xFF {
		if len(rest) < 2 {
			return 0, nil, errors.New("sim: DGI length truncated")
		}
		n, rest = int(rest[0])<<8|int(rest[1]), rest[2:]
	}
	if len(rest) != n {
		return 0, nil, fmt.Errorf("sim: DGI %04X says %d bytes, %d follow", tag, n, len(rest))
	}
	return tag, rest, nil
}

// Commands, unwrapped: the host wraps them with its SCP03 session.

// GenerateKeyPair asks for a new key pair and the first block of its public key.
func GenerateKeyPair() device.Command {
	return device.Command{CLA: CLA, INS: INSGenerateKeyPair, P1: P1Generate, P2: 0, Le: 256}
}

// ReadPublicKey asks for block n of the public key template.
func ReadPublicKey(n int) device.Command {
	return device.Command{CLA: CLA, INS: INSGenerateKeyPair, P1: P1ReadPublicKey, P2: byte(n), Le: 256}
}

// StoreData splits one DGI into STORE DATA blocks.
func StoreData(dgi uint16, data []byte) ([]device.Command, error) {
	stream := EncodeDGI(dgi, data)
	n := (len(stream) + StoreBlockSize - 1) / StoreBlockSize
	if n > MaxStoreBlocks {
		return nil, fmt.Errorf("sim: %d bytes need %d STORE DATA blocks, more than %d", len(stream), n, MaxStoreBlocks)
	}
	cmds := make([]device.Command, 0, n)
	for i := 0; i < n; i++ {
		block := stream[i*StoreBlockSize : min((i+1)*StoreBlockSize, len(stream))]
		p1 := byte(P1DGIFormat)
		if i == n-1 {
			p1 |= P1LastBlock
		}
		cmds = append(cmds, device.Command{CLA: CLA, INS: INSStoreData, P1: p1, P2: byte(i), Data: block, Le: device.NoLe})
	}
	return cmds, nil
}

// SetPIN sets the initial auth PIN (sent only inside C-DECRYPTION).
func SetPIN(pin string) device.Command {
	return device.Command{CLA: CLA, INS: INSSetPIN, P1: P1SetPINNew, P2: P2PIN, Data: []byte(pin), Le: device.NoLe, Secret: true}
}

// Personalize commits: the applet becomes a JPKI phone token.
func Personalize() device.Command {
	return device.Command{CLA: CLA, INS: INSSetStatus, P1: P1Application, P2: P2Personalized, Le: device.NoLe}
}

// Wipe erases key, certificates and PIN: the applet is blank again.
func Wipe() device.Command {
	return device.Command{CLA: CLA, INS: INSSetStatus, P1: P1Application, P2: P2Selectable, Le: device.NoLe}
}

// GetStatus asks for the life cycle and the parts present.
func GetStatus() device.Command {
	return device.Command{CLA: CLA, INS: INSGetStatus, P1: P1Application, P2: P2GetStatusTLV, Le: 256}
}

// SelectAID is SELECT of the JPKI applet, as the JPKI client sends it.
func SelectAID() device.Command {
	return device.Command{CLA: 0x00, INS: 0xA4, P1: 0x04, P2: 0x0C, Data: AID, Le: device.NoLe}
}

// --- BER-TLV helpers (definite lengths up to 65535) ---

func tlv(tag, value []byte) []byte {
	b := append([]byte(nil), tag...)
	switch n := len(value); {
	case n < 0x80:
		b = append(b, byte(n))
	case n < 0x100:
		b = append(b, 0x81, byte(n))
	default:
		b = append(b, 0x82, byte(n>>8), byte(n))
	}
	return append(b, value...)
}

func readLen(b []byte) (n, headLen int, err error) {
	if len(b) == 0 {
		return 0, 0, errors.New("length missing")
	}
	switch {
	case b[0] < 0x80:
		return int(b[0]), 1, nil
	case b[0] == 0x81 && len(b) >= 2:
		return int(b[1]), 2, nil
	case b[0] == 0x82 && len(b) >= 3:
		return int(b[1])<<8 | int(b[2]), 3, nil
	}
	return 0, 0, fmt.Errorf("unsupported or truncated length %02X", b[0])
}

func readTLV(b, tag []byte) (value, rest []byte, err error) {
	if !bytes.HasPrefix(b, tag) {
		return nil, nil, fmt.Errorf("tag %X missing", tag)
	}
	n, hl, err := readLen(b[len(tag):])
	if err != nil {
		return nil, nil, fmt.Errorf("tag %X: %w", tag, err)
	}
	start := len(tag) + hl
	if len(b)-start < n {
		return nil, nil, fmt.Errorf("tag %X says %d bytes, %d follow", tag, n, len(b)-start)
	}
	return b[start : start+n], b[start+n:], nil
}
