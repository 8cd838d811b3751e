package scp03

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"jpkipilot/device"
)

func randomKeys(t testing.TB, n int, kvn byte) Keys {
	t.Helper()
	k := Keys{KVN: kvn, ENC: make([]byte, n), MAC: make([]byte, n), DEK: make([]byte, n)}
	for _, b := range [][]byte{k.ENC, k.MAC, k.DEK} {
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

var kdd = []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}

// open runs the handshake between a host with hostKeys and a card with
// cardKeys and returns both sides.
func open(t *testing.T, hostKeys, cardKeys Keys, level byte) (*Session, *CardSession) {
	t.Helper()
	h, err := NewSession(hostKeys, level, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCardSession(cardKeys, kdd, nil)
	if err != nil {
		t.Fatal(err)
	}
	iu := h.InitializeUpdate()
	if !bytes.Equal(iu[:5], []byte{0x80, 0x50, hostKeys.KVN, 0x00, 0x08}) || len(iu) != 14 || iu[13] != 0x00 {
		t.Fatalf("INITIALIZE UPDATE = % X", iu)
	}
	if !IsHandshake(iu) {
		t.Fatal("IsHandshake(INITIALIZE UPDATE) = false")
	}
	ea, err := h.ExternalAuthenticate(c.Handshake(iu))
	if err != nil {
		t.Fatalf("host: %v", err)
	}
	if !bytes.Equal(ea[:5], []byte{0x84, 0x82, level, 0x00, 0x10}) || len(ea) != 21 {
		t.Fatalf("EXTERNAL AUTHENTICATE = % X", ea)
	}
	if err := h.Authenticated(c.Handshake(ea)); err != nil {
		t.Fatalf("card refused the host: %v", err)
	}
	if !h.Open() || !c.Open() || c.Level() != level {
		t.Fatalf("after the handshake host open %v, card open %v level %02X", h.Open(), c.Open(), c.Level())
	}
	return h, c
}

// exchange wraps cmd on the host, unwraps it on the card, answers with
// data/sw and returns what the host read.
func exchange(t *testing.T, h *Session, c *CardSession, cmd []byte, data []byte, sw uint16) []byte {
	t.Helper()
	w, err := h.Wrap(cmd)
	if err != nil {
		t.Fatalf("wrap: %v", err)
	}
	plain, err := c.Unwrap(w)
	if err != nil {
		t.Fatalf("card unwrap of % X: %v", w, err)
	}
	pb, _ := plain.Bytes()
	if !bytes.Equal(pb, cmd) {
		t.Fatalf("card saw % X, host sent % X", pb, cmd)
	}
	resp, err := h.Unwrap(c.Respond(data, sw))
	if err != nil {
		t.Fatalf("host unwrap: %v", err)
	}
	return resp
}

func TestRoundTrip(t *testing.T) {
	// A STORE DATA of 0..239 bytes, GET DATA with Le, a case-1 command.
	var cmds [][]byte
	for _, n := range []int{1, 15, 16, 17, 31, 32, 100, 230} {
		d := make([]byte, n)
		rand.Read(d)
		cmds = append(cmds, append([]byte{0x80, 0xE2, 0x00, 0x00, byte(n)}, d...))
	}
	cmds = append(cmds, []byte{0x80, 0xCA, 0x00, 0x66, 0x00}, []byte{0x80, 0xF2, 0x80, 0x00}, []byte{0x00, 0xA4, 0x04, 0x00, 0x02, 0xA0, 0x00, 0x00})
	for _, size := range []int{16, 24, 32} {
		for _, level := range []byte{LevelCMAC, LevelCMAC | LevelCDEC, LevelCMAC | LevelCDEC | LevelRMAC, LevelCMAC | LevelRMAC} {
			k := randomKeys(t, size, 0x30)
			h, c := open(t, k, k, level)
			for _, cmd := range cmds {
				got := exchange(t, h, c, cmd, []byte{1, 2, 3}, 0x9000)
				if !bytes.Equal(got, []byte{1, 2, 3, 0x90, 0x00}) {
					t.Fatalf("AES-%d level %02X: response % X", 8*size, level, got)
				}
			}
			// An error status word carries no R-MAC and still reads.
			got := exchange(t, h, c, cmds[0], nil, 0x6A80)
			if !bytes.Equal(got, []byte{0x6A, 0x80}) {
				t.Fatalf("error response % X", got)
			}
		}
	}
}

func TestEncryptedOnTheWire(t *testing.T) {
	k := randomKeys(t, 16, 1)
	h, _ := open(t, k, k, LevelCMAC|LevelCDEC)
	secret := []byte("PRIVATE-KEY-BYTES-0123456789")
	cmd := append([]byte{0x80, 0xE2, 0x80, 0x00, byte(len(secret))}, secret...)
	w, err := h.Wrap(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(w, secret[:8]) {
		t.Fatalf("C-DECRYPTION left the data readable: % X", w)
	}
	if w[0] != 0x84 || int(w[4]) != 32+8 || len(w) != 5+40 {
		t.Fatalf("wrapped header % X, length %d", w[:5], len(w))
	}
}

func TestWrongKeysHostSide(t *testing.T) {
	hk, ck := randomKeys(t, 16, 1), randomKeys(t, 16, 1)
	h, _ := NewSession(hk, LevelCMAC|LevelCDEC, nil)
	c, _ := NewCardSession(ck, kdd, nil)
	_, err := h.ExternalAuthenticate(c.Handshake(h.InitializeUpdate()))
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("card cryptogram from other keys: %v, want ErrAuth", err)
	}
	if _, err := h.Wrap([]byte{0x80, 0xCA, 0x00, 0x66, 0x00}); !errors.Is(err, ErrClosed) {
		t.Fatalf("wrap after a failed handshake: %v", err)
	}
}

// A host that skips the card cryptogram check (a forged card answer) still
// cannot get past the card: its host cryptogram is 6300.
func TestWrongKeysCardSide(t *testing.T) {
	hk, ck := randomKeys(t, 16, 1), randomKeys(t, 16, 1)
	c, _ := NewCardSession(ck, kdd, nil)
	h, _ := NewSession(hk, LevelCMAC|LevelCDEC, nil)
	resp := c.Handshake(h.InitializeUpdate())
	// Replace the card cryptogram with the one the host's keys expect.
	ir, err := ParseInitResponse(resp[:len(resp)-2])
	if err != nil {
		t.Fatal(err)
	}
	ctx := append(h.HostChallenge(), ir.CardChallenge[:]...)
	sk, _ := deriveSessionKeys(hk, ctx)
	cc, _ := cryptogram(sk.mac, ddCardCryptogram, ctx)
	copy(ir.CardCryptogram[:], cc)
	ea, err := h.ExternalAuthenticate(device.Response{Data: ir.Bytes(), SW: 0x9000}.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	r := c.Handshake(ea)
	if !bytes.Equal(r, []byte{0x63, 0x00}) {
		t.Fatalf("card answered % X to a wrong host cryptogram, want 6300", r)
	}
	if err := h.Authenticated(r); !errors.Is(err, ErrAuth) {
		t.Fatalf("host read 6300 as %v", err)
	}
	if c.Open() {
		t.Fatal("the card opened a channel for the wrong keys")
	}
	// The same EXTERNAL AUTHENTICATE again: no fresh INITIALIZE UPDATE.
	if r := c.Handshake(ea); !bytes.Equal(r, []byte{0x69, 0x85}) {
		t.Fatalf("second EXTERNAL AUTHENTICATE answered % X, want 6985", r)
	}
}

func TestTamperedEAMac(t *testing.T) {
	k := randomKeys(t, 16, 1)
	h, _ := NewSession(k, LevelCMAC|LevelCDEC, nil)
	c, _ := NewCardSession(k, kdd, nil)
	ea, err := h.ExternalAuthenticate(c.Handshake(h.InitializeUpdate()))
	if err != nil {
		t.Fatal(err)
	}
	ea[len(ea)-1] ^= 1
	if r := c.Handshake(ea); !bytes.Equal(r, []byte{0x69, 0x82}) {
		t.Fatalf("tampered EXTERNAL AUTHENTICATE MAC answered % X, want 6982", r)
	}
	if c.Open() {
		t.Fatal("channel open after a bad MAC")
	}
}

func TestUnknownKeyVersion(t *testing.T) {
	h, _ := NewSession(randomKeys(t, 16, 0x31), LevelCMAC, nil)
	c, _ := NewCardSession(randomKeys(t, 16, 0x30), kdd, nil)
	r := c.Handshake(h.InitializeUpdate())
	if !bytes.Equal(r, []byte{0x6A, 0x88}) {
		t.Fatalf("INITIALIZE UPDATE for KVN 31 answered % X, want 6A88", r)
	}
	if _, err := h.ExternalAuthenticate(r); err == nil {
		t.Fatal("host went on after 6A88")
	}
}

func TestTamperedCommand(t *testing.T) {
	k := randomKeys(t, 32, 1)
	for i := 0; i < 29; i++ { // every byte of the wrapped command but Lc and Le
		if i == 4 {
			continue
		}
		h, c := open(t, k, k, LevelCMAC|LevelCDEC)
		w, _ := h.Wrap([]byte{0x80, 0xE2, 0x00, 0x00, 0x03, 1, 2, 3, 0x00})
		if len(w) != 30 {
			t.Fatalf("wrapped length %d", len(w))
		}
		w[i] ^= 0x01
		_, err := c.Unwrap(w)
		var se *StatusError
		if !errors.As(err, &se) || se.SW != SWSecurity {
			t.Fatalf("byte %d changed: %v, want 6982", i, err)
		}
		if c.Open() {
			t.Fatalf("byte %d changed: the channel stayed open", i)
		}
		// Nothing gets through afterwards, not even a good next command.
		w2, _ := h.Wrap([]byte{0x80, 0xCA, 0x00, 0x66, 0x00})
		if _, err := c.Unwrap(w2); err == nil {
			t.Fatal("a command went through a closed channel")
		}
	}
}

func TestReplayedCommand(t *testing.T) {
	k := randomKeys(t, 16, 1)
	h, c := open(t, k, k, LevelCMAC|LevelCDEC)
	w, _ := h.Wrap([]byte{0x80, 0xE2, 0x00, 0x00, 0x02, 0xAB, 0xCD})
	if _, err := c.Unwrap(w); err != nil {
		t.Fatal(err)
	}
	_, err := c.Unwrap(w)
	if !errors.Is(err, ErrMAC) {
		t.Fatalf("replayed command: %v, want a MAC failure (6982)", err)
	}
	if c.Open() {
		t.Fatal("channel open after a replay")
	}
	// A command from an older session replayed into a new one also fails.
	h2, c2 := open(t, k, k, LevelCMAC|LevelCDEC)
	_ = h2
	if _, err := c2.Unwrap(w); !errors.Is(err, ErrMAC) {
		t.Fatalf("command of an old session: %v", err)
	}
}

func TestOutOfOrder(t *testing.T) {
	k := randomKeys(t, 16, 1)
	h, c := open(t, k, k, LevelCMAC)
	w1, _ := h.Wrap([]byte{0x80, 0xCA, 0x00, 0x66, 0x00})
	w2, _ := h.Wrap([]byte{0x80, 0xCA, 0x00, 0x67, 0x00})
	if _, err := c.Unwrap(w2); !errors.Is(err, ErrMAC) {
		t.Fatalf("second command first: %v", err)
	}
	_ = w1
}

func TestTamperedRMAC(t *testing.T) {
	k := randomKeys(t, 16, 1)
	h, c := open(t, k, k, LevelCMAC|LevelCDEC|LevelRMAC)
	w, _ := h.Wrap([]byte{0x80, 0xCA, 0x00, 0x66, 0x00})
	if _, err := c.Unwrap(w); err != nil {
		t.Fatal(err)
	}
	r := c.Respond([]byte{0x10, 0x20}, 0x9000)
	r[0] ^= 0x80
	if _, err := h.Unwrap(r); !errors.Is(err, ErrMAC) {
		t.Fatalf("tampered response: %v", err)
	}
	if h.Open() {
		t.Fatal("host session open after a bad R-MAC")
	}
}

func TestCommandOutsideChannel(t *testing.T) {
	k := randomKeys(t, 16, 1)
	_, c := open(t, k, k, LevelCMAC|LevelCDEC)
	if _, err := c.Unwrap([]byte{0x80, 0xE2, 0x00, 0x00, 0x01, 0x00}); !errors.Is(err, ErrMAC) {
		t.Fatalf("plain command inside a channel: %v", err)
	}
	c2, _ := NewCardSession(k, kdd, nil)
	if _, err := c2.Unwrap([]byte{0x84, 0xE2, 0x00, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 0}); err == nil {
		t.Fatal("a command was accepted before any handshake")
	}
}

func TestKeysValidateAndRedact(t *testing.T) {
	k := randomKeys(t, 16, 0x30)
	if err := k.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Keys{
		{KVN: 0, ENC: k.ENC, MAC: k.MAC, DEK: k.DEK},
		{KVN: 0x80, ENC: k.ENC, MAC: k.MAC, DEK: k.DEK},
		{KVN: 1, ENC: k.ENC[:15], MAC: k.MAC, DEK: k.DEK},
		{KVN: 1, ENC: k.ENC, MAC: append(k.MAC, 0, 0, 0, 0, 0, 0, 0, 0), DEK: k.DEK},
	} {
		if bad.Validate() == nil {
			t.Errorf("key set %v accepted", bad)
		}
	}
	printed := fmt.Sprintf("%v %+v %#v %s %x", k, k, k, k, k)
	for _, key := range [][]byte{k.ENC, k.MAC, k.DEK} {
		if strings.Contains(strings.ToLower(printed), hex.EncodeToString(key[:4])) {
			t.Fatalf("a printed key set shows key bytes: %s", printed)
		}
	}
	if !strings.Contains(printed, "KVN 30 (AES-128, keys redacted)") {
		t.Errorf("printed key set = %q", printed)
	}
}
