//! Reading the jobs CSV: every row is checked with the same rules as `POST /api/jobs`, and
//! every problem is reported with its line, so a file is imported whole or not at all.

use super::{COLUMNS, unescape};
use flowats_db::Timestamp;
use flowats_db::models::{JobFields, JobStatus};
use flowats_db::tracker::{ExportedContact, ImportedJob};
use flowats_db::validate::is_email;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashSet;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

/// Rows one file may hold.
pub const MAX_ROWS: usize = 100_000;
/// `status_history` entries one row may carry: a job's real history is a handful of moves,
/// and every entry is a stored event each later stats read goes through.
pub const MAX_HISTORY: usize = 100;
/// Errors reported for one file; the count says how many there were in all.
pub const MAX_ERRORS: usize = 100;

/// One problem of one row.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct RowError {
    /// The line of the file (the header is line 1).
    pub line: u64,
    /// The column.
    pub field: String,
    pub message: String,
}

/// A row as read, with the line it started on.
pub struct Row {
    pub line: u64,
    pub job: ImportedJob,
}

/// The file's problems: with the header (`line` 1) or with rows.
#[derive(Debug, Default)]
pub struct Problems {
    pub errors: Vec<RowError>,
    pub total: usize,
}

impl Problems {
    pub fn add(&mut self, line: u64, field: &str, message: impl Into<String>) {
        self.total += 1;
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(RowError {
                line,
                field: field.to_owned(),
                message: message.into(),
            });
        }
    }
}

/// Parses and checks a whole file. `Err` lists every problem (up to [`MAX_ERRORS`]).
pub fn parse(bytes: &[u8]) -> Result<Vec<Row>, Problems> {
    let mut problems = Problems::default();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            problems.add(1, "header", format!("not a CSV header: {e}"));
            return Err(problems);
        }
    };
    let mut seen = HashSet::new();
    for h in headers.iter() {
        if !COLUMNS.contains(&h) {
            problems.add(
                1,
                h,
                format!("unknown column; the columns are {}", COLUMNS.join(", ")),
            );
        } else if !seen.insert(h) {
            problems.add(1, h, "column given twice");
        }
    }
    for required in ["title", "company"] {
        if !seen.contains(required) {
            problems.add(1, required, "required column missing");
        }
    }
    if problems.total > 0 {
        return Err(problems);
    }
    let names: Vec<String> = headers.iter().map(str::to_owned).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.add(line, "row", format!("not a CSV row: {e}"));
                // The reader cannot go on past a broken record reliably.
                break;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if rows.len() == MAX_ROWS {
            problems.add(line, "row", format!("a file holds at most {MAX_ROWS} rows"));
            break;
        }
        let cell = |name: &str| {
            names
                .iter()
                .position(|n| n == name)
                .and_then(|i| record.get(i))
                .map(unescape)
                .filter(|v| !v.is_empty())
        };
        if let Some(job) = row(line, &cell, &mut problems) {
            rows.push(Row { line, job });
        }
    }
    if rows.is_empty() && problems.total == 0 {
        problems.add(2, "row", "the file has no rows");
    }
    if problems.total > 0 {
        Err(problems)
    } else {
        Ok(rows)
    }
}

/// An RFC 3339 time from 1970 up to a day from now: what a job's history can hold.
fn timestamp(s: &str) -> Option<Timestamp> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    let latest = OffsetDateTime::now_utc() + time::Duration::days(1);
    (OffsetDateTime::UNIX_EPOCH..=latest)
        .contains(&t)
        .then(|| Timestamp::from(t))
}

const TIME_RULE: &str = "must be an RFC 3339 timestamp from 1970 to now";

