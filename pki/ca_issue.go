package pki

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/pii"
	"jpkipilot/trial/store"
)

type txer = *sqlx.Tx

// IssueRequest asks for one end-entity certificate for a public key the
// card or phone generated.
type IssueRequest struct {
	Kind Role // RoleAuth or RoleSign
	// Holder is the monitor's pseudonymous id. It is the whole subject of a
	// user-authentication certificate, as JPKI's carry no personal data.
	Holder string
	// Name is the holder's name: required for a signature certificate,
	// refused for a user-authentication one.
	Name      string
	PublicKey crypto.PublicKey
	Validity  time.Duration // zero: 5 years, like a JPKI certificate
}

// Issued is a certificate the trial CA issued, as the store keeps it.
type Issued struct {
	Serial           *big.Int
	Kind             Role
	Holder           string
	Subject          string
	NotBefore        time.Time
	NotAfter         time.Time
	IssuedAt         time.Time
	RevokedAt        time.Time // zero when not revoked
	RevocationReason RevocationReason
	// Cert is nil when NameSealed: see Unseal.
	Cert *x509.Certificate
	// Virtual: the certificate of a virtual card served through vpcd,
	// whose private key lived only in the serving process (VirtualRun
	// names that run; "" for one from before runs were recorded).
	Virtual    bool
	VirtualRun string
	// NameSealed: a signature certificate naming a person, issued before
	// the store was sealed. Subject shows the holder id only; the
	// certificate is kept sealed with the store's personal data (Unseal).
	NameSealed bool
	sealed     string
}

// Revoked reports whether the certificate has been revoked.
func (i *Issued) Revoked() bool { return !i.RevokedAt.IsZero() }

var (
	oidExtKeyUsageClientAuth = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 2}
	oidSubjectSerialNumber   = asn1.ObjectIdentifier{2, 5, 4, 5}
)

// Issue signs a certificate for req.PublicKey. The serial is drawn at random
// and stored with the certificate in one transaction.
func (ca *CA) Issue(ctx context.Context, req IssueRequest) (*Issued, error) {
	ctx = audit.Default(ctx, ca.Actor)
	for attempt := 0; ; attempt++ {
		rec, der, err := ca.signCertificate(ctx, req)
		if err != nil {
			return nil, err
		}
		err = ca.db.Tx(ctx, func(tx txer) error { return insertIssued(ctx, tx, rec, der, nil) })
		if store.IsUniqueViolation(err) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("issue: %w", err)
		}
		return rec, nil
	}
}

// signCertificate checks req and signs its certificate under a fresh
// random serial; nothing is stored yet (insertIssued does, in the caller's
// transaction). It reads the store (is it sealed?), so it runs outside a
// transaction: SQLite's one connection is the transaction's.
func (ca *CA) signCertificate(ctx context.Context, req IssueRequest) (*Issued, []byte, error) {
	if req.Kind != RoleAuth && req.Kind != RoleSign {
		return nil, nil, fmt.Errorf("certificate kind %q: want auth or sign", req.Kind)
	}
	req.Holder = strings.TrimSpace(req.Holder)
	req.Name = strings.TrimSpace(req.Name)
	if req.Holder == "" {
		return nil, nil, errors.New("holder id is empty")
	}
	if req.PublicKey == nil {
		return nil, nil, errors.New("no public key")
	}
	key, err := ca.signer(req.Kind)
	if err != nil {
		return nil, nil, err
	}
	now := ca.now().Truncate(time.Second)
	validity := req.Validity
	if validity <= 0 {
		validity = 5 * 365 * 24 * time.Hour
	}
	tmpl := &x509.Certificate{
		NotBefore:             now.Add(-5 * time.Minute),
		NotAfter:              now.Add(validity),
		BasicConstraintsValid: true,
	}
	switch req.Kind {
	case RoleAuth:
		if req.Name != "" {
			return nil, nil, errors.New("user-authentication certificates carry no personal data: give no --name")
		}
		tmpl.Subject = pkix.Name{CommonName: req.Holder}
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	case RoleSign:
		if req.Name == "" {
			return nil, nil, errors.New("a signature certificate needs the holder's name (--name)")
		}
		if err := ca.refuseNameOnSealedStore(ctx, req); err != nil {
			return nil, nil, err
		}
		tmpl.Subject = pkix.Name{CommonName: req.Name,
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidSubjectSerialNumber, Value: req.Holder}}}
		tmpl.KeyUsage = x509.KeyUsageContentCommitment | x509.KeyUsageDigitalSignature
	}
	if u := ca.crl[req.Kind]; u != "" {
		tmpl.CRLDistributionPoints = []string{u}
	}
	if u := ca.ocsp[req.Kind]; u != "" {
		tmpl.OCSPServer = []string{u}
	}
	if tmpl.SerialNumber, err = randomSerial(); err != nil {
		return nil, nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.certs[req.Kind], req.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("issue: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return &Issued{Serial: cert.SerialNumber, Kind: req.Kind, Holder: req.Holder, Subject: cert.Subject.String(),
		NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, IssuedAt: now, Cert: cert}, der, nil
}

