//! The tracker's statements: one module per record table (contacts, interviews, tasks,
//! task rules, notes) with the same statements and the same parameters, so one store
//! implementation serves all five ([`crate::store::RecordStore`]); then job links, tags,
//! duplicates, stale jobs and the export's batch queries.
//!
//! Record lists bind `$1` user, `$2` parent (job or contact), `$3` text, `$4` kind, `$5`
//! from, `$6` to, `$7` flag ([`crate::tracker::RecordFilter`]); each table's filter uses
//! those that mean something for it and tests the rest for NULL, so every statement takes
//! every parameter. Offset pages add `$8` limit, `$9` offset; keyset pages `$8`, `$9` the
//! last row's `created_at` and id, `$10` limit.

macro_rules! record_sql {
    (
        $module:ident, $table:literal,
        job = $job:literal, contact = $contact:literal,
        cols = $cols:literal,
        insert = $insert:literal, values = $values:literal,
        sets = $sets:literal,
        filter = $filter:literal $(,)?
    ) => {
        pub mod $module {
            macro_rules! select {
                () => {
                    concat!(
                        "SELECT id, ",
                        $job,
                        " AS job_id, ",
                        $contact,
                        " AS contact_id, ",
                        $cols,
                        ", created_at, updated_at FROM ",
                        $table
                    )
                };
            }
            macro_rules! returning {
                () => {
                    concat!(
                        " RETURNING id, ",
                        $job,
                        " AS job_id, ",
                        $contact,
                        " AS contact_id, ",
                        $cols,
                        ", created_at, updated_at"
                    )
                };
            }
            pub const LIST: &str = concat!(
                select!(),
                " WHERE user_id = $1 AND ",
                $filter,
                " ORDER BY created_at DESC, id DESC LIMIT $8 OFFSET $9"
            );
            pub const AFTER: &str = concat!(
                select!(),
                " WHERE user_id = $1 AND ",
                $filter,
                " AND (created_at, id) < ($8, $9) ORDER BY created_at DESC, id DESC LIMIT $10"
            );
            pub const COUNT: &str = concat!(
                "SELECT COUNT(*) FROM ",
                $table,
                " WHERE user_id = $1 AND ",
                $filter
            );
            pub const GET: &str = concat!(select!(), " WHERE id = $1 AND user_id = $2");
            /// PostgreSQL only: `GET` holding the row for a read-modify-write.
            pub const LOCK: &str = concat!(select!(), " WHERE id = $1 AND user_id = $2 FOR UPDATE");
            /// `$1` id, `$2` user, `$3` time, then the parent columns and the fields.
            pub const INSERT: &str = concat!(
                "INSERT INTO ",
                $table,
                " (id, user_id, created_at, updated_at, ",
                $insert,
                ") VALUES ($1, $2, $3, $3, ",
                $values,
                ")",
                returning!()
            );
            /// `$1` id, `$2` user, `$3` time, then the fields from `$4`.
            pub const UPDATE: &str = concat!(
                "UPDATE ",
                $table,
                " SET updated_at = $3, ",
                $sets,
                " WHERE id = $1 AND user_id = $2",
                returning!()
            );
            pub const DELETE: &str =
                concat!("DELETE FROM ", $table, " WHERE id = $1 AND user_id = $2");
        }
    };
}

record_sql!(
    contacts,
    "contacts",
    job = "CAST(NULL AS UUID)",
    contact = "CAST(NULL AS UUID)",
    cols = "name, email, phone, company, role, notes",
    insert = "name, email, phone, company, role, notes",
    values = "$4, $5, $6, $7, $8, $9",
    sets = "name = $4, email = $5, phone = $6, company = $7, role = $8, notes = $9",
    filter = "CAST($2 AS UUID) IS NULL \
        AND (CAST($3 AS TEXT) IS NULL OR lower(name) LIKE lower($3) ESCAPE '\\' \
             OR lower(COALESCE(company, '')) LIKE lower($3) ESCAPE '\\' \
             OR lower(COALESCE(email, '')) LIKE lower($3) ESCAPE '\\') \
        AND (CAST($4 AS TEXT) IS NULL OR role = $4) \
        AND CAST($5 AS DATE) IS NULL AND CAST($6 AS DATE) IS NULL \
        AND CAST($7 AS BOOLEAN) IS NULL",
);

record_sql!(
    interviews,
    "interviews",
    job = "job_id",
    contact = "CAST(NULL AS UUID)",
    cols = "kind, scheduled_at, duration_minutes, format, location, interviewer_ids, \
            preparation_notes, outcome",
    insert = "job_id, kind, scheduled_at, duration_minutes, format, location, interviewer_ids, \
              preparation_notes, outcome",
    values = "$4, $5, $6, $7, $8, $9, $10, $11, $12",
    sets = "kind = $4, scheduled_at = $5, duration_minutes = $6, format = $7, location = $8, \
            interviewer_ids = $9, preparation_notes = $10, outcome = $11",
    filter = "(CAST($2 AS UUID) IS NULL OR job_id = $2) \
        AND CAST($3 AS TEXT) IS NULL \
        AND (CAST($4 AS TEXT) IS NULL OR kind = $4) \
        AND CAST($5 AS DATE) IS NULL AND CAST($6 AS DATE) IS NULL \
        AND CAST($7 AS BOOLEAN) IS NULL",
);

