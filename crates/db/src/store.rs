//! The store traits handlers use, as trait objects, and [`Database`], which bundles one
//! backend's implementation of all of them.
//!
//! Methods return boxed futures (rather than `async fn`) so the traits stay usable as
//! `Arc<dyn …>`. Every method is scoped by the user id: another user's row is `NotFound`.

use crate::models::*;
use crate::sessions::{IdempotencyStore, SessionStore};
use crate::tracker::*;
use crate::{DbError, DbResult};
use serde_json::{Map, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub trait UserStore: Send + Sync {
    /// Creates the user and their empty profile in one transaction. `Conflict("email")` if taken.
    fn create_user(
        &self,
        email: String,
        name: String,
        password_hash: String,
    ) -> BoxFut<'_, DbResult<User>>;
    fn credentials(&self, email: String) -> BoxFut<'_, DbResult<Option<Credentials>>>;
    fn get_user(&self, id: Uuid) -> BoxFut<'_, DbResult<User>>;
    fn user_exists(&self, id: Uuid) -> BoxFut<'_, DbResult<bool>>;
    /// Deletes the user and every row of theirs in one transaction.
    fn delete_user(&self, id: Uuid) -> BoxFut<'_, DbResult<()>>;
}

pub trait ProfileStore: Send + Sync {
    fn get_profile(&self, user: Uuid) -> BoxFut<'_, DbResult<Profile>>;
    /// Replaces every profile field and bumps the version.
    fn put_profile(&self, user: Uuid, fields: ProfileFields) -> BoxFut<'_, DbResult<Profile>>;
}

/// Skills, education and employment: the same operations on different fields. Every
/// write bumps the owner's profile version in the same transaction.
pub trait ItemStore<F>: Send + Sync {
    fn list(&self, user: Uuid, page: Page) -> BoxFut<'_, DbResult<Paged<Item<F>>>>;
    /// Up to `limit` items after `after`, newest first (a keyset page).
    fn list_after(
        &self,
        user: Uuid,
        after: Position,
        limit: i64,
    ) -> BoxFut<'_, DbResult<Vec<Item<F>>>>;
    fn count(&self, user: Uuid) -> BoxFut<'_, DbResult<i64>>;
    fn create(&self, user: Uuid, fields: F) -> BoxFut<'_, DbResult<Item<F>>>;
    fn get(&self, user: Uuid, id: Uuid) -> BoxFut<'_, DbResult<Item<F>>>;
    /// Applies a JSON merge patch to the stored fields (see [`crate::patch`]).
    fn update(
        &self,
        user: Uuid,
        id: Uuid,
        patch: Map<String, Value>,
    ) -> BoxFut<'_, DbResult<Item<F>>>;
    fn delete(&self, user: Uuid, id: Uuid) -> BoxFut<'_, DbResult<()>>;
}

pub trait JobStore: Send + Sync {
    /// Creates the job, its first event (`null` → status), its tags and the tasks of the
    /// user's follow-up rules for that status, in one transaction.
    fn create_job(&self, user: Uuid, fields: JobFields) -> BoxFut<'_, DbResult<Job>>;
    /// [`JobStore::create_job`], unless the user has a job with the same normalized URL or
    /// company and title: then `Duplicate` with that job's id, and nothing is written.
    fn create_unique_job(&self, user: Uuid, fields: JobFields) -> BoxFut<'_, DbResult<Job>>;
    fn get_job(&self, user: Uuid, id: Uuid) -> BoxFut<'_, DbResult<Job>>;
    fn list_jobs(
        &self,
        user: Uuid,
        filter: JobFilter,
        sort: JobSort,
        page: Page,
    ) -> BoxFut<'_, DbResult<Paged<Job>>>;
    /// Up to `limit` jobs after `after` in `sort` order (a keyset page).
    fn list_jobs_after(
        &self,
        user: Uuid,
        filter: JobFilter,
        sort: JobSort,
        after: Position,
        limit: i64,
    ) -> BoxFut<'_, DbResult<Vec<Job>>>;
    fn count_jobs(&self, user: Uuid, filter: JobFilter) -> BoxFut<'_, DbResult<i64>>;
    /// Applies a JSON merge patch; a status change appends an event in the same transaction.
    fn update_job(
        &self,
        user: Uuid,
        id: Uuid,
        patch: Map<String, Value>,
    ) -> BoxFut<'_, DbResult<Job>>;
    fn delete_job(&self, user: Uuid, id: Uuid) -> BoxFut<'_, DbResult<()>>;
    fn list_events(
        &self,
        user: Uuid,
        job: Uuid,
        page: Page,
    ) -> BoxFut<'_, DbResult<Paged<JobEvent>>>;
    /// Up to `limit` events after `after`, newest first; `NotFound` if the job is not the user's.
    fn list_events_after(
        &self,
        user: Uuid,
        job: Uuid,
        after: Position,
        limit: i64,
    ) -> BoxFut<'_, DbResult<Vec<JobEvent>>>;
    /// Number of the user's jobs in each status that has any.
    fn job_stats(&self, user: Uuid) -> BoxFut<'_, DbResult<Vec<StatusCount>>>;
    /// Every status change of the user's jobs, grouped by job, in time order. May read the
    /// replica.
    fn event_history(&self, user: Uuid) -> BoxFut<'_, DbResult<Vec<StatusChange>>>;
}

/// Contacts, interviews, tasks, follow-up rules and notes: the same operations on
/// different fields ([`crate::sql::tracker`]). A record with a parent (a job or contact)
/// is created under it; `NotFound` when the parent is not the user's.
pub trait RecordStore<F>: Send + Sync {
    fn list(
        &self,
        user: Uuid,
        filter: RecordFilter,
        page: Page,
    ) -> BoxFut<'_, DbResult<Paged<Record<F>>>>;
    /// Up to `limit` records after `after`, newest first (a keyset page).
    fn list_after(
        &self,
        user: Uuid,
        filter: RecordFilter,
        after: Position,
        limit: i64,
    ) -> BoxFut<'_, DbResult<Vec<Record<F>>>>;
    fn count(&self, user: Uuid, filter: RecordFilter) -> BoxFut<'_, DbResult<i64>>;
    fn create(&self, user: Uuid, parent: Parent, fields: F) -> BoxFut<'_, DbResult<Record<F>>>;
    fn get(&self, user: Uuid, id: Uuid) -> BoxFut<'_, DbResult<Record<F>>>;
    /// Applies a JSON merge patch to the stored fields (see [`crate::patch`]).
    fn update(
        &self,
        user: Uuid,
        id: Uuid,
        patch: Map<String, Value>,
    ) -> BoxFut<'_, DbResult<Record<F>>>;
    fn delete(&self, user: Uuid, id: Uuid) -> BoxFut<'_, DbResult<()>>;
}

/// The rest of the tracker: a job's contacts, stale jobs, CSV export and import.
pub trait TrackerStore: Send + Sync {
    /// `NotFound` unless the job or contact is the user's (one indexed count, no row read).
    fn check_parent(&self, user: Uuid, parent: Parent) -> BoxFut<'_, DbResult<()>>;
    fn job_contacts(
        &self,
        user: Uuid,
        job: Uuid,
        page: Page,
    ) -> BoxFut<'_, DbResult<Paged<JobContact>>>;
    /// Keyset page of a job's links (`after.key` the link time, `after.id` the contact).
    fn job_contacts_after(
        &self,
        user: Uuid,
        job: Uuid,
        after: Position,
        limit: i64,
    ) -> BoxFut<'_, DbResult<Vec<JobContact>>>;
    /// Replaces the job's contacts; links that stay keep their time. Every contact must be
    /// the user's (`NotFound` otherwise, and nothing changes). Returns all, newest first.
    fn set_job_contacts(
        &self,
        user: Uuid,
        job: Uuid,
        links: Vec<ContactLink>,
    ) -> BoxFut<'_, DbResult<Vec<JobContact>>>;
    /// Open jobs whose status has not changed since `before`, longest idle first, and how
    /// many there are in all.
    fn stale_jobs(
        &self,
        user: Uuid,
        before: crate::Timestamp,
        limit: i64,
    ) -> BoxFut<'_, DbResult<(Vec<StaleJob>, i64)>>;
    /// Up to `limit` jobs after `after` (oldest first), with history, tags and contacts.
    fn export_page(
        &self,
        user: Uuid,
        after: Position,
        limit: i64,
    ) -> BoxFut<'_, DbResult<Vec<ExportedJob>>>;
    /// Creates every job in one transaction, with its history, tags and contacts (found by
    /// email or name, or created). Follow-up rules do not fire for imported history. With
    /// `unique`, a job that duplicates one of the user's (checked inside the transaction,
    /// under the user's lock) imports nothing and lists every such job by its index.
    fn import_jobs(
        &self,
        user: Uuid,
        jobs: Vec<ImportedJob>,
        unique: bool,
    ) -> BoxFut<'_, DbResult<ImportOutcome>>;
}

/// Generated resumes and cover letters.
pub trait ArtifactStore: Send + Sync {
    fn create_artifact(&self, user: Uuid, new: NewArtifact) -> BoxFut<'_, DbResult<Artifact>>;
    fn get_artifact(&self, user: Uuid, id: Uuid) -> BoxFut<'_, DbResult<Artifact>>;
    /// Saves an edited draft (it is no longer reused for identical requests).
    fn update_artifact(
        &self,
        user: Uuid,
        id: Uuid,
        content: String,
    ) -> BoxFut<'_, DbResult<Artifact>>;
    fn delete_artifact(&self, user: Uuid, id: Uuid) -> BoxFut<'_, DbResult<()>>;
    fn list_artifacts(
        &self,
        user: Uuid,
        filter: ArtifactFilter,
        page: Page,
    ) -> BoxFut<'_, DbResult<Paged<Artifact>>>;
    fn list_artifacts_after(
        &self,
        user: Uuid,
        filter: ArtifactFilter,
        after: Position,
        limit: i64,
    ) -> BoxFut<'_, DbResult<Vec<Artifact>>>;
    fn count_artifacts(&self, user: Uuid, filter: ArtifactFilter) -> BoxFut<'_, DbResult<i64>>;
    /// The newest unedited artifact of this job and kind made from `fingerprint` after `since`.
    fn reusable_artifact(
        &self,
        user: Uuid,
        job: Uuid,
        kind: &'static str,
        fingerprint: String,
        since: crate::Timestamp,
    ) -> BoxFut<'_, DbResult<Option<Artifact>>>;
}

/// Job analytics computed for one profile version (`job_analytics_cache`).
pub trait AnalyticsStore: Send + Sync {
    /// The stored result for this profile version, if any. May read the replica.
    fn get_analytics(
        &self,
        user: Uuid,
        job: Uuid,
        profile_version: i64,
    ) -> BoxFut<'_, DbResult<Option<StoredAnalytics>>>;
    /// Stores (or replaces) the result for this profile version and drops older ones.
    fn put_analytics(
        &self,
        user: Uuid,
        job: Uuid,
        profile_version: i64,
        score: i64,
        result: Value,
    ) -> BoxFut<'_, DbResult<()>>;
}

/// Bulk loading for `flowats seed`: multi-row inserts in large transactions.
pub trait SeedStore: Send + Sync {
    /// Creates the accounts that do not exist yet (all with one password hash) and their
    /// empty profiles; returns the id of every given email.
    fn ensure_users(
        &self,
        users: Vec<(String, String)>,
        password_hash: String,
    ) -> BoxFut<'_, DbResult<Vec<(Uuid, String)>>>;
    /// Inserts jobs (with their creation events) created at the given times, in one
    /// transaction.
    fn insert_jobs(
        &self,
        user: Uuid,
        jobs: Vec<(JobFields, crate::Timestamp)>,
    ) -> BoxFut<'_, DbResult<()>>;
}

pub trait OpsStore: Send + Sync {
    /// A round trip to the database.
    fn ping(&self) -> BoxFut<'_, DbResult<()>>;
    /// Applies the backend's pending migrations.
    fn migrate(&self) -> BoxFut<'_, DbResult<()>>;
    /// Closes the pool, waiting for connections in use to be returned.
    fn close(&self) -> BoxFut<'_, ()>;
    /// Health of each pool (SQLite: readers and the writer; PostgreSQL: the primary).
    fn pool_status(&self) -> Vec<crate::pool::PoolStatus>;
    /// The read replica's state, when one is configured.
    fn replica_status(&self) -> Option<crate::replica::ReplicaStatus> {
        None
    }
    /// `user` wrote on another instance: keep their reads on the primary for a while.
    fn note_write(&self, _user: Uuid) {}
}

/// How the server reaches PostgreSQL (`DB_POOL_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PoolMode {
    /// Straight to the server; prepared statements are cached per connection.
    #[default]
    Direct,
    /// Through a transaction-mode pooler (PgBouncer, Supavisor): every unit of work is one
    /// transaction, and its statements are unnamed, so none outlives it.
    PgBouncer,
}

