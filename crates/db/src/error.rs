//! The storage error: what a caller can act on, with the driver error kept as the cause.

use crate::validate::ValidationErrors;

pub type DbResult<T> = Result<T, DbError>;

/// Which existing job a new one duplicates, and by which key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Duplicate {
    pub existing_id: uuid::Uuid,
    /// `url` (same normalized URL) or `company_and_title`.
    pub matched_on: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No row, or a row of another user: callers answer both the same way (404).
    #[error("not found")]
    NotFound,
    /// The user already has this job (duplicate detection); nothing was written.
    #[error("duplicate of job {}", .0.existing_id)]
    Duplicate(Duplicate),
    /// A unique constraint refused the write; the field names what clashed.
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// The merged record does not satisfy the model's rules.
    #[error("invalid: {0}")]
    Invalid(ValidationErrors),
    /// No pooled connection within the acquire timeout, or the connection failed: the
    /// database is overloaded or down.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// The database's disk is full (SQLite's `SQLITE_FULL`, PostgreSQL's `disk_full`):
    /// writes fail until space is freed; reads still work.
    #[error("database disk full")]
    DiskFull(#[source] sqlx::Error),
    /// The statement ran past `DB_STATEMENT_TIMEOUT` and the server cancelled it.
    #[error("statement timed out")]
    StatementTimeout(#[source] sqlx::Error),
    /// The configuration cannot work (bad URL, unknown scheme).
    #[error("{0}")]
    Config(String),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error")]
    Other(#[source] sqlx::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        match &e {
            sqlx::Error::RowNotFound => DbError::NotFound,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                DbError::Unavailable(e)
            }
            sqlx::Error::Database(db)
                if sqlite_primary(db.as_ref()) == Some(SQLITE_FULL)
                    || db.code().as_deref() == Some("53100") =>
            {
                DbError::DiskFull(e)
            }
            // Another session held SQLite's lock past busy_timeout: busy, not broken.
            sqlx::Error::Database(db)
                if matches!(
                    sqlite_primary(db.as_ref()),
                    Some(SQLITE_BUSY | SQLITE_LOCKED)
                ) =>
            {
                DbError::Unavailable(e)
            }
            // query_canceled: statement_timeout (or a cancel request) stopped the query.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("57014") => {
                DbError::StatementTimeout(e)
            }
            // Connection exceptions (08…), insufficient resources (53…: too many
            // connections) and operator intervention (57P01…57P05: shutdown, restart,
            // starting up): the database cannot answer now but will again.
            sqlx::Error::Database(db)
                if db.code().is_some_and(|c| {
                    // SQLSTATEs are five characters; SQLite's numeric codes are shorter.
                    c.len() == 5
                        && (c.starts_with("08") || c.starts_with("53") || c.starts_with("57P"))
                }) =>
            {
                DbError::Unavailable(e)
            }
            // character_not_in_repertoire: a NUL in a text, which PostgreSQL cannot take.
            // Validation refuses them where it can; this keeps any other path off a 500.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("22021") => DbError::Invalid(
                ValidationErrors::single("body", format!("text {}", crate::validate::NUL_MESSAGE)),
            ),
            // The row a write refers to is gone (deleted concurrently).
            sqlx::Error::Database(db) if db.kind() == ErrorKind::ForeignKeyViolation => {
                DbError::NotFound
            }
            sqlx::Error::Database(db) if db.kind() == ErrorKind::UniqueViolation => {
                let what = match db.constraint() {
                    Some(c) if c.contains("email") => "email",
                    _ if db.message().contains("email") => "email",
                    _ => "record",
                };
                DbError::Conflict(what)
            }
            _ => DbError::Other(e),
        }
    }
}

/// SQLite's primary result codes (`sqlite3.h`).
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_FULL: i32 = 13;

/// The primary result code of a SQLite error (its extended code's low byte); `None` for
/// other databases.
fn sqlite_primary(db: &dyn sqlx::error::DatabaseError) -> Option<i32> {
    db.try_downcast_ref::<sqlx::sqlite::SqliteError>()?;
    let code: i32 = db.code()?.parse().ok()?;
    Some(code & 0xff)
}

impl DbError {
    /// The message with every cause after it (`database error: pool timed out …`), for logs.
    pub fn chain(&self) -> String {
        let mut out = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            out.push_str(": ");
            out.push_str(&cause.to_string());
            source = cause.source();
        }
        out
    }
}

impl From<ValidationErrors> for DbError {
    fn from(e: ValidationErrors) -> Self {
        DbError::Invalid(e)
    }
}

#[cfg(test)]
mod tests {
    use super::DbError;
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{ConnectOptions, Connection, SqliteConnection};
    use std::str::FromStr;
    use std::time::Duration;

    /// SQLite's own errors, provoked for real: a database past its `max_page_count` is
    /// full; a write lock held by another connection past `busy_timeout` is busy.
    #[tokio::test]
    async fn sqlite_full_and_busy_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true)
            .busy_timeout(Duration::ZERO);
        let mut a = options.connect().await.unwrap();
        sqlx::raw_sql("CREATE TABLE t (x BLOB UNIQUE); PRAGMA max_page_count = 2")
            .execute(&mut a)
            .await
            .unwrap();
        let full = sqlx::query("INSERT INTO t VALUES (zeroblob(100000))")
            .execute(&mut a)
            .await
            .unwrap_err();
        assert!(matches!(DbError::from(full), DbError::DiskFull(_)));

        sqlx::raw_sql("PRAGMA max_page_count = 1000; INSERT INTO t VALUES (x'01')")
            .execute(&mut a)
            .await
            .unwrap();
        let dup = sqlx::query("INSERT INTO t VALUES (x'01')")
            .execute(&mut a)
            .await
            .unwrap_err();
        assert!(matches!(DbError::from(dup), DbError::Conflict("record")));

        let mut b: SqliteConnection = options.connect().await.unwrap();
        sqlx::raw_sql("BEGIN IMMEDIATE")
            .execute(&mut a)
            .await
            .unwrap();
        let busy = sqlx::raw_sql("BEGIN IMMEDIATE")
            .execute(&mut b)
            .await
            .unwrap_err();
        assert!(matches!(DbError::from(busy), DbError::Unavailable(_)));
        b.close().await.unwrap();
    }
}
