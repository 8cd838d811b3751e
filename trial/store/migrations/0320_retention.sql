-- A retention date per trial: the last day (YYYY-MM-DD, Japan's calendar)
-- its monitors' personal fields are kept; '' when none is set. From the day
-- after, trial.Service.PurgeExpired erases them in one audited transaction.
ALTER TABLE trials ADD COLUMN retain_until TEXT NOT NULL DEFAULT '';
CREATE INDEX trials_retain_until ON trials(retain_until) WHERE retain_until <> '';