// insertIssued stores a signed certificate and records its issue; run is
// the virtual-card run that serves its key, nil for a real card's or
// phone's certificate.
func insertIssued(ctx context.Context, tx txer, rec *Issued, der []byte, run *string) error {
	serial := SerialHex(rec.Serial)
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO pki_certs
		(serial, ca_role, kind, holder, subject, not_before, not_after, cert_der, issued_at, virtual_run)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		serial, string(rec.Kind), string(rec.Kind), rec.Holder, rec.Subject,
		rec.NotBefore, rec.NotAfter, der, rec.IssuedAt, run)
	if err != nil {
		return err
	}
	if run != nil {
		rec.Virtual, rec.VirtualRun = true, *run
	}
	// The holder id only: a signature certificate's subject holds
	// the holder's name, which never goes into the trail.
	if err := audit.Record(ctx, tx, audit.CAKeyUse, string(rec.Kind), "signed certificate "+serial); err != nil {
		return err
	}
	detail := fmt.Sprintf("%s certificate for %s", rec.Kind, rec.Holder)
	if run != nil {
		detail += ", virtual card of run " + *run
	}
	return audit.Record(ctx, tx, audit.CertIssue, serial, detail)
}

// IssueWithNewKey generates an RSA-2048 key and issues a certificate for it:
// for demo virtual cards, which have no key generation of their own here.
func (ca *CA) IssueWithNewKey(ctx context.Context, req IssueRequest) (*Issued, *rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	req.PublicKey = &key.PublicKey
	rec, err := ca.Issue(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	return rec, key, nil
}

// ErrAlreadyRevoked is returned when revoking a revoked certificate.
var ErrAlreadyRevoked = errors.New("certificate already revoked")

// Revoke marks a certificate revoked at the CA's current time; it appears on
// the next CRL and at once in OCSP answers.
func (ca *CA) Revoke(ctx context.Context, serial *big.Int, reason RevocationReason) error {
	if _, ok := reasonNames[reason]; !ok || reason == RemoveFromCRL {
		return fmt.Errorf("revocation reason %v cannot be used here", reason)
	}
	now := ca.now().Truncate(time.Second)
	ctx = audit.Default(ctx, ca.Actor)
	return ca.db.Tx(ctx, func(tx txer) error {
		var revokedAt sql.NullTime
		err := tx.GetContext(ctx, &revokedAt, tx.Rebind("SELECT revoked_at FROM pki_certs WHERE serial = ?"), SerialHex(serial))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("serial %s: %w", SerialHex(serial), store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if revokedAt.Valid {
			return fmt.Errorf("serial %s: %w on %s", SerialHex(serial), ErrAlreadyRevoked, revokedAt.Time.UTC().Format(time.RFC3339))
		}
		if _, err = tx.ExecContext(ctx, tx.Rebind("UPDATE pki_certs SET revoked_at = ?, revocation_reason = ? WHERE serial = ?"),
			now, int(reason), SerialHex(serial)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.CertRevoke, SerialHex(serial), "reason "+reason.String())
	})
}

type certRow struct {
	Serial     string         `db:"serial"`
	Kind       string         `db:"kind"`
	Holder     string         `db:"holder"`
	Subject    string         `db:"subject"`
	NotBefore  time.Time      `db:"not_before"`
	NotAfter   time.Time      `db:"not_after"`
	CertDER    []byte         `db:"cert_der"`
	IssuedAt   time.Time      `db:"issued_at"`
	RevokedAt  sql.NullTime   `db:"revoked_at"`
	Reason     sql.NullInt64  `db:"revocation_reason"`
	VirtualRun sql.NullString `db:"virtual_run"`
	CertSealed string         `db:"cert_sealed"`
}

const certCols = "serial, kind, holder, subject, not_before, not_after, cert_der, issued_at, revoked_at, revocation_reason, virtual_run, cert_sealed"

func (r *certRow) issued() (*Issued, error) {
	serial, ok := new(big.Int).SetString(r.Serial, 16)
	if !ok {
		return nil, fmt.Errorf("stored serial %q is not hex", r.Serial)
	}
	i := &Issued{Serial: serial, Kind: Role(r.Kind), Holder: r.Holder, Subject: r.Subject,
		NotBefore: r.NotBefore.UTC(), NotAfter: r.NotAfter.UTC(), IssuedAt: r.IssuedAt.UTC(),
		Virtual: r.VirtualRun.Valid, VirtualRun: r.VirtualRun.String}
	var err error
	if r.CertSealed != "" {
		i.NameSealed, i.sealed = true, r.CertSealed
	} else if i.Cert, err = x509.ParseCertificate(r.CertDER); err != nil {
		return nil, fmt.Errorf("stored certificate %s: %w", r.Serial, err)
	}
	if r.RevokedAt.Valid {
		i.RevokedAt = r.RevokedAt.Time.UTC()
		i.RevocationReason = RevocationReason(r.Reason.Int64)
	}
	return i, nil
}

// List returns every issued certificate, newest first.
func (ca *CA) List(ctx context.Context) ([]*Issued, error) {
	var rows []certRow
	if err := ca.db.SelectContext(ctx, &rows, "SELECT "+certCols+" FROM pki_certs ORDER BY issued_at DESC, serial"); err != nil {
		return nil, store.MapErr(err)
	}
	out := make([]*Issued, 0, len(rows))
	for i := range rows {
		c, err := rows[i].issued()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Lookup returns the issued certificate with serial issued by role's CA.
func (ca *CA) Lookup(ctx context.Context, role Role, serial *big.Int) (*Issued, error) {
	var r certRow
	err := ca.db.GetContext(ctx, &r, ca.db.Rebind("SELECT "+certCols+" FROM pki_certs WHERE serial = ? AND ca_role = ?"),
		SerialHex(serial), string(role))
	if err != nil {
		return nil, store.MapErr(err)
	}
	return r.issued()
}

// PublishCRL signs and stores a new CRL of role's CA listing every
// certificate it revoked. The CRL number is incremented in the same
// transaction, so two laptops never publish the same number.
func (ca *CA) PublishCRL(ctx context.Context, role Role, validity time.Duration) ([]byte, error) {
	if role != RoleAuth && role != RoleSign {
		return nil, fmt.Errorf("CRL of %q: want auth or sign", role)
	}
	key, err := ca.signer(role)
	if err != nil {
		return nil, err
	}
	if validity <= 0 {
		validity = 7 * 24 * time.Hour
	}
	now := ca.now().Truncate(time.Second)
	ctx = audit.Default(ctx, ca.Actor)
	var der []byte
	err = ca.db.Tx(ctx, func(tx txer) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE pki_cas SET crl_number = crl_number + 1 WHERE role = ?"), string(role)); err != nil {
			return err
		}
		var number int64
		if err := tx.GetContext(ctx, &number, tx.Rebind("SELECT crl_number FROM pki_cas WHERE role = ?"), string(role)); err != nil {
			return err
		}
		var rows []struct {
			Serial    string    `db:"serial"`
			RevokedAt time.Time `db:"revoked_at"`
			Reason    int       `db:"revocation_reason"`
		}
		if err := tx.SelectContext(ctx, &rows, tx.Rebind(`SELECT serial, revoked_at, revocation_reason FROM pki_certs
			WHERE ca_role = ? AND revoked_at IS NOT NULL`), string(role)); err != nil {
			return err
		}
		entries := make([]x509.RevocationListEntry, 0, len(rows))
		for _, r := range rows {
			n, ok := new(big.Int).SetString(r.Serial, 16)
			if !ok {
				return fmt.Errorf("stored serial %q is not hex", r.Serial)
			}
			entries = append(entries, x509.RevocationListEntry{SerialNumber: n, RevocationTime: r.RevokedAt.UTC(), ReasonCode: r.Reason})
		}
		// Sorted by serial, as OpenSSL does: readers can index without sorting.
		slices.SortFunc(entries, func(a, b x509.RevocationListEntry) int { return a.SerialNumber.Cmp(b.SerialNumber) })
		var err error
		der, err = x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
			Number:                    big.NewInt(number),
			ThisUpdate:                now,
			NextUpdate:                now.Add(validity),
			RevokedCertificateEntries: entries,
		}, ca.certs[role], key)
		if err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO pki_crls (ca_role, number, this_update, next_update, der)
			VALUES (?, ?, ?, ?, ?)`), string(role), number, now, now.Add(validity), der); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.CAKeyUse, string(role), fmt.Sprintf("signed CRL number %d", number)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.CRLPublish, string(role), fmt.Sprintf("number %d, %d revoked", number, len(entries)))
	})
	if err != nil {
		return nil, fmt.Errorf("publish %s CRL: %w", role, err)
	}
	return der, nil
}

// LatestCRL is the newest stored CRL of role's CA (store.ErrNotFound if none).
func LatestCRL(ctx context.Context, db *store.DB, role Role) ([]byte, error) {
	var der []byte
	err := db.GetContext(ctx, &der, db.Rebind("SELECT der FROM pki_crls WHERE ca_role = ? ORDER BY number DESC LIMIT 1"), string(role))
	if err != nil {
		return nil, fmt.Errorf("no published %s CRL: %w", role, store.MapErr(err))
	}
	return der, nil
}

// Fingerprint is the SHA-256 of a certificate, lowercase hex.
func Fingerprint(c *x509.Certificate) string {
	h := sha256.Sum256(c.Raw)
	return hex.EncodeToString(h[:])
}

// ImportAnchor stores a CA certificate (a real JPKI CA's, say) as a trust
// anchor. Importing the same certificate again is not an error; it reports
// added=false.
func ImportAnchor(ctx context.Context, db *store.DB, cert *x509.Certificate, source string) (added bool, err error) {
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return false, fmt.Errorf("%q is not a CA certificate (basicConstraints cA is not set)", cert.Subject.String())
	}
	err = db.Tx(ctx, func(tx txer) error {
		var n int
		if err := tx.GetContext(ctx, &n, tx.Rebind("SELECT COUNT(*) FROM pki_anchors WHERE fingerprint = ?"), Fingerprint(cert)); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		added = true
		return insertAnchor(ctx, tx, cert, source, store.Now())
	})
	return added, err
}

func insertAnchor(ctx context.Context, tx txer, cert *x509.Certificate, source string, now time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO pki_anchors (fingerprint, subject, der, source, imported_at)
		VALUES (?, ?, ?, ?, ?)`), Fingerprint(cert), cert.Subject.String(), cert.Raw, source, now)
	return err
}

