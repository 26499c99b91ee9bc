//! Fresh, migrated databases for tests: a temporary SQLite file, or a new schema in the
//! PostgreSQL database named by `FLOWATS_TEST_DATABASE_URL`.
//!
//! With `FLOWATS_TEST_POOLER_URL` set too (a transaction-mode PgBouncer in front of that
//! server, e.g. `postgres://postgres@127.0.0.1:6543/flowats_ci`), the PostgreSQL stores
//! run with `DB_POOL_MODE=pgbouncer` through it; migrations still go direct.
//!
//! Without that variable the PostgreSQL half of a suite is skipped with a message, except
//! under `CI=true`, where a suite that cannot run on PostgreSQL fails.

use crate::{Database, DbOptions};
use std::ops::Deref;
use std::time::Duration;

pub const PG_URL_VAR: &str = "FLOWATS_TEST_DATABASE_URL";
pub const POOLER_URL_VAR: &str = "FLOWATS_TEST_POOLER_URL";

/// A test database and whatever must outlive it (the SQLite file's directory).
pub struct TestDb {
    pub db: Database,
    /// The URL that reaches this database (for a server process under test).
    pub url: String,
    /// Further environment a server process needs to reach it the same way
    /// (`DB_POOL_MODE`, `DATABASE_POOLER_URL`).
    pub env: Vec<(&'static str, String)>,
    /// The options its stores were opened with.
    pub options: DbOptions,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// Another handle on the same database (for a second app over it); the original must
    /// outlive it.
    pub fn share(other: &TestDb) -> TestDb {
        TestDb {
            db: other.db.clone(),
            url: other.url.clone(),
            env: other.env.clone(),
            options: other.options.clone(),
            _dir: None,
        }
    }
}

impl TestDb {
    /// Connects to a database a test set up itself (a private server), and migrates it.
    pub async fn connect(url: &str, options: DbOptions) -> TestDb {
        let db = Database::connect(url, &options).await.expect("connect");
        db.ops.migrate().await.expect("migrate");
        TestDb {
            db,
            url: url.to_owned(),
            env: Vec::new(),
            options,
            _dir: None,
        }
    }

    /// The same database opened again with adjusted options (a tiny pool, a short
    /// statement timeout, a replica…); the original must outlive it.
    pub async fn reopen(&self, adjust: impl FnOnce(&mut DbOptions)) -> TestDb {
        let mut options = self.options.clone();
        adjust(&mut options);
        let db = Database::connect(&self.url, &options)
            .await
            .expect("reopen test database");
        TestDb {
            db,
            url: self.url.clone(),
            env: self.env.clone(),
            options,
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
        env: Vec::new(),
        options: options(),
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
    let with_schema = |base: &str| {
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}options=-c%20search_path%3D{schema}")
    };
    let url = with_schema(&base);
    let mut options = options();
    let mut env = Vec::new();
    if let Ok(pooler) = std::env::var(POOLER_URL_VAR)
        && !pooler.is_empty()
    {
        let pooler = with_schema(&pooler);
        options.pool_mode = crate::PoolMode::PgBouncer;
        options.pooler_url = Some(pooler.clone());
        env.push(("DB_POOL_MODE", "pgbouncer".to_owned()));
        env.push(("DATABASE_POOLER_URL", pooler));
    }
    let db = Database::connect(&url, &options).await.expect("connect");
    db.ops.migrate().await.expect("migrate postgres");
    Some(TestDb {
        db,
        url,
        env,
        options,
        _dir: None,
    })
}

/// Whether the PostgreSQL suites run through a pooler (`FLOWATS_TEST_POOLER_URL`).
pub fn through_pooler() -> bool {
    std::env::var(POOLER_URL_VAR).is_ok_and(|v| !v.is_empty())
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
