package bank_test

import (
	"context"
	"encoding/base32"
	"net/url"
	"strings"
	"testing"
	"time"

	"jpkipilot/device/vcard"
	"jpkipilot/trial/bank"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

func TestTOTPEnrolLoginReuseAndSkew(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		m := e.monitors[0]
		ctx := context.Background()
		_, err := e.bank.LoginTOTP(ctx, m, "123456", e.clock)
		wantReason(t, err, bank.ReasonNoAccount)

		en, err := e.bank.EnrolTOTP(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(en.URI)
		if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
			t.Fatalf("URI %q: %v", en.URI, err)
		}
		q := u.Query()
		sec, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(q.Get("secret"))
		if err != nil || string(sec) != string(en.Secret) || len(sec) < 16 {
			t.Fatalf("URI secret %q does not carry the enrolled secret", q.Get("secret"))
		}
		if q.Get("digits") != "6" || q.Get("period") != "30" || q.Get("algorithm") != "SHA1" || strings.Contains(en.URI, m) {
			t.Fatalf("URI %q", en.URI)
		}

		step := bank.TOTPStep(e.clock)
		_, err = e.bank.LoginTOTP(ctx, m, bank.TOTPCode(sec, step+5), e.clock)
		wantReason(t, err, bank.ReasonTOTPInvalid)
		_, err = e.bank.LoginTOTP(ctx, m, "12345", e.clock)
		wantReason(t, err, bank.ReasonTOTPInvalid)

		// The phone's clock runs one step behind: accepted.
		s, err := e.bank.LoginTOTP(ctx, m, bank.TOTPCode(sec, step-1), e.clock.Add(-8*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if s.Method != bank.MethodTOTP || s.Duration != 8*time.Second {
			t.Fatalf("session %+v", s)
		}
		if a := e.lastAttempt(); a.Method != bank.MethodTOTP || !a.OK || a.DurationMS != 8000 || a.Tries != 4 {
			t.Fatalf("recorded %+v", a)
		}
		// The same code again: refused.
		_, err = e.bank.LoginTOTP(ctx, m, bank.TOTPCode(sec, step-1), e.clock)
		wantReason(t, err, bank.ReasonTOTPReused)
		// The current code is good once.
		if _, err := e.bank.LoginTOTP(ctx, m, bank.TOTPCode(sec, step), e.clock); err != nil {
			t.Fatal(err)
		}
		_, err = e.bank.LoginTOTP(ctx, m, bank.TOTPCode(sec, step), e.clock)
		wantReason(t, err, bank.ReasonTOTPReused)
		// One step ahead (clock skew the other way) is good, then the
		// earlier step can no longer be used.
		if _, err := e.bank.LoginTOTP(ctx, m, bank.TOTPCode(sec, step+1), e.clock); err != nil {
			t.Fatal(err)
		}
		// Next period: the code before the last used one stays refused.
		e.clock = e.clock.Add(bank.TOTPPeriod)
		_, err = e.bank.LoginTOTP(ctx, m, bank.TOTPCode(sec, step), e.clock)
		wantReason(t, err, bank.ReasonTOTPReused)

		// The same account logs in with the card too.
		r, _ := e.token(vcard.MyNumber)
		e.mustRegister(m, r)
		if _, err := e.login(m, r, &pinPad{pin: cardPIN}); err != nil {
			t.Fatal(err)
		}
		acc, err := e.bank.Account(ctx, m)
		if err != nil || !acc.TOTPEnrolled || len(acc.Credentials) != 1 {
			t.Fatalf("account %+v, %v", acc, err)
		}
		sum, err := e.bank.Summary(ctx, e.trialID)
		if err != nil {
			t.Fatal(err)
		}
		if sum[2].Method != bank.MethodTOTP || sum[2].Attempts != 9 || sum[2].Successes != 3 || sum[0].Successes != 1 {
			t.Fatalf("summary %+v", sum)
		}
	})
}

func TestTOTPCodeUsedOnceUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		m := e.monitors[0]
		ctx := context.Background()
		en, err := e.bank.EnrolTOTP(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		code := bank.TOTPCode(en.Secret, bank.TOTPStep(e.clock))
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				_, err := e.bank.LoginTOTP(ctx, m, code, e.clock)
				errs <- err
			}()
		}
		ok := 0
		for range 4 {
			if err := <-errs; err == nil {
				ok++
			} else if bank.ReasonOf(err) != bank.ReasonTOTPReused {
				t.Fatalf("%v: want totp_reused", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d logins with one code", ok)
		}
	})
}
