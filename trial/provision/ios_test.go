package provision_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"testing"

	"jpkipilot/device"
	"jpkipilot/device/vcard"
	"jpkipilot/pki"
	"jpkipilot/trial"
	"jpkipilot/trial/provision"
	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

func csrFor(t *testing.T, key *rsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "iPhone of someone"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestIOSFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newCounter(t, db)
		ctx := context.Background()
		key := appletKeys(t)[1]
		good := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrFor(t, key)})
		req := provision.IOSRequest{MonitorID: c.monitor, Staff: "田中", CSR: good, Passphrase: []byte(passphrase)}

		// No identity proofing yet: refused.
		if _, err := c.desk.IssueIOS(ctx, req); !errors.Is(err, provision.ErrNoProofing) {
			t.Fatalf("without proofing: %v", err)
		}
		if _, err := c.desk.ProveIdentity(ctx, c.monitor, "田中", &device.Card{T: c.cardR}, pinOf(cardPIN)); err != nil {
			t.Fatal(err)
		}

		bad := csrFor(t, key)
		bad[len(bad)-1] ^= 0x01 // the last signature byte
		if _, err := c.desk.IssueIOS(ctx, provision.IOSRequest{MonitorID: c.monitor, CSR: bad, Passphrase: []byte(passphrase)}); err == nil {
			t.Fatal("a CSR with a bad signature was accepted")
		}
		if n := len(c.issuedTo()); n != 0 {
			t.Fatalf("%d certificates issued for a bad CSR", n)
		}

		issued, err := c.desk.IssueIOS(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if issued.Cert.Subject.CommonName != c.monitor {
			t.Errorf("subject %q: the CSR's subject must not be used", issued.Cert.Subject.CommonName)
		}
		if !issued.Cert.PublicKey.(*rsa.PublicKey).Equal(&key.PublicKey) {
			t.Error("certificate is not for the CSR's key")
		}
		if _, err := pki.Verify(issued.Cert, pki.Options{Roots: []*x509.Certificate{c.ca.Certificate(pki.RoleRoot)},
			Intermediates: []*x509.Certificate{c.ca.Certificate(pki.RoleAuth)}, Purpose: pki.PurposeAuth, SkipRevocation: true}); err != nil {
			t.Errorf("issued certificate does not validate: %v", err)
		}
		rec, _ := c.record() // the monitor has the loan open: the run names it
		if rec.Path != provision.IOS || rec.Status != provision.StatusProvisioned || rec.CertSerial != pki.SerialHex(issued.Serial) {
			t.Errorf("record %+v", rec)
		}
	})
}

func TestParseCSRRejects(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"empty":       nil,
		"certificate": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0}}),
		"RSA-1024":    csrFor(t, small),
		"garbage":     []byte("not a request"),
	} {
		if _, err := provision.ParseCSR(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseCSR(f *testing.F) {
	key := appletKeys(f)[0]
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}, key)
	f.Add(der)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	f.Add([]byte("-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		csr, err := provision.ParseCSR(b)
		if err == nil && csr.CheckSignature() != nil {
			t.Fatal("accepted a CSR without proof of possession")
		}
	})
}

func TestProofingRefusesRevokedAndUncheckableCards(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newCounter(t, db)
		ctx := context.Background()
		card := &device.Card{T: c.cardR}

		// A wrong PIN: refused with the tries left, recorded as failed.
		_, err := c.desk.ProveIdentity(ctx, c.monitor, "田中", card, pinOf("9999"))
		var wrong *device.WrongPINError
		if !errors.As(err, &wrong) || wrong.TriesLeft != 2 {
			t.Fatalf("wrong PIN: %v", err)
		}

		// The card's certificate revoked and on the CRL: refused.
		cert, _ := x509.ParseCertificate(c.cardCfg.AuthCert)
		if err := c.ca.Revoke(ctx, cert.SerialNumber, pki.KeyCompromise); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ca.PublishCRL(ctx, pki.RoleAuth, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := c.desk.ProveIdentity(ctx, c.monitor, "田中", card, pinOf(cardPIN)); pki.ReasonOf(err) != pki.Revoked {
			t.Fatalf("revoked card: %v", err)
		}

		// A card of another hierarchy whose revocation cannot be checked.
		demo, err := vcard.NewDemoCA()
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := demo.Issue(vcard.MyNumber, "DEMO")
		if err != nil {
			t.Fatal(err)
		}
		vc, _ := vcard.New(cfg)
		c.cardR.Insert(vc)
		root, _ := x509.ParseCertificate(demo.RootCert)
		c.desk.ExtraAnchors = []*x509.Certificate{root}
		if _, err := c.desk.ProveIdentity(ctx, c.monitor, "田中", card, pinOf(vcard.DemoAuthPIN)); pki.ReasonOf(err) != pki.CRLMissing {
			t.Fatalf("card without revocation information: %v", err)
		}
		var okCount, all int
		if err := db.GetContext(ctx, &all, "SELECT COUNT(*) FROM identity_proofings"); err != nil {
			t.Fatal(err)
		}
		if err := db.GetContext(ctx, &okCount, "SELECT COUNT(*) FROM identity_proofings WHERE ok"); err != nil {
			t.Fatal(err)
		}
		if all != 3 || okCount != 0 {
			t.Errorf("%d proofings recorded, %d ok; want 3 failed", all, okCount)
		}
		// iOS issuing still refuses the monitor.
		if _, err := c.desk.IssueIOS(ctx, provision.IOSRequest{MonitorID: c.monitor, CSR: csrFor(t, appletKeys(t)[0]), Passphrase: []byte(passphrase)}); !errors.Is(err, provision.ErrNoProofing) {
			t.Errorf("iOS after failed proofings: %v", err)
		}
	})
}

func TestCardProvesOneMonitorOnly(t *testing.T) {
	db := storetest.SQLite(t)
	c := newCounter(t, db)
	ctx := context.Background()
	card := &device.Card{T: c.cardR}
	if _, err := c.desk.ProveIdentity(ctx, c.monitor, "田中", card, pinOf(cardPIN)); err != nil {
		t.Fatal(err)
	}
	svc := trial.New(db)
	m, err := svc.GetMonitor(ctx, c.monitor)
	if err != nil {
		t.Fatal(err)
	}
	other, err := svc.Enrol(ctx, trial.Monitor{TrialID: m.TrialID, Name: "佐藤 花子", Kana: "サトウ ハナコ", Contact: "090-0000-0002"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.desk.ProveIdentity(ctx, other.ID, "田中", card, pinOf(cardPIN)); !errors.Is(err, provision.ErrCardOfAnotherMonitor) {
		t.Fatalf("the same card for another monitor: %v", err)
	}
	// The first monitor proves again with the same card: fine.
	if _, err := c.desk.ProveIdentity(ctx, c.monitor, "田中", card, pinOf(cardPIN)); err != nil {
		t.Fatal(err)
	}
}