impl PoolMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PoolMode::Direct => "direct",
            PoolMode::PgBouncer => "pgbouncer",
        }
    }
}

/// Pool settings (SPEC §2). SQLite uses them for its reader pool; its writer is one
/// connection.
#[derive(Debug, Clone)]
pub struct DbOptions {
    pub max_connections: u32,
    pub min_connections: u32,
    pub acquire_timeout: Duration,
    pub idle_timeout: Duration,
    pub statement_timeout: Duration,
    /// Store calls slower than this are logged with their name (`DB_SLOW_QUERY_MS`).
    pub slow_query: Duration,
    pub pool_mode: PoolMode,
    /// `DATABASE_POOLER_URL`: where [`PoolMode::PgBouncer`] connects (default: the database
    /// URL with port 5432 replaced by 6543).
    pub pooler_url: Option<String>,
    /// `DATABASE_READ_URL`: the read replica.
    pub read_url: Option<String>,
    /// Replay lag past which the replica's reads fall back to the primary
    /// (`DATABASE_READ_MAX_LAG_MS`).
    pub read_max_lag: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            max_connections: 60,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(600),
            statement_timeout: Duration::from_secs(10),
            slow_query: Duration::from_millis(200),
            pool_mode: PoolMode::Direct,
            pooler_url: None,
            read_url: None,
            read_max_lag: Duration::from_secs(1),
        }
    }
}

