//! The tracker's records beside jobs (issue 11): contacts and their links to jobs,
//! interviews, tasks and the follow-up rules that create them, notes. Every record is a
//! [`Record`]: the server's id, the job or contact it belongs to, the client's fields, and
//! timestamps. Their rules are checked here as the other models' are in [`crate::validate`].

use crate::Timestamp;
use crate::models::JobStatus;
use crate::validate::{Check, Validate, ValidationErrors, is_email};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use time::Date;
use utoipa::ToSchema;
use uuid::Uuid;

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// sqlx's text codec for an enum with `as_str` and `parse`, on both backends.
macro_rules! text_codec {
    ($name:ident) => {
        impl sqlx::Type<sqlx::Sqlite> for $name {
            fn type_info() -> <sqlx::Sqlite as sqlx::Database>::TypeInfo {
                <String as sqlx::Type<sqlx::Sqlite>>::type_info()
            }
            fn compatible(ty: &<sqlx::Sqlite as sqlx::Database>::TypeInfo) -> bool {
                <String as sqlx::Type<sqlx::Sqlite>>::compatible(ty)
            }
        }

        impl sqlx::Type<sqlx::Postgres> for $name {
            fn type_info() -> <sqlx::Postgres as sqlx::Database>::TypeInfo {
                <String as sqlx::Type<sqlx::Postgres>>::type_info()
            }
        }

        impl sqlx::Encode<'_, sqlx::Sqlite> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <sqlx::Sqlite as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                sqlx::Encode::<sqlx::Sqlite>::encode(self.as_str(), buf)
            }
        }

        impl sqlx::Encode<'_, sqlx::Postgres> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <sqlx::Postgres as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                sqlx::Encode::<sqlx::Postgres>::encode_by_ref(&self.as_str(), buf)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Sqlite> for $name {
            fn decode(
                value: <sqlx::Sqlite as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let s = <&str as sqlx::Decode<sqlx::Sqlite>>::decode(value)?;
                Self::parse(s).ok_or_else(|| format!("unknown {} {s:?}", stringify!($name)).into())
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $name {
            fn decode(
                value: <sqlx::Postgres as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let s = <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
                Self::parse(s).ok_or_else(|| format!("unknown {} {s:?}", stringify!($name)).into())
            }
        }
    };
}

text_codec!(JobStatus);

/// A closed set of names stored as text on both backends.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$meta])*
        // The names are the variants in snake_case (a unit test holds `as_str` to serde's);
        // utoipa does not read a `rename` whose value comes from a macro argument.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $s),+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }

            /// `a, b, c`: for messages.
            pub fn names() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        text_codec!($name);
    };
}

text_enum!(
    /// What a contact is to the search (and, on a link, to that job).
    ContactRole {
        Recruiter = "recruiter",
        HiringManager = "hiring_manager",
        Interviewer = "interviewer",
        Referrer = "referrer",
        Reference = "reference",
        Other = "other",
    }
);

text_enum!(
    InterviewKind {
        PhoneScreen = "phone_screen",
        Technical = "technical",
        Behavioral = "behavioral",
        Onsite = "onsite",
        Panel = "panel",
        TakeHome = "take_home",
        OfferCall = "offer_call",
        Other = "other",
    }
);

text_enum!(
    InterviewFormat {
        Phone = "phone",
        Video = "video",
        InPerson = "in_person",
    }
);

text_enum!(
    InterviewOutcome {
        Pending = "pending",
        Passed = "passed",
        Failed = "failed",
        Cancelled = "cancelled",
    }
);

text_enum!(
    Priority {
        Low = "low",
        Medium = "medium",
        High = "high",
    }
);

// The enums come from `text_enum!`, which derives no `Default`.
#[allow(clippy::derivable_impls)]
impl Default for InterviewOutcome {
    fn default() -> Self {
        InterviewOutcome::Pending
    }
}

#[allow(clippy::derivable_impls)]
impl Default for Priority {
    fn default() -> Self {
        Priority::Medium
    }
}

const SHORT: usize = 200;
const LONG: usize = 20_000;
/// Interviewers one interview may name.
pub const MAX_INTERVIEWERS: usize = 20;

#[derive(Debug, Clone, Serialize, Deserialize, FromRow, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactFields {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 50)]
    pub phone: Option<String>,
    #[schema(max_length = 200)]
    pub company: Option<String>,
    pub role: Option<ContactRole>,
    #[schema(max_length = 20000)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, FromRow, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InterviewFields {
    pub kind: InterviewKind,
    /// When it starts (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub scheduled_at: Timestamp,
    #[schema(minimum = 1, maximum = 1440)]
    pub duration_minutes: Option<i64>,
    pub format: Option<InterviewFormat>,
    #[schema(max_length = 200)]
    pub location: Option<String>,
    /// Ids of your contacts who interview you (at most 20).
    #[serde(default)]
    #[schema(value_type = Vec<Uuid>, max_items = 20)]
    pub interviewer_ids: sqlx::types::Json<Vec<Uuid>>,
    #[schema(max_length = 20000)]
    pub preparation_notes: Option<String>,
    #[serde(default)]
    pub outcome: InterviewOutcome,
}

