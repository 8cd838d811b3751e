package scp03

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"fmt"

	"jpkipilot/device"
)

// channel is the state both sides keep once EXTERNAL AUTHENTICATE went
// through: session keys, the MAC chaining value and the encryption counter.
type channel struct {
	level byte
	keys  sessionKeys
	cmac  *cmac // S-MAC
	rmac  *cmac // S-RMAC
	enc   cipher.Block
	chain [aes.BlockSize]byte
	// counter is the encryption counter: incremented for every command of
	// the session (with or without data), as Amendment D §6.2.6 says.
	counter uint64
}

func newChannel(keys sessionKeys) (*channel, error) {
	c := &channel{keys: keys}
	var err error
	if c.cmac, err = newCMAC(keys.mac); err != nil {
		return nil, err
	}
	if c.rmac, err = newCMAC(keys.rmac); err != nil {
		return nil, err
	}
	if c.enc, err = aes.NewCipher(keys.enc); err != nil {
		return nil, err
	}
	return c, nil
}

// icv is the CBC initial vector of the counter'th command: the counter as
// a 16-byte big-endian block, encrypted with S-ENC.
func (c *channel) icv() []byte {
	var b [aes.BlockSize]byte
	binary.BigEndian.PutUint64(b[8:], c.counter)
	c.enc.Encrypt(b[:], b[:])
	return b[:]
}

// pad is ISO/IEC 9797-1 padding method 2: 0x80, then zeros to a block.
func pad(data []byte) []byte {
	n := (len(data)/aes.BlockSize + 1) * aes.BlockSize
	out := make([]byte, n)
	copy(out, data)
	out[len(data)] = 0x80
	return out
}

// unpad removes method-2 padding; the card side calls it on decrypted data.
func unpad(data []byte) ([]byte, bool) {
	for i := len(data) - 1; i >= 0 && i >= len(data)-aes.BlockSize; i-- {
		switch data[i] {
		case 0x00:
			continue
		case 0x80:
			return data[:i], true
		}
		return nil, false
	}
	return nil, false
}

// macCommand computes the C-MAC of a header (CLA with the secure-messaging
// bit, Lc counting the MAC) and its data, and moves the chaining value on.
func (c *channel) macCommand(hdr [5]byte, data []byte) []byte {
	c.chain = c.cmac.Sum(c.chain[:], hdr[:], data)
	return c.chain[:8]
}

// responseMAC is the R-MAC over the chaining value of the command just
// processed, the response data and the status word.
func (c *channel) responseMAC(data []byte, sw uint16) []byte {
	s := c.rmac.Sum(c.chain[:], data, []byte{byte(sw >> 8), byte(sw)})
	return s[:8]
}

// isError is a status word GP sends without an R-MAC: anything but 9000 and
// the warnings 62xx/63xx.
func isError(sw uint16) bool {
	return sw != device.SWOK && sw>>8 != 0x62 && sw>>8 != 0x63
}

// wrap protects a plain command: C-DECRYPTION of its data when the level
// asks for it, then the C-MAC. The counter moves on for every command.
func (c *channel) wrap(cmd device.Command) ([]byte, error) {
	if cmd.CLA&0x04 != 0 {
		return nil, fmt.Errorf("scp03: command %02X %02X is already marked as secure messaging", cmd.CLA, cmd.INS)
	}
	if cmd.CLA&0x80 == 0 && cmd.CLA&0x40 != 0 {
		return nil, fmt.Errorf("scp03: CLA %02X (further interindustry) cannot carry the secure-messaging bit here", cmd.CLA)
	}
	c.counter++
	data := cmd.Data
	if c.level&LevelCDEC != 0 && len(data) > 0 {
		p := pad(data)
		cipher.NewCBCEncrypter(c.enc, c.icv()).CryptBlocks(p, p)
		data = p
	}
	if len(data)+8 > 255 {
		return nil, fmt.Errorf("scp03: %d data bytes do not fit a short APDU once protected", len(cmd.Data))
	}
	hdr := [5]byte{cmd.CLA | 0x04, cmd.INS, cmd.P1, cmd.P2, byte(len(data) + 8)}
	mac := c.macCommand(hdr, data)
	out := make([]byte, 0, 5+len(data)+8+1)
	out = append(out, hdr[:]...)
	out = append(out, data...)
	out = append(out, mac...)
	if cmd.Le != device.NoLe {
		out = append(out, byte(cmd.Le))
	}
	return out, nil
}

// unwrap checks the C-MAC of a protected command and decrypts its data. A
// bad MAC returns ErrMAC and leaves the chaining value as it was, so the
// caller must close the session (the card does).
func (c *channel) unwrap(cmd device.Command) (device.Command, error) {
	if cmd.CLA&0x04 == 0 {
		return device.Command{}, fmt.Errorf("%w: command %02X %02X without secure messaging", ErrMAC, cmd.CLA, cmd.INS)
	}
	if len(cmd.Data) < 8 {
		return device.Command{}, fmt.Errorf("%w: no room for a C-MAC in %d data bytes", ErrMAC, len(cmd.Data))
	}
	data, mac := cmd.Data[:len(cmd.Data)-8], cmd.Data[len(cmd.Data)-8:]
	hdr := [5]byte{cmd.CLA, cmd.INS, cmd.P1, cmd.P2, byte(len(cmd.Data))}
	next := c.cmac.Sum(c.chain[:], hdr[:], data)
	if subtle.ConstantTimeCompare(next[:8], mac) != 1 {
		return device.Command{}, ErrMAC
	}
	c.chain = next
	c.counter++
	plain := device.Command{CLA: cmd.CLA &^ 0x04, INS: cmd.INS, P1: cmd.P1, P2: cmd.P2, Le: cmd.Le}
	if len(data) > 0 {
		if c.level&LevelCDEC == 0 {
			plain.Data = append([]byte(nil), data...)
		} else {
			if len(data)%aes.BlockSize != 0 {
				return device.Command{}, fmt.Errorf("scp03: encrypted data of %d bytes is not whole AES blocks", len(data))
			}
			p := make([]byte, len(data))
			cipher.NewCBCDecrypter(c.enc, c.icv()).CryptBlocks(p, data)
			d, ok := unpad(p)
			if !ok {
				return device.Command{}, fmt.Errorf("scp03: decrypted data has no valid padding")
			}
			plain.Data = d
		}
	}
	return plain, nil
}
