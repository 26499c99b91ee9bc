//! Every cache key is built here. A key names its namespace, its user, the generation of
//! that user's namespace, and what it holds:
//!
//! `jobs:{user}:{incarnation}.{epoch}.{generation}:list:status=applied&q=&page=1&limit=20`
//!
//! Invalidating a user's namespace bumps its generation: O(1), no scan of the keyspace.
//! Entries of older generations are never read again and age out by TTL or eviction.

use flowats_db::models::{JobFilter, JobSort};
use uuid::Uuid;

/// A user's namespace: the unit of invalidation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ns {
    /// The account itself: which of its sessions are live.
    User,
    /// The profile document.
    Profile,
    /// Skills, education and employment lists and items.
    Skills,
    /// Job lists and their totals, single jobs, their events, stats.
    Jobs,
    /// AI artifacts.
    Ai,
    /// Job analytics (match scores).
    Analytics,
    /// Contacts and the notes on them.
    Contacts,
    /// Tasks and follow-up rules.
    Tasks,
}

impl Ns {
    pub const ALL: [Ns; 8] = [
        Ns::User,
        Ns::Profile,
        Ns::Skills,
        Ns::Jobs,
        Ns::Ai,
        Ns::Analytics,
        Ns::Contacts,
        Ns::Tasks,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Ns::User => "user",
            Ns::Profile => "profile",
            Ns::Skills => "skills",
            Ns::Jobs => "jobs",
            Ns::Ai => "ai",
            Ns::Analytics => "analytics",
            Ns::Contacts => "contacts",
            Ns::Tasks => "tasks",
        }
    }

    pub fn parse(s: &str) -> Option<Ns> {
        Ns::ALL.into_iter().find(|n| n.as_str() == s)
    }

    /// What a write to this part of the data makes stale (SPEC §6's rules).
    pub fn invalidated_by_profile_change() -> &'static [Ns] {
        &[Ns::Profile, Ns::Skills, Ns::Analytics]
    }

    pub fn invalidated_by_job_write() -> &'static [Ns] {
        // AI: a deleted job detaches its artifacts, whose cached copies must show it.
        // Tasks: a status change may create follow-up tasks; a deleted job takes its own.
        &[Ns::Jobs, Ns::Analytics, Ns::Ai, Ns::Tasks]
    }

    /// A contact's name and email show in its jobs' contact lists; deleting it unlinks it
    /// from jobs and interviews and takes its notes.
    pub fn invalidated_by_contact_write() -> &'static [Ns] {
        &[Ns::Contacts, Ns::Jobs]
    }

    /// Interviews and a job's contact links are listed under the job.
    pub fn invalidated_by_job_detail_write() -> &'static [Ns] {
        &[Ns::Jobs]
    }

    /// Notes belong to a job or a contact.
    pub fn invalidated_by_note_write() -> &'static [Ns] {
        &[Ns::Jobs, Ns::Contacts]
    }

    pub fn invalidated_by_task_write() -> &'static [Ns] {
        &[Ns::Tasks]
    }

    /// An import creates jobs, their history and tags, contacts and links.
    pub fn invalidated_by_import() -> &'static [Ns] {
        &[Ns::Jobs, Ns::Analytics, Ns::Ai, Ns::Tasks, Ns::Contacts]
    }
}

/// A key before its generation is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    pub user: Uuid,
    pub ns: Ns,
    prefix: &'static str,
    rest: String,
}

impl CacheKey {
    fn new(user: Uuid, ns: Ns, prefix: &'static str, rest: String) -> Self {
        CacheKey {
            user,
            ns,
            prefix,
            rest,
        }
    }

    /// The full key in a given Redis incarnation, flush epoch and namespace generation.
    pub fn render(&self, incarnation: &str, epoch: u64, generation: u64) -> String {
        format!(
            "{}:{}:{incarnation}.{epoch}.{generation}:{}",
            self.prefix, self.user, self.rest
        )
    }
}

/// The one place keys are made.
pub struct CacheKeys;

impl CacheKeys {
    /// "Session `sid` of `user` is live": invalidated when any session of the user ends.
    pub fn session(user: Uuid, sid: Uuid) -> CacheKey {
        CacheKey::new(user, Ns::User, "user", format!("session:{sid}"))
    }

    pub fn profile(user: Uuid) -> CacheKey {
        CacheKey::new(user, Ns::Profile, "profile", String::new())
    }

