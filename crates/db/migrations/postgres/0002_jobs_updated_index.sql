-- Keyset index of the "recently updated" job order (sort=updated).
CREATE INDEX idx_jobs_updated ON jobs (user_id, updated_at DESC, id DESC);
