-- Throttled attempts (refused without checking the password or PIN) are
-- audited once per back-off window, not one entry each (trial/staff
-- claimAttempt). refusal_window is the last_failure_at of the window whose
-- first refusal was written to the trail (NULL: none yet); refused counts the
-- refusals since then that were not, which the key's next entry (a failure, a
-- success, the next window's first refusal, or the day-old row being
-- forgotten) writes out and resets.
ALTER TABLE staff_throttle ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE staff_throttle ADD COLUMN refusal_window {{time}};
