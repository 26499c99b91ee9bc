//! Fast failure while PostgreSQL is down, and recovery by itself when it is back.
//!
//! The driver's pool answers an acquire while the server refuses connections by retrying
//! until `DB_CONNECTION_TIMEOUT` (30 s by default), so without help every request of an
//! outage would hang that long. A watchdog task watches the pool: when callers have been
//! waiting for a connection for [`SUSPECT_AFTER`], it opens a fresh connection of its own;
//! if that fails with a connection error (refused, reset, shutting down, no answer within
//! [`PROBE_TIMEOUT`]) the database is marked **down**: the waiting callers are released
//! with an error at once, and new ones fail without waiting (503 `db_unavailable`). While
//! down, the watchdog probes every [`PROBE_EVERY`]; the first probe that succeeds marks it
//! **up**, and the pool's own health check (`test_before_acquire`) makes sure no connection
//! from before the outage is handed out dead.

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::Notify;

/// Callers waiting this long make the watchdog check whether the database is there.
pub const SUSPECT_AFTER: Duration = Duration::from_millis(500);
/// How often the watchdog looks at the pool, and probes while the database is down.
pub const PROBE_EVERY: Duration = Duration::from_millis(250);
/// A probe that takes longer than this counts as a failure.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

pub struct Outage {
    down: AtomicBool,
    /// Outages seen since start.
    pub outages: AtomicU64,
    opened: Notify,
}

impl Outage {
    /// Starts the watchdog for a pool whose waiting callers `waiting` counts and whose
    /// successful acquires `succeeded` counts; it stops when the returned handle is dropped.
    pub(crate) fn start(
        probe: PgConnectOptions,
        waiting: impl Fn() -> u64 + Send + 'static,
        succeeded: impl Fn() -> u64 + Send + 'static,
    ) -> Arc<Outage> {
        let outage = Arc::new(Outage {
            down: AtomicBool::new(false),
            outages: AtomicU64::new(0),
            opened: Notify::new(),
        });
        tokio::spawn(watchdog(Arc::downgrade(&outage), probe, waiting, succeeded));
        outage
    }

    pub fn is_down(&self) -> bool {
        self.down.load(Relaxed)
    }

    /// Runs `acquire` unless the database is down; gives up as soon as it goes down.
    pub(crate) async fn guard<T>(
        &self,
        acquire: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, sqlx::Error> {
        let opened = self.opened.notified();
        if self.is_down() {
            return Err(down_error());
        }
        tokio::select! {
            r = acquire => r,
            () = opened => Err(down_error()),
        }
    }

    fn mark(&self, down: bool, why: &str) {
        if self.down.swap(down, Relaxed) != down {
            if down {
                self.outages.fetch_add(1, Relaxed);
                tracing::error!(
                    cause = why,
                    "database unreachable: failing requests fast until it answers"
                );
                self.opened.notify_waiters();
            } else {
                tracing::info!("database reachable again");
            }
        }
    }
}

fn down_error() -> sqlx::Error {
    sqlx::Error::Io(io::Error::new(
        io::ErrorKind::ConnectionRefused,
        "the database is unreachable (checked by the outage watchdog)",
    ))
}

/// Why a probe says the database is down, or `None` when it is up (or only busy or full).
fn probe_failure(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => Some(e.to_string()),
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // Connection exceptions, and shutdown / crash / starting up.
            (code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03"))
                .then(|| e.to_string())
        }
        _ => None,
    }
}

/// Opens one connection and runs a query over the simple protocol (no named statement,
/// so it works through a transaction pooler too). `Err` only when the database is down.
async fn probe(options: &PgConnectOptions) -> Result<(), String> {
    let attempt = async {
        let mut conn: PgConnection = options.connect().await?;
        sqlx::raw_sql("SELECT 1").execute(&mut conn).await?;
        conn.close().await
    };
    match tokio::time::timeout(PROBE_TIMEOUT, attempt).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => probe_failure(&e).map_or(Ok(()), Err),
        Err(_) => Err(format!("no answer within {PROBE_TIMEOUT:?}")),
    }
}

async fn watchdog(
    outage: Weak<Outage>,
    options: PgConnectOptions,
    waiting: impl Fn() -> u64 + Send + 'static,
    succeeded: impl Fn() -> u64 + Send + 'static,
) {
    let options = options.disable_statement_logging();
    let mut waited = Duration::ZERO;
    let mut progress = succeeded();
    loop {
        tokio::time::sleep(PROBE_EVERY).await;
        let Some(outage) = outage.upgrade() else {
            return;
        };
        if outage.is_down() {
            if probe(&options).await.is_ok() {
                outage.mark(false, "");
            }
            progress = succeeded();
            continue;
        }
        let now = succeeded();
        // Waiting callers while others get connections: busy, not down.
        waited = if waiting() > 0 && now == progress {
            waited + PROBE_EVERY
        } else {
            Duration::ZERO
        };
        progress = now;
        if waited >= SUSPECT_AFTER {
            waited = Duration::ZERO;
            if let Err(why) = probe(&options).await {
                outage.mark(true, &why);
            }
        }
    }
}
