-- Phones and SIMs lent to monitors, and the loans themselves.
CREATE TABLE devices (
	id {{pk}},
	kind TEXT NOT NULL CHECK (kind IN ('phone', 'sim')),
	-- IMEI (15 digits) of a phone, ICCID (19-20 digits) of a SIM.
	serial TEXT NOT NULL UNIQUE,
	carrier TEXT NOT NULL CHECK (carrier IN ('docomo', 'kddi', 'softbank', 'mvno')),
	model TEXT NOT NULL DEFAULT '',
	os TEXT NOT NULL DEFAULT '' CHECK (os IN ('', 'android', 'ios')),
	accessories TEXT NOT NULL DEFAULT '',
	applet_state TEXT NOT NULL DEFAULT '' CHECK (applet_state IN ('', 'blank', 'provisioned', 'wiped', 'unknown')),
	-- A SIM's SCP03 static key set: all of it or none of it.
	key_version INTEGER CHECK (key_version BETWEEN 1 AND 127),
	key_enc {{blob}},
	key_mac {{blob}},
	key_dek {{blob}},
	notes TEXT NOT NULL DEFAULT '',
	created_at {{time}} NOT NULL,
	CHECK ((kind = 'phone' AND os <> '' AND applet_state = '' AND key_version IS NULL)
	    OR (kind = 'sim' AND os = '' AND applet_state <> '')),
	CHECK ((key_version IS NULL AND key_enc IS NULL AND key_mac IS NULL AND key_dek IS NULL)
	    OR (key_version IS NOT NULL AND key_enc IS NOT NULL AND key_mac IS NOT NULL AND key_dek IS NOT NULL))
);
CREATE INDEX devices_kind ON devices(kind, serial);

CREATE TABLE loans (
	id {{pk}},
	monitor_id TEXT NOT NULL REFERENCES monitors(id),
	phone_id BIGINT NOT NULL REFERENCES devices(id),
	sim_id BIGINT NOT NULL REFERENCES devices(id),
	charger {{bool}} NOT NULL,
	accessories TEXT NOT NULL DEFAULT '',
	out_at {{time}} NOT NULL,
	out_staff TEXT NOT NULL,
	due_on TEXT NOT NULL, -- YYYY-MM-DD, the last day of the loan
	in_at {{time}},
	in_staff TEXT NOT NULL DEFAULT '',
	condition_notes TEXT NOT NULL DEFAULT '',
	missing TEXT NOT NULL DEFAULT '',
	CHECK (phone_id <> sim_id),
	CHECK ((in_at IS NULL AND in_staff = '') OR (in_at IS NOT NULL AND in_staff <> ''))
);
-- The lending rules live in the database, not in a read before the write:
-- one open loan per phone, per SIM and per monitor, whichever laptop asks.
CREATE UNIQUE INDEX loans_open_phone ON loans(phone_id) WHERE in_at IS NULL;
CREATE UNIQUE INDEX loans_open_sim ON loans(sim_id) WHERE in_at IS NULL;
CREATE UNIQUE INDEX loans_open_monitor ON loans(monitor_id) WHERE in_at IS NULL;
CREATE INDEX loans_phone ON loans(phone_id);
CREATE INDEX loans_sim ON loans(sim_id);
CREATE INDEX loans_monitor ON loans(monitor_id);
CREATE INDEX loans_due ON loans(due_on) WHERE in_at IS NULL;

-- What happened to a loan, in order: check-out, each extension, check-in.
CREATE TABLE loan_events (
	id {{pk}},
	loan_id BIGINT NOT NULL REFERENCES loans(id),
	at {{time}} NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('checkout', 'extend', 'checkin')),
	staff TEXT NOT NULL DEFAULT '',
	due_before TEXT NOT NULL DEFAULT '',
	due_after TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX loan_events_loan ON loan_events(loan_id, id);