record_sql!(
    tasks,
    "tasks",
    job = "job_id",
    contact = "CAST(NULL AS UUID)",
    cols = "title, due_date, priority, done, notes",
    insert = "job_id, title, due_date, priority, done, notes",
    values = "$4, $5, $6, $7, $8, $9",
    sets = "title = $4, due_date = $5, priority = $6, done = $7, notes = $8",
    filter = "(CAST($2 AS UUID) IS NULL OR job_id = $2) \
        AND CAST($3 AS TEXT) IS NULL \
        AND (CAST($4 AS TEXT) IS NULL OR priority = $4) \
        AND (CAST($5 AS DATE) IS NULL OR due_date >= $5) \
        AND (CAST($6 AS DATE) IS NULL OR due_date <= $6) \
        AND (CAST($7 AS BOOLEAN) IS NULL OR done = $7)",
);

record_sql!(
    task_rules,
    "task_rules",
    job = "CAST(NULL AS UUID)",
    contact = "CAST(NULL AS UUID)",
    cols = "status, delay_days, title, priority, enabled",
    insert = "status, delay_days, title, priority, enabled",
    values = "$4, $5, $6, $7, $8",
    sets = "status = $4, delay_days = $5, title = $6, priority = $7, enabled = $8",
    filter = "CAST($2 AS UUID) IS NULL \
        AND CAST($3 AS TEXT) IS NULL \
        AND (CAST($4 AS TEXT) IS NULL OR status = $4) \
        AND CAST($5 AS DATE) IS NULL AND CAST($6 AS DATE) IS NULL \
        AND CAST($7 AS BOOLEAN) IS NULL",
);

record_sql!(
    notes,
    "notes",
    job = "job_id",
    contact = "contact_id",
    cols = "body",
    insert = "job_id, contact_id, body",
    values = "$4, $5, $6",
    sets = "body = $4",
    filter = "(CAST($2 AS UUID) IS NULL OR job_id = $2 OR contact_id = $2) \
        AND CAST($3 AS TEXT) IS NULL AND CAST($4 AS TEXT) IS NULL \
        AND CAST($5 AS DATE) IS NULL AND CAST($6 AS DATE) IS NULL \
        AND CAST($7 AS BOOLEAN) IS NULL",
);

/// Is this job the user's? (`$1` job, `$2` user.)
pub const JOB_OWNED: &str = "SELECT COUNT(*) FROM jobs WHERE id = $1 AND user_id = $2";
pub const CONTACT_OWNED: &str = "SELECT COUNT(*) FROM contacts WHERE id = $1 AND user_id = $2";

/// The enabled rules for a status (`$1` user, `$2` status).
pub const RULES_FOR_STATUS: &str = "SELECT id, CAST(NULL AS UUID) AS job_id, \
    CAST(NULL AS UUID) AS contact_id, status, delay_days, title, priority, enabled, created_at, \
    updated_at FROM task_rules WHERE user_id = $1 AND status = $2 AND enabled = $3 \
    ORDER BY created_at, id";
/// A task a rule made: `$1` id, `$2` user, `$3` time, `$4` job, `$5` rule, `$6` title,
/// `$7` due date, `$8` priority.
pub const TASK_FROM_RULE: &str = "INSERT INTO tasks (id, user_id, created_at, updated_at, job_id, \
    rule_id, title, due_date, priority, done) VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9)";

/// Contact deletion takes the contact out of every interview's interviewers (`$1` user,
/// `$2` the contact id as text). The dialects differ: JSONB's `-` on PostgreSQL, `json_each`
/// on SQLite.
pub const UNLINK_INTERVIEWER_PG: &str = "UPDATE interviews SET interviewer_ids = interviewer_ids - $2 \
    WHERE user_id = $1 AND interviewer_ids ? $2";
pub const UNLINK_INTERVIEWER_SQLITE: &str = "UPDATE interviews SET interviewer_ids = \
    (SELECT json_group_array(value) FROM json_each(interviews.interviewer_ids) WHERE value <> $2) \
    WHERE user_id = $1 AND EXISTS (SELECT 1 FROM json_each(interviews.interviewer_ids) WHERE value = $2)";

