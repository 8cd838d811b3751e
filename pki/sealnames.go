package pki

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/pii"
)

// fieldCertSealed is the pii field a named certificate is sealed under; it
// is in pii.Columns, so a data-key rotation seals it again.
const fieldCertSealed = "pki_certs.cert_sealed"

// SealNamedCertificates takes the names out of the clear columns of
// pki_certs when the store's personal data is sealed (trial/staff, in the
// transaction that runs pii.Reseal, after it): a signature certificate
// naming a person — issued before the first account, when no key existed —
// keeps its DER only sealed under key (field pki_certs.cert_sealed), its
// subject column becomes the holder's pseudonymous id and cert_der is
// emptied. The certificate stays valid: a monitor's card or phone still
// signs with it; revocation, CRLs and OCSP work by serial as before; `ca
// list` shows it by serial and holder, and Issued.Unseal gives it back to a
// session holding the key. Virtual cards' certificates name no one and are
// left as they are. It returns how many certificates it sealed.
func SealNamedCertificates(ctx context.Context, tx *sqlx.Tx, key *pii.Key) (int, error) {
	if key == nil {
		return 0, pii.ErrLocked
	}
	var rows []struct {
		Serial string `db:"serial"`
		Holder string `db:"holder"`
		DER    []byte `db:"cert_der"`
	}
	if err := tx.SelectContext(ctx, &rows, `SELECT serial, holder, cert_der FROM pki_certs
		WHERE kind = 'sign' AND virtual_run IS NULL AND cert_sealed = '' ORDER BY serial`); err != nil {
		return 0, fmt.Errorf("pki: read signature certificates: %w", err)
	}
	up := tx.Rebind("UPDATE pki_certs SET subject = ?, cert_der = ?, cert_sealed = ? WHERE serial = ?")
	for _, r := range rows {
		sealed, err := key.Seal(fieldCertSealed, r.Serial, base64.StdEncoding.EncodeToString(r.DER))
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, up, "SERIALNUMBER="+r.Holder, []byte{}, sealed, r.Serial); err != nil {
			return 0, fmt.Errorf("pki: seal certificate %s: %w", r.Serial, err)
		}
	}
	return len(rows), nil
}

// Unseal returns the certificate of a record whose name is sealed
// (NameSealed) with the store's data key; Cert for any other record.
func (i *Issued) Unseal(key *pii.Key) (*x509.Certificate, error) {
	if !i.NameSealed {
		return i.Cert, nil
	}
	serial := SerialHex(i.Serial)
	if !pii.IsSealed(i.sealed) {
		return nil, fmt.Errorf("certificate %s: %s holds no sealed value", serial, fieldCertSealed)
	}
	b64, err := key.Open(fieldCertSealed, serial, i.sealed)
	if err != nil {
		return nil, err
	}
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("sealed certificate %s: %w", serial, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("sealed certificate %s: %w", serial, err)
	}
	return cert, nil
}