// Anchors returns the stored trust anchors.
func Anchors(ctx context.Context, db *store.DB) ([]*x509.Certificate, error) {
	var ders [][]byte
	if err := db.SelectContext(ctx, &ders, "SELECT der FROM pki_anchors ORDER BY imported_at, fingerprint"); err != nil {
		return nil, store.MapErr(err)
	}
	out := make([]*x509.Certificate, 0, len(ders))
	for _, d := range ders {
		c, err := x509.ParseCertificate(d)
		if err != nil {
			return nil, fmt.Errorf("stored trust anchor: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

func countCAs(ctx context.Context, db *store.DB) (int, error) {
	var n int
	if err := db.GetContext(ctx, &n, "SELECT COUNT(*) FROM pki_cas"); err != nil {
		return 0, store.MapErr(err)
	}
	return n, nil
}

// LatestCRLIndex is the newest CRL the trial CA published for role, its
// signature checked and indexed; nil without an error when the CA is not
// initialised or has published none (the caller decides whether a missing
// CRL is acceptable).
func LatestCRLIndex(ctx context.Context, db *store.DB, role Role) (*CRLIndex, error) {
	ca, err := Open(ctx, db)
	if errors.Is(err, ErrNotInitialized) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	der, err := LatestCRL(ctx, db, role)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseCRL(der, ca.Certificate(role))
}

// ErrNameOnSealedStore refuses a signature certificate naming a person on a
// store whose personal fields are sealed: the certificate (and its subject
// column) would keep the name in the clear, which a lost laptop must not.
var ErrNameOnSealedStore = errors.New("this store keeps personal data sealed, and a signature certificate would keep the holder's name in the clear: issue it from a CA outside the trial store")

// refuseNameOnSealedStore lets through virtual cards' signature
// certificates, whose name is the holder id and VirtualCardMark only.
func (ca *CA) refuseNameOnSealedStore(ctx context.Context, req IssueRequest) error {
	if req.Name == req.Holder+" "+VirtualCardMark {
		return nil
	}
	sealed, err := pii.Required(ctx, ca.db)
	if err != nil {
		return err
	}
	if sealed {
		return ErrNameOnSealedStore
	}
	return nil
}
