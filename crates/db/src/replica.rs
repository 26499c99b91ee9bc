//! The read replica (`DATABASE_READ_URL`): which reads may go to it, and whether it is
//! fit to serve them.
//!
//! Only reads that tolerate a little staleness (job statistics, analytics) are offered to
//! the replica, and even those go to the primary when
//! - the replica is down, or its replay lag is over `DATABASE_READ_MAX_LAG_MS` (a checker
//!   task measures it every [`CHECK_EVERY`]), or
//! - the user wrote within the read-your-writes window (the lag limit plus
//!   [`READ_YOUR_WRITES`]): writes made on this instance are noted by the store, writes made
//!   on other instances by the server when their cache invalidations arrive.

use crate::pool::{PoolMonitor, PoolStatus};
use serde::Serialize;
use sqlx::PgPool;
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
/// Whether the server is a standby, and its replay lag in milliseconds: 0 when everything
/// received has been replayed, `NULL` when unknown (no WAL receiver running, so it may be cut
/// off from its primary; or nothing replayed since it started).
const LAG_SQL: &str = "SELECT pg_is_in_recovery(), CASE \
    WHEN NOT pg_is_in_recovery() THEN NULL \
    WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver) THEN NULL \
    WHEN pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0.0 \
    ELSE CAST(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000 AS FLOAT8) END";

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
    max_lag: Duration,
    state: AtomicU8,
    last: Mutex<(Option<f64>, Option<String>)>,
    recent: Mutex<HashMap<Uuid, Instant>>,
}

impl Replica {
    /// Starts the checker, which stops when the replica is dropped.
    pub(crate) fn start(pool: PgPool, monitor: PoolMonitor, max_lag: Duration) -> Arc<Replica> {
        let replica = Arc::new(Replica {
            pool,
            monitor,
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
        let measured = tokio::time::timeout(
            CHECK_TIMEOUT,
            sqlx::query_as::<_, (bool, Option<f64>)>(LAG_SQL)
                .persistent(false)
                .fetch_one(&self.pool),
        )
        .await;
        let (state, lag, error) = match measured {
            Ok(Ok((false, _))) => (ReplicaState::Standalone, None, None),
            Ok(Ok((true, None))) => (
                ReplicaState::Lagging,
                None,
                Some("replay lag unknown: no WAL receiver, or nothing replayed yet".into()),
            ),
            Ok(Ok((true, Some(lag)))) if lag <= self.max_lag.as_millis() as f64 => {
                (ReplicaState::Ok, Some(lag), None)
            }
            Ok(Ok((true, Some(lag)))) => (ReplicaState::Lagging, Some(lag), None),
            Ok(Err(e)) => (ReplicaState::Down, None, Some(e.to_string())),
            Err(_) => (
                ReplicaState::Down,
                None,
                Some(format!("no answer within {CHECK_TIMEOUT:?}")),
            ),
        };
        self.set(state, lag, error);
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
