package scp03

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
)

// cmac is AES-CMAC (RFC 4493, NIST SP 800-38B) with a fixed key: the two
// subkeys are computed once.
type cmac struct {
	b      cipher.Block
	k1, k2 [aes.BlockSize]byte
}

func newCMAC(key []byte) (*cmac, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	m := &cmac{b: b}
	var l [aes.BlockSize]byte
	b.Encrypt(l[:], l[:])
	m.k1 = dbl(l)
	m.k2 = dbl(m.k1)
	return m, nil
}

// dbl multiplies by x in GF(2^128) with the polynomial x^128+x^7+x^2+x+1:
// a left shift by one bit, and Rb = 0x87 folded in when the top bit fell out.
func dbl(in [aes.BlockSize]byte) [aes.BlockSize]byte {
	var out [aes.BlockSize]byte
	var carry byte
	for i := aes.BlockSize - 1; i >= 0; i-- {
		out[i] = in[i]<<1 | carry
		carry = in[i] >> 7
	}
	// Constant time: the mask is 0x00 or 0xFF depending on the carried bit.
	out[aes.BlockSize-1] ^= 0x87 & -carry
	return out
}

// Sum returns the 16-byte MAC of the concatenation of parts.
func (m *cmac) Sum(parts ...[]byte) [aes.BlockSize]byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	msg := make([]byte, 0, n)
	for _, p := range parts {
		msg = append(msg, p...)
	}
	var x [aes.BlockSize]byte
	// Every block but the last goes through plain CBC.
	full := len(msg) / aes.BlockSize
	complete := len(msg) > 0 && len(msg)%aes.BlockSize == 0
	if complete {
		full--
	}
	for i := 0; i < full; i++ {
		subtle.XORBytes(x[:], x[:], msg[i*aes.BlockSize:(i+1)*aes.BlockSize])
		m.b.Encrypt(x[:], x[:])
	}
	var last [aes.BlockSize]byte
	rest := msg[full*aes.BlockSize:]
	copy(last[:], rest)
	if complete {
		subtle.XORBytes(last[:], last[:], m.k1[:])
	} else {
		last[len(rest)] = 0x80
		subtle.XORBytes(last[:], last[:], m.k2[:])
	}
	subtle.XORBytes(x[:], x[:], last[:])
	m.b.Encrypt(x[:], x[:])
	return x
}

// CMAC returns AES-CMAC(key, msg) as RFC 4493 defines it; key is 16, 24 or
// 32 bytes.
func CMAC(key, msg []byte) ([]byte, error) {
	m, err := newCMAC(key)
	if err != nil {
		return nil, err
	}
	s := m.Sum(msg)
	return s[:], nil
}
