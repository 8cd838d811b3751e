package bank_test

import (
	"context"
	"testing"
	"time"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/pki"
	"jpkipilot/trial/bank"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

func TestRegisterAndLoginWithCardAndPhone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		m := e.monitors[0]
		ctx := context.Background()
		if _, err := e.bank.Account(ctx, m); err == nil {
			t.Fatal("an account exists before registration")
		}
		for _, tc := range []struct {
			profile vcard.Profile
			method  bank.Method
		}{{vcard.MyNumber, bank.MethodCard}, {vcard.Phone, bank.MethodPhone}} {
			r, iss := e.token(tc.profile)
			cred, err := e.register(m, r)
			if err != nil {
				t.Fatalf("register %s: %v", tc.method, err)
			}
			if cred.Method != tc.method || cred.Serial != pki.SerialHex(iss.Serial) || cred.Issuer != iss.Cert.Issuer.String() {
				t.Fatalf("credential %+v: want %s, serial %s", cred, tc.method, pki.SerialHex(iss.Serial))
			}
			pad := &pinPad{pin: cardPIN}
			s, err := e.login(m, r, pad)
			if err != nil {
				t.Fatalf("login %s: %v", tc.method, err)
			}
			if s.Method != tc.method || s.MonitorID != m || s.Duration != 1500*time.Millisecond {
				t.Fatalf("session %+v", s)
			}
			if len(pad.asked) != 1 || pad.asked[0].TriesLeft != 3 {
				t.Fatalf("PIN asked %+v: want once, with 3 tries left", pad.asked)
			}
			a := e.lastAttempt()
			if a.Kind != bank.PurposeLogin || a.Method != tc.method || !a.OK || a.Reason != bank.ReasonOK || a.DurationMS != 1500 || a.Tries != 1 || a.MonitorID != m {
				t.Fatalf("recorded %+v", a)
			}
		}
		acc, err := e.bank.Account(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if len(acc.Credentials) != 2 {
			t.Fatalf("credentials %+v: want the card and the phone", acc.Credentials)
		}
		bal, txs, err := e.bank.Statement(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		var in, out bool
		for _, tx := range txs {
			sum += tx.Amount
			in, out = in || tx.Amount > 0, out || tx.Amount < 0
		}
		if len(txs) == 0 || !in || !out || bal != sum {
			t.Fatalf("balance %d, statement %+v: want deposits and withdrawals summing to the balance", bal, txs)
		}
	})
}

func TestLoginWrongPINShowsTriesLeftThenBlocks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		m := e.monitors[0]
		r, _ := e.token(vcard.MyNumber)
		e.mustRegister(m, r)
		for _, left := range []int{2, 1} {
			_, err := e.login(m, r, &pinPad{pin: "0000"})
			be := wantReason(t, err, bank.ReasonWrongPIN)
			if be.TriesLeft != left {
				t.Fatalf("tries left %d: want %d", be.TriesLeft, left)
			}
			if a := e.lastAttempt(); a.OK || a.Reason != bank.ReasonWrongPIN || a.Tries != int64(3-left) {
				t.Fatalf("recorded %+v: want the failure, try %d", a, 3-left)
			}
		}
		_, err := e.login(m, r, &pinPad{pin: "0000"})
		wantReason(t, err, bank.ReasonPINBlocked)
		// Blocked: the PIN is not even asked, so nothing is sent.
		pad := &pinPad{pin: cardPIN}
		_, err = e.login(m, r, pad)
		wantReason(t, err, bank.ReasonPINBlocked)
		if len(pad.asked) != 0 {
			t.Fatalf("PIN asked %+v for a blocked card", pad.asked)
		}
		if a := e.lastAttempt(); a.Reason != bank.ReasonPINBlocked || a.Tries != 4 {
			t.Fatalf("recorded %+v", a)
		}
	})
}

func TestWrongPINThenRightCountsTries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		m := e.monitors[0]
		r, _ := e.token(vcard.MyNumber)
		e.mustRegister(m, r)
		if _, err := e.login(m, r, &pinPad{pin: "0000"}); err == nil {
			t.Fatal("wrong PIN logged in")
		}
		if _, err := e.login(m, r, &pinPad{pin: cardPIN}); err != nil {
			t.Fatal(err)
		}
		if a := e.lastAttempt(); !a.OK || a.Tries != 2 {
			t.Fatalf("recorded %+v: want success at the 2nd try", a)
		}
		if _, err := e.login(m, r, &pinPad{pin: cardPIN}); err != nil {
			t.Fatal(err)
		}
		if a := e.lastAttempt(); a.Tries != 1 {
			t.Fatalf("recorded %+v: tries start again after a success", a)
		}
	})
}

