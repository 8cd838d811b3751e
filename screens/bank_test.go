package screens

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"jpkipilot/device/vcard"
	"jpkipilot/pki"
	"jpkipilot/trial"
	"jpkipilot/trial/bank"
	"jpkipilot/trial/qr"
	"jpkipilot/trial/store/storetest"
)

// bankPage is the bank page on a new store: a loan trial with one monitor,
// the bank on the test clock with a fixed random source (so the enrolment
// QR code and key in the goldens are stable).
func bankPage(t *testing.T, readers ReaderSource, now func() time.Time) (*bankScreen, *bank.Bank, string) {
	t.Helper()
	w := newWindow(t)
	db := storetest.SQLite(t)
	svc := trial.New(db)
	svc.Now = now
	ctx := context.Background()
	tr, err := svc.CreateTrial(ctx, trial.Trial{Name: "貸出実証", Kind: trial.KindLoan})
	if err != nil {
		t.Fatal(err)
	}
	m, err := svc.Enrol(ctx, trial.Monitor{TrialID: tr.ID, Name: "山田 太郎", Kana: "ヤマダ タロウ", Contact: "090-0000-0001"})
	if err != nil {
		t.Fatal(err)
	}
	b := bank.New(db)
	b.Now = now
	b.Random = bytes.NewReader(bytes.Repeat([]byte{0x5A}, 4096))
	s := newBankScreen(w, BankDeps{Bank: b, Monitors: svc, Trials: svc, Readers: readers, Now: now})
	show(w, s.content)
	s.monSel.SetSelected(m.ID)
	return s, b, m.ID
}

func TestBankTOTPLoginAndAccountPage(t *testing.T) {
	s, b, m := bankPage(t, nil, func() time.Time { return testClock })
	test.Tap(s.enrol)
	waitIdle()
	acc, err := b.Account(context.Background(), m)
	if err != nil || !acc.TOTPEnrolled {
		t.Fatalf("account %+v, %v", acc, err)
	}
	// The enrolment page: the QR code an authenticator app scans (it
	// reads back as the otpauth URI of this monitor's secret) and the key
	// to type instead.
	test.AssertRendersToMarkup(t, "bank_totp_qr.xml", s.w.Canvas())
	var shown *canvas.Image
	for _, o := range s.qrBox.Objects {
		if img, ok := o.(*canvas.Image); ok {
			shown = img
		}
	}
	if shown == nil {
		t.Fatal("no QR code on the enrolment page")
	}
	uri, err := qr.Read(shown.Resource.Content())
	if err != nil || !strings.HasPrefix(string(uri), "otpauth://totp/") || !strings.Contains(string(uri), "secret=LJNFUWS2LJNFUWS2LJNFUWS2LJNFUWS2") {
		t.Fatalf("the QR code reads %q (%v)", uri, err)
	}
	secret := bytes.Repeat([]byte{0x5A}, 20)
	code := bank.TOTPCode(secret, bank.TOTPStep(testClock))
	test.Type(s.code, code)
	test.Tap(s.codeLogin)
	waitIdle()
	if !strings.Contains(s.result.Text, "ワンタイムパスワードでログインしました") {
		t.Fatalf("result %q", s.result.Text)
	}
	test.AssertRendersToMarkup(t, "bank_account.xml", s.w.Canvas())

	// The same code again is refused, with the reason.
	test.Type(s.code, code)
	test.Tap(s.codeLogin)
	waitIdle()
	if s.result.Text != "ログインできません：このコードは使用済みです。次のコードを待ってください" {
		t.Fatalf("result %q", s.result.Text)
	}
	if len(s.account.Objects) != 0 {
		t.Fatal("the account page stays after a refused login")
	}
	test.AssertRendersToMarkup(t, "bank_refused.xml", s.w.Canvas())

	// The coordinator sets the update date; opening the page on that day
	// applies it, once.
	test.Type(s.dueOn, "2017-02-01")
	test.Tap(s.schedule)
	waitIdle()
	if s.update.Text != "2017-02-01 に更新予定：その日以降にいずれかのPCでこのページを開いたときに一度だけ適用します。" {
		t.Fatalf("update %q", s.update.Text)
	}
	b.Now = func() time.Time { return time.Date(2017, 2, 1, 9, 0, 0, 0, time.UTC) }
	s.reload()
	waitIdle()
	if s.update.Text != "2017-02-01 予定の更新を 2017-02-01 09:00 に 1 口座へ適用しました。" {
		t.Fatalf("update %q", s.update.Text)
	}
}

