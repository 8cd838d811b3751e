-- Questionnaires: registered XLSForm versions, responses and their answers.
-- A form version is immutable: its content hash is kept so that registering
-- the same form_id + version with different questions is refused.
CREATE TABLE survey_forms (
	id {{pk}},
	form_id TEXT NOT NULL,
	version TEXT NOT NULL,
	title TEXT NOT NULL,
	content_hash TEXT NOT NULL,
	source {{blob}} NOT NULL,
	added_at {{time}} NOT NULL,
	UNIQUE (form_id, version)
);

-- One questionnaire filled in by one monitor. completed_at is NULL while it
-- is in progress (Resume finds it).
CREATE TABLE survey_responses (
	id {{pk}},
	form_ref BIGINT NOT NULL REFERENCES survey_forms(id),
	monitor_id TEXT NOT NULL REFERENCES monitors(id),
	trial_id BIGINT REFERENCES trials(id),
	session_id BIGINT REFERENCES sessions(id),
	step TEXT NOT NULL DEFAULT '',
	mode TEXT NOT NULL DEFAULT 'kiosk' CHECK (mode IN ('kiosk', 'paper', 'demo')),
	started_at {{time}} NOT NULL,
	updated_at {{time}} NOT NULL,
	completed_at {{time}}
);
CREATE INDEX survey_responses_monitor ON survey_responses(monitor_id, form_ref);
CREATE INDEX survey_responses_trial ON survey_responses(trial_id);

-- One row per answered question; select_multiple as space-separated codes.
CREATE TABLE survey_answers (
	response_id BIGINT NOT NULL REFERENCES survey_responses(id) ON DELETE CASCADE,
	question TEXT NOT NULL,
	value TEXT NOT NULL,
	answered_at {{time}} NOT NULL,
	PRIMARY KEY (response_id, question)
);