func TestReplayedAndStaleChallenges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		m := e.monitors[0]
		ctx := context.Background()
		r, _ := e.token(vcard.MyNumber)
		e.mustRegister(m, r)
		sign := func(p bank.Purpose) *bank.Response {
			t.Helper()
			ch, err := e.bank.NewChallenge(ctx, m, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(ch.Nonce) != 32 {
				t.Fatalf("nonce of %d bytes", len(ch.Nonce))
			}
			resp, err := bank.SignChallenge(ctx, &device.Card{T: r}, (&pinPad{pin: cardPIN}).fn(), ch)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		resp := sign(bank.PurposeLogin)
		if _, err := e.bank.CompleteLogin(ctx, m, resp, e.clock); err != nil {
			t.Fatal(err)
		}
		_, err := e.bank.CompleteLogin(ctx, m, resp, e.clock)
		wantReason(t, err, bank.ReasonReplayed)
		if a := e.lastAttempt(); a.OK || a.Reason != bank.ReasonReplayed {
			t.Fatalf("recorded %+v", a)
		}
		// A signature made for registration does not log in.
		_, err = e.bank.CompleteLogin(ctx, m, sign(bank.PurposeRegister), e.clock)
		wantReason(t, err, bank.ReasonReplayed)
		// A signature of another monitor's challenge does not either.
		_, err = e.bank.CompleteLogin(ctx, e.monitors[1], sign(bank.PurposeLogin), e.clock)
		wantReason(t, err, bank.ReasonReplayed)
		// A tampered signature fails verification.
		bad := sign(bank.PurposeLogin)
		bad.Signature[10] ^= 1
		_, err = e.bank.CompleteLogin(ctx, m, bad, e.clock)
		wantReason(t, err, bank.ReasonBadSignature)
		// Stale: signed in time, sent after the challenge expired.
		late := sign(bank.PurposeLogin)
		e.clock = e.clock.Add(61 * time.Second)
		_, err = e.bank.CompleteLogin(ctx, m, late, e.clock)
		wantReason(t, err, bank.ReasonStaleChallenge)
		_, err = e.bank.CompleteLogin(ctx, m, late, e.clock)
		wantReason(t, err, bank.ReasonReplayed)
	})
}

func TestRevokedCertificateRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		m := e.monitors[0]
		r, iss := e.token(vcard.MyNumber)
		e.mustRegister(m, r)
		if err := e.ca.Revoke(context.Background(), iss.Serial, pki.KeyCompromise); err != nil {
			t.Fatal(err)
		}
		// Not on the CRL yet: still accepted (the bank checks the CRL).
		if _, err := e.login(m, r, &pinPad{pin: cardPIN}); err != nil {
			t.Fatalf("before the CRL is published: %v", err)
		}
		e.clock = e.clock.Add(time.Minute)
		e.publishCRL()
		_, err := e.login(m, r, &pinPad{pin: cardPIN})
		wantReason(t, err, bank.ReasonRevoked)
		if pki.ReasonOf(err) != pki.Revoked {
			t.Fatalf("%v: want the pki failure inside", err)
		}
		r2, _ := e.token(vcard.MyNumber)
		_ = e.ca.Revoke(context.Background(), mustIssued(t, e, r2).Serial, pki.KeyCompromise)
		e.clock = e.clock.Add(time.Minute)
		e.publishCRL()
		_, err = e.register(m, r2)
		wantReason(t, err, bank.ReasonRevoked)
	})
}

func mustIssued(t *testing.T, e *env, r *vcard.VirtualReader) *pki.Issued {
	t.Helper()
	resp, err := bank.SignChallenge(context.Background(), &device.Card{T: r}, (&pinPad{pin: cardPIN}).fn(),
		&bank.Challenge{MonitorID: "x", Purpose: bank.PurposeLogin, Nonce: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	iss, err := e.ca.Lookup(context.Background(), pki.RoleAuth, resp.Cert.SerialNumber)
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

func TestCardOfAnotherMonitor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		a, b := e.monitors[0], e.monitors[1]
		ra, _ := e.token(vcard.MyNumber)
		rb, _ := e.token(vcard.MyNumber)
		e.mustRegister(a, ra)
		_, err := e.login(b, ra, &pinPad{pin: cardPIN})
		wantReason(t, err, bank.ReasonOtherAccount) // a's card, though b has no account yet
		e.mustRegister(b, rb)
		_, err = e.login(b, ra, &pinPad{pin: cardPIN})
		wantReason(t, err, bank.ReasonOtherAccount)
		_, err = e.register(b, ra)
		wantReason(t, err, bank.ReasonOtherAccount)
		if at := e.lastAttempt(); at.Kind != bank.PurposeRegister || at.OK || at.Reason != bank.ReasonOtherAccount {
			t.Fatalf("recorded %+v", at)
		}
		rc, _ := e.token(vcard.MyNumber)
		_, err = e.login(a, rc, &pinPad{pin: cardPIN})
		wantReason(t, err, bank.ReasonNotRegistered)
	})
}

