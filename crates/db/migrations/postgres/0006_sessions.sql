-- Sessions that can end, and idempotent creation (issue 18). Keep in step with
-- ../sqlite/0006_sessions.sql.

-- One row per signed-in token (`sid` claim). Logging out or changing the password deletes
-- rows; a token whose row is gone is refused. Rows past `expires_at` (the token's own
-- expiry) are purged.
CREATE TABLE sessions (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_sessions_user ON sessions (user_id, id);
CREATE INDEX idx_sessions_expires ON sessions (expires_at);

-- The first answer to a POST sent with an `Idempotency-Key`, per user and key. `status` is
-- NULL while the first request runs. `fingerprint` is a hash of method, path, query and
-- body: the same key with another request is refused.
CREATE TABLE idempotency_keys (
    user_id      UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    status       BIGINT,
    content_type TEXT,
    body         BYTEA,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idx_idempotency_keys_created ON idempotency_keys (created_at);