/// Every store of one backend.
#[derive(Clone)]
pub struct Database {
    pub backend: &'static str,
    pub users: Arc<dyn UserStore>,
    pub profiles: Arc<dyn ProfileStore>,
    pub skills: Arc<dyn ItemStore<SkillFields>>,
    pub education: Arc<dyn ItemStore<EducationFields>>,
    pub employment: Arc<dyn ItemStore<EmploymentFields>>,
    pub jobs: Arc<dyn JobStore>,
    pub analytics: Arc<dyn AnalyticsStore>,
    pub artifacts: Arc<dyn ArtifactStore>,
    pub contacts: Arc<dyn RecordStore<ContactFields>>,
    pub interviews: Arc<dyn RecordStore<InterviewFields>>,
    pub tasks: Arc<dyn RecordStore<TaskFields>>,
    pub task_rules: Arc<dyn RecordStore<TaskRuleFields>>,
    pub notes: Arc<dyn RecordStore<NoteFields>>,
    pub tracker: Arc<dyn TrackerStore>,
    pub ops: Arc<dyn OpsStore>,
    pub seed: Arc<dyn SeedStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
}

impl Database {
    /// Opens the database the URL names: `sqlite:` or `postgres:`/`postgresql:`. Any other
    /// scheme is refused rather than silently falling back to SQLite.
    pub async fn connect(url: &str, options: &DbOptions) -> DbResult<Database> {
        match scheme(url) {
            Some("sqlite") => crate::sqlite::connect(url, options).await,
            Some("postgres" | "postgresql") => crate::postgres::connect(url, options).await,
            _ => Err(DbError::Config(format!(
                "unsupported database URL {:?}: expected sqlite://… or postgres://…",
                redact_url(url)
            ))),
        }
    }