func TestCardRemovedAtEveryStep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		m := e.monitors[0]
		r, _, card := e.tokenCard(vcard.MyNumber)
		e.mustRegister(m, r)
		before := len(e.attempts())
		n := 0
		for ; ; n++ {
			r.Insert(card)
			r.RemoveAfter(n)
			_, err := e.login(m, r, &pinPad{pin: cardPIN})
			if err == nil {
				break
			}
			wantReason(t, err, bank.ReasonCardRemoved)
			if a := e.lastAttempt(); a.OK || a.Reason != bank.ReasonCardRemoved {
				t.Fatalf("removal after %d APDUs recorded as %+v", n, a)
			}
			if n > 50 {
				t.Fatal("login never completes")
			}
		}
		if n < 5 || len(e.attempts()) != before+n+1 {
			t.Fatalf("%d removals, %d attempts recorded", n, len(e.attempts())-before)
		}
	})
}

func TestDemoCACardNeedsAnchorAndRevocation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		m := e.monitors[0]
		demo, err := vcard.NewDemoCA()
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := demo.Issue(vcard.MyNumber, "demo")
		if err != nil {
			t.Fatal(err)
		}
		c, err := vcard.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r := &vcard.VirtualReader{}
		r.Insert(c)
		pad := &pinPad{pin: vcard.DemoAuthPIN}
		_, err = e.bank.Register(context.Background(), m, &device.Card{T: r}, pad.fn(), e.clock)
		wantReason(t, err, bank.ReasonCertInvalid)
		if pki.ReasonOf(err) != pki.UnknownIssuer {
			t.Fatalf("%v: want UnknownIssuer", err)
		}
		root, err := x509Parse(demo.RootCert)
		if err != nil {
			t.Fatal(err)
		}
		e.bank.ExtraAnchors = append(e.bank.ExtraAnchors, root)
		_, err = e.bank.Register(context.Background(), m, &device.Card{T: r}, pad.fn(), e.clock)
		// The demo CA publishes no CRL: revocation cannot be checked.
		wantReason(t, err, bank.ReasonCertInvalid)
		if pki.ReasonOf(err) != pki.CRLMissing {
			t.Fatalf("%v: want CRLMissing", err)
		}
	})
}

func TestSummary(t *testing.T) {
	ms := func(m bank.Method, ok bool, d int64) bank.Attempt {
		r := bank.ReasonOK
		if !ok {
			r = bank.ReasonWrongPIN
		}
		return bank.Attempt{Kind: bank.PurposeLogin, Method: m, OK: ok, Reason: r, DurationMS: d}
	}
	got := bank.Summarize([]bank.Attempt{
		ms(bank.MethodCard, true, 4000), ms(bank.MethodCard, false, 9000), ms(bank.MethodCard, true, 2000),
		ms(bank.MethodCard, true, 3000), ms(bank.MethodTOTP, true, 10000), ms(bank.MethodTOTP, true, 12000),
		{Kind: bank.PurposeRegister, Method: bank.MethodPhone, OK: true, DurationMS: 1},
	})
	if len(got) != 3 || got[0].Method != bank.MethodCard || got[1].Method != bank.MethodPhone || got[2].Method != bank.MethodTOTP {
		t.Fatalf("%+v", got)
	}
	if c := got[0]; c.Attempts != 4 || c.Successes != 3 || c.SuccessRate != 0.75 || c.MedianMS != 3000 || c.Reasons[bank.ReasonWrongPIN] != 1 {
		t.Fatalf("card %+v", c)
	}
	if p := got[1]; p.Attempts != 0 || p.SuccessRate != 0 {
		t.Fatalf("phone %+v: registrations are not logins", p)
	}
	if o := got[2]; o.SuccessRate != 1 || o.MedianMS != 11000 {
		t.Fatalf("totp %+v", o)
	}
}
