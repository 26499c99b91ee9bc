//! SQLite: the zero-configuration backend. One file in WAL mode; a single writer
//! connection (SQLite allows one writer at a time, so writes queue in the pool rather than
//! fail with "database is locked") and a pool of readers.

use crate::store::{BoxFut, Database, DbOptions, OpsStore};
use crate::{DbError, DbResult, sql};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection, Sqlite, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub struct SqliteStore {
    /// Readers; every read runs here.
    pool: SqlitePool,
    /// The one writer connection.
    writer: SqlitePool,
}

impl SqliteStore {
    /// Write transactions take the write lock up front: a deferred transaction that reads
    /// first and then writes fails at once with SQLITE_BUSY instead of waiting.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }
}

impl_stores!(
    SqliteStore,
    Sqlite,
    job_lock = sql::JOB_GET,
    item_lock = GET
);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

impl OpsStore for SqliteStore {
    fn ping(&self) -> BoxFut<'_, DbResult<()>> {
        Box::pin(async move {
            sqlx::query_scalar::<Sqlite, i64>(sql::PING)
                .fetch_one(&self.pool)
                .await?;
            Ok(())
        })
    }

    fn migrate(&self) -> BoxFut<'_, DbResult<()>> {
        Box::pin(async move { Ok(MIGRATOR.run(&self.writer).await?) })
    }

    fn close(&self) -> BoxFut<'_, ()> {
        Box::pin(async move {
            self.pool.close().await;
            self.writer.close().await;
        })
    }
}

/// Opens (creating if needed) the database file of `url` and returns its stores.
pub async fn connect(url: &str, options: &DbOptions) -> DbResult<Database> {
    let base = SqliteConnectOptions::from_str(url)
        .map_err(|e| DbError::Config(format!("invalid SQLite URL {url:?}: {e}")))?
        .create_if_missing(true)
        .busy_timeout(options.acquire_timeout.min(Duration::from_secs(5)))
        .foreign_keys(true)
        .synchronous(SqliteSynchronous::Normal);
    if let Some(dir) = base.get_filename().parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| {
            DbError::Config(format!("cannot create database directory {dir:?}: {e}"))
        })?;
    }
    // Switching to WAL needs an exclusive lock that busy_timeout cannot wait for, so do
    // it once on a lone connection; the mode then stays on the file.
    let conn = base
        .clone()
        .journal_mode(SqliteJournalMode::Wal)
        .connect()
        .await?;
    conn.close().await?;

    let base = base.journal_mode(SqliteJournalMode::Wal);
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(options.acquire_timeout)
        .idle_timeout(None)
        .connect_with(base.clone())
        .await?;
    let pool = SqlitePoolOptions::new()
        .max_connections(options.max_connections.clamp(1, 8))
        .min_connections(options.min_connections.min(8))
        .acquire_timeout(options.acquire_timeout)
        .idle_timeout(options.idle_timeout)
        .connect_with(base.read_only(true))
        .await?;
    Ok(Database::from_backend(
        "sqlite",
        Arc::new(SqliteStore { pool, writer }),
    ))
}
