//! Fresh, migrated databases for tests: a temporary SQLite file, or a new schema in the
//! PostgreSQL database named by `FLOWATS_TEST_DATABASE_URL`.
//!
//! Without that variable the PostgreSQL half of a suite is skipped with a message, except
//! under `CI=true`, where a suite that cannot run on PostgreSQL fails.

use crate::{Database, DbOptions};
use std::ops::Deref;
use std::time::Duration;

pub const PG_URL_VAR: &str = "FLOWATS_TEST_DATABASE_URL";

/// A test database and whatever must outlive it (the SQLite file's directory).
pub struct TestDb {
    pub db: Database,
    /// The URL that reaches this database (for a server process under test).
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// Another handle on the same database (for a second app over it); the original must
    /// outlive it.
    pub fn share(other: &TestDb) -> TestDb {
        TestDb {
            db: other.db.clone(),
            url: other.url.clone(),
            _dir: None,
        }
    }
}

impl Deref for TestDb {
    type Target = Database;
    fn deref(&self) -> &Database {
        &self.db
    }
}

pub fn options() -> DbOptions {
    DbOptions {
        max_connections: 5,
        acquire_timeout: Duration::from_secs(10),
        ..DbOptions::default()
    }
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let db = Database::connect(&url, &options())
        .await
        .expect("open sqlite");
    db.ops.migrate().await.expect("migrate sqlite");
    TestDb {
        db,
        url,
        _dir: Some(dir),
    }
}

/// The PostgreSQL base URL, or `None` to skip; panics under `CI=true` when unset.
pub fn postgres_url() -> Option<String> {
    match std::env::var(PG_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but {PG_URL_VAR} is not set: the PostgreSQL suite must run in CI")
        }
        _ => {
            eprintln!("skipping: {PG_URL_VAR} is not set");
            None
        }
    }
}

/// A new schema in the test database, migrated, reached through `search_path`.
pub async fn postgres() -> Option<TestDb> {
    use sqlx::{Connection, Executor};
    let base = postgres_url()?;
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .expect("connect to FLOWATS_TEST_DATABASE_URL");
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .await
        .expect("create test schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let db = Database::connect(&url, &options()).await.expect("connect");
    db.ops.migrate().await.expect("migrate postgres");
    Some(TestDb {
        db,
        url,
        _dir: None,
    })
}

/// Generates one `#[tokio::test]` per listed `async fn(TestDb)` and backend: `sqlite::name`
/// always, `postgres::name` when the PostgreSQL test database is configured.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                super::$name($crate::testing::sqlite().await).await
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                if let Some(db) = $crate::testing::postgres().await {
                    super::$name(db).await
                }
            })*
        }
    };
}
