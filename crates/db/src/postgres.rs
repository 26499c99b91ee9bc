//! PostgreSQL: the scale-out backend, one pool per instance.

use crate::store::{BoxFut, Database, DbOptions, OpsStore};
use crate::{DbError, DbResult, sql};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use std::str::FromStr;
use std::sync::Arc;

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }
}

impl_stores!(
    PgStore,
    Postgres,
    job_lock = sql::JOB_LOCK_PG,
    item_lock = LOCK
);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl OpsStore for PgStore {
    fn ping(&self) -> BoxFut<'_, DbResult<()>> {
        Box::pin(async move {
            sqlx::query_scalar::<Postgres, i32>(sql::PING)
                .fetch_one(&self.pool)
                .await?;
            Ok(())
        })
    }

    fn migrate(&self) -> BoxFut<'_, DbResult<()>> {
        Box::pin(async move { Ok(MIGRATOR.run(&self.pool).await?) })
    }

    fn close(&self) -> BoxFut<'_, ()> {
        Box::pin(self.pool.close())
    }
}

/// Connects lazily: the pool opens connections on first use, and a connection lost later
/// is replaced on the next acquire, so the server recovers by itself when the database
/// comes back. (`serve` still migrates first, so it only starts once the database answers
/// within `DB_CONNECTION_TIMEOUT`.)
pub async fn connect(url: &str, options: &DbOptions) -> DbResult<Database> {
    let connect = PgConnectOptions::from_str(url)
        .map_err(|e| {
            DbError::Config(format!(
                "invalid PostgreSQL URL {:?}: {e}",
                crate::store::redact_url(url)
            ))
        })?
        .options([(
            "statement_timeout",
            options.statement_timeout.as_millis().to_string(),
        )]);
    let pool = PgPoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .min_connections(options.min_connections)
        .acquire_timeout(options.acquire_timeout)
        .idle_timeout(options.idle_timeout)
        .connect_lazy_with(connect);
    Ok(Database::from_backend(
        "postgres",
        Arc::new(PgStore { pool }),
    ))
}
