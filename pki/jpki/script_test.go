package jpki

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"jpkipilot/device"
)

// step is one expected exchange of a scripted transport: the exact command
// (hex, spaces ignored) and the raw response, or a transport error.
type step struct {
	cmd  string
	resp string
	err  error
}

// scripted is a transport that checks every command against a script. It
// exists to feed the client malformed and unusual answers a well-behaved
// card never gives; behaviour against a card is tested on device/vcard.
type scripted struct {
	t     *testing.T
	steps []step
	n     int
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func (s *scripted) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	s.t.Helper()
	if s.n >= len(s.steps) {
		s.t.Errorf("unexpected APDU #%d %X after the script ended", s.n+1, apdu)
		return nil, errors.New("script ended")
	}
	st := s.steps[s.n]
	s.n++
	if want := unhex(s.t, st.cmd); string(want) != string(apdu) {
		s.t.Errorf("APDU #%d = %X, want %X", s.n, apdu, want)
	}
	if st.err != nil {
		return nil, st.err
	}
	return unhex(s.t, st.resp), nil
}

// done fails the test if the script was not used up.
func (s *scripted) done() {
	s.t.Helper()
	if s.n != len(s.steps) {
		s.t.Errorf("%d APDUs sent, the script expected %d", s.n, len(s.steps))
	}
}

func newScripted(t *testing.T, steps ...step) (*Client, *scripted) {
	s := &scripted{t: t, steps: steps}
	return New(&device.Card{T: s}), s
}

// Commands as DESIGN.md gives the bytes.
const (
	cmdSelectAP    = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"
	cmdQueryPIN    = "00 20 00 80"
	ok             = "9000"
	removedMessage = "simulated removal"
)

func cmdSelectEF(fid uint16) string { return fmt.Sprintf("00 A4 02 0C 02 %04X", fid) }

func cmdRead(off, n int) string {
	return fmt.Sprintf("00 B0 %02X %02X %02X", off>>8, off&0xFF, byte(n))
}

func cmdVerify(pin string) string { return fmt.Sprintf("00 20 00 80 %02X %X", len(pin), pin) }

var removed = fmt.Errorf("%s: %w", removedMessage, device.ErrCardRemoved)

// testCert is a self-signed RSA-2048 certificate standing in for card
// content in the scripted tests.
var testCert = sync.OnceValues(func() ([]byte, *rsa.PrivateKey) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "jpki scripted test"},
		NotBefore:    time.Unix(1700000000, 0),
		NotAfter:     time.Unix(1900000000, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	return der, key
})

// readSteps are the READ BINARY exchanges that serve file in 256-byte
// chunks the way the client asks for them.
func readSteps(file []byte) []step {
	var steps []step
	for off := 0; off < len(file); off += 256 {
		end := min(off+256, len(file))
		steps = append(steps, step{cmd: cmdRead(off, end-off), resp: hex.EncodeToString(file[off:end]) + ok})
	}
	return steps
}
