//! Every statement, written once in the SQL both backends accept: `$n` parameters (SQLite
//! reads `$1` as parameter 1), `RETURNING`, `CAST`, `COALESCE`, `lower`, `LIKE … ESCAPE`.
//! A statement is forked only where the dialects truly differ: row locks (`FOR UPDATE`,
//! PostgreSQL only; SQLite's write transactions start with `BEGIN IMMEDIATE` instead).

pub const USER_INSERT: &str = "INSERT INTO users (id, email, password_hash, name, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $5) RETURNING id, email, name, created_at";
pub const USER_GET: &str = "SELECT id, email, name, created_at FROM users WHERE id = $1";
pub const USER_EXISTS: &str = "SELECT COUNT(*) FROM users WHERE id = $1";
pub const USER_CREDENTIALS: &str = "SELECT id, password_hash FROM users WHERE email = $1";
pub const USER_DELETE: &str = "DELETE FROM users WHERE id = $1";

/// Account deletion: every per-user table, children first, then the user, in one
/// transaction. Foreign keys would cascade too; naming each table keeps this list the one
/// place to update when a table is added.
pub const USER_DELETE_ROWS: [&str; 17] = [
    "DELETE FROM sessions WHERE user_id = $1",
    "DELETE FROM idempotency_keys WHERE user_id = $1",
    "DELETE FROM notes WHERE user_id = $1",
    "DELETE FROM tasks WHERE user_id = $1",
    "DELETE FROM task_rules WHERE user_id = $1",
    "DELETE FROM interviews WHERE user_id = $1",
    "DELETE FROM job_contacts WHERE user_id = $1",
    "DELETE FROM contacts WHERE user_id = $1",
    "DELETE FROM job_tags WHERE user_id = $1",
    "DELETE FROM job_analytics_cache WHERE user_id = $1",
    "DELETE FROM ai_artifacts WHERE user_id = $1",
    "DELETE FROM job_events WHERE user_id = $1",
    "DELETE FROM jobs WHERE user_id = $1",
    "DELETE FROM skills WHERE user_id = $1",
    "DELETE FROM education WHERE user_id = $1",
    "DELETE FROM employment WHERE user_id = $1",
    "DELETE FROM profiles WHERE user_id = $1",
];

pub const PROFILE_INSERT: &str =
    "INSERT INTO profiles (user_id, version, created_at, updated_at) VALUES ($1, 1, $2, $2)";
pub const PROFILE_GET: &str = "SELECT full_name, headline, summary, location, phone, website, version, updated_at \
     FROM profiles WHERE user_id = $1";
pub const PROFILE_PUT: &str = "UPDATE profiles SET updated_at = $2, version = version + 1, full_name = $3, \
     headline = $4, summary = $5, location = $6, phone = $7, website = $8 WHERE user_id = $1 \
     RETURNING full_name, headline, summary, location, phone, website, version, updated_at";
pub const PROFILE_BUMP: &str =
    "UPDATE profiles SET version = version + 1, updated_at = $2 WHERE user_id = $1";

