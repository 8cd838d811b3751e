-- Provisioning the user-authentication function onto lent phones (the
-- counter-terminal flow) and onto iOS phones (a CSR), and the identity
-- proofing with the monitor's My Number card that both require.
-- Certificates are referred to by serial (lower-case hex, as pki_certs):
-- pki's tables come later in the migration order.

-- One identity proofing: the monitor's card auth certificate validated and
-- a fresh challenge signed with it. Failures are kept too, with the reason.
CREATE TABLE identity_proofings (
	id {{pk}},
	monitor_id TEXT NOT NULL REFERENCES monitors(id),
	at {{time}} NOT NULL,
	staff TEXT NOT NULL DEFAULT '',
	ok {{bool}} NOT NULL,
	card_cert_serial TEXT NOT NULL DEFAULT '',
	card_cert_issuer TEXT NOT NULL DEFAULT '',
	card_cert_sha256 TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX identity_proofings_monitor ON identity_proofings(monitor_id, at);

-- step is the last step completed (proofed, channel, keygen, issued,
-- stored, pin, committed, verified, linked); status says where the whole
-- run stands. applet_state is the SIM applet's state as last read back
-- over the secure channel ('' when never read, 'unknown' when the phone
-- went away before it could be).
CREATE TABLE provisionings (
	id {{pk}},
	path TEXT NOT NULL CHECK (path IN ('android', 'ios')),
	monitor_id TEXT NOT NULL REFERENCES monitors(id),
	loan_id BIGINT REFERENCES loans(id),
	sim_serial TEXT NOT NULL DEFAULT '',
	proofing_id BIGINT REFERENCES identity_proofings(id),
	step TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL CHECK (status IN ('active', 'failed', 'provisioned', 'rolled_back', 'returned')),
	applet_state TEXT NOT NULL DEFAULT '',
	cert_serial TEXT NOT NULL DEFAULT '',
	staff TEXT NOT NULL DEFAULT '',
	started_at {{time}} NOT NULL,
	updated_at {{time}} NOT NULL,
	-- An iOS provisioning names the loan when the monitor has a phone out.
	CHECK ((path = 'android' AND loan_id IS NOT NULL AND sim_serial <> '') OR (path = 'ios' AND sim_serial = ''))
);
-- One unfinished or live Android provisioning per loan, whichever laptop runs it.
CREATE UNIQUE INDEX provisionings_loan_live ON provisionings(loan_id)
	WHERE status IN ('active', 'failed', 'provisioned');
CREATE INDEX provisionings_monitor ON provisionings(monitor_id);
CREATE INDEX provisionings_cert ON provisionings(cert_serial);

-- Every step, in order, with the applet state read back after it.
CREATE TABLE provisioning_events (
	id {{pk}},
	provisioning_id BIGINT NOT NULL REFERENCES provisionings(id),
	at {{time}} NOT NULL,
	step TEXT NOT NULL,
	ok {{bool}} NOT NULL,
	applet_state TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX provisioning_events_run ON provisioning_events(provisioning_id, id);