#[derive(Debug, Clone, Serialize, Deserialize, FromRow, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskFields {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: String,
    #[serde(default, with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<Date>,
    #[serde(default)]
    pub priority: Priority,
    #[serde(default)]
    pub done: bool,
    #[schema(max_length = 20000)]
    pub notes: Option<String>,
}

/// "When a job enters `status`, create a task due `delay_days` later."
#[derive(Debug, Clone, Serialize, Deserialize, FromRow, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskRuleFields {
    pub status: JobStatus,
    #[schema(minimum = 0, maximum = 365)]
    pub delay_days: i64,
    /// The task's title; `{title}`, `{company}` and `{status}` are replaced by the job's.
    /// Default: `Follow up: {title} at {company}`.
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[serde(default)]
    pub priority: Priority,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

pub const DEFAULT_RULE_TITLE: &str = "Follow up: {title} at {company}";

impl TaskRuleFields {
    /// The title of the task this rule creates for a job.
    pub fn task_title(&self, title: &str, company: &str) -> String {
        let mut rest = self.title.as_deref().unwrap_or(DEFAULT_RULE_TITLE);
        let mut out = String::with_capacity(rest.len() + title.len() + company.len());
        // One pass over the template: a placeholder inside the job's own text stays text.
        while let Some(i) = rest.find('{') {
            out.push_str(&rest[..i]);
            let tail = &rest[i..];
            let (value, len) = [
                ("{title}", title),
                ("{company}", company),
                ("{status}", self.status.as_str()),
            ]
            .into_iter()
            .find(|(p, _)| tail.starts_with(p))
            .map_or(("{", 1), |(p, v)| (v, p.len()));
            out.push_str(value);
            rest = &tail[len..];
        }
        out.push_str(rest);
        out.chars().take(SHORT).collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, FromRow, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteFields {
    #[schema(min_length = 1, max_length = 20000, pattern = r"\S")]
    pub body: String,
}

/// A stored tracker record: the server's id, what it belongs to, the client's fields.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Record<F> {
    pub id: Uuid,
    /// The job it belongs to (interviews, notes on a job, tasks tied to one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<Uuid>,
    /// The contact it belongs to (notes on a contact).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<Uuid>,
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub fields: F,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

pub type Contact = Record<ContactFields>;
pub type Interview = Record<InterviewFields>;
pub type Task = Record<TaskFields>;
pub type TaskRule = Record<TaskRuleFields>;
pub type Note = Record<NoteFields>;

/// What a new record belongs to; the store checks that it is the user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parent {
    None,
    Job(Uuid),
    Contact(Uuid),
}

impl Parent {
    pub fn job_id(self) -> Option<Uuid> {
        match self {
            Parent::Job(id) => Some(id),
            _ => None,
        }
    }

    pub fn contact_id(self) -> Option<Uuid> {
        match self {
            Parent::Contact(id) => Some(id),
            _ => None,
        }
    }
}

/// The filters of every record list, each `None` for "any". What each means is the
/// table's: `parent` is the job (or contact) it belongs to, `text` a search, `kind` a
/// closed-set column (contact role, interview kind, task priority, rule status), `from`
/// and `to` a date range (a task's due date, inclusive) and `flag` a boolean (task done).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFilter {
    pub parent: Option<Uuid>,
    pub text: Option<String>,
    pub kind: Option<String>,
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub flag: Option<bool>,
}

/// One link of a job to a contact, with the contact's name for display.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct JobContact {
    pub contact_id: Uuid,
    /// What the contact is for this job.
    pub role: Option<ContactRole>,
    pub name: String,
    pub email: Option<String>,
    pub company: Option<String>,
    /// When the link was made.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// `PUT /api/jobs/{id}/contacts`: the job's whole set of contacts.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobContactsInput {
    #[schema(max_items = 50)]
    pub contacts: Vec<ContactLink>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactLink {
    pub contact_id: Uuid,
    pub role: Option<ContactRole>,
}

pub const MAX_JOB_CONTACTS: usize = 50;

impl Validate for JobContactsInput {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if self.contacts.len() > MAX_JOB_CONTACTS {
            errs.add(
                "contacts",
                format!("at most {MAX_JOB_CONTACTS} contacts per job"),
            );
        }
        let mut seen = std::collections::HashSet::new();
        for (i, link) in self.contacts.iter().enumerate() {
            if !seen.insert(link.contact_id) {
                errs.add(
                    &format!("contacts[{i}].contact_id"),
                    "is listed more than once",
                );
            }
        }
        errs.into_result()
    }
}

