-- The internet-banking login demo. A bank account belongs to a monitor but
-- holds no personal data: a card or phone logs in through the issuer and
-- serial of its user-authentication certificate.
CREATE TABLE bank_accounts (
	id {{pk}},
	monitor_id TEXT NOT NULL UNIQUE REFERENCES monitors(id),
	created_at {{time}} NOT NULL,
	-- TOTP (RFC 6238): the shared secret once enrolled, and the last time
	-- step a code was accepted for (a code is good once).
	totp_secret {{blob}},
	totp_enrolled_at {{time}},
	totp_last_step {{int64}} NOT NULL DEFAULT -1
);

-- A registered certificate (a My Number card's or a lent phone's).
CREATE TABLE bank_credentials (
	id {{pk}},
	account_id {{int64}} NOT NULL REFERENCES bank_accounts(id),
	method TEXT NOT NULL CHECK (method IN ('card', 'phone')),
	cert_issuer TEXT NOT NULL,
	cert_serial TEXT NOT NULL,
	cert_sha256 TEXT NOT NULL,
	registered_at {{time}} NOT NULL,
	UNIQUE (cert_issuer, cert_serial)
);

-- Challenges: 32 random bytes, good once and briefly, for a login or a
-- registration (which comes before the account exists).
CREATE TABLE bank_challenges (
	id {{pk}},
	monitor_id TEXT NOT NULL REFERENCES monitors(id),
	purpose TEXT NOT NULL CHECK (purpose IN ('register', 'login')),
	nonce {{blob}} NOT NULL,
	created_at {{time}} NOT NULL,
	expires_at {{time}} NOT NULL,
	used_at {{time}}
);

-- Statement lines; update_id is set on lines a scheduled update added.
CREATE TABLE bank_transactions (
	id {{pk}},
	account_id {{int64}} NOT NULL REFERENCES bank_accounts(id),
	at {{time}} NOT NULL,
	amount {{int64}} NOT NULL,
	description TEXT NOT NULL,
	update_id {{int64}}
);
CREATE INDEX bank_transactions_account ON bank_transactions(account_id, at);

-- The demo data update of a loan trial: due on a date, applied once.
CREATE TABLE bank_updates (
	id {{pk}},
	trial_id {{int64}} NOT NULL REFERENCES trials(id),
	due_on TEXT NOT NULL,
	scheduled_at {{time}} NOT NULL,
	applied_at {{time}},
	applied_by TEXT NOT NULL DEFAULT '',
	accounts {{int64}} NOT NULL DEFAULT 0
);

-- Every login or registration attempt, for the trial's analysis.
CREATE TABLE bank_attempts (
	id {{pk}},
	trial_id {{int64}} NOT NULL,
	monitor_id TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('register', 'login')),
	method TEXT NOT NULL CHECK (method IN ('card', 'phone', 'totp')),
	ok {{bool}} NOT NULL,
	reason TEXT NOT NULL,
	started_at {{time}} NOT NULL,
	duration_ms {{int64}} NOT NULL,
	tries {{int64}} NOT NULL
);
CREATE INDEX bank_attempts_trial ON bank_attempts(trial_id, method);
