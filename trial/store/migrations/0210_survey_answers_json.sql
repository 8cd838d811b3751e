-- Each response carries its answers as one JSON object {question: value},
-- kept equal to its survey_answers rows by the triggers below, whichever
-- code writes them. The export reads 100,000 of these instead of
-- aggregating 4,000,000 answer rows (on SQLite that aggregation was most of
-- a big export's time). survey_answers stays the record: answered_at per
-- answer, the kiosk's resume and the tallies read it. NULL or {} is a
-- response without answers.
ALTER TABLE survey_responses ADD COLUMN answers TEXT;

-- dialect: sqlite
UPDATE survey_responses SET answers = (
	SELECT json_group_object(a.question, a.value) FROM survey_answers a WHERE a.response_id = survey_responses.id)
	WHERE EXISTS (SELECT 1 FROM survey_answers a WHERE a.response_id = survey_responses.id);

-- An added answer is merged into the object (no re-read of the others, so
-- a bulk import stays linear); a changed or removed one rebuilds it.
CREATE TRIGGER survey_answers_json_insert AFTER INSERT ON survey_answers BEGIN
	UPDATE survey_responses SET answers = json_patch(COALESCE(answers, '{}'), json_object(NEW.question, NEW.value))
		WHERE id = NEW.response_id;
END;

CREATE TRIGGER survey_answers_json_update AFTER UPDATE ON survey_answers BEGIN
	UPDATE survey_responses SET answers = (
		SELECT json_group_object(a.question, a.value) FROM survey_answers a WHERE a.response_id = survey_responses.id)
		WHERE id IN (OLD.response_id, NEW.response_id);
END;

CREATE TRIGGER survey_answers_json_delete AFTER DELETE ON survey_answers BEGIN
	UPDATE survey_responses SET answers = (
		SELECT json_group_object(a.question, a.value) FROM survey_answers a WHERE a.response_id = survey_responses.id)
		WHERE id = OLD.response_id;
END;

-- dialect: postgres
UPDATE survey_responses r SET answers = a.js
	FROM (SELECT response_id, json_object_agg(question, value)::text AS js FROM survey_answers GROUP BY response_id) a
	WHERE a.response_id = r.id;

-- Once per statement, for the responses it touched. The responses are
-- locked first: answers another laptop committed while this one waited are
-- then seen by the rebuild (READ COMMITTED reads with a new snapshot per
-- statement), so two laptops answering one response cannot drop each
-- other's answers from the object.
--
-- Both statements are planned on each call (EXECUTE): a plan cached while
-- the table was small (a fresh database filled in one import) scans the
-- whole table for every statement, which made a 100,000-response import
-- quadratic.
CREATE FUNCTION survey_answers_json_sync(ids BIGINT[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE 'SELECT 1 FROM survey_responses WHERE id = ANY($1) ORDER BY id FOR UPDATE' USING ids;
	EXECUTE 'UPDATE survey_responses r SET answers = (
		SELECT json_object_agg(a.question, a.value)::text FROM survey_answers a WHERE a.response_id = r.id)
		WHERE r.id = ANY($1)' USING ids;
END
$$;

CREATE FUNCTION survey_answers_json_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM survey_answers_json_sync(ARRAY(SELECT DISTINCT response_id FROM new_rows));
	ELSIF TG_OP = 'DELETE' THEN
		PERFORM survey_answers_json_sync(ARRAY(SELECT DISTINCT response_id FROM old_rows));
	ELSE
		PERFORM survey_answers_json_sync(ARRAY(
			SELECT response_id FROM new_rows UNION SELECT response_id FROM old_rows));
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER survey_answers_json_insert AFTER INSERT ON survey_answers
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION survey_answers_json_trigger();
CREATE TRIGGER survey_answers_json_update AFTER UPDATE ON survey_answers
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION survey_answers_json_trigger();
CREATE TRIGGER survey_answers_json_delete AFTER DELETE ON survey_answers
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION survey_answers_json_trigger();
