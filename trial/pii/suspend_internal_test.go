package pii

import "testing"

// Suspend leaves no key byte in the Key object and no cipher to use.
func TestSuspendZeroesTheKeyObject(t *testing.T) {
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if k.raw == [KeySize]byte{} {
		t.Fatal("a new key is all zero")
	}
	k.Suspend()
	if k.raw != [KeySize]byte{} || k.aead != nil {
		t.Fatalf("after Suspend: raw %x, cipher %v", k.raw, k.aead)
	}
}
