//! Rows the API returns and the fields a client may send (SPEC §3). A row embeds its
//! fields struct, so what a client writes and what it reads back are the same shape, and a
//! PATCH can be applied as a JSON merge patch onto the stored fields ([`crate::patch`]).

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use time::Date;
use utoipa::ToSchema;
use uuid::Uuid;

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// An account, as others may see it: never the password hash.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// What login needs: the id and the stored PHC hash.
#[derive(Debug, Clone, FromRow)]
pub struct Credentials {
    pub id: Uuid,
    pub password_hash: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, FromRow, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileFields {
    #[schema(max_length = 200)]
    pub full_name: Option<String>,
    #[schema(max_length = 200)]
    pub headline: Option<String>,
    #[schema(max_length = 20000)]
    pub summary: Option<String>,
    #[schema(max_length = 200)]
    pub location: Option<String>,
    #[schema(max_length = 50)]
    pub phone: Option<String>,
    #[schema(max_length = 2048, pattern = r"^https?://[^/?#\s]\S*$")]
    pub website: Option<String>,
}

#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Profile {
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub fields: ProfileFields,
    /// Bumped on every change to the profile, its skills, education or employment.
    pub version: i64,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, FromRow, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkillFields {
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: String,
    #[schema(max_length = 100)]
    pub category: Option<String>,
    /// 1 (basic) to 5 (expert).
    #[schema(minimum = 1, maximum = 5)]
    pub proficiency: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, FromRow, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EducationFields {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub institution: String,
    #[schema(max_length = 200)]
    pub degree: Option<String>,
    #[schema(max_length = 200)]
    pub field_of_study: Option<String>,
    #[serde(default, with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub start_date: Option<Date>,
    #[serde(default, with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub end_date: Option<Date>,
    #[schema(minimum = 0, maximum = 10)]
    pub gpa: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, FromRow, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmploymentFields {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub company: String,
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: String,
    #[serde(default, with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub start_date: Option<Date>,
    #[serde(default, with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub end_date: Option<Date>,
    #[schema(max_length = 20000)]
    pub description: Option<String>,
}

/// A profile item (skill, education, employment entry) as stored.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Item<F> {
    pub id: Uuid,
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub fields: F,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

pub type Skill = Item<SkillFields>;
pub type Education = Item<EducationFields>;
pub type Employment = Item<EmploymentFields>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    #[default]
    Interested,
    Applied,
    Screening,
    Interviewing,
    Offer,
    Accepted,
    Rejected,
    Withdrawn,
}

impl JobStatus {
    pub const ALL: [JobStatus; 8] = [
        JobStatus::Interested,
        JobStatus::Applied,
        JobStatus::Screening,
        JobStatus::Interviewing,
        JobStatus::Offer,
        JobStatus::Accepted,
        JobStatus::Rejected,
        JobStatus::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Interested => "interested",
            JobStatus::Applied => "applied",
            JobStatus::Screening => "screening",
            JobStatus::Interviewing => "interviewing",
            JobStatus::Offer => "offer",
            JobStatus::Accepted => "accepted",
            JobStatus::Rejected => "rejected",
            JobStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl TryFrom<String> for JobStatus {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).ok_or_else(|| format!("unknown job status {s:?}"))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, FromRow, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobFields {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: String,
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub company: String,
    #[schema(max_length = 200)]
    pub location: Option<String>,
    #[schema(max_length = 2048, pattern = r"^https?://[^/?#\s]\S*$")]
    pub url: Option<String>,
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub salary_min: Option<i64>,
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub salary_max: Option<i64>,
    #[serde(default)]
    #[sqlx(try_from = "String")]
    pub status: JobStatus,
    #[serde(default, with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub deadline: Option<Date>,
    #[schema(max_length = 20000)]
    pub notes: Option<String>,
    /// Where the job was found (`linkedin`, `referral`, …); response times are grouped by it.
    #[schema(max_length = 100)]
    pub source: Option<String>,
    /// At most 20, each 1–50 characters without `;` or `,`; stored trimmed, lower-cased,
    /// sorted and without repeats. `GET /api/jobs?tag=` filters by one.
    #[serde(default)]
    #[sqlx(skip)]
    #[schema(max_items = 20)]
    pub tags: Vec<String>,
}

/// Tags as stored: trimmed, lower-cased, sorted, each once.
pub fn normalize_tags(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = tags.iter().map(|t| t.trim().to_lowercase()).collect();
    out.sort();
    out.dedup();
    out
}

#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Job {
    pub id: Uuid,
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub fields: JobFields,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// One entry of a job's append-only status history.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct JobEvent {
    pub id: Uuid,
    pub job_id: Uuid,
    /// `null` for the event that records the job's creation.
    #[schema(value_type = Option<JobStatus>)]
    pub from_status: Option<String>,
    #[schema(value_type = JobStatus)]
    pub to_status: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// Orders of the job list, each served by a keyset index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobSort {
    /// `created_at DESC, id DESC` (the default).
    #[default]
    Newest,
    /// `created_at ASC, id ASC`.
    Oldest,
    /// `updated_at DESC, id DESC`.
    Updated,
}

impl JobSort {
    pub const ALL: [JobSort; 3] = [JobSort::Newest, JobSort::Oldest, JobSort::Updated];

    pub fn as_str(self) -> &'static str {
        match self {
            JobSort::Newest => "newest",
            JobSort::Oldest => "oldest",
            JobSort::Updated => "updated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The position before the first row of this order.
    pub fn start(self) -> Position {
        match self {
            JobSort::Newest | JobSort::Updated => Position::start_descending(),
            JobSort::Oldest => Position::start_ascending(),
        }
    }

    /// Where `job` stands in this order.
    pub fn position(self, job: &Job) -> Position {
        let key = match self {
            JobSort::Newest | JobSort::Oldest => job.created_at,
            JobSort::Updated => job.updated_at,
        };
        Position { key, id: job.id }
    }
}

/// A keyset position: the sort key and the id (the tie-breaker) of the last row seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub key: Timestamp,
    pub id: Uuid,
}

impl Position {
    /// Before every row of a descending order (the first page of a newest-first list).
    pub fn start_descending() -> Position {
        Position {
            key: Timestamp::MAX,
            id: Uuid::max(),
        }
    }

    /// Before every row of an ascending order.
    pub fn start_ascending() -> Position {
        Position {
            key: Timestamp::MIN,
            id: Uuid::nil(),
        }
    }
}

/// Filters of the job list; `q` matches title, company and notes, case-insensitively;
/// `tag` is one (normalized) tag.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub status: Option<JobStatus>,
    pub q: Option<String>,
    pub tag: Option<String>,
}

/// Offset paging, already validated by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

/// One page of rows and the number of rows in the whole list.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// Count of a user's jobs in one status.
#[derive(Debug, Clone, FromRow)]
pub struct StatusCount {
    pub status: String,
    pub count: i64,
}

/// A stored analytics result (`job_analytics_cache`).
#[derive(Debug, Clone, FromRow)]
pub struct StoredAnalytics {
    pub score: i64,
    pub result: sqlx::types::Json<serde_json::Value>,
    pub created_at: Timestamp,
}

/// One status change: the job entered `to_status` at `created_at`.
#[derive(Debug, Clone, FromRow)]
pub struct StatusChange {
    pub job_id: Uuid,
    pub to_status: String,
    pub created_at: Timestamp,
    /// The job's source (response times by source).
    pub source: Option<String>,
}

/// A generated resume or cover letter (`ai_artifacts`).
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Artifact {
    pub id: Uuid,
    pub job_id: Option<Uuid>,
    /// `resume` or `cover_letter`.
    pub kind: String,
    /// Markdown.
    pub content: String,
    /// What the generator did and why.
    #[schema(value_type = Object)]
    pub metadata: Option<sqlx::types::Json<serde_json::Value>>,
    /// What it was made from; `null` once edited.
    #[serde(skip)]
    pub fingerprint: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl Artifact {
    pub fn position(&self) -> Position {
        Position {
            key: self.created_at,
            id: self.id,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArtifactFilter {
    pub kind: Option<String>,
    pub job_id: Option<Uuid>,
}

/// A new artifact.
#[derive(Debug, Clone)]
pub struct NewArtifact {
    pub job_id: Uuid,
    pub kind: &'static str,
    pub content: String,
    pub metadata: serde_json::Value,
    pub fingerprint: String,
}