/// One row, or `None` with its problems added.
fn row<'a>(
    line: u64,
    cell: &dyn Fn(&str) -> Option<&'a str>,
    problems: &mut Problems,
) -> Option<ImportedJob> {
    let before = problems.total;
    let mut object = Map::new();
    for name in [
        "title",
        "company",
        "location",
        "url",
        "source",
        "description",
        "notes",
    ] {
        if let Some(v) = cell(name) {
            object.insert(name.into(), Value::String(v.to_owned()));
        }
    }
    // Typed cells are checked here, and a bad one left out, so that the row's other rules
    // are still checked (serde would stop at the first wrong type); a missing title or
    // company is sent blank, which the job's rules report.
    for required in ["title", "company"] {
        object
            .entry(required)
            .or_insert_with(|| Value::String(String::new()));
    }
    if let Some(v) = cell("status") {
        match JobStatus::parse(v) {
            Some(_) => {
                object.insert("status".into(), Value::String(v.to_owned()));
            }
            None => problems.add(
                line,
                "status",
                format!(
                    "must be one of {}",
                    JobStatus::ALL.map(JobStatus::as_str).join(", ")
                ),
            ),
        }
    }
    if let Some(v) = cell("deadline") {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        match time::Date::parse(v, &format) {
            Ok(_) => {
                object.insert("deadline".into(), Value::String(v.to_owned()));
            }
            Err(_) => problems.add(line, "deadline", "must be a date (YYYY-MM-DD)"),
        }
    }
    for name in ["salary_min", "salary_max"] {
        if let Some(v) = cell(name) {
            match v.trim().parse::<i64>() {
                Ok(n) => {
                    object.insert(name.into(), Value::from(n));
                }
                Err(_) => problems.add(line, name, "must be a whole number"),
            }
        }
    }
    if let Some(tags) = cell("tags") {
        let tags: Vec<Value> = tags
            .split(';')
            .map(|t| Value::String(t.to_owned()))
            .collect();
        object.insert("tags".into(), Value::Array(tags));
    }
    let created_at = match cell("created_at") {
        None => Timestamp::now(),
        Some(v) => timestamp(v).unwrap_or_else(|| {
            problems.add(line, "created_at", TIME_RULE);
            Timestamp::now()
        }),
    };
    let mut history = Vec::new();
    let entries = cell("status_history").map_or(0, |h| h.split(';').count());
    if entries > MAX_HISTORY {
        problems.add(
            line,
            "status_history",
            format!("at most {MAX_HISTORY} entries per row, got {entries}"),
        );
    }
    for entry in cell("status_history")
        .filter(|_| entries <= MAX_HISTORY)
        .into_iter()
        .flat_map(|h| h.split(';'))
    {
        let parsed = entry
            .split_once('@')
            .and_then(|(s, t)| Some((JobStatus::parse(s.trim())?, timestamp(t.trim())?)));
        match parsed {
            Some((status, at)) => {
                if history.last().is_some_and(|(_, prev)| *prev > at) {
                    problems.add(line, "status_history", "entries must be oldest first");
                }
                history.push((status, at));
            }
            None => problems.add(
                line,
                "status_history",
                format!("{entry:?} is not `status@RFC3339-timestamp` with a known status and a time from 1970 to now"),
            ),
        }
    }
    // The status column and the history must agree: either may stand for the other.
    match (object.get("status").and_then(Value::as_str), history.last()) {
        (None, Some((last, _))) => {
            object.insert("status".into(), Value::String(last.as_str().into()));
        }
        (Some(s), Some((last, _))) if s != last.as_str() => problems.add(
            line,
            "status",
            format!("is {s:?} but the history ends in {:?}", last.as_str()),
        ),
        _ => {}
    }
    let fields = match flowats_db::patch::parse::<JobFields>(Value::Object(object)) {
        Ok(f) => Some(f),
        Err(errors) => {
            for e in errors.0 {
                problems.add(line, &e.field, e.message);
            }
            None
        }
    };
    let contacts = match cell("contacts") {
        None => Vec::new(),
        Some(v) => match serde_json::from_str::<Vec<ExportedContact>>(v) {
            Ok(list) => list,
            Err(e) => {
                problems.add(
                    line,
                    "contacts",
                    format!("must be a JSON array of {{name, email, role}}: {e}"),
                );
                Vec::new()
            }
        },
    };
    let mut keys = HashSet::new();
    for (i, c) in contacts.iter().enumerate() {
        let name_ok =
            !c.name.trim().is_empty() && c.name.chars().count() <= 200 && !c.name.contains('\0');
        if !name_ok {
            problems.add(
                line,
                &format!("contacts[{i}].name"),
                "is required, at most 200 characters",
            );
        }
        if c.email.as_deref().is_some_and(|e| !is_email(e)) {
            problems.add(
                line,
                &format!("contacts[{i}].email"),
                "must be an email address",
            );
        }
        let key = c.email.as_ref().map_or_else(
            || format!("name:{}", c.name),
            |e| format!("email:{}", e.to_lowercase()),
        );
        if !keys.insert(key) {
            problems.add(line, &format!("contacts[{i}]"), "is listed more than once");
        }
    }
    if contacts.len() > flowats_db::tracker::MAX_JOB_CONTACTS {
        problems.add(line, "contacts", "at most 50 contacts per job");
    }
    let fields = fields?;
    if problems.total > before {
        return None;
    }
    if history.is_empty() {
        history.push((fields.status, created_at));
    }
    let last_move = history.last().map_or(created_at, |(_, at)| *at);
    let updated_at = match cell("updated_at") {
        None => last_move.max(created_at),
        Some(v) => match timestamp(v) {
            Some(t) => t,
            None => {
                problems.add(line, "updated_at", TIME_RULE);
                return None;
            }
        },
    };
    if updated_at < created_at {
        problems.add(line, "updated_at", "must not be before created_at");
        return None;
    }
    Some(ImportedJob {
        fields,
        created_at,
        updated_at,
        history,
        contacts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let file = "title,company,status,salary_min,status_history\n\
                    Dev,Acme,applied,10,interested@2026-01-01T00:00:00Z;applied@2026-01-02T00:00:00Z\n\
                    ,Acme,hired,ten,\n\
                    Ops,Globex,offer,,applied@2026-01-01T00:00:00Z\n";
        let Err(problems) = parse(file.as_bytes()) else {
            panic!("the file has problems")
        };
        let got: Vec<(u64, &str)> = problems
            .errors
            .iter()
            .map(|e| (e.line, e.field.as_str()))
            .collect();
        assert!(got.contains(&(3, "title")), "{got:?}");
        assert!(got.contains(&(3, "status")), "{got:?}");
        assert!(got.contains(&(3, "salary_min")), "{got:?}");
        assert!(got.contains(&(4, "status")), "{got:?}");
        assert!(!got.iter().any(|(l, _)| *l == 2), "{got:?}");
    }

    #[test]
    fn unknown_and_missing_columns_are_refused() {
        let Err(problems) = parse(b"title,user_id\nDev,x\n") else {
            panic!("the file has problems")
        };
        let fields: Vec<&str> = problems.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["user_id", "company"]);
    }

    #[test]
    fn a_minimal_row_gets_a_creation_event() {
        let Ok(rows) = parse(b"company,title\nAcme,Dev\n") else {
            panic!("the file is valid")
        };
        assert_eq!(rows[0].job.history.len(), 1);
        assert_eq!(rows[0].job.history[0].0, JobStatus::Interested);
    }
}
