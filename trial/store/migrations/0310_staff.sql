-- Staff accounts (package trial/staff). No secret is stored in the clear:
-- password_hash and pin_hash are argon2id PHC strings; private_key is the
-- account's X25519 private key sealed under a key derived from its password;
-- wrapped_key is the store's one data key wrapped to the account's public
-- key ('' for accounts whose role holds no data key).
CREATE TABLE staff_accounts (
	id {{pk}},
	login TEXT NOT NULL UNIQUE, -- case-folded, [a-z0-9._-]{3,32}
	display_name TEXT NOT NULL,
	role TEXT NOT NULL CHECK (role IN ('coordinator', 'staff', 'analyst')),
	password_hash TEXT NOT NULL,
	public_key TEXT NOT NULL,
	private_key TEXT NOT NULL,
	wrapped_key TEXT NOT NULL DEFAULT '',
	pin_hash TEXT NOT NULL DEFAULT '',
	disabled {{bool}} NOT NULL DEFAULT FALSE,
	created_at {{time}} NOT NULL,
	last_login_at {{time}}
);

-- Consecutive failed attempts per key ("login:<folded login>", also for
-- logins that do not exist, and "kiosk:pin"); a success deletes the row.
CREATE TABLE staff_throttle (
	key TEXT PRIMARY KEY,
	failures INTEGER NOT NULL,
	last_failure_at {{time}} NOT NULL
);

-- Command-line session tokens: only the SHA-256 of the token is kept; the
-- data key is wrapped under a key derived from the token itself.
CREATE TABLE staff_tokens (
	token_hash TEXT PRIMARY KEY,
	account_id BIGINT NOT NULL REFERENCES staff_accounts(id) ON DELETE CASCADE,
	wrapped_key TEXT NOT NULL DEFAULT '',
	created_at {{time}} NOT NULL,
	expires_at {{time}} NOT NULL
);
CREATE INDEX staff_tokens_account ON staff_tokens(account_id);
CREATE INDEX staff_tokens_expiry ON staff_tokens(expires_at);
