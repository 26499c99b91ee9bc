//! SQLite: the zero-configuration backend. One file in WAL mode; a single writer
//! connection (SQLite allows one writer at a time, so writes queue in the pool rather than
//! fail with "database is locked") and a pool of readers.

use crate::models::JobFields;
use crate::pool::{PoolMonitor, PoolStatus, Unit};
use crate::store::{BoxFut, Database, DbOptions, OpsStore};
use crate::{DbError, DbResult, Timestamp, sql};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection, Sqlite, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

pub struct SqliteStore {
    /// Readers; every read runs here.
    pool: SqlitePool,
    /// The one writer connection.
    writer: SqlitePool,
    readers: PoolMonitor,
    writers: PoolMonitor,
}

impl SqliteStore {
    async fn read(
        &self,
        name: &'static str,
    ) -> Result<Unit<'_, PoolConnection<Sqlite>>, sqlx::Error> {
        self.readers.enter(name, true, self.pool.acquire()).await
    }

    /// SQLite has no replica: the same readers.
    async fn read_replica(
        &self,
        name: &'static str,
        _user: Uuid,
    ) -> Result<Unit<'_, PoolConnection<Sqlite>>, sqlx::Error> {
        self.read(name).await
    }

    fn replica_failed(&self, _e: &sqlx::Error) {}

    /// No replica to keep anyone's reads away from.
    fn wrote(&self, _user: Uuid) {}

    /// Write transactions take the write lock up front: a deferred transaction that reads
    /// first and then writes fails at once with SQLITE_BUSY instead of waiting.
    async fn begin_write(
        &self,
        name: &'static str,
    ) -> Result<Unit<'_, Transaction<'static, Sqlite>>, sqlx::Error> {
        self.writers
            .enter(name, true, self.writer.begin_with("BEGIN IMMEDIATE"))
            .await
    }

    /// `flowats seed`: multi-row `INSERT`s in one transaction (SQLite has no COPY, and
    /// with one writer and no network round trips this is its fastest path).
    async fn load_jobs(&self, user: Uuid, jobs: Vec<(JobFields, Timestamp)>) -> DbResult<()> {
        /// Rows per statement: 17 parameters each, well under SQLite's 32,766.
        const CHUNK: usize = 500;
        let mut tx = self.begin_write("seed.insert_jobs").await?;
        for chunk in jobs.chunks(CHUNK) {
            let ids: Vec<Uuid> = chunk.iter().map(|_| Uuid::now_v7()).collect();
            let mut q = sqlx::QueryBuilder::<Sqlite>::new(sql::JOB_BULK_INSERT);
            q.push_values(chunk.iter().zip(&ids), |mut b, ((f, at), id)| {
                let (dedup_url, dedup_name) = crate::dedup::keys(f);
                b.push_bind(*id)
                    .push_bind(user)
                    .push_bind(*at)
                    .push_bind(*at)
                    .push_bind(f.title.as_str())
                    .push_bind(f.company.as_str())
                    .push_bind(f.location.as_deref())
                    .push_bind(f.url.as_deref())
                    .push_bind(f.description.as_deref())
                    .push_bind(f.salary_min)
                    .push_bind(f.salary_max)
                    .push_bind(f.status.as_str())
                    .push_bind(f.deadline)
                    .push_bind(f.notes.as_deref())
                    .push_bind(f.source.as_deref())
                    .push_bind(dedup_url)
                    .push_bind(dedup_name);
            });
            q.build().execute(&mut *tx).await?;

            let mut q = sqlx::QueryBuilder::<Sqlite>::new(sql::EVENT_BULK_INSERT);
            q.push_values(chunk.iter().zip(&ids), |mut b, ((f, at), id)| {
                b.push_bind(Uuid::now_v7())
                    .push_bind(user)
                    .push_bind(*id)
                    .push_bind(None::<&str>)
                    .push_bind(f.status.as_str())
                    .push_bind(*at);
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl_stores!(
    SqliteStore,
    Sqlite,
    job_lock = sql::JOB_GET,
    item_lock = GET,
    unlink = sql::tracker::UNLINK_INTERVIEWER_SQLITE,
    user_lock = sql::tracker::USER_LOCK_SQLITE
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
        Box::pin(async move {
            MIGRATOR.run(&self.writer).await?;
            stores::backfill_dedup_keys(self).await?;
            Ok(())
        })
    }

    fn close(&self) -> BoxFut<'_, ()> {
        Box::pin(async move {
            self.pool.close().await;
            self.writer.close().await;
        })
    }

    fn pool_status(&self) -> Vec<PoolStatus> {
        vec![
            self.readers
                .status(self.pool.size(), self.pool.num_idle() as u32),
            self.writers
                .status(self.writer.size(), self.writer.num_idle() as u32),
        ]
    }
}

/// Whether the writer connection may go back to the pool. A transaction dropped without
/// commit queues its ROLLBACK on the connection; when that ROLLBACK fails (after
/// `SQLITE_FULL` or an I/O error SQLite may already have rolled back on its own), the
/// driver still counts the transaction as open and refuses every later `BEGIN` on the
/// connection — with one writer, every write of the server until a restart. Such a
/// connection is closed instead, and the pool opens a fresh one.
async fn still_usable(conn: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    if conn.is_in_transaction() {
        // Lets the queued ROLLBACK run first.
        conn.ping().await?;
    }
    let usable = !conn.is_in_transaction();
    if !usable {
        tracing::warn!(
            "closing the SQLite writer: its rolled-back transaction is still counted open"
        );
    }
    Ok(usable)
}

/// Creates the database file, if missing, readable and writable by its owner only: it
/// holds password hashes. SQLite gives the `-wal` and `-shm` files it creates next to it
/// the same mode. An existing file keeps the mode its operator gave it.
fn create_private(path: &std::path::Path) -> DbResult<()> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    match open.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(DbError::Config(format!(
            "cannot create database file {path:?}: {e}"
        ))),
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
    let file = base.get_filename();
    if file != std::path::Path::new(":memory:") && !url.contains("mode=memory") {
        create_private(file)?;
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
        .after_connect(|conn, _| Box::pin(crate::sqlite_fold::register(conn)))
        .after_release(|conn, _| Box::pin(still_usable(conn)))
        .connect_with(base.clone())
        .await?;
    let pool = SqlitePoolOptions::new()
        .max_connections(options.max_connections.clamp(1, 8))
        .min_connections(options.min_connections.min(8))
        .acquire_timeout(options.acquire_timeout)
        .idle_timeout(options.idle_timeout)
        .after_connect(|conn, _| Box::pin(crate::sqlite_fold::register(conn)))
        .connect_with(base.read_only(true))
        .await?;
    Ok(Database::from_backend(
        "sqlite",
        Arc::new(SqliteStore {
            readers: PoolMonitor::new(
                "reader",
                pool.options().get_max_connections(),
                options.slow_query,
            ),
            writers: PoolMonitor::new("writer", 1, options.slow_query),
            pool,
            writer,
        }),
    ))
}
