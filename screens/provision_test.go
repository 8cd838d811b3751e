package screens

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/device/vcard/sim"
	"jpkipilot/pki"
	"jpkipilot/pki/jpki"
	"jpkipilot/pki/scp03"
	"jpkipilot/trial"
	"jpkipilot/trial/provision"
	"jpkipilot/trial/store/storetest"
)

const (
	provPassphrase = "counter terminal passphrase"
	provCardPIN    = "1234" // the monitor's My Number card auth PIN
	provPhonePIN   = "5678" // what the monitor chooses on the PIN pad
)

var provSIMKeys = trial.SIMKeys{KVN: 0x30,
	ENC: bytes.Repeat([]byte{0x40}, 16), MAC: bytes.Repeat([]byte{0x41}, 16), DEK: bytes.Repeat([]byte{0x42}, 16)}

var (
	provKeysOnce sync.Once
	provKey      *rsa.PrivateKey
)

// provAppletKey is made once per test binary: RSA-2048 generation is not
// what these tests are about.
func provAppletKey() *rsa.PrivateKey {
	provKeysOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		provKey = k
	})
	return provKey
}

// namedReaders is a ReaderSource of in-process virtual readers by name.
type namedReaders map[string]*vcard.VirtualReader

func (n namedReaders) Readers(context.Context) ([]ReaderInfo, error) {
	var out []ReaderInfo
	for _, name := range []string{"Card reader", "Phone reader"} {
		if r, ok := n[name]; ok {
			out = append(out, ReaderInfo{Name: name, Virtual: true, CardPresent: r.Present()})
		}
	}
	return out, nil
}

func (n namedReaders) Open(_ context.Context, name string) (device.Transport, func(), error) {
	r, ok := n[name]
	if !ok || !r.Present() {
		return nil, nil, device.ErrNoCard
	}
	return r, func() {}, nil
}

func (n namedReaders) Signal(context.Context, string, bool) error { return ErrNoReaderFeedback }
func (n namedReaders) OnChange(func())                            {}

// provDesk is the counter on a real SQLite store: the trial CA, a monitor
// with an open loan of an Android phone and a SIM, the monitor's My Number
// card (issued by the trial CA, so it can be validated) on one reader and
// the SIM applet on the other.
type provDesk struct {
	desk    *provision.Desk
	loan    trial.Loan
	readers namedReaders
}

