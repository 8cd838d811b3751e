package scp03

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// RFC 4493 §4: subkeys and the four examples with the AES-128 key.
func TestCMACRFC4493(t *testing.T) {
	key := unhex(t, "2b7e1516 28aed2a6 abf71588 09cf4f3c")
	m, err := newCMAC(key)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(m.k1[:]); got != "fbeed618357133667c85e08f7236a8de" {
		t.Errorf("K1 = %s", got)
	}
	if got := hex.EncodeToString(m.k2[:]); got != "f7ddac306ae266ccf90bc11ee46d513b" {
		t.Errorf("K2 = %s", got)
	}
	msg := unhex(t, "6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51"+
		"30c81c46 a35ce411 e5fbc119 1a0a52ef f69f2445 df4f9b17 ad2b417b e66c3710")
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, "bb1d6929 e9593728 7fa37d12 9b756746"},
		{16, "070a16b4 6b4d4144 f79bdd9d d04a287c"},
		{40, "dfa66747 de9ae630 30ca3261 1497c827"},
		{64, "51f0bebf 7e3b9d92 fc497417 79363cfe"},
	} {
		got, err := CMAC(key, msg[:tc.n])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, unhex(t, tc.want)) {
			t.Errorf("CMAC of %d bytes = %x, want %s", tc.n, got, tc.want)
		}
		// The parts of a message may be split anywhere.
		if tc.n > 3 {
			s := m.Sum(msg[:3], msg[3:tc.n-1], msg[tc.n-1:tc.n])
			if !bytes.Equal(s[:], got) {
				t.Errorf("CMAC over split parts of %d bytes differs", tc.n)
			}
		}
	}
}

func TestCMACKeyLength(t *testing.T) {
	if _, err := CMAC(make([]byte, 15), nil); err == nil {
		t.Fatal("a 15-byte key was accepted")
	}
}
