-- The trial PKI: its three CAs, the certificates they issue, published CRLs
-- and the trust anchors (the trial root plus imported real JPKI CA certificates).

-- role: root signs auth and sign; auth issues user-authentication
-- certificates, sign issues signature certificates. key_sealed is the
-- PKCS#8 private key sealed under the CA passphrase (pki/keyseal.go).
CREATE TABLE pki_cas (
	role TEXT PRIMARY KEY CHECK (role IN ('root', 'auth', 'sign')),
	cert_der {{blob}} NOT NULL,
	key_sealed {{blob}} NOT NULL,
	crl_url TEXT NOT NULL DEFAULT '',
	ocsp_url TEXT NOT NULL DEFAULT '',
	crl_number {{int64}} NOT NULL DEFAULT 0,
	created_at {{time}} NOT NULL
);

-- serial: lowercase hex of the positive serial number, no leading zeros.
-- Random 128-bit serials: unique by this key, retried on the (2^-64) clash.
CREATE TABLE pki_certs (
	serial TEXT PRIMARY KEY,
	ca_role TEXT NOT NULL REFERENCES pki_cas(role),
	kind TEXT NOT NULL CHECK (kind IN ('auth', 'sign')),
	holder TEXT NOT NULL,
	subject TEXT NOT NULL,
	not_before {{time}} NOT NULL,
	not_after {{time}} NOT NULL,
	cert_der {{blob}} NOT NULL,
	issued_at {{time}} NOT NULL,
	revoked_at {{time}},
	revocation_reason INTEGER
);
CREATE INDEX pki_certs_holder ON pki_certs(holder);
CREATE INDEX pki_certs_revoked ON pki_certs(ca_role, revoked_at);

CREATE TABLE pki_crls (
	id {{pk}},
	ca_role TEXT NOT NULL REFERENCES pki_cas(role),
	number {{int64}} NOT NULL,
	this_update {{time}} NOT NULL,
	next_update {{time}} NOT NULL,
	der {{blob}} NOT NULL,
	UNIQUE (ca_role, number)
);

CREATE TABLE pki_anchors (
	fingerprint TEXT PRIMARY KEY,
	subject TEXT NOT NULL,
	der {{blob}} NOT NULL,
	source TEXT NOT NULL,
	imported_at {{time}} NOT NULL
);
