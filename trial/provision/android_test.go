package provision_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"strings"
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
	"jpkipilot/trial/store/storetest"
)

func TestAndroidFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newCounter(t, db)
		ctx := context.Background()
		var steps []provision.Step
		req := c.request()
		req.Progress = func(s provision.Step) { steps = append(steps, s) }
		res, err := c.desk.Provision(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		want := []provision.Step{provision.StepProofed, provision.StepChannel, provision.StepKeyGen, provision.StepIssued,
			provision.StepStored, provision.StepPIN, provision.StepCommitted, provision.StepVerified, provision.StepLinked}
		if len(steps) != len(want) {
			t.Fatalf("steps %v, want %v", steps, want)
		}
		// The certificate is for the key the applet generated, bound to the
		// monitor's pseudonymous id, and the loan links to its serial.
		if res.Cert.Cert.Subject.CommonName != c.monitor {
			t.Errorf("subject %q, want %q", res.Cert.Cert.Subject.CommonName, c.monitor)
		}
		if !res.Cert.Cert.PublicKey.(*rsa.PublicKey).Equal(&appletKeys(t)[0].PublicKey) {
			t.Error("certificate is not for the applet's key")
		}
		rec, evs := c.record()
		if rec.Status != provision.StatusProvisioned || rec.Step != provision.StepLinked ||
			rec.CertSerial != pki.SerialHex(res.Cert.Serial) || rec.AppletState != "provisioned" || rec.ProofingID == nil {
			t.Errorf("record %+v", rec)
		}
		if len(evs) < len(want)+1 {
			t.Errorf("%d events, want one per step", len(evs))
		}
		if got := c.simState(); got != trial.AppletProvisioned {
			t.Errorf("inventory applet state %q", got)
		}
		// The phone now answers as a JPKI phone token to the same client.
		card := &device.Card{T: c.phoneR}
		if kind, err := jpki.Detect(ctx, card); err != nil || kind != jpki.PhoneToken {
			t.Fatalf("Detect: %v %v", kind, err)
		}
		if _, err := jpki.New(card).ReadCertificate(ctx, jpki.CertAuth, pinOf("0000")); err == nil {
			t.Error("auth certificate read with a wrong PIN")
		}
		// A second run on a provisioned loan is refused.
		if _, err := c.desk.Provision(ctx, c.request()); !errors.Is(err, provision.ErrAlreadyProvisioned) {
			t.Errorf("second run: %v", err)
		}

		// Return: revoked on a new CRL, applet wiped, loan closed.
		rr, err := c.desk.Return(ctx, provision.ReturnRequest{LoanID: c.loan.ID, Passphrase: []byte(passphrase),
			Connect: c.connect, Return: trial.Return{Staff: "佐藤"}})
		if err != nil {
			t.Fatal(err)
		}
		if !rr.Revoked || !rr.Wiped || rr.Loan.Open() {
			t.Fatalf("return %+v", rr)
		}
		if st := c.applet.Status(); st.State != sim.Blank || st.Parts != 0 {
			t.Errorf("applet after return: %v", st)
		}
		der, err := pki.LatestCRL(ctx, db, pki.RoleAuth)
		if err != nil {
			t.Fatal(err)
		}
		crl, err := pki.ParseCRL(der, c.ca.Certificate(pki.RoleAuth))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := crl.Lookup(res.Cert.Serial); !ok {
			t.Error("the returned phone's certificate is not on the published CRL")
		}
		if rec, _ := c.record(); rec.Status != provision.StatusReturned {
			t.Errorf("record status %q after return", rec.Status)
		}
		if got := c.simState(); got != trial.AppletWiped {
			t.Errorf("inventory applet state %q after return", got)
		}
	})
}

func TestWrongSCP03Keys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newCounter(t, db)
		other := scpKeys(simKeys)
		other.ENC = bytes.Repeat([]byte{0x77}, 16)
		other.MAC = bytes.Repeat([]byte{0x78}, 16)
		c.applet = c.newApplet(other) // a SIM whose keys are not the ones on file
		c.phoneR.Insert(c.applet)
		_, err := c.desk.Provision(context.Background(), c.request())
		if !errors.Is(err, scp03.ErrAuth) {
			t.Fatalf("err = %v, want scp03.ErrAuth", err)
		}
		if n := len(c.issuedTo()); n != 0 {
			t.Errorf("%d certificates issued", n)
		}
		if st := c.applet.Status(); st.State != sim.Blank {
			t.Errorf("applet %v", st)
		}
		rec, evs := c.record()
		last := evs[len(evs)-1]
		if rec.Status != provision.StatusFailed || last.OK || last.Step != string(provision.StepChannel) {
			t.Errorf("record %+v, last event %+v", rec, last)
		}
	})
}

func TestWrongCAPassphraseIssuesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newCounter(t, db)
		req := c.request()
		req.Passphrase = []byte("not the passphrase")
		_, err := c.desk.Provision(context.Background(), req)
		if !errors.Is(err, pki.ErrWrongPassphrase) {
			t.Fatalf("err = %v, want ErrWrongPassphrase", err)
		}
		if n := len(c.issuedTo()); n != 0 {
			t.Errorf("%d certificates issued", n)
		}
		if c.phoneR.Transmitted() != 0 || c.cardR.Transmitted() != 0 {
			t.Errorf("cards were used: phone %d, card %d APDUs", c.phoneR.Transmitted(), c.cardR.Transmitted())
		}
		if _, _, err := c.desk.ForLoan(context.Background(), c.loan.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a run was recorded: %v", err)
		}
	})
}

// tamperer flips the last C-MAC byte of the nth secure-messaging command.
type tamperer struct {
	inner device.Transport
	n     int
}

func (tt *tamperer) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if len(apdu) > 5 && apdu[0] == 0x84 && apdu[1] != 0x82 {
		if tt.n--; tt.n == 0 {
			apdu = append([]byte(nil), apdu...)
			i := 5 + int(apdu[4]) - 1
			apdu[i] ^= 0x01
		}
	}
	return tt.inner.Transmit(ctx, apdu)
}

// A tampered command is refused by the applet; the failure is recorded with
// the state read back over a fresh channel, and the run resumes.
func TestTamperedCommandLeavesKnownState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newCounter(t, db)
		ctx := context.Background()
		req := c.request()
		tt := &tamperer{inner: c.phoneR, n: 5} // GET STATUS, GENERATE, READ PK, then the 2nd STORE DATA block... of the cert
		req.Connect = func(ctx context.Context, h provision.Hold) (*device.Card, error) {
			if h == provision.HoldPhone {
				return &device.Card{T: tt}, nil
			}
			return c.connect(ctx, h)
		}
		_, err := c.desk.Provision(ctx, req)
		if !errors.Is(err, device.ErrSecurityStatus) {
			t.Fatalf("err = %v, want 6982 from the applet", err)
		}
		rec, evs := c.record()
		if rec.Status != provision.StatusFailed || rec.AppletState != "keygen" || evs[len(evs)-1].Step != string(provision.StepStored) {
			t.Fatalf("record %+v, last event %+v", rec, evs[len(evs)-1])
		}
		if st := c.applet.Status(); st.State != sim.KeyGenerated || st.Has(sim.PartCert) {
			t.Fatalf("applet %v", st)
		}
		res, err := c.desk.Provision(ctx, c.request())
		if err != nil {
			t.Fatalf("resume: %v", err)
		}
		if got := c.issuedTo(); len(got) != 1 || got[0].Serial.Cmp(res.Cert.Serial) != 0 {
			t.Errorf("resume issued again: %d certificates", len(got))
		}
	})
}

// A PIN pad cancelled half way: the applet reads back cert-stored, which is
// recorded, never counts as provisioned, and the run resumes at the PIN.
func TestCancelledPINPadResumes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newCounter(t, db)
		ctx := context.Background()
		req := c.request()
		req.NewPIN = func(context.Context) (string, error) { return "", jpki.ErrPINCancelled }
		if _, err := c.desk.Provision(ctx, req); !errors.Is(err, jpki.ErrPINCancelled) {
			t.Fatalf("err = %v", err)
		}
		rec, _ := c.record()
		if rec.Status != provision.StatusFailed || rec.AppletState != "cert-stored" || rec.Step != provision.StepStored {
			t.Fatalf("record %+v", rec)
		}
		if got := c.simState(); got != trial.AppletUnknown {
			t.Errorf("inventory says %q for a half-written applet", got)
		}
		asked := 0
		req = c.request()
		req.CardPIN = func(context.Context, jpki.PINRequest) (string, error) { asked++; return cardPIN, nil }
		if _, err := c.desk.Provision(ctx, req); err != nil {
			t.Fatal(err)
		}
		if asked != 0 {
			t.Error("resume proved the identity again")
		}
	})
}

