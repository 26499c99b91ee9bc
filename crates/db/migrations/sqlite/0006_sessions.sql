-- Sessions that can end, and idempotent creation (issue 18). Keep in step with
-- ../postgres/0006_sessions.sql.

-- One row per signed-in token (`sid` claim). Logging out or changing the password deletes
-- rows; a token whose row is gone is refused. Rows past `expires_at` (the token's own
-- expiry) are purged.
CREATE TABLE sessions (
    id         BLOB PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX idx_sessions_user ON sessions (user_id, id);
CREATE INDEX idx_sessions_expires ON sessions (expires_at);

-- The first answer to a POST sent with an `Idempotency-Key`, per user and key. `status` is
-- NULL while the first request runs. `fingerprint` is a hash of method, path, query and
-- body: the same key with another request is refused.
CREATE TABLE idempotency_keys (
    user_id      BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    status       INTEGER,
    content_type TEXT,
    body         BLOB,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idx_idempotency_keys_created ON idempotency_keys (created_at);
