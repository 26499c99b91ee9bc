-- Tracker depth (issue 11): contacts and their links to jobs, interviews, tasks and the
-- follow-up rules that create them, notes, tags, a job's source, and the keys of duplicate
-- detection. Keep in step with ../postgres/0004_tracker.sql. Every per-user table leads its
-- indexes with user_id.

-- Where the job was found (board, referral, …): grouped for response times by source.
ALTER TABLE jobs ADD COLUMN source TEXT;
-- Duplicate detection: the normalized URL, and company + title, computed by the server
-- (flowats_db::dedup). Rows written before this migration get theirs from `migrate`, which
-- fills every row whose dedup_name is NULL after the migrations have run.
ALTER TABLE jobs ADD COLUMN dedup_url TEXT;
ALTER TABLE jobs ADD COLUMN dedup_name TEXT;
CREATE INDEX idx_jobs_dedup_url ON jobs (user_id, dedup_url);
CREATE INDEX idx_jobs_dedup_name ON jobs (user_id, dedup_name);

CREATE TABLE job_tags (
    user_id    BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    job_id     BLOB NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,
    PRIMARY KEY (job_id, tag)
);
CREATE INDEX idx_job_tags_user_tag ON job_tags (user_id, tag, job_id);

CREATE TABLE contacts (
    id         BLOB PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    email      TEXT,
    phone      TEXT,
    company    TEXT,
    role       TEXT CHECK (role IN ('recruiter', 'hiring_manager', 'interviewer', 'referrer',
                   'reference', 'other')),
    notes      TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX idx_contacts_user_created ON contacts (user_id, created_at DESC, id DESC);

CREATE TABLE job_contacts (
    user_id    BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    job_id     BLOB NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    contact_id BLOB NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    role       TEXT CHECK (role IN ('recruiter', 'hiring_manager', 'interviewer', 'referrer',
                   'reference', 'other')),
    created_at TEXT NOT NULL,
    PRIMARY KEY (job_id, contact_id)
);
CREATE INDEX idx_job_contacts_user_job ON job_contacts (user_id, job_id, created_at DESC, contact_id DESC);
CREATE INDEX idx_job_contacts_contact ON job_contacts (user_id, contact_id);

CREATE TABLE interviews (
    id                BLOB PRIMARY KEY NOT NULL,
    user_id           BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    job_id            BLOB NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    kind              TEXT NOT NULL,
    scheduled_at      TEXT NOT NULL,
    duration_minutes  INTEGER,
    format            TEXT,
    location          TEXT,
    interviewer_ids   TEXT NOT NULL DEFAULT '[]',
    preparation_notes TEXT,
    outcome           TEXT NOT NULL DEFAULT 'pending',
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX idx_interviews_user_created ON interviews (user_id, created_at DESC, id DESC);
CREATE INDEX idx_interviews_user_job ON interviews (user_id, job_id, created_at DESC, id DESC);

CREATE TABLE task_rules (
    id         BLOB PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status     TEXT NOT NULL,
    delay_days INTEGER NOT NULL,
    title      TEXT,
    priority   TEXT NOT NULL DEFAULT 'medium',
    enabled    INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX idx_task_rules_user_created ON task_rules (user_id, created_at DESC, id DESC);
CREATE INDEX idx_task_rules_user_status ON task_rules (user_id, status);

CREATE TABLE tasks (
    id         BLOB PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    job_id     BLOB REFERENCES jobs(id) ON DELETE CASCADE,
    rule_id    BLOB REFERENCES task_rules(id) ON DELETE SET NULL,
    title      TEXT NOT NULL,
    due_date   TEXT,
    priority   TEXT NOT NULL DEFAULT 'medium',
    done       INTEGER NOT NULL DEFAULT 0,
    notes      TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX idx_tasks_user_created ON tasks (user_id, created_at DESC, id DESC);
CREATE INDEX idx_tasks_user_job ON tasks (user_id, job_id, created_at DESC, id DESC);
CREATE INDEX idx_tasks_user_due ON tasks (user_id, done, due_date);

CREATE TABLE notes (
    id         BLOB PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    job_id     BLOB REFERENCES jobs(id) ON DELETE CASCADE,
    contact_id BLOB REFERENCES contacts(id) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((job_id IS NULL) <> (contact_id IS NULL))
);
CREATE INDEX idx_notes_user_job ON notes (user_id, job_id, created_at DESC, id DESC);
CREATE INDEX idx_notes_user_contact ON notes (user_id, contact_id, created_at DESC, id DESC);
