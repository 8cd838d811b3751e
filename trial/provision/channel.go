package provision

import (
	"context"
	"crypto/rsa"
	"fmt"

	"jpkipilot/device"
	"jpkipilot/device/vcard/sim"
	"jpkipilot/pki/scp03"
	"jpkipilot/trial"
)

// channel is an open SCP03 session to the SIM applet over one card.
type channel struct {
	card *device.Card
	s    *scp03.Session
}

func scpKeys(k trial.SIMKeys) scp03.Keys {
	return scp03.Keys{KVN: byte(k.KVN), ENC: k.ENC, MAC: k.MAC, DEK: k.DEK}
}

// openChannel selects the applet and runs INITIALIZE UPDATE and EXTERNAL
// AUTHENTICATE. Wrong keys give an error matching scp03.ErrAuth.
func (d *Desk) openChannel(ctx context.Context, card *device.Card, keys trial.SIMKeys) (*channel, error) {
	if _, err := card.Do(ctx, sim.SelectAID()); err != nil {
		return nil, fmt.Errorf("SELECT JPKI applet: %w", err)
	}
	s, err := scp03.NewSession(scpKeys(keys), d.level(), d.random())
	if err != nil {
		return nil, err
	}
	resp, err := sendRaw(ctx, card, s.InitializeUpdate(), false)
	if err != nil {
		return nil, fmt.Errorf("INITIALIZE UPDATE: %w", err)
	}
	ea, err := s.ExternalAuthenticate(resp)
	if err != nil {
		return nil, err
	}
	resp, err = sendRaw(ctx, card, ea, false)
	if err != nil {
		return nil, fmt.Errorf("EXTERNAL AUTHENTICATE: %w", err)
	}
	if err := s.Authenticated(resp); err != nil {
		return nil, err
	}
	return &channel{card: card, s: s}, nil
}

func sendRaw(ctx context.Context, card *device.Card, raw []byte, secret bool) ([]byte, error) {
	cmd, err := device.ParseCommand(raw)
	if err != nil {
		return nil, err
	}
	cmd.Secret = secret
	resp, err := card.Send(ctx, cmd)
	if err != nil {
		return nil, err
	}
	return resp.Bytes(), nil
}

// do wraps, sends and unwraps one command; a status word other than 9000
// is returned as its device error.
func (ch *channel) do(ctx context.Context, cmd device.Command) ([]byte, error) {
	raw, err := cmd.Bytes()
	if err != nil {
		return nil, err
	}
	w, err := ch.s.Wrap(raw)
	if err != nil {
		return nil, err
	}
	resp, err := sendRaw(ctx, ch.card, w, cmd.Secret)
	if err != nil {
		return nil, err
	}
	plain, err := ch.s.Unwrap(resp)
	if err != nil {
		return nil, err
	}
	r, err := device.ParseResponse(plain)
	if err != nil {
		return nil, err
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return r.Data, nil
}

func (ch *channel) status(ctx context.Context) (sim.Status, error) {
	b, err := ch.do(ctx, sim.GetStatus())
	if err != nil {
		return sim.Status{}, fmt.Errorf("GET STATUS: %w", err)
	}
	return sim.ParseStatus(b)
}

// publicKey generates the key pair (generate) or reads the one there, block
// by block.
func (ch *channel) publicKey(ctx context.Context, generate bool) (*rsa.PublicKey, error) {
	first := sim.ReadPublicKey(0)
	what := "read public key"
	if generate {
		first, what = sim.GenerateKeyPair(), "GENERATE KEY PAIR"
	}
	b, err := ch.do(ctx, first)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	total, err := sim.PublicKeyLength(b)
	if err != nil {
		return nil, err
	}
	if total > 4*sim.PublicBlockSize {
		// An RSA-2048 template is 270 bytes; do not follow a card that
		// announces kilobytes.
		return nil, fmt.Errorf("%s: the card announces a %d-byte public key", what, total)
	}
	for n := 1; len(b) < total; n++ {
		if len(b) != n*sim.PublicBlockSize || n > total/sim.PublicBlockSize+1 {
			return nil, fmt.Errorf("%s: public key block %d ended short", what, n-1)
		}
		more, err := ch.do(ctx, sim.ReadPublicKey(n))
		if err != nil {
			return nil, fmt.Errorf("%s: block %d: %w", what, n, err)
		}
		b = append(b, more...)
	}
	return sim.ParsePublicKey(b)
}

func (ch *channel) store(ctx context.Context, dgi uint16, data []byte) error {
	cmds, err := sim.StoreData(dgi, data)
	if err != nil {
		return err
	}
	for i, c := range cmds {
		if _, err := ch.do(ctx, c); err != nil {
			return fmt.Errorf("STORE DATA DGI %04X block %d of %d: %w", dgi, i+1, len(cmds), err)
		}
	}
	return nil
}
