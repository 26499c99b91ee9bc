-- FlowATS schema, PostgreSQL dialect. Keep in step with ../sqlite/0001_init.sql:
-- same tables, columns, constraints and index names; only the types differ.
-- Ids are UUIDv7 (native uuid, time ordered); timestamps are timestamptz
-- with microseconds, the precision the server writes on both backends.

CREATE TABLE users (
    id            UUID PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    name          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE profiles (
    user_id    UUID PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    full_name  TEXT,
    headline   TEXT,
    summary    TEXT,
    location   TEXT,
    phone      TEXT,
    website    TEXT,
    version    BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE skills (
    id          UUID PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    category    TEXT,
    proficiency BIGINT CHECK (proficiency BETWEEN 1 AND 5),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_skills_user_created ON skills (user_id, created_at DESC, id DESC);

CREATE TABLE education (
    id             UUID PRIMARY KEY,
    user_id        UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    institution    TEXT NOT NULL,
    degree         TEXT,
    field_of_study TEXT,
    start_date     DATE,
    end_date       DATE,
    gpa            DOUBLE PRECISION,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_education_user_created ON education (user_id, created_at DESC, id DESC);

CREATE TABLE employment (
    id          UUID PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    company     TEXT NOT NULL,
    title       TEXT NOT NULL,
    start_date  DATE,
    end_date    DATE,
    description TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_employment_user_created ON employment (user_id, created_at DESC, id DESC);

CREATE TABLE jobs (
    id          UUID PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    company     TEXT NOT NULL,
    location    TEXT,
    url         TEXT,
    description TEXT,
    salary_min  BIGINT,
    salary_max  BIGINT,
    status      TEXT NOT NULL CHECK (status IN ('interested', 'applied', 'screening',
                    'interviewing', 'offer', 'accepted', 'rejected', 'withdrawn')),
    deadline    DATE,
    notes       TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
-- The seed's idx_jobs_created, led by user_id: it is also the keyset index of job lists.
CREATE INDEX idx_jobs_created ON jobs (user_id, created_at DESC, id DESC);
CREATE INDEX idx_jobs_user_status ON jobs (user_id, status, created_at DESC, id DESC);

CREATE TABLE job_events (
    id          UUID PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    job_id      UUID NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_job_events_user_job ON job_events (user_id, job_id, created_at DESC, id DESC);

CREATE TABLE ai_artifacts (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    job_id     UUID REFERENCES jobs(id) ON DELETE SET NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('resume', 'cover_letter')),
    content    TEXT NOT NULL,
    metadata   JSONB,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_ai_artifacts_user_kind ON ai_artifacts (user_id, kind);
-- The seed's idx_ai_artifacts_created, led by user_id: the keyset index of artifact lists.
CREATE INDEX idx_ai_artifacts_created ON ai_artifacts (user_id, created_at DESC, id DESC);

CREATE TABLE job_analytics_cache (
    id              UUID PRIMARY KEY,
    user_id         UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    job_id          UUID NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    profile_version BIGINT NOT NULL,
    score           BIGINT NOT NULL,
    result          JSONB NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, job_id, profile_version)
);
CREATE INDEX idx_analytics_user_job ON job_analytics_cache (user_id, job_id);
CREATE INDEX idx_analytics_profile_version ON job_analytics_cache (user_id, profile_version);