    /// `kind` is `skills`, `education` or `employment`; `window` says which page.
    pub fn items(user: Uuid, kind: &'static str, window: &str) -> CacheKey {
        CacheKey::new(user, Ns::Skills, "skills", format!("{kind}:list:{window}"))
    }

    pub fn item(user: Uuid, kind: &'static str, id: Uuid) -> CacheKey {
        CacheKey::new(user, Ns::Skills, "skills", format!("{kind}:{id}"))
    }

    pub fn jobs_list(user: Uuid, filter: &JobFilter, sort: JobSort, window: &str) -> CacheKey {
        // `q` last, as free text; the tag is length-prefixed so that no tag can read as
        // another part of the key.
        let tag = filter.tag.as_deref().unwrap_or("");
        let rest = format!(
            "list:sort={}&status={}&tag={}:{tag}&{window}&q={}",
            sort.as_str(),
            filter.status.map_or("", |s| s.as_str()),
            tag.len(),
            filter.q.as_deref().unwrap_or("")
        );
        CacheKey::new(user, Ns::Jobs, "jobs", rest)
    }

    pub fn job_stats(user: Uuid, stale_days: i64) -> CacheKey {
        CacheKey::new(user, Ns::Jobs, "jobs", format!("stats:stale={stale_days}"))
    }

    /// A tracker record list (`kind`: contacts, interviews, tasks, task_rules, notes) in
    /// namespace `ns`; `query` is its filters and window, already canonical.
    pub fn records(user: Uuid, ns: Ns, kind: &'static str, query: &str) -> CacheKey {
        CacheKey::new(user, ns, ns.as_str(), format!("{kind}:list:{query}"))
    }

    pub fn record(user: Uuid, ns: Ns, kind: &'static str, id: Uuid) -> CacheKey {
        CacheKey::new(user, ns, ns.as_str(), format!("{kind}:{id}"))
    }

    pub fn job(user: Uuid, id: Uuid) -> CacheKey {
        CacheKey::new(user, Ns::Jobs, "job", id.to_string())
    }

    pub fn artifacts(
        user: Uuid,
        filter: &flowats_db::models::ArtifactFilter,
        window: &str,
    ) -> CacheKey {
        let rest = format!(
            "list:kind={}&job={}&{window}",
            filter.kind.as_deref().unwrap_or(""),
            filter.job_id.map(|j| j.to_string()).unwrap_or_default()
        );
        CacheKey::new(user, Ns::Ai, "ai", rest)
    }

    pub fn artifact(user: Uuid, id: Uuid) -> CacheKey {
        CacheKey::new(user, Ns::Ai, "ai", id.to_string())
    }

    /// Invalidated by any profile change and any job write of the user.
    pub fn job_analytics(user: Uuid, job: Uuid) -> CacheKey {
        CacheKey::new(user, Ns::Analytics, "analytics", job.to_string())
    }

    pub fn job_contacts(user: Uuid, id: Uuid, window: &str) -> CacheKey {
        CacheKey::new(user, Ns::Jobs, "job", format!("{id}:contacts:{window}"))
    }

    pub fn job_events(user: Uuid, id: Uuid, window: &str) -> CacheKey {
        CacheKey::new(user, Ns::Jobs, "job", format!("{id}:events:{window}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowats_db::models::JobStatus;

    #[test]
    fn keys_carry_namespace_user_generation_and_content() {
        let u = Uuid::nil();
        let filter = JobFilter {
            status: Some(JobStatus::Applied),
            q: Some("rust".into()),
            tag: None,
        };
        let k = CacheKeys::jobs_list(u, &filter, JobSort::Oldest, "p=3&l=20");
        assert_eq!(k.ns, Ns::Jobs);
        assert_eq!(
            k.render("i", 1, 7),
            format!("jobs:{u}:i.1.7:list:sort=oldest&status=applied&tag=0:&p=3&l=20&q=rust")
        );
        assert_ne!(
            CacheKeys::items(u, "skills", "p=1&l=20").render("i", 0, 0),
            CacheKeys::items(u, "education", "p=1&l=20").render("i", 0, 0)
        );
        assert_eq!(
            CacheKeys::job(u, u).ns,
            Ns::Jobs,
            "a job is invalidated with its user's jobs"
        );
    }

    #[test]
    fn namespaces_round_trip() {
        for ns in Ns::ALL {
            assert_eq!(Ns::parse(ns.as_str()), Some(ns));
        }
    }
}