/// The statements of one profile item table. `$1` id, `$2` user, `$3` timestamp, then the
/// fields in the order of the column list.
macro_rules! item_sql {
    ($module:ident, $table:literal, $cols:literal, $values:literal, $sets:literal) => {
        pub mod $module {
            pub const LIST: &str = concat!(
                "SELECT id, ",
                $cols,
                ", created_at, updated_at FROM ",
                $table,
                " WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
            );
            /// Keyset page: `$2`, `$3` the last row's `created_at` and id, `$4` the limit.
            pub const AFTER: &str = concat!(
                "SELECT id, ",
                $cols,
                ", created_at, updated_at FROM ",
                $table,
                " WHERE user_id = $1 AND (created_at, id) < ($2, $3) \
                 ORDER BY created_at DESC, id DESC LIMIT $4"
            );
            pub const COUNT: &str = concat!("SELECT COUNT(*) FROM ", $table, " WHERE user_id = $1");
            pub const GET: &str = concat!(
                "SELECT id, ",
                $cols,
                ", created_at, updated_at FROM ",
                $table,
                " WHERE id = $1 AND user_id = $2"
            );
            /// PostgreSQL only: `GET` holding the row for a read-modify-write.
            pub const LOCK: &str = concat!(
                "SELECT id, ",
                $cols,
                ", created_at, updated_at FROM ",
                $table,
                " WHERE id = $1 AND user_id = $2 FOR UPDATE"
            );
            pub const INSERT: &str = concat!(
                "INSERT INTO ",
                $table,
                " (id, user_id, created_at, updated_at, ",
                $cols,
                ") VALUES ($1, $2, $3, $3, ",
                $values,
                ") RETURNING id, ",
                $cols,
                ", created_at, updated_at"
            );
            pub const UPDATE: &str = concat!(
                "UPDATE ",
                $table,
                " SET updated_at = $3, ",
                $sets,
                " WHERE id = $1 AND user_id = $2 RETURNING id, ",
                $cols,
                ", created_at, updated_at"
            );
            pub const DELETE: &str =
                concat!("DELETE FROM ", $table, " WHERE id = $1 AND user_id = $2");
        }
    };
}

item_sql!(
    skills,
    "skills",
    "name, category, proficiency",
    "$4, $5, $6",
    "name = $4, category = $5, proficiency = $6"
);
item_sql!(
    education,
    "education",
    "institution, degree, field_of_study, start_date, end_date, gpa",
    "$4, $5, $6, $7, $8, $9",
    "institution = $4, degree = $5, field_of_study = $6, start_date = $7, end_date = $8, gpa = $9"
);
item_sql!(
    employment,
    "employment",
    "company, title, start_date, end_date, description",
    "$4, $5, $6, $7, $8",
    "company = $4, title = $5, start_date = $6, end_date = $7, description = $8"
);

macro_rules! job_cols {
    () => {
        "id, title, company, location, url, description, salary_min, salary_max, status, \
         deadline, notes, source, created_at, updated_at"
    };
}

/// `$2` status or NULL, `$3` a LIKE pattern ([`like_pattern`]) or NULL, `$4` a tag or
/// NULL (on `idx_job_tags_user_tag`). The pattern is
/// lower-cased by the database's own `lower`, as the columns are, so that any text matches
/// itself: SQLite's `lower` folds ASCII only, and a pattern folded by Rust would miss a
/// title with a capital `Ü` there.
macro_rules! job_filter {
    () => {
        " WHERE user_id = $1 AND (CAST($2 AS TEXT) IS NULL OR status = $2) \
          AND (CAST($3 AS TEXT) IS NULL OR lower(title) LIKE lower($3) ESCAPE '\\' \
          OR lower(company) LIKE lower($3) ESCAPE '\\' \
          OR lower(COALESCE(notes, '')) LIKE lower($3) ESCAPE '\\') \
          AND (CAST($4 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM job_tags t \
               WHERE t.user_id = $1 AND t.tag = $4 AND t.job_id = jobs.id))"
    };
}

pub const JOB_INSERT: &str = concat!(
    "INSERT INTO jobs (id, user_id, created_at, updated_at, title, company, location, url, \
     description, salary_min, salary_max, status, deadline, notes, source, dedup_url, dedup_name) \
     VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING ",
    job_cols!()
);
pub const JOB_GET: &str = concat!(
    "SELECT ",
    job_cols!(),
    " FROM jobs WHERE id = $1 AND user_id = $2"
);
/// PostgreSQL locks the row for the read-modify-write of a PATCH; SQLite needs no lock
/// clause because its write transactions start with `BEGIN IMMEDIATE`.
pub const JOB_LOCK_PG: &str = concat!(
    "SELECT ",
    job_cols!(),
    " FROM jobs WHERE id = $1 AND user_id = $2 FOR UPDATE"
);
/// The job list in each order: `[offset page, keyset page]`. Offset: `$5` limit, `$6`
/// offset. Keyset: `$5`, `$6` the last row's sort key and id, `$7` limit. The row-value
/// comparison plus the matching `ORDER BY` walks `idx_jobs_created` (newest, oldest) or
/// `idx_jobs_updated` (updated) from the position, so a deep page costs what the first does.
macro_rules! job_pages {
    ($order:literal, $after:literal) => {
        [
            concat!(
                "SELECT ",
                job_cols!(),
                " FROM jobs",
                job_filter!(),
                " ORDER BY ",
                $order,
                " LIMIT $5 OFFSET $6"
            ),
            concat!(
                "SELECT ",
                job_cols!(),
                " FROM jobs",
                job_filter!(),
                " AND ",
                $after,
                " ORDER BY ",
                $order,
                " LIMIT $7"
            ),
        ]
    };
}

