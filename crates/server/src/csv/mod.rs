//! The jobs CSV, one format both ways: `GET /api/export/jobs.csv` writes it and
//! `POST /api/import/jobs` reads it, so an export imported into another account gives the
//! same export back.
//!
//! Columns: the job's fields, then `tags` (`;`-separated), `contacts` (a JSON array of
//! `{name, email, role}`), `status_history` (`status@RFC3339` entries, oldest first,
//! `;`-separated), `created_at` and `updated_at`. A cell that a spreadsheet would run as a
//! formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return), or that starts with
//! `'`, is written with a `'` in front, which import takes off again.

pub mod export;
pub mod import;

pub const COLUMNS: [&str; 16] = [
    "title",
    "company",
    "location",
    "url",
    "source",
    "description",
    "salary_min",
    "salary_max",
    "status",
    "deadline",
    "notes",
    "tags",
    "contacts",
    "status_history",
    "created_at",
    "updated_at",
];

/// A cell as written: formula triggers and a leading `'` get a `'` in front.
pub fn escape(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\'') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// A cell as read: the `'` that [`escape`] added is taken off.
pub fn unescape(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips_and_defuses_formulas() {
        for cell in [
            "=SUM(A1)", "+1", "-2", "@x", "'quoted", "''", "plain", "", "a=b",
        ] {
            assert_eq!(unescape(&escape(cell)), cell);
        }
        assert_eq!(escape("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(escape("Acme"), "Acme");
    }
}
