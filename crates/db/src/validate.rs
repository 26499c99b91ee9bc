//! Rules every stored record satisfies, checked at the edge on create and again on the
//! merged record of a PATCH. Errors name the field, so a client can show them in place.

use crate::models::{EducationFields, EmploymentFields, JobFields, ProfileFields, SkillFields};
use serde::Serialize;
use std::fmt;
use time::Date;
use utoipa::ToSchema;

const SHORT: usize = 200;
const LONG: usize = 20_000;
const URL: usize = 2_048;
/// What a text with a NUL character is told.
pub const NUL_MESSAGE: &str = "must not contain NUL characters";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(transparent)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        ValidationErrors(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

pub trait Validate {
    fn validate(&self) -> Result<(), ValidationErrors>;
}

/// Collects every problem of one record instead of stopping at the first.
#[derive(Default)]
pub(crate) struct Check(pub(crate) ValidationErrors);

impl Check {
    pub(crate) fn required(&mut self, field: &str, value: &str, max: usize) -> &mut Self {
        if value.trim().is_empty() {
            self.0.add(field, "is required and must not be blank");
        }
        self.max_len(field, value, max)
    }

    /// Every text field passes here: its length, and no NUL, which PostgreSQL cannot store
    /// (SQLite would, and the two backends must keep the same data).
    pub(crate) fn max_len(&mut self, field: &str, value: &str, max: usize) -> &mut Self {
        if value.chars().count() > max {
            self.0
                .add(field, format!("must be at most {max} characters"));
        }
        if value.contains('\0') {
            self.0.add(field, NUL_MESSAGE);
        }
        self
    }

    pub(crate) fn optional(
        &mut self,
        field: &str,
        value: &Option<String>,
        max: usize,
    ) -> &mut Self {
        if let Some(v) = value {
            self.max_len(field, v, max);
        }
        self
    }

    pub(crate) fn url(&mut self, field: &str, value: &Option<String>) -> &mut Self {
        if let Some(v) = value {
            self.max_len(field, v, URL);
            if !is_http_url(v) {
                self.0.add(field, "must be an http:// or https:// URL");
            }
        }
        self
    }

    pub(crate) fn range_i64(
        &mut self,
        field: &str,
        value: Option<i64>,
        min: i64,
        max: i64,
    ) -> &mut Self {
        if let Some(v) = value
            && !(min..=max).contains(&v)
        {
            self.0
                .add(field, format!("must be between {min} and {max}"));
        }
        self
    }

    /// A calendar date both backends store: years 1 to 9999 (PostgreSQL refuses dates
    /// before 4713 BC, SQLite takes any text; the API promises the same on both).
    pub(crate) fn date(&mut self, field: &str, value: Option<Date>) -> &mut Self {
        if let Some(d) = value
            && !date_in_range(d)
        {
            self.0.add(field, DATE_RANGE_MESSAGE);
        }
        self
    }

    pub(crate) fn dates(&mut self, start: Option<Date>, end: Option<Date>) -> &mut Self {
        self.date("start_date", start).date("end_date", end);
        if let (Some(s), Some(e)) = (start, end)
            && s > e
        {
            self.0.add("end_date", "must not be before start_date");
        }
        self
    }

    pub(crate) fn done(&mut self) -> Result<(), ValidationErrors> {
        std::mem::take(&mut self.0).into_result()
    }
}

/// The years a stored date may have, on both backends.
pub const MIN_YEAR: i32 = 1;
pub const MAX_YEAR: i32 = 9999;
/// What a date outside them is told.
pub const DATE_RANGE_MESSAGE: &str = "must be a date in the years 1 to 9999";

pub fn date_in_range(d: Date) -> bool {
    (MIN_YEAR..=MAX_YEAR).contains(&d.year())
}

/// An absolute http(s) URL with a host and no whitespace.
pub fn is_http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// A plausible address: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && s.len() <= 254
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl Validate for ProfileFields {
    fn validate(&self) -> Result<(), ValidationErrors> {
        Check::default()
            .optional("full_name", &self.full_name, SHORT)
            .optional("headline", &self.headline, SHORT)
            .optional("summary", &self.summary, LONG)
            .optional("location", &self.location, SHORT)
            .optional("phone", &self.phone, 50)
            .url("website", &self.website)
            .done()
    }
}

impl Validate for SkillFields {
    fn validate(&self) -> Result<(), ValidationErrors> {
        Check::default()
            .required("name", &self.name, 100)
            .optional("category", &self.category, 100)
            .range_i64("proficiency", self.proficiency, 1, 5)
            .done()
    }
}

impl Validate for EducationFields {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut check = Check::default();
        check
            .required("institution", &self.institution, SHORT)
            .optional("degree", &self.degree, SHORT)
            .optional("field_of_study", &self.field_of_study, SHORT)
            .dates(self.start_date, self.end_date);
        if let Some(gpa) = self.gpa
            && !(0.0..=10.0).contains(&gpa)
        {
            check.0.add("gpa", "must be between 0 and 10");
        }
        check.done()
    }
}