pub const JOB_PAGES_NEWEST: [&str; 2] =
    job_pages!("created_at DESC, id DESC", "(created_at, id) < ($5, $6)");
pub const JOB_PAGES_OLDEST: [&str; 2] =
    job_pages!("created_at ASC, id ASC", "(created_at, id) > ($5, $6)");
pub const JOB_PAGES_UPDATED: [&str; 2] =
    job_pages!("updated_at DESC, id DESC", "(updated_at, id) < ($5, $6)");

pub fn job_pages(sort: crate::models::JobSort) -> [&'static str; 2] {
    use crate::models::JobSort;
    match sort {
        JobSort::Newest => JOB_PAGES_NEWEST,
        JobSort::Oldest => JOB_PAGES_OLDEST,
        JobSort::Updated => JOB_PAGES_UPDATED,
    }
}
pub const JOB_COUNT: &str = concat!("SELECT COUNT(*) FROM jobs", job_filter!());
pub const JOB_UPDATE: &str = concat!(
    "UPDATE jobs SET updated_at = $3, title = $4, company = $5, location = $6, url = $7, \
     description = $8, salary_min = $9, salary_max = $10, status = $11, deadline = $12, \
     notes = $13, source = $14, dedup_url = $15, dedup_name = $16 \
     WHERE id = $1 AND user_id = $2 RETURNING ",
    job_cols!()
);
/// Events and analytics go with the job (ON DELETE CASCADE); artifacts keep their text.
pub const JOB_DELETE: &str = "DELETE FROM jobs WHERE id = $1 AND user_id = $2";
pub const JOB_STATS: &str =
    "SELECT status, COUNT(*) AS count FROM jobs WHERE user_id = $1 GROUP BY status";

pub const EVENT_INSERT: &str = "INSERT INTO job_events (id, user_id, job_id, from_status, to_status, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";
pub const EVENT_LIST: &str = "SELECT id, job_id, from_status, to_status, created_at FROM job_events \
     WHERE user_id = $1 AND job_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4";
pub const EVENT_AFTER: &str = "SELECT id, job_id, from_status, to_status, created_at FROM job_events \
     WHERE user_id = $1 AND job_id = $2 AND (created_at, id) < ($3, $4) \
     ORDER BY created_at DESC, id DESC LIMIT $5";
pub const EVENT_COUNT: &str = "SELECT COUNT(*) FROM job_events WHERE user_id = $1 AND job_id = $2";

pub mod tracker;

pub const PING: &str = "SELECT 1";

/// A `LIKE` pattern matching `q` anywhere, with `%`, `_` and `\` taken literally; the
/// queries lower-case it (see `job_filter!`).
pub fn like_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Bulk loading (`flowats seed`): the column lists of jobs and their creation events, in
/// the order the loaders send values: `VALUES` on SQLite, `COPY` (text format) on PostgreSQL.
pub const JOB_BULK_INSERT: &str = "INSERT INTO jobs (id, user_id, created_at, updated_at, title, \
    company, location, url, description, salary_min, salary_max, status, deadline, notes, source, \
    dedup_url, dedup_name) ";
pub const EVENT_BULK_INSERT: &str =
    "INSERT INTO job_events (id, user_id, job_id, from_status, to_status, created_at) ";
pub const JOB_COPY: &str = "COPY jobs (id, user_id, created_at, updated_at, title, company, \
    location, url, description, salary_min, salary_max, status, deadline, notes, source, dedup_url, \
    dedup_name) FROM STDIN";
