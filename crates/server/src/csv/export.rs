//! Writing jobs as CSV rows, a batch at a time.

use super::{COLUMNS, escape};
use flowats_db::tracker::ExportedJob;

/// The header line.
pub fn header() -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS).expect("writing to memory");
    w.into_inner().expect("writing to memory")
}

/// One batch of rows.
pub fn rows(jobs: &[ExportedJob]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::with_capacity(jobs.len() * 256));
    for e in jobs {
        let f = &e.job.fields;
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        let contacts = if e.contacts.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&e.contacts).expect("contacts serialize")
        };
        let history: Vec<String> = e
            .history
            .iter()
            .map(|(status, at)| format!("{status}@{at}"))
            .collect();
        let cells = [
            f.title.clone(),
            f.company.clone(),
            opt(&f.location),
            opt(&f.url),
            opt(&f.source),
            opt(&f.description),
            num(f.salary_min),
            num(f.salary_max),
            f.status.as_str().to_owned(),
            f.deadline.map(|d| d.to_string()).unwrap_or_default(),
            opt(&f.notes),
            f.tags.join(";"),
            contacts,
            history.join(";"),
            e.job.created_at.to_string(),
            e.job.updated_at.to_string(),
        ];
        w.write_record(cells.iter().map(|c| escape(c).into_owned()))
            .expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}
