-- FlowATS schema, SQLite dialect. Keep in step with ../postgres/0001_init.sql:
-- same tables, columns, constraints and index names; only the types differ.
-- Ids are UUIDv7 stored as 16-byte BLOBs (time ordered); timestamps are fixed-width
-- RFC 3339 UTC text with microseconds, so text order is time order.

CREATE TABLE users (
    id            BLOB PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    name          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE profiles (
    user_id    BLOB PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    full_name  TEXT,
    headline   TEXT,
    summary    TEXT,
    location   TEXT,
    phone      TEXT,
    website    TEXT,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE skills (
    id          BLOB PRIMARY KEY NOT NULL,
    user_id     BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    category    TEXT,
    proficiency INTEGER CHECK (proficiency BETWEEN 1 AND 5),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX idx_skills_user_created ON skills (user_id, created_at DESC, id DESC);

CREATE TABLE education (
    id             BLOB PRIMARY KEY NOT NULL,
    user_id        BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    institution    TEXT NOT NULL,
    degree         TEXT,
    field_of_study TEXT,
    start_date     TEXT,
    end_date       TEXT,
    gpa            REAL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX idx_education_user_created ON education (user_id, created_at DESC, id DESC);

CREATE TABLE employment (
    id          BLOB PRIMARY KEY NOT NULL,
    user_id     BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    company     TEXT NOT NULL,
    title       TEXT NOT NULL,
    start_date  TEXT,
    end_date    TEXT,
    description TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX idx_employment_user_created ON employment (user_id, created_at DESC, id DESC);

CREATE TABLE jobs (
    id          BLOB PRIMARY KEY NOT NULL,
    user_id     BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    company     TEXT NOT NULL,
    location    TEXT,
    url         TEXT,
    description TEXT,
    salary_min  INTEGER,
    salary_max  INTEGER,
    status      TEXT NOT NULL CHECK (status IN ('interested', 'applied', 'screening',
                    'interviewing', 'offer', 'accepted', 'rejected', 'withdrawn')),
    deadline    TEXT,
    notes       TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
-- The seed's idx_jobs_created, led by user_id: it is also the keyset index of job lists.
CREATE INDEX idx_jobs_created ON jobs (user_id, created_at DESC, id DESC);
CREATE INDEX idx_jobs_user_status ON jobs (user_id, status, created_at DESC, id DESC);

CREATE TABLE job_events (
    id          BLOB PRIMARY KEY NOT NULL,
    user_id     BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    job_id      BLOB NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX idx_job_events_user_job ON job_events (user_id, job_id, created_at DESC, id DESC);

CREATE TABLE ai_artifacts (
    id         BLOB PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    job_id     BLOB REFERENCES jobs(id) ON DELETE SET NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('resume', 'cover_letter')),
    content    TEXT NOT NULL,
    metadata   TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX idx_ai_artifacts_user_kind ON ai_artifacts (user_id, kind);
-- The seed's idx_ai_artifacts_created, led by user_id: the keyset index of artifact lists.
CREATE INDEX idx_ai_artifacts_created ON ai_artifacts (user_id, created_at DESC, id DESC);

CREATE TABLE job_analytics_cache (
    id              BLOB PRIMARY KEY NOT NULL,
    user_id         BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    job_id          BLOB NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    profile_version INTEGER NOT NULL,
    score           INTEGER NOT NULL,
    result          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (user_id, job_id, profile_version)
);
CREATE INDEX idx_analytics_user_job ON job_analytics_cache (user_id, job_id);
CREATE INDEX idx_analytics_profile_version ON job_analytics_cache (user_id, profile_version);