/// Links of one job, newest first: `$1` user, `$2` job; offset `$3` limit `$4` offset;
/// keyset `$3` time `$4` contact id `$5` limit.
macro_rules! link_select {
    () => {
        "SELECT l.contact_id, l.role, c.name, c.email, c.company, l.created_at \
         FROM job_contacts l JOIN contacts c ON c.id = l.contact_id \
         WHERE l.user_id = $1 AND l.job_id = $2"
    };
}
pub const LINK_LIST: &str = concat!(
    link_select!(),
    " ORDER BY l.created_at DESC, l.contact_id DESC LIMIT $3 OFFSET $4"
);
pub const LINK_AFTER: &str = concat!(
    link_select!(),
    " AND (l.created_at, l.contact_id) < ($3, $4) ORDER BY l.created_at DESC, l.contact_id DESC LIMIT $5"
);
pub const LINK_COUNT: &str = "SELECT COUNT(*) FROM job_contacts WHERE user_id = $1 AND job_id = $2";
pub const LINK_DELETE: &str = "DELETE FROM job_contacts WHERE user_id = $1 AND job_id = $2";
/// `$1` user, `$2` job, `$3` contact, `$4` role, `$5` time.
pub const LINK_INSERT: &str = "INSERT INTO job_contacts (user_id, job_id, contact_id, role, created_at) \
    VALUES ($1, $2, $3, $4, $5)";
/// The links a job keeps (their times stay): `$1` user, `$2` job.
pub const LINK_TIMES: &str =
    "SELECT contact_id, created_at FROM job_contacts WHERE user_id = $1 AND job_id = $2";

pub const TAGS_OF_JOB: &str =
    "SELECT tag FROM job_tags WHERE user_id = $1 AND job_id = $2 ORDER BY tag";
pub const TAGS_DELETE: &str = "DELETE FROM job_tags WHERE user_id = $1 AND job_id = $2";
pub const TAG_INSERT: &str = "INSERT INTO job_tags (user_id, job_id, tag) VALUES ($1, $2, $3)";

/// The oldest job matching a duplicate key (`$1` user, `$2` key).
pub const DUPLICATE_URL: &str = "SELECT id FROM jobs WHERE user_id = $1 AND dedup_url = $2 \
    ORDER BY created_at, id LIMIT 1";
pub const DUPLICATE_NAME: &str = "SELECT id FROM jobs WHERE user_id = $1 AND dedup_name = $2 \
    ORDER BY created_at, id LIMIT 1";

/// Jobs in an open status whose last status change is before `$2`, longest idle first
/// (`$1` user, `$3` limit).
macro_rules! stale_from {
    () => {
        " FROM jobs j JOIN job_events e ON e.job_id = j.id AND e.user_id = j.user_id \
          WHERE j.user_id = $1 AND j.status IN ('interested', 'applied', 'screening', \
          'interviewing', 'offer') GROUP BY j.id, j.title, j.company, j.status \
          HAVING MAX(e.created_at) < $2"
    };
}
pub const STALE_JOBS: &str = concat!(
    "SELECT j.id, j.title, j.company, j.status, MAX(e.created_at) AS last_moved_at",
    stale_from!(),
    " ORDER BY last_moved_at, j.id LIMIT $3"
);
pub const STALE_COUNT: &str = concat!("SELECT COUNT(*) FROM (SELECT j.id", stale_from!(), ") s");

/// The export walks a user's jobs oldest first in keyset pages; these fetch what a page
/// needs in one query each, for the ids pushed after them (`IN (…)`).
pub const EXPORT_EVENTS: &str =
    "SELECT job_id, to_status, created_at FROM job_events WHERE user_id = ";
pub const EXPORT_CONTACTS: &str = "SELECT l.job_id, c.name, c.email, l.role FROM job_contacts l \
    JOIN contacts c ON c.id = l.contact_id WHERE l.user_id = ";
/// The tags of a page of jobs (every job list, and the export), for the ids pushed after it.
pub const TAGS_OF_JOBS: &str = "SELECT job_id, tag FROM job_tags WHERE user_id = ";

/// Import: a contact found by email (`$1` user, `$2` lower-cased email) or by name.
pub const CONTACT_BY_EMAIL: &str = "SELECT id FROM contacts WHERE user_id = $1 \
    AND lower(email) = $2 ORDER BY created_at, id LIMIT 1";
pub const CONTACT_BY_NAME: &str = "SELECT id FROM contacts WHERE user_id = $1 \
    AND name = $2 ORDER BY created_at, id LIMIT 1";
/// Import: a job with its own times (`$1` id, `$2` user, `$3` created, `$4` updated, then
/// the fields as in `JOB_INSERT`).
pub const JOB_IMPORT: &str = "INSERT INTO jobs (id, user_id, created_at, updated_at, title, company, \
    location, url, description, salary_min, salary_max, status, deadline, notes, source, dedup_url, \
    dedup_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";

/// Jobs whose duplicate-detection keys were never computed (written before migration 0004),
/// a batch at a time; `$1` the batch size.
pub const DEDUP_MISSING: &str =
    "SELECT id, url, company, title FROM jobs WHERE dedup_name IS NULL LIMIT $1";
pub const DEDUP_SET: &str = "UPDATE jobs SET dedup_url = $2, dedup_name = $3 WHERE id = $1";

/// Serializes one user's duplicate-checked writes (job creation, import) on PostgreSQL: a
/// lock on the user's row that does not block the foreign-key checks of other inserts.
/// SQLite's writer is one connection already.
pub const USER_LOCK_PG: &str = "SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE";
pub const USER_LOCK_SQLITE: &str = "SELECT id FROM users WHERE id = $1";