impl Validate for EmploymentFields {
    fn validate(&self) -> Result<(), ValidationErrors> {
        Check::default()
            .required("company", &self.company, SHORT)
            .required("title", &self.title, SHORT)
            .optional("description", &self.description, LONG)
            .dates(self.start_date, self.end_date)
            .done()
    }
}

/// Tags a job may carry, and their length.
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_LEN: usize = 50;

/// Tags are stored trimmed and lower-cased ([`crate::models::normalize_tags`]); `;` and `,`
/// separate them in the CSV export, so neither may be part of one.
fn check_tags(check: &mut Check, tags: &[String]) {
    if tags.len() > MAX_TAGS {
        check.0.add("tags", format!("at most {MAX_TAGS} tags"));
    }
    for (i, tag) in tags.iter().enumerate() {
        let field = format!("tags[{i}]");
        let t = tag.trim();
        if t.is_empty() {
            check.0.add(&field, "must not be blank");
        } else if t.chars().count() > MAX_TAG_LEN {
            check
                .0
                .add(&field, format!("must be at most {MAX_TAG_LEN} characters"));
        } else if t.contains([';', ',']) || t.chars().any(char::is_control) {
            check
                .0
                .add(&field, "must not contain `;`, `,` or control characters");
        }
    }
}

impl Validate for JobFields {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut check = Check::default();
        check
            .required("title", &self.title, SHORT)
            .required("company", &self.company, SHORT)
            .optional("location", &self.location, SHORT)
            .url("url", &self.url)
            .optional("description", &self.description, LONG)
            .optional("notes", &self.notes, LONG)
            .optional("source", &self.source, 100)
            .date("deadline", self.deadline)
            .range_i64("salary_min", self.salary_min, 0, 100_000_000)
            .range_i64("salary_max", self.salary_max, 0, 100_000_000);
        if let (Some(min), Some(max)) = (self.salary_min, self.salary_max)
            && min > max
        {
            check.0.add("salary_max", "must be at least salary_min");
        }
        check_tags(&mut check, &self.tags);
        check.done()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_characters_are_refused_in_every_text() {
        let job = JobFields {
            title: "a\0b".into(),
            company: "c".into(),
            notes: Some("\0".into()),
            ..serde_json::from_value(serde_json::json!({"title": "t", "company": "c"})).unwrap()
        };
        let fields: Vec<_> = job
            .validate()
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["title", "notes"]);
        assert!(!is_email("a\0@example.com"));
    }

    #[test]
    fn urls_need_a_scheme_and_a_host() {
        assert!(is_http_url("https://example.com/jobs/1"));
        assert!(is_http_url("http://example.com"));
        assert!(!is_http_url("ftp://example.com"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("https://exa mple.com"));
        assert!(!is_http_url("example.com"));
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(is_email("a@b.co"));
        assert!(!is_email("a@b"));
        assert!(!is_email("@b.co"));
        assert!(!is_email("a b@c.co"));
        assert!(!is_email("a@@b.co"));
    }

    #[test]
    fn job_rules_report_every_problem() {
        let job = JobFields {
            title: " ".into(),
            company: "Acme".into(),
            location: None,
            url: Some("nope".into()),
            description: None,
            salary_min: Some(10),
            salary_max: Some(5),
            status: Default::default(),
            deadline: None,
            notes: None,
            source: None,
            tags: Vec::new(),
        };
        let errs = job.validate().unwrap_err();
        let fields: Vec<_> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "url", "salary_max"]);
    }
}
