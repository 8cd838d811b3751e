-- The audit trail: append-only, each entry carrying the hash of the one
-- before it. audit_head holds the last sequence number and hash; appending
-- updates it first, which serialises appenders on PostgreSQL (row lock) as
-- BEGIN IMMEDIATE does on SQLite, and lets `audit verify` notice a cut tail.
CREATE TABLE audit_log (
	seq {{int64}} PRIMARY KEY,
	at {{time}} NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	subject TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT '',
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL
);
CREATE INDEX audit_log_action ON audit_log(action, at);

CREATE TABLE audit_head (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	seq {{int64}} NOT NULL,
	hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