pub const EVENT_COPY: &str =
    "COPY job_events (id, user_id, job_id, from_status, to_status, created_at) FROM STDIN";

/// Job analytics, one row per (user, job, profile version). `$1` user, `$2` job, `$3`
/// profile version.
pub const ANALYTICS_GET: &str = "SELECT score, result, created_at FROM job_analytics_cache \
    WHERE user_id = $1 AND job_id = $2 AND profile_version = $3";
/// `$1` id, `$2` user, `$3` job, `$4` profile version, `$5` score, `$6` result, `$7` time.
pub const ANALYTICS_PUT: &str = "INSERT INTO job_analytics_cache \
    (id, user_id, job_id, profile_version, score, result, created_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7) \
    ON CONFLICT (user_id, job_id, profile_version) \
    DO UPDATE SET score = excluded.score, result = excluded.result, created_at = excluded.created_at";
/// Results for older profile versions are never read again.
pub const ANALYTICS_PRUNE: &str = "DELETE FROM job_analytics_cache \
    WHERE user_id = $1 AND job_id = $2 AND profile_version < $3";

/// Every status change of the user's jobs, per job in time order (the funnel). `$1` user.
pub const EVENT_HISTORY: &str = "SELECT e.job_id, e.to_status, e.created_at, j.source \
    FROM job_events e JOIN jobs j ON j.id = e.job_id \
    WHERE e.user_id = $1 ORDER BY e.job_id, e.created_at, e.id";

macro_rules! artifact_cols {
    () => {
        "id, job_id, kind, content, metadata, fingerprint, created_at, updated_at"
    };
}

/// `$2` kind or NULL, `$3` job id or NULL.
macro_rules! artifact_filter {
    () => {
        " WHERE user_id = $1 AND (CAST($2 AS TEXT) IS NULL OR kind = $2) \
          AND (CAST($3 AS UUID) IS NULL OR job_id = $3)"
    };
}

/// `$1` id, `$2` user, `$3` job, `$4` kind, `$5` content, `$6` metadata, `$7` fingerprint,
/// `$8` time.
pub const ARTIFACT_INSERT: &str = concat!(
    "INSERT INTO ai_artifacts (id, user_id, job_id, kind, content, metadata, fingerprint, \
     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING ",
    artifact_cols!()
);
pub const ARTIFACT_GET: &str = concat!(
    "SELECT ",
    artifact_cols!(),
    " FROM ai_artifacts WHERE id = $1 AND user_id = $2"
);
/// An edited draft: `$3` content, `$4` time; no longer the generator's output.
pub const ARTIFACT_UPDATE: &str = concat!(
    "UPDATE ai_artifacts SET content = $3, fingerprint = NULL, updated_at = $4 \
     WHERE id = $1 AND user_id = $2 RETURNING ",
    artifact_cols!()
);
pub const ARTIFACT_DELETE: &str = "DELETE FROM ai_artifacts WHERE id = $1 AND user_id = $2";
/// `[offset page ($4 limit, $5 offset), keyset page ($4, $5 position, $6 limit)]`, newest
/// first on `idx_ai_artifacts_created`.
pub const ARTIFACT_PAGES: [&str; 2] = [
    concat!(
        "SELECT ",
        artifact_cols!(),
        " FROM ai_artifacts",
        artifact_filter!(),
        " ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5"
    ),
    concat!(
        "SELECT ",
        artifact_cols!(),
        " FROM ai_artifacts",
        artifact_filter!(),
        " AND (created_at, id) < ($4, $5) ORDER BY created_at DESC, id DESC LIMIT $6"
    ),
];
pub const ARTIFACT_COUNT: &str = concat!("SELECT COUNT(*) FROM ai_artifacts", artifact_filter!());
/// The newest unedited artifact made from the same inputs since `$5`.
pub const ARTIFACT_REUSE: &str = concat!(
    "SELECT ",
    artifact_cols!(),
    " FROM ai_artifacts WHERE user_id = $1 AND job_id = $2 AND kind = $3 \
     AND fingerprint = $4 AND created_at > $5 ORDER BY created_at DESC, id DESC LIMIT 1"
);
