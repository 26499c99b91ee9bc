-- What a generated artifact was made from (profile version, job version, provider), so an
-- identical request can reuse it for 7 days. NULL once the user edits the draft.
ALTER TABLE ai_artifacts ADD COLUMN fingerprint TEXT;
CREATE INDEX idx_ai_artifacts_reuse ON ai_artifacts (user_id, job_id, kind, fingerprint, created_at);