// The phone is taken off the reader after every possible number of APDUs.
// Each time the run is recorded as failed, the applet is in a state it
// reports (never provisioned unless the commit went through), and the run
// either resumes to a provisioned phone or rolls back to a blank applet
// with its certificate revoked.
func TestPhoneRemovedAtEveryStep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newCounter(t, db)
		ctx := context.Background()
		// A complete run first, to count the phone's APDUs.
		before := c.phoneR.Transmitted()
		if _, err := c.desk.Provision(ctx, c.request()); err != nil {
			t.Fatal(err)
		}
		total := c.phoneR.Transmitted() - before
		if _, err := c.desk.Rollback(ctx, provision.RollbackRequest{LoanID: c.loan.ID, Connect: c.connect}); err != nil {
			t.Fatal(err)
		}
		seen := map[sim.State]int{}
		for i := 0; i < 2*total; i++ {
			// Even i: the phone leaves before command n reaches it. Odd i:
			// command n is carried out but its answer never comes back.
			n, lost := i/2, i%2 == 1
			c.phoneR.Insert(c.applet)
			req := c.request()
			if lost {
				lt := &lossy{r: c.phoneR, left: n}
				req.Connect = func(ctx context.Context, h provision.Hold) (*device.Card, error) {
					if h == provision.HoldPhone {
						return &device.Card{T: lt}, nil
					}
					return c.connect(ctx, h)
				}
			} else {
				c.phoneR.RemoveAfter(n)
			}
			_, err := c.desk.Provision(ctx, req)
			if !errors.Is(err, device.ErrCardRemoved) {
				t.Fatalf("n=%d lost=%v: err = %v, want the card removed", n, lost, err)
			}
			rec, _ := c.record()
			if rec.Status != provision.StatusFailed || rec.AppletState != provision.UnknownState {
				t.Fatalf("n=%d: record %+v", n, rec)
			}
			if got := c.simState(); got != trial.AppletUnknown {
				t.Fatalf("n=%d: inventory %q", n, got)
			}
			st := c.applet.Status()
			seen[st.State]++
			committed := false
			for _, e := range mustEvents(t, c, rec.ID) {
				committed = committed || e.Step == string(provision.StepCommitted) && e.OK
			}
			if !st.Provisioned() && committed {
				t.Fatalf("n=%d: recorded committed but the applet is %v", n, st)
			}
			c.phoneR.Insert(c.applet)
			// Inspect reads the state back and records it.
			got, err := c.desk.Inspect(ctx, c.loan.ID, c.connect)
			if err != nil || got != st {
				t.Fatalf("n=%d: Inspect = %v, %v; applet is %v", n, got, err, st)
			}
			if (n+i)%2 == 0 { // resume or roll back, each for both kinds of interruption
				res, err := c.desk.Provision(ctx, c.request())
				if err != nil {
					t.Fatalf("n=%d: resume: %v", n, err)
				}
				if rec, _ := c.record(); rec.Status != provision.StatusProvisioned || rec.CertSerial != pki.SerialHex(res.Cert.Serial) {
					t.Fatalf("n=%d: after resume %+v", n, rec)
				}
			}
			serial := rec.CertSerial
			if r2, _ := c.record(); r2.CertSerial != "" {
				serial = r2.CertSerial
			}
			if _, err := c.desk.Rollback(ctx, provision.RollbackRequest{LoanID: c.loan.ID, Connect: c.connect}); err != nil {
				t.Fatalf("n=%d: rollback: %v", n, err)
			}
			if st := c.applet.Status(); st.State != sim.Blank || st.Parts != 0 {
				t.Fatalf("n=%d: applet after rollback %v", n, st)
			}
			for _, i := range c.issuedTo() {
				if !i.Revoked() {
					t.Fatalf("n=%d: certificate %s still valid after rollback (run's serial %q)", n, pki.SerialHex(i.Serial), serial)
				}
			}
			if got := c.simState(); got != trial.AppletBlank {
				t.Fatalf("n=%d: inventory %q after rollback", n, got)
			}
		}
		t.Logf("%d phone APDUs in a run; applet states at removal: %v", total, seen)
		for _, s := range []sim.State{sim.Blank, sim.KeyGenerated, sim.CertStored, sim.Provisioned} {
			if seen[s] == 0 {
				t.Errorf("no removal left the applet %v", s)
			}
		}
	})
}

// lossy lets left commands through, then carries out one more and loses
// its answer: the phone left the field just after the applet acted.
type lossy struct {
	r    *vcard.VirtualReader
	left int
}

func (l *lossy) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if l.left < 0 {
		return nil, device.ErrCardRemoved
	}
	out, err := l.r.Transmit(ctx, apdu)
	if l.left--; l.left < 0 {
		l.r.Remove()
		return nil, device.ErrCardRemoved
	}
	return out, err
}