func newProvDesk(t *testing.T, appletKeys trial.SIMKeys) *provDesk {
	t.Helper()
	pki.DefaultKDF = pki.KDFParams{Time: 1, Memory: 1024, Threads: 1}
	ctx := context.Background()
	db := storetest.SQLite(t)
	svc := trial.New(db)
	svc.Now = func() time.Time { return testClock }
	d := provision.NewDesk(db)
	d.Now = func() time.Time { return testClock }
	d.Loans.Now = func() time.Time { return testClock }
	tr, err := svc.CreateTrial(ctx, trial.Trial{Name: "貸出実証", Kind: trial.KindLoan})
	if err != nil {
		t.Fatal(err)
	}
	m, err := svc.Enrol(ctx, trial.Monitor{TrialID: tr.ID, Name: "山田 太郎", Kana: "ヤマダ タロウ", Contact: "090-0000-0001"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Loans.AddDevice(ctx, trial.Device{Kind: trial.KindPhone, Serial: "352099001761481", Carrier: trial.CarrierDocomo, OS: trial.OSAndroid, Model: "Xperia"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Loans.AddDevice(ctx, trial.Device{Kind: trial.KindSIM, Serial: "8981101000000000019", Carrier: trial.CarrierDocomo, AppletState: trial.AppletBlank}, &provSIMKeys); err != nil {
		t.Fatal(err)
	}
	p := &provDesk{desk: d}
	if p.loan, err = d.Loans.Checkout(ctx, trial.Checkout{MonitorID: m.ID, Phone: "352099001761481", SIM: "8981101000000000019", Charger: true, Staff: "田中"}); err != nil {
		t.Fatal(err)
	}
	ca, err := pki.Init(ctx, db, []byte(provPassphrase), pki.InitOptions{Now: d.Now})
	if err != nil {
		t.Fatal(err)
	}
	ca.Now = d.Now // one clock for the CA, the cards and the desk: goldens are stable
	if _, err := ca.PublishCRL(ctx, pki.RoleAuth, 0); err != nil {
		t.Fatal(err)
	}
	auth, authKey, err := ca.IssueWithNewKey(ctx, pki.IssueRequest{Kind: pki.RoleAuth, Holder: "CARD-" + m.ID})
	if err != nil {
		t.Fatal(err)
	}
	sign, signKey, err := ca.IssueWithNewKey(ctx, pki.IssueRequest{Kind: pki.RoleSign, Holder: m.ID, Name: "山田 太郎"})
	if err != nil {
		t.Fatal(err)
	}
	card, err := vcard.New(vcard.Config{Profile: vcard.MyNumber,
		AuthKey: authKey, AuthCert: auth.Cert.Raw, AuthCACert: ca.Certificate(pki.RoleAuth).Raw, AuthPIN: provCardPIN,
		SignKey: signKey, SignCert: sign.Cert.Raw, SignCACert: ca.Certificate(pki.RoleSign).Raw, SignPIN: "ABCDEF1234"})
	if err != nil {
		t.Fatal(err)
	}
	p.readers = namedReaders{"Card reader": {}, "Phone reader": {}}
	p.readers["Card reader"].Insert(card)
	p.readers["Phone reader"].Insert(newProvApplet(t, appletKeys))
	return p
}

func newProvApplet(t *testing.T, k trial.SIMKeys) *sim.Applet {
	t.Helper()
	a, err := sim.New(sim.Config{Keys: scp03.Keys{KVN: byte(k.KVN), ENC: k.ENC, MAC: k.MAC, DEK: k.DEK},
		GenerateKey: func() (*rsa.PrivateKey, error) { return provAppletKey(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// screen puts the provisioning page into a test window; the monitor types
// the PINs into the pads it shows (the card's PIN for proofing, the new
// phone PIN twice and once more for the read-back).
func (p *provDesk) screen(t *testing.T) (*provisionScreen, *[]string) {
	t.Helper()
	w := newWindow(t)
	s := newProvisionScreen(w, ProvisionDeps{Desk: p.desk, Readers: p.readers, Staff: "田中"})
	var asked []string
	s.padShown = func(pad *pinPad) {
		asked = append(asked, pad.req.Purpose)
		pin := provPhonePIN
		if pad.req.Purpose == "本人確認のため、マイナンバーカードの利用者証明用暗証番号を入力してください" {
			pin = provCardPIN
		}
		for _, d := range pin { // the keypad, as the monitor taps it
			test.Tap(findButton(t, w.Canvas(), string(d)))
		}
		pad.submit()
	}
	show(w, s.content)
	return s, &asked
}

func (s *provisionScreen) pick(t *testing.T) {
	t.Helper()
	// What picking the loan does, with the select's own redraw finished
	// before the status loads: the test driver runs fyne.Do on the worker,
	// so the two would otherwise draw at once (the app draws on one goroutine).
	on := s.loanSel.OnChanged
	s.loanSel.OnChanged = nil
	s.loanSel.SetSelectedIndex(0)
	s.loanSel.OnChanged = on
	on(s.loanSel.Selected)
	waitIdle()
	s.cardReader.SetSelected("Card reader")
	s.phoneRdr.SetSelected("Phone reader")
	s.pass.SetText(provPassphrase)
}

func rowText(s *provisionScreen, st provision.Step) string { return s.rows[st].Text }

func TestProvisionFullRunThroughTheScreen(t *testing.T) {
	p := newProvDesk(t, provSIMKeys)
	s, asked := p.screen(t)
	s.pick(t)
	if got := s.status.Text; got != "この貸出の端末設定はまだ行われていません。" {
		t.Errorf("status of a new loan %q", got)
	}
	test.Tap(s.start)
	waitIdle()

	if len(*asked) != 4 {
		t.Errorf("PIN pads shown %q, want card PIN, new PIN twice, read-back", *asked)
	}
	for _, st := range provisionSteps {
		if !strings.HasPrefix(rowText(s, st), "✔") {
			t.Errorf("step %s row %q, want done", st, rowText(s, st))
		}
	}
	if s.failBox.Visible() {
		t.Error("failure box shown after a successful run")
	}
	if !strings.Contains(s.guide.Text, "離してかまいません") {
		t.Errorf("guidance after the run %q, want the monitor told to remove the phone", s.guide.Text)
	}
	rec, _, err := p.desk.ForLoan(context.Background(), p.loan.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != provision.StatusProvisioned || rec.CertSerial == "" {
		t.Fatalf("record %+v, want provisioned with a certificate", rec)
	}
	if !strings.Contains(s.status.Text, "設定済み") || !strings.Contains(s.status.Text, rec.CertSerial) {
		t.Errorf("status line %q, want provisioned with serial %s", s.status.Text, rec.CertSerial)
	}
	// The phone answers as a JPKI phone token with the PIN chosen on the pad.
	phone := &device.Card{T: p.readers["Phone reader"]}
	cert, err := jpki.New(phone).ReadCertificate(context.Background(), jpki.CertAuth,
		func(context.Context, jpki.PINRequest) (string, error) { return provPhonePIN, nil })
	if err != nil {
		t.Fatal(err)
	}
	if pki.SerialHex(cert.SerialNumber) != rec.CertSerial {
		t.Errorf("phone holds certificate %s, record says %s", pki.SerialHex(cert.SerialNumber), rec.CertSerial)
	}

	// Return: revoke, CRL, wipe; the loan closes.
	test.Tap(s.returnBtn)
	waitIdle()
	l, err := p.desk.Loans.GetLoan(context.Background(), p.loan.ID)
	if err != nil {
		t.Fatal(err)
	}
	if l.Open() {
		t.Errorf("loan still open after return: %q", s.returnText.Text)
	}
}

func TestProvisionWrongKeysFailsThenResumes(t *testing.T) {
	wrong := provSIMKeys
	wrong.MAC = bytes.Repeat([]byte{0x99}, 16)
	p := newProvDesk(t, wrong)
	s, _ := p.screen(t)
	test.AssertRendersToMarkup(t, "provision_idle.xml", s.w.Canvas())
	s.pick(t)
	test.Tap(s.start)
	waitIdle()

	if !strings.HasPrefix(rowText(s, provision.StepProofed), "✔") {
		t.Errorf("proofing row %q, want done", rowText(s, provision.StepProofed))
	}
	if !strings.HasPrefix(rowText(s, provision.StepChannel), "✖") {
		t.Errorf("channel row %q, want failed", rowText(s, provision.StepChannel))
	}
	if !s.failBox.Visible() || !s.resume.Visible() || !s.rollback.Visible() {
		t.Fatal("failure box with Resume and Roll back not shown")
	}
	if !strings.Contains(s.failText.Text, lang.L("applet.blank")) && !strings.Contains(s.failText.Text, lang.L("applet.unknown")) {
		t.Errorf("failure text %q names no applet state in the UI language", s.failText.Text)
	}
	test.AssertRendersToMarkup(t, "provision_failed.xml", s.w.Canvas())
	rec, _, err := p.desk.ForLoan(context.Background(), p.loan.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != provision.StatusFailed || rec.Step != provision.StepProofed {
		t.Fatalf("record %+v, want failed after proofing", rec)
	}

	// The right SIM is put in; Resume continues without proofing again.
	p.readers["Phone reader"].Insert(newProvApplet(t, provSIMKeys))
	test.Tap(s.resume)
	waitIdle()
	if rec, _, err = p.desk.ForLoan(context.Background(), p.loan.ID); err != nil {
		t.Fatal(err)
	}
	if rec.Status != provision.StatusProvisioned {
		t.Fatalf("after Resume the record is %+v, guidance %q", rec, s.guide.Text)
	}
	if s.failBox.Visible() {
		t.Error("failure box still shown after a successful resume")
	}
}

func TestProvisionRollBackAfterFailure(t *testing.T) {
	p := newProvDesk(t, provSIMKeys)
	s, _ := p.screen(t)
	s.pick(t)
	// The phone is taken off the reader right after the channel opens.
	p.readers["Phone reader"].RemoveAfter(4)
	test.Tap(s.start)
	waitIdle()
	if !s.failBox.Visible() {
		t.Fatalf("no failure shown; guidance %q", s.guide.Text)
	}
	p.readers["Phone reader"].Insert(newProvApplet(t, provSIMKeys))
	test.Tap(s.rollback)
	waitIdle()
	rec, _, err := p.desk.ForLoan(context.Background(), p.loan.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != provision.StatusRolledBack {
		t.Fatalf("record %+v after Roll back; guidance %q", rec, s.guide.Text)
	}
	if s.failBox.Visible() || !strings.HasPrefix(rowText(s, provision.StepProofed), "○") {
		t.Errorf("after rollback the checklist starts over: %q", rowText(s, provision.StepProofed))
	}
}

func TestProvisionErrorTextNamesTheCause(t *testing.T) {
	if err := LoadTranslations("ja"); err != nil {
		t.Fatal(err)
	}
	got := provisionErrorText(errors.Join(errors.New("L-000001"), provision.ErrAlreadyProvisioned))
	if !strings.Contains(got, "設定済み") {
		t.Errorf("%q", got)
	}
}

func TestProvisionIOSIssuesForACSR(t *testing.T) {
	p := newProvDesk(t, provSIMKeys)
	s, asked := p.screen(t)
	s.pick(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "iPhone"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})

	var saved []byte
	save := func(_ string, b []byte) { saved = b }
	// A request whose signature does not verify is refused before the card is asked for.
	bad := bytes.Clone(der)
	bad[len(bad)-1] ^= 1
	_, conn, pass, _ := s.inputs()
	s.issueIOS(p.loan.MonitorID, bad, pass, conn, save)
	waitIdle()
	if saved != nil || len(*asked) != 0 || !strings.Contains(s.iosText.Text, "proof of possession") {
		t.Fatalf("tampered CSR: saved %v, PIN asked %q, text %q", saved != nil, *asked, s.iosText.Text)
	}

	_, conn, pass, _ = s.inputs()
	s.issueIOS(p.loan.MonitorID, csr, pass, conn, save)
	waitIdle()
	if len(*asked) != 1 {
		t.Errorf("PIN pads %q, want the card's PIN once for proofing", *asked)
	}
	blk, _ := pem.Decode(saved)
	if blk == nil {
		t.Fatalf("nothing saved; text %q", s.iosText.Text)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		t.Error("the certificate is not for the CSR's key")
	}
	if !strings.Contains(s.iosText.Text, pki.SerialHex(cert.SerialNumber)) {
		t.Errorf("text %q does not name serial %s", s.iosText.Text, pki.SerialHex(cert.SerialNumber))
	}
}

func TestProvisionOneReaderTellsWhenToSwap(t *testing.T) {
	p := newProvDesk(t, provSIMKeys)
	applet := p.readers["Phone reader"]
	delete(p.readers, "Phone reader") // one reader for the card and the phone
	s, _ := p.screen(t)
	s.pick(t)
	s.phoneRdr.SetSelected("Card reader")
	var guidance string
	s.swapShown = func() {
		guidance = s.guide.Text
		if !s.held.Visible() {
			t.Error("no button to confirm the phone is on the reader")
		}
		// The monitor takes the card off and holds the phone; staff confirm.
		p.readers["Card reader"].Remove()
		p.readers["Card reader"] = applet
		test.Tap(s.held)
	}
	test.Tap(s.start)
	waitIdle()
	if !strings.Contains(guidance, "マイナンバーカードをリーダー「Card reader」から離し") {
		t.Errorf("swap guidance %q", guidance)
	}
	if s.held.Visible() {
		t.Error("confirm button still shown after the run")
	}
	rec, _, err := p.desk.ForLoan(context.Background(), p.loan.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != provision.StatusProvisioned {
		t.Fatalf("record %+v; guidance %q", rec, s.guide.Text)
	}
}

func TestProvisionReturnNeedsAReasonWhenThePhoneIsMissing(t *testing.T) {
	p := newProvDesk(t, provSIMKeys)
	s, _ := p.screen(t)
	s.pick(t)
	test.Tap(s.start)
	waitIdle()
	p.readers["Phone reader"].Remove() // the phone did not come back
	test.Tap(s.returnBtn)
	waitIdle()
	ctx := context.Background()
	l, err := p.desk.Loans.GetLoan(ctx, p.loan.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !l.Open() || !strings.Contains(s.returnText.Text, "applet not wiped") {
		t.Fatalf("loan open %v, text %q: want it kept open with the problem named", l.Open(), s.returnText.Text)
	}
	s.reason.SetText("端末紛失（警察に届出済み）")
	test.Tap(s.returnBtn)
	waitIdle()
	if l, err = p.desk.Loans.GetLoan(ctx, p.loan.ID); err != nil {
		t.Fatal(err)
	}
	if l.Open() || !strings.Contains(l.Notes, "端末紛失（警察に届出済み）") {
		t.Errorf("loan open %v, notes %q: want it closed with the reason recorded", l.Open(), l.Notes)
	}
}

func TestProvisionStopWhileWaitingForThePhone(t *testing.T) {
	p := newProvDesk(t, provSIMKeys)
	s, _ := p.screen(t)
	s.pick(t)
	s.phoneRdr.SetSelected("Card reader")
	s.swapShown = func() {
		if !s.stop.Visible() {
			t.Error("no Stop button while the flow waits")
		}
		test.Tap(s.stop)
	}
	test.Tap(s.start)
	waitIdle()
	rec, _, err := p.desk.ForLoan(context.Background(), p.loan.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != provision.StatusFailed || rec.Step != provision.StepProofed {
		t.Fatalf("record %+v, want failed after proofing", rec)
	}
	if !s.failBox.Visible() || s.stop.Visible() || s.held.Visible() || s.start.Disabled() {
		t.Errorf("after Stop: failure shown %v, Stop shown %v, confirm shown %v, Start disabled %v",
			s.failBox.Visible(), s.stop.Visible(), s.held.Visible(), s.start.Disabled())
	}
	if !strings.Contains(s.guide.Text, "中止しました") {
		t.Errorf("guidance %q", s.guide.Text)
	}
}