impl Validate for ContactFields {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut check = Check::default();
        check
            .required("name", &self.name, SHORT)
            .optional("email", &self.email, 254)
            .optional("phone", &self.phone, 50)
            .optional("company", &self.company, SHORT)
            .optional("notes", &self.notes, LONG);
        if let Some(e) = &self.email
            && !is_email(e)
        {
            check.0.add("email", "must be an email address");
        }
        check.done()
    }
}

impl Validate for InterviewFields {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut check = Check::default();
        check
            .optional("location", &self.location, SHORT)
            .optional("preparation_notes", &self.preparation_notes, LONG)
            .range_i64("duration_minutes", self.duration_minutes, 1, 1440)
            .date("scheduled_at", Some(self.scheduled_at.get().date()));
        if self.interviewer_ids.len() > MAX_INTERVIEWERS {
            check.0.add(
                "interviewer_ids",
                format!("at most {MAX_INTERVIEWERS} interviewers"),
            );
        }
        let mut seen = std::collections::HashSet::new();
        if !self.interviewer_ids.iter().all(|id| seen.insert(*id)) {
            check
                .0
                .add("interviewer_ids", "lists a contact more than once");
        }
        check.done()
    }
}

impl Validate for TaskFields {
    fn validate(&self) -> Result<(), ValidationErrors> {
        Check::default()
            .required("title", &self.title, SHORT)
            .optional("notes", &self.notes, LONG)
            .date("due_date", self.due_date)
            .done()
    }
}

impl Validate for TaskRuleFields {
    fn validate(&self) -> Result<(), ValidationErrors> {
        Check::default()
            .optional("title", &self.title, SHORT)
            .range_i64("delay_days", Some(self.delay_days), 0, 365)
            .done()
    }
}

impl Validate for NoteFields {
    fn validate(&self) -> Result<(), ValidationErrors> {
        Check::default().required("body", &self.body, LONG).done()
    }
}

/// A job whose status has not moved for a while (`GET /api/jobs/stats`).
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct StaleJob {
    pub id: Uuid,
    pub title: String,
    pub company: String,
    #[schema(value_type = JobStatus)]
    pub status: String,
    /// The last status change (or the creation).
    #[schema(value_type = String, format = DateTime)]
    pub last_moved_at: Timestamp,
}

/// A job with everything the CSV export writes about it.
#[derive(Debug, Clone)]
pub struct ExportedJob {
    pub job: crate::models::Job,
    /// Its status history, oldest first.
    pub history: Vec<(String, Timestamp)>,
    pub contacts: Vec<ExportedContact>,
}

/// A linked contact as the CSV carries it; import finds or creates the contact by email,
/// else by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
#[serde(deny_unknown_fields)]
pub struct ExportedContact {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<ContactRole>,
}

/// One row of an import, already validated.
#[derive(Debug, Clone)]
pub struct ImportedJob {
    pub fields: crate::models::JobFields,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Oldest first; the last entry is the job's status.
    pub history: Vec<(JobStatus, Timestamp)>,
    pub contacts: Vec<ExportedContact>,
}

/// What an import did: everything, or nothing because of these duplicates (the index of
/// the job in the import, and what it duplicates).
#[derive(Debug, Clone)]
pub enum ImportOutcome {
    Imported(ImportSummary),
    Duplicates(Vec<(usize, DuplicateOf)>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DuplicateOf {
    /// One of the user's jobs.
    Job(crate::error::Duplicate),
    /// An earlier job of the same import (its index).
    Earlier(usize),
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportSummary {
    /// Jobs created.
    pub imported: u64,
    /// Contacts that did not exist and were created for the links.
    pub contacts_created: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_names<T: Serialize>(all: &[T]) -> Vec<String> {
        all.iter()
            .map(|v| {
                serde_json::to_value(v)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn serde_and_as_str_agree() {
        macro_rules! check {
            ($($t:ident),+) => {$(
                let names: Vec<String> = $t::ALL.iter().map(|v| v.as_str().to_owned()).collect();
                assert_eq!(serde_names($t::ALL), names, stringify!($t));
                for n in &names {
                    assert_eq!($t::parse(n).map(|v| v.as_str()), Some(n.as_str()));
                }
            )+};
        }
        check!(
            ContactRole,
            InterviewKind,
            InterviewFormat,
            InterviewOutcome,
            Priority
        );
    }

    #[test]
    fn rule_titles_fill_the_template_and_stay_short() {
        let rule: TaskRuleFields =
            serde_json::from_value(serde_json::json!({"status": "applied", "delay_days": 7}))
                .unwrap();
        assert!(rule.enabled, "rules are enabled by default");
        assert_eq!(rule.task_title("Dev", "Acme"), "Follow up: Dev at Acme");
        let rule = TaskRuleFields {
            title: Some("{status}: {title} / {company} {unknown} {".into()),
            ..rule
        };
        assert_eq!(
            rule.task_title("Dev {company}", "Braces {title}"),
            "applied: Dev {company} / Braces {title} {unknown} {"
        );
        let long = "x".repeat(300);
        assert_eq!(rule.task_title(&long, "Acme").chars().count(), 200);
    }
}
