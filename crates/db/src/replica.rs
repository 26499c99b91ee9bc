//! The read replica (`DATABASE_READ_URL`): which reads may go to it, and whether it is
//! fit to serve them.
//!
//! Only reads that tolerate a little staleness (job statistics, analytics) are offered to
//! the replica, and even those go to the primary when
//! - the replica is down, or its replay lag is over `DATABASE_READ_MAX_LAG_MS`, or
//! - the user wrote within the read-your-writes window (the lag limit plus
//!   [`READ_YOUR_WRITES`]): writes made on this instance are noted by the store, writes made
//!   on other instances by the server when their cache invalidations arrive.
//!
//! Lag is measured against the primary, not from the replica's own view (which a stalled or
//! cut-off standby gets wrong): every [`CHECK_EVERY`] a checker reads the primary's WAL
//! position and the replica's replay position (over its own connection, so a busy replica
//! pool does not look like an outage). When the replica is behind a position the primary had
//! reached, the lag is the time since that position was first seen unreplayed.

use crate::pool::{PoolMonitor, PoolStatus};
use serde::Serialize;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, PgPool, Row};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use utoipa::ToSchema;
use uuid::Uuid;

pub const CHECK_EVERY: Duration = Duration::from_millis(500);
/// Added to the lag limit to make the read-your-writes window.
pub const READ_YOUR_WRITES: Duration = Duration::from_secs(5);
/// A check that takes longer than this counts as the replica being down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// A read waits at most this long for a replica connection before it goes to the primary
/// (and the replica is marked down until its next successful check).
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(500);
/// On the replica: whether it is a standby, and how far it has replayed (bytes of WAL).
const REPLICA_SQL: &str = "SELECT pg_is_in_recovery(), \
    CAST(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0') AS BIGINT)";
/// On the primary: how far it has written.
const PRIMARY_SQL: &str = "SELECT CAST(pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') AS BIGINT)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReplicaState {
    /// Not checked yet: reads stay on the primary.
    Unknown = 0,
    /// Replaying within the lag limit: it serves the reads offered to it.
    Ok = 1,
    /// Reachable but behind: reads fall back to the primary.
    Lagging = 2,
    /// Unreachable: reads fall back to the primary.
    Down = 3,
    /// Reachable but not a standby (a plain server): serves reads, lag unknown.
    Standalone = 4,
}

impl ReplicaState {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => ReplicaState::Ok,
            2 => ReplicaState::Lagging,
            3 => ReplicaState::Down,
            4 => ReplicaState::Standalone,
            _ => ReplicaState::Unknown,
        }
    }

    fn serves_reads(self) -> bool {
        matches!(self, ReplicaState::Ok | ReplicaState::Standalone)
    }
}

/// What `/api/health` shows of the replica.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaStatus {
    pub state: ReplicaState,
    /// `replica` when it serves the reads offered to it, `primary` when they fall back.
    pub routing: &'static str,
    pub lag_ms: Option<f64>,
    pub max_lag_ms: u64,
    /// The last check's error, when it failed.
    pub error: Option<String>,
    pub pool: PoolStatus,
}

pub struct Replica {
    pub(crate) pool: PgPool,
    pub(crate) monitor: PoolMonitor,
    /// The checker's own connection to the replica.
    options: PgConnectOptions,
    checker: tokio::sync::Mutex<Option<PgConnection>>,
    primary: PgPool,
    /// The oldest primary WAL position (bytes) seen and not yet replayed, and when.
    pending: Mutex<Option<(i64, Instant)>>,
    max_lag: Duration,
    state: AtomicU8,
    last: Mutex<(Option<f64>, Option<String>)>,
    recent: Mutex<HashMap<Uuid, Instant>>,
}

impl Replica {
    /// Starts the checker, which stops when the replica is dropped.
    pub(crate) fn start(
        pool: PgPool,
        options: PgConnectOptions,
        primary: PgPool,
        monitor: PoolMonitor,
        max_lag: Duration,
    ) -> Arc<Replica> {
        let replica = Arc::new(Replica {
            pool,
            monitor,
            options,
            checker: tokio::sync::Mutex::new(None),
            primary,
            pending: Mutex::new(None),
            max_lag,
            state: AtomicU8::new(0),
            last: Mutex::new((None, None)),
            recent: Mutex::new(HashMap::new()),
        });
        let weak = Arc::downgrade(&replica);
        tokio::spawn(check_loop(weak));
        replica
    }