    pub(crate) fn from_backend<S>(backend: &'static str, store: Arc<S>) -> Database
    where
        S: UserStore
            + ProfileStore
            + ItemStore<SkillFields>
            + ItemStore<EducationFields>
            + ItemStore<EmploymentFields>
            + JobStore
            + AnalyticsStore
            + ArtifactStore
            + OpsStore
            + SeedStore
            + RecordStore<ContactFields>
            + RecordStore<InterviewFields>
            + RecordStore<TaskFields>
            + RecordStore<TaskRuleFields>
            + RecordStore<NoteFields>
            + TrackerStore
            + SessionStore
            + IdempotencyStore
            + 'static,
    {
        Database {
            backend,
            users: store.clone(),
            profiles: store.clone(),
            skills: store.clone(),
            education: store.clone(),
            employment: store.clone(),
            jobs: store.clone(),
            analytics: store.clone(),
            artifacts: store.clone(),
            seed: store.clone(),
            contacts: store.clone(),
            interviews: store.clone(),
            tasks: store.clone(),
            task_rules: store.clone(),
            notes: store.clone(),
            tracker: store.clone(),
            sessions: store.clone(),
            idempotency: store.clone(),
            ops: store,
        }
    }
}

/// The scheme of a URL, lower-cased (`sqlite`, `postgres`, …).
pub fn scheme(url: &str) -> Option<&str> {
    let (scheme, _) = url.split_once(':')?;
    (!scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+'))
    .then_some(scheme)
}

/// The URL with its password replaced by `***`, for logs and `flowats config`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/flow"),
            "postgres://app:***@db:5432/flow"
        );
        assert_eq!(
            redact_url("postgres://app@db/flow"),
            "postgres://app@db/flow"
        );
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }

    #[test]
    fn schemes() {
        assert_eq!(scheme("sqlite://data/x.db"), Some("sqlite"));
        assert_eq!(scheme("postgres://h/db"), Some("postgres"));
        assert_eq!(scheme("no scheme here"), None);
    }
}