func mustEvents(t *testing.T, c *counter, id int64) []provision.Event {
	t.Helper()
	evs, err := c.desk.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestReturnWithoutThePhone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newCounter(t, db)
		ctx := context.Background()
		res, err := c.desk.Provision(ctx, c.request())
		if err != nil {
			t.Fatal(err)
		}
		lost := func(context.Context, provision.Hold) (*device.Card, error) { return nil, device.ErrNoCard }
		req := provision.ReturnRequest{LoanID: c.loan.ID, Passphrase: []byte(passphrase), Connect: lost, Return: trial.Return{Staff: "佐藤"}}
		rr, err := c.desk.Return(ctx, req)
		if !errors.Is(err, provision.ErrReturnIncomplete) || !rr.Revoked || rr.Wiped {
			t.Fatalf("return without the phone: %+v, %v", rr, err)
		}
		if ln, _ := c.desk.Loans.GetLoan(ctx, c.loan.ID); !ln.Open() {
			t.Fatal("the loan closed although the applet was not wiped")
		}
		if i, err := c.ca.Lookup(ctx, pki.RoleAuth, res.Cert.Serial); err != nil || !i.Revoked() {
			t.Fatalf("certificate not revoked: %v", err)
		}
		req.Unresolved = "phone lost by the monitor; police report 123"
		rr, err = c.desk.Return(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if rr.Loan.Open() || !strings.Contains(rr.Loan.Notes, "police report 123") || !strings.Contains(rr.Loan.Notes, "not wiped") {
			t.Fatalf("loan %+v", rr.Loan)
		}
	})
}

// A certificate revoked while the applet holds it half-written cannot be
// resumed into a provisioned phone: the run says so, and rollback works.
func TestRevokedWhileHalfWritten(t *testing.T) {
	c := newCounter(t, storetest.SQLite(t))
	ctx := context.Background()
	req := c.request()
	req.NewPIN = func(context.Context) (string, error) { return "", jpki.ErrPINCancelled }
	if _, err := c.desk.Provision(ctx, req); !errors.Is(err, jpki.ErrPINCancelled) {
		t.Fatal(err)
	}
	rec, _ := c.record()
	serial, _ := pki.ParseSerial(rec.CertSerial)
	if err := c.ca.Revoke(ctx, serial, pki.KeyCompromise); err != nil {
		t.Fatal(err)
	}
	if _, err := c.desk.Provision(ctx, c.request()); !errors.Is(err, provision.ErrStaleCertificate) {
		t.Fatalf("resume with a revoked certificate: %v", err)
	}
	if st := c.applet.Status(); st.Provisioned() {
		t.Fatal("provisioned with a revoked certificate")
	}
	if _, err := c.desk.Rollback(ctx, provision.RollbackRequest{LoanID: c.loan.ID, Connect: c.connect}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.desk.Provision(ctx, c.request()); err != nil {
		t.Fatalf("fresh run after rollback: %v", err)
	}
}

// While one laptop waits on the PIN pad, another cannot run the same loan.
func TestRunInProgressElsewhere(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newCounter(t, db)
		ctx := context.Background()
		atPad, release := make(chan struct{}), make(chan struct{})
		req := c.request()
		req.NewPIN = func(context.Context) (string, error) {
			close(atPad)
			<-release
			return phonePIN, nil
		}
		done := make(chan error, 1)
		go func() { _, err := c.desk.Provision(ctx, req); done <- err }()
		<-atPad
		other := provision.NewDesk(db) // the second laptop
		if _, err := other.Provision(ctx, c.request()); !errors.Is(err, provision.ErrInProgress) {
			t.Errorf("second laptop: %v, want ErrInProgress", err)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// Return with a wrong CA passphrase: the applet is wiped but the loan stays
// open and the run no longer counts as provisioned; the retry closes it.
func TestReturnRetriedAfterWrongPassphrase(t *testing.T) {
	c := newCounter(t, storetest.SQLite(t))
	ctx := context.Background()
	res, err := c.desk.Provision(ctx, c.request())
	if err != nil {
		t.Fatal(err)
	}
	req := provision.ReturnRequest{LoanID: c.loan.ID, Passphrase: []byte("wrong passphrase"), Connect: c.connect, Return: trialReturn()}
	rr, err := c.desk.Return(ctx, req)
	if !errors.Is(err, provision.ErrReturnIncomplete) || rr.Revoked || !rr.Wiped {
		t.Fatalf("return with a wrong passphrase: %+v, %v", rr, err)
	}
	if rec, _ := c.record(); rec.Status == provision.StatusProvisioned || rec.AppletState != "blank" {
		t.Fatalf("record after the wipe: %+v", rec)
	}
	if i, _ := c.ca.Lookup(ctx, pki.RoleAuth, res.Cert.Serial); i.Revoked() {
		t.Fatal("revoked without the passphrase")
	}
	req.Passphrase = []byte(passphrase)
	if rr, err = c.desk.Return(ctx, req); err != nil || !rr.Revoked || rr.Loan.Open() {
		t.Fatalf("retry: %+v, %v", rr, err)
	}
	if rec, _ := c.record(); rec.Status != provision.StatusReturned {
		t.Errorf("record %+v", rec)
	}
}
