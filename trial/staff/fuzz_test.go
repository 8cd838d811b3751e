package staff

import (
	"bytes"
	"strings"
	"testing"

	"jpkipilot/trial/pii"
)

// FuzzParsePHC: no input panics; whatever parses has bounded parameters and
// prints back to a string that parses to the same values.
func FuzzParsePHC(f *testing.F) {
	f.Add(hashSecret("Some-password1", TestKDF), "argon2id")
	f.Add(hashSecret("123456", DefaultPINKDF), "argon2id")
	f.Add(sealPrivate(newKeyPair(), "Some-password1", TestKDF), algSealedKey)
	f.Add("$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "argon2id")
	f.Add("$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "argon2id")
	f.Add("$argon2id$v=19$t=3,m=65536,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "argon2id")
	f.Add("$argon2i$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "argon2id")
	f.Add("", "argon2id")
	f.Fuzz(func(t *testing.T, s, alg string) {
		h, err := parsePHC(s, alg)
		if err != nil {
			return
		}
		if h.Params.valid() != nil || h.Params.MemoryKiB > maxMemoryKiB || h.Params.Time > maxTime {
			t.Fatalf("out-of-bounds parameters accepted: %+v", h.Params)
		}
		h2, err := parsePHC(h.String(), alg)
		if err != nil || h2.Params != h.Params || !bytes.Equal(h2.Salt, h.Salt) || !bytes.Equal(h2.Payload, h.Payload) {
			t.Fatalf("round trip of %q: %+v %v", s, h2, err)
		}
	})
}

// FuzzOpenPrivate: a sealed private key opens only as it was sealed; an
// altered one gives an error, never a panic or another key.
func FuzzOpenPrivate(f *testing.F) {
	k := newKeyPair()
	pub := encodePublic(k)
	good := sealPrivate(k, "Some-password1", TestKDF)
	f.Add(good, "Some-password1")
	f.Add(good, "some-password1")
	f.Add(strings.Replace(good, "t=1", "t=2", 1), "Some-password1")
	f.Add(good[:len(good)-4], "Some-password1")
	f.Fuzz(func(t *testing.T, stored, pw string) {
		if h, err := parsePHC(stored, algSealedKey); err == nil && h.Params.cost() > 4*TestKDF.cost() {
			return // a valid but costly parameter set: fine, but slow to fuzz
		}
		priv, err := openPrivate(stored, pw, pub)
		if err != nil {
			return
		}
		if !bytes.Equal(priv.Bytes(), k.Bytes()) {
			t.Fatal("opened to another key")
		}
	})
}

// FuzzUnwrap: the wrapped-key and token-wrapped formats.
func FuzzUnwrap(f *testing.F) {
	k := newKeyPair()
	key, _ := pii.NewKey()
	w, err := wrapTo(encodePublic(k), 7, key)
	if err != nil {
		f.Fatal(err)
	}
	token := randomBytes(32)
	tw, err := wrapForToken(token, tokenHash(token), 7, key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(w, int64(7))
	f.Add(w, int64(8))
	f.Add(tw, int64(7))
	f.Add(wrapPrefix+"AAAA", int64(7))
	f.Add(tokenPrefix, int64(7))
	f.Fuzz(func(t *testing.T, stored string, id int64) {
		if got, err := unwrapWith(k, id, stored); err == nil && (id != 7 || got.Check() != key.Check()) {
			t.Fatalf("wrapped key opened for account %d to %s", id, got.Check())
		}
		if got, err := unwrapForToken(token, tokenHash(token), id, stored); err == nil && (id != 7 || got.Check() != key.Check()) {
			t.Fatalf("token-wrapped key opened for account %d to %s", id, got.Check())
		}
		if _, err := decodeToken(stored); err == nil && len(stored) != 43 {
			t.Fatalf("token of %d characters accepted", len(stored))
		}
	})
}
