-- Trials, their sessions, monitors and consent.
CREATE TABLE trials (
	id {{pk}},
	name TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('loan', 'venue', 'field')),
	loan_days INTEGER NOT NULL DEFAULT 14,
	notes TEXT NOT NULL DEFAULT '',
	created_at {{time}} NOT NULL
);

CREATE TABLE sessions (
	id {{pk}},
	trial_id BIGINT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
	code TEXT NOT NULL UNIQUE,
	step TEXT NOT NULL DEFAULT '' CHECK (step IN ('', 'application', 'purchase', 'entry')),
	starts_on TEXT NOT NULL,
	venue TEXT NOT NULL DEFAULT '',
	capacity INTEGER NOT NULL CHECK (capacity >= 0),
	target INTEGER NOT NULL CHECK (target >= 0)
);
CREATE INDEX sessions_trial ON sessions(trial_id);

-- Pseudonymous ids are never reused: the counter only grows.
CREATE TABLE id_counters (
	name TEXT PRIMARY KEY,
	next_value BIGINT NOT NULL
);
INSERT INTO id_counters (name, next_value) VALUES ('monitor', 1);

CREATE TABLE monitors (
	id TEXT PRIMARY KEY,
	trial_id BIGINT NOT NULL REFERENCES trials(id),
	session_id BIGINT REFERENCES sessions(id),
	name TEXT NOT NULL DEFAULT '',
	kana TEXT NOT NULL DEFAULT '',
	age_band TEXT NOT NULL DEFAULT '',
	contact TEXT NOT NULL DEFAULT '',
	companion_of TEXT REFERENCES monitors(id),
	status TEXT NOT NULL CHECK (status IN ('enrolled', 'attended', 'completed', 'withdrawn')),
	consent_version TEXT NOT NULL DEFAULT '',
	consent_signed_on TEXT NOT NULL DEFAULT '',
	consent_staff TEXT NOT NULL DEFAULT '',
	withdrawn_at {{time}},
	created_at {{time}} NOT NULL,
	updated_at {{time}} NOT NULL
);
CREATE INDEX monitors_trial ON monitors(trial_id, status);
CREATE INDEX monitors_session ON monitors(session_id);
CREATE INDEX monitors_status ON monitors(status);

CREATE TABLE settings (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