// The card path through the page: register, a wrong PIN with the tries
// left, then a login; the PIN is typed on the pad.
func TestBankCardRegisterAndLogin(t *testing.T) {
	pki.DefaultKDF = pki.KDFParams{Time: 1, Memory: 1024, Threads: 1}
	reader := &vcard.VirtualReader{}
	s, b, _ := bankPage(t, namedReaders{"Card reader": reader}, time.Now)
	ctx := context.Background()
	ca, err := pki.Init(ctx, b.DB, []byte("correct horse"), pki.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.PublishCRL(ctx, pki.RoleAuth, 0); err != nil {
		t.Fatal(err)
	}
	auth, key, err := ca.IssueWithNewKey(ctx, pki.IssueRequest{Kind: pki.RoleAuth, Holder: "CARD"})
	if err != nil {
		t.Fatal(err)
	}
	card, err := vcard.New(vcard.Config{Profile: vcard.Phone, AuthKey: key, AuthCert: auth.Cert.Raw,
		AuthCACert: ca.Certificate(pki.RoleAuth).Raw, AuthPIN: "1234"})
	if err != nil {
		t.Fatal(err)
	}
	reader.Insert(card)
	pin := "1234"
	s.padShown = func(pad *pinPad) {
		for _, d := range pin {
			test.Tap(findButton(t, s.w.Canvas(), string(d)))
		}
		pad.submit()
	}
	if s.readerSel.Selected != "Card reader" {
		t.Fatalf("reader %q", s.readerSel.Selected)
	}
	test.Tap(s.register)
	waitIdle()
	if s.result.Text != "登録しました：スマートフォンをデモ銀行口座に紐付けました。" {
		t.Fatalf("register: %q", s.result.Text)
	}
	pin = "0000"
	test.Tap(s.login)
	waitIdle()
	if s.result.Text != "ログインできません：暗証番号が違います（残り 2 回）" {
		t.Fatalf("wrong PIN: %q", s.result.Text)
	}
	pin = "1234"
	test.Tap(s.login)
	waitIdle()
	if !strings.Contains(s.result.Text, "スマートフォンでログインしました") || len(s.account.Objects) == 0 {
		t.Fatalf("login: %q", s.result.Text)
	}
	sum, err := b.Summary(ctx, 0)
	if err != nil || sum[1].Attempts != 2 || sum[1].Successes != 1 {
		t.Fatalf("summary %+v, %v", sum, err)
	}
}

// The card login flow as staff and the monitor see it, one golden per
// state: the PIN pad over the page while the card is read, registered, a
// wrong PIN with the tries left, and the account page after the login.
func TestBankCardFlowStates(t *testing.T) {
	pki.DefaultKDF = pki.KDFParams{Time: 1, Memory: 1024, Threads: 1}
	reader := &vcard.VirtualReader{}
	clock := func() time.Time { return testClock }
	s, b, _ := bankPage(t, namedReaders{"Card reader": reader}, clock)
	ctx := context.Background()
	ca, err := pki.Init(ctx, b.DB, []byte("correct horse"), pki.InitOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ca.Now = clock
	if _, err := ca.PublishCRL(ctx, pki.RoleAuth, 0); err != nil {
		t.Fatal(err)
	}
	cfg, err := ca.IssueVirtualCard(ctx, vcard.MyNumber, "M001")
	if err != nil {
		t.Fatal(err)
	}
	card, err := vcard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	reader.Insert(card)
	pin, golden := vcard.DemoAuthPIN, "bank_card_pin.xml"
	s.padShown = func(pad *pinPad) {
		if golden != "" {
			if s.result.Text != "カードまたはスマートフォンをリーダーにかざし、利用者証明用暗証番号を入力してください。" {
				t.Errorf("while the card is read: %q", s.result.Text)
			}
			if !s.login.Disabled() || !s.register.Disabled() {
				t.Error("the buttons stay enabled while the card is read")
			}
			test.AssertRendersToMarkup(t, golden, s.w.Canvas())
			golden = ""
		}
		for _, d := range pin {
			test.Tap(findButton(t, s.w.Canvas(), string(d)))
		}
		pad.submit()
	}
	test.Tap(s.register)
	waitIdle()
	if !strings.HasPrefix(s.result.Text, "登録しました") {
		t.Fatalf("register: %q", s.result.Text)
	}
	test.AssertRendersToMarkup(t, "bank_card_registered.xml", s.w.Canvas())

	pin = "0000"
	test.Tap(s.login)
	waitIdle()
	if s.result.Text != "ログインできません：暗証番号が違います（残り 2 回）" {
		t.Fatalf("wrong PIN: %q", s.result.Text)
	}
	test.AssertRendersToMarkup(t, "bank_card_wrong_pin.xml", s.w.Canvas())

	pin = vcard.DemoAuthPIN
	test.Tap(s.login)
	waitIdle()
	if !strings.Contains(s.result.Text, "ログインしました") || len(s.account.Objects) == 0 {
		t.Fatalf("login: %q", s.result.Text)
	}
	test.AssertRendersToMarkup(t, "bank_card_account.xml", s.w.Canvas())
}