    /// Whether a read of `user` that tolerates staleness may go to the replica now.
    pub fn serves(&self, user: Uuid) -> bool {
        if !self.state().serves_reads() {
            return false;
        }
        let recent = self.recent.lock().expect("replica lock");
        match recent.get(&user) {
            Some(at) => at.elapsed() > self.window(),
            None => true,
        }
    }

    /// `user` just wrote: their reads stay on the primary for the window.
    pub fn note_write(&self, user: Uuid) {
        let mut recent = self.recent.lock().expect("replica lock");
        if recent.len() >= 100_000 {
            let window = self.window();
            recent.retain(|_, at| at.elapsed() <= window);
        }
        recent.insert(user, Instant::now());
    }

    fn window(&self) -> Duration {
        self.max_lag + READ_YOUR_WRITES
    }

    pub fn state(&self) -> ReplicaState {
        ReplicaState::from_u8(self.state.load(Relaxed))
    }

    pub fn status(&self) -> ReplicaStatus {
        let state = self.state();
        let (lag_ms, error) = self.last.lock().expect("replica lock").clone();
        ReplicaStatus {
            state,
            routing: if state.serves_reads() {
                "replica"
            } else {
                "primary"
            },
            lag_ms,
            max_lag_ms: self.max_lag.as_millis() as u64,
            error,
            pool: self
                .monitor
                .status(self.pool.size(), self.pool.num_idle() as u32),
        }
    }

    /// Measures the lag once and updates the state.
    pub async fn check(&self) {
        let replica = tokio::time::timeout(CHECK_TIMEOUT, self.replica_position()).await;
        let (in_recovery, replayed) = match replica {
            Ok(Ok(position)) => position,
            failed => {
                *self.checker.lock().await = None;
                let why = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => format!("no answer within {CHECK_TIMEOUT:?}"),
                };
                self.set(ReplicaState::Down, None, Some(why));
                return;
            }
        };
        let Some(replayed) = replayed.filter(|_| in_recovery) else {
            self.set(ReplicaState::Standalone, None, None);
            return;
        };
        let primary = tokio::time::timeout(
            CHECK_TIMEOUT,
            sqlx::raw_sql(PRIMARY_SQL).fetch_one(&self.primary),
        )
        .await;
        let written: i64 = match primary.map(|r| r.map(|row| row.try_get::<i64, _>(0))) {
            Ok(Ok(Ok(w))) => w,
            // The primary did not say: nothing to measure against this time.
            _ => return,
        };
        let lag = {
            let mut pending = self.pending.lock().expect("replica lock");
            if pending.is_some_and(|(lsn, _)| replayed >= lsn) {
                *pending = None;
            }
            if replayed < written && pending.is_none() {
                *pending = Some((written, Instant::now()));
            }
            pending.map_or(Duration::ZERO, |(_, since)| since.elapsed())
        };
        let lag_ms = lag.as_secs_f64() * 1000.0;
        let state = if lag <= self.max_lag {
            ReplicaState::Ok
        } else {
            ReplicaState::Lagging
        };
        self.set(state, Some((lag_ms * 10.0).round() / 10.0), None);
    }

    /// Over the checker's own connection (opened again after a failure).
    async fn replica_position(&self) -> Result<(bool, Option<i64>), sqlx::Error> {
        let mut conn = self.checker.lock().await;
        if conn.is_none() {
            *conn = Some(self.options.connect().await?);
        }
        let c = conn.as_mut().expect("connected above");
        let row = sqlx::raw_sql(REPLICA_SQL).fetch_one(&mut *c).await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    /// A read found the replica failing: stop offering it reads until the next check
    /// that succeeds, rather than let every read wait for it.
    pub fn mark_down(&self, why: String) {
        self.set(ReplicaState::Down, None, Some(why));
    }

    fn set(&self, state: ReplicaState, lag: Option<f64>, error: Option<String>) {
        let before = self.state.swap(state as u8, Relaxed);
        if before != state as u8 {
            match state {
                ReplicaState::Ok | ReplicaState::Standalone => {
                    tracing::info!(state = ?state, lag_ms = ?lag, "read replica serves reads")
                }
                _ => tracing::warn!(
                    state = ?state, lag_ms = ?lag, error = ?error,
                    "read replica unfit: its reads fall back to the primary"
                ),
            }
        }
        *self.last.lock().expect("replica lock") = (lag, error);
    }
}

async fn check_loop(replica: Weak<Replica>) {
    loop {
        let Some(r) = replica.upgrade() else { return };
        r.check().await;
        drop(r);
        tokio::time::sleep(CHECK_EVERY).await;
    }
}
