-- Virtual cards served through vpcd by a process (the GUI's virtual
-- readers, `jpkipilot vcard --trial-ca`) hold their private keys in that
-- process only. Each such process is a run: it beats (seen_at) while it
-- serves and marks ended_at when it stops. A run that ended, or has not
-- been seen for longer than pki.VirtualRunIdle, has lost its keys; the next
-- virtual card served anywhere on the store revokes its certificates.
CREATE TABLE pki_virtual_runs (
	id TEXT PRIMARY KEY,
	host TEXT NOT NULL,
	started_at {{time}} NOT NULL,
	seen_at {{time}} NOT NULL,
	ended_at {{time}}
);

-- virtual_run: the run that served the certificate's card; NULL for a
-- real card's or phone's certificate. '' marks a virtual card's certificate
-- from before runs were recorded (its run is over).
ALTER TABLE pki_certs ADD COLUMN virtual_run TEXT;
CREATE INDEX pki_certs_virtual ON pki_certs(virtual_run) WHERE virtual_run IS NOT NULL AND revoked_at IS NULL;

-- Signature certificates issued with a person's name before the store was
-- sealed: once sealed, their DER is kept here only, sealed by trial/pii
-- (field pki_certs.cert_sealed), the subject column is pseudonymised and
-- cert_der is emptied. '' for every other certificate.
ALTER TABLE pki_certs ADD COLUMN cert_sealed TEXT NOT NULL DEFAULT '';

-- Virtual cards' signature certificates from before this migration carry
-- the mark pki.VirtualCardMark in their name. (Their user-authentication
-- certificates carry the holder id only, like a real card's: they cannot
-- be told apart and stay as they are.)
UPDATE pki_certs SET virtual_run = '' WHERE kind = 'sign' AND subject LIKE '%(仮想カード / virtual card)';
