package provision_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"sync"
	"testing"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/device/vcard/sim"
	"jpkipilot/pki"
	"jpkipilot/pki/jpki"
	"jpkipilot/pki/scp03"
	"jpkipilot/trial"
	"jpkipilot/trial/provision"
	"jpkipilot/trial/store"
)

const (
	passphrase = "counter terminal passphrase"
	cardPIN    = "1234" // the monitor's My Number card auth PIN
	phonePIN   = "5678" // the PIN the monitor chooses on the PIN pad
	phoneIMEI  = "352099001761481"
	simICCID   = "8981101000000000019"
)

var (
	keysOnce sync.Once
	keyPool  []*rsa.PrivateKey
)

// appletKeys are made once per test binary: RSA-2048 generation is the slow
// part of a provisioning and not what the tests are about. The applet
// takes them in turn, so a regenerated key differs from the previous one.
func appletKeys(tb testing.TB) []*rsa.PrivateKey {
	tb.Helper()
	keysOnce.Do(func() {
		for range 3 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keyPool = append(keyPool, k)
		}
	})
	return keyPool
}

var simKeys = trial.SIMKeys{KVN: 0x30,
	ENC: bytes.Repeat([]byte{0x40}, 16), MAC: bytes.Repeat([]byte{0x41}, 16), DEK: bytes.Repeat([]byte{0x42}, 16)}

func scpKeys(k trial.SIMKeys) scp03.Keys {
	return scp03.Keys{KVN: byte(k.KVN), ENC: k.ENC, MAC: k.MAC, DEK: k.DEK}
}

// counter is one laptop's setup: a store with the trial CA, a monitor with
// an open loan of an Android phone and a SIM, the monitor's My Number card
// (issued by the trial CA, so its revocation is checkable) in one reader
// and the SIM applet in another.
type counter struct {
	t       testing.TB
	db      *store.DB
	desk    *provision.Desk
	ca      *pki.CA
	monitor string
	loan    trial.Loan
	cardR   *vcard.VirtualReader
	phoneR  *vcard.VirtualReader
	applet  *sim.Applet
	cardCfg vcard.Config
}

func newCounter(t testing.TB, db *store.DB) *counter {
	t.Helper()
	pki.DefaultKDF = pki.KDFParams{Time: 1, Memory: 1024, Threads: 1}
	ctx := context.Background()
	c := &counter{t: t, db: db, desk: provision.NewDesk(db)}
	svc := trial.New(db)
	tr, err := svc.CreateTrial(ctx, trial.Trial{Name: "貸出実証", Kind: trial.KindLoan})
	if err != nil {
		t.Fatal(err)
	}
	m, err := svc.Enrol(ctx, trial.Monitor{TrialID: tr.ID, Name: "山田 太郎", Kana: "ヤマダ タロウ", Contact: "090-0000-0001"})
	if err != nil {
		t.Fatal(err)
	}
	c.monitor = m.ID
	l := c.desk.Loans
	if _, err := l.AddDevice(ctx, trial.Device{Kind: trial.KindPhone, Serial: phoneIMEI, Carrier: trial.CarrierDocomo, OS: trial.OSAndroid, Model: "Xperia"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AddDevice(ctx, trial.Device{Kind: trial.KindSIM, Serial: simICCID, Carrier: trial.CarrierDocomo, AppletState: trial.AppletBlank}, &simKeys); err != nil {
		t.Fatal(err)
	}
	if c.loan, err = l.Checkout(ctx, trial.Checkout{MonitorID: m.ID, Phone: phoneIMEI, SIM: simICCID, Charger: true, Staff: "田中"}); err != nil {
		t.Fatal(err)
	}
	if c.ca, err = pki.Init(ctx, db, []byte(passphrase), pki.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ca.PublishCRL(ctx, pki.RoleAuth, 0); err != nil {
		t.Fatal(err)
	}
	c.cardCfg = c.myNumberCard()
	card, err := vcard.New(c.cardCfg)
	if err != nil {
		t.Fatal(err)
	}
	c.cardR = &vcard.VirtualReader{}
	c.cardR.Insert(card)
	c.applet = c.newApplet(scpKeys(simKeys))
	c.phoneR = &vcard.VirtualReader{}
	c.phoneR.Insert(c.applet)
	return c
}

// myNumberCard is a My Number card whose certificates the trial CA issued.
func (c *counter) myNumberCard() vcard.Config {
	ctx := context.Background()
	auth, authKey, err := c.ca.IssueWithNewKey(ctx, pki.IssueRequest{Kind: pki.RoleAuth, Holder: "CARD-" + c.monitor})
	if err != nil {
		c.t.Fatal(err)
	}
	sign, signKey, err := c.ca.IssueWithNewKey(ctx, pki.IssueRequest{Kind: pki.RoleSign, Holder: c.monitor, Name: "山田 太郎"})
	if err != nil {
		c.t.Fatal(err)
	}
	return vcard.Config{Profile: vcard.MyNumber,
		AuthKey: authKey, AuthCert: auth.Cert.Raw, AuthCACert: c.ca.Certificate(pki.RoleAuth).Raw, AuthPIN: cardPIN,
		SignKey: signKey, SignCert: sign.Cert.Raw, SignCACert: c.ca.Certificate(pki.RoleSign).Raw, SignPIN: "ABCDEF1234"}
}

func (c *counter) newApplet(keys scp03.Keys) *sim.Applet {
	pool := appletKeys(c.t)
	n := 0
	a, err := sim.New(sim.Config{Keys: keys, GenerateKey: func() (*rsa.PrivateKey, error) {
		k := pool[n%len(pool)]
		n++
		return k, nil
	}})
	if err != nil {
		c.t.Fatal(err)
	}
	return a
}

func (c *counter) connect(_ context.Context, what provision.Hold) (*device.Card, error) {
	switch what {
	case provision.HoldMyNumberCard:
		return &device.Card{T: c.cardR}, nil
	case provision.HoldPhone:
		return &device.Card{T: c.phoneR}, nil
	}
	return nil, errors.New("nothing to hold")
}

func pinOf(pin string) jpki.PINFunc {
	return func(context.Context, jpki.PINRequest) (string, error) { return pin, nil }
}

func (c *counter) request() provision.AndroidRequest {
	return provision.AndroidRequest{
		LoanID: c.loan.ID, Staff: "田中", Passphrase: []byte(passphrase), Connect: c.connect,
		CardPIN: pinOf(cardPIN), PhonePIN: pinOf(phonePIN),
		NewPIN: func(context.Context) (string, error) { return phonePIN, nil },
	}
}

// issuedTo lists the certificates the trial CA issued to the monitor.
func (c *counter) issuedTo() []*pki.Issued {
	c.t.Helper()
	all, err := c.ca.List(context.Background())
	if err != nil {
		c.t.Fatal(err)
	}
	var out []*pki.Issued
	for _, i := range all {
		if i.Holder == c.monitor && i.Kind == pki.RoleAuth {
			out = append(out, i)
		}
	}
	return out
}

func (c *counter) record() (*provision.Record, []provision.Event) {
	c.t.Helper()
	r, evs, err := c.desk.ForLoan(context.Background(), c.loan.ID)
	if err != nil {
		c.t.Fatal(err)
	}
	return r, evs
}

func (c *counter) simState() trial.AppletState {
	c.t.Helper()
	d, err := c.desk.Loans.GetDevice(context.Background(), simICCID)
	if err != nil {
		c.t.Fatal(err)
	}
	return d.AppletState
}

func trialReturn() trial.Return { return trial.Return{Staff: "佐藤", Notes: "good condition"} }
