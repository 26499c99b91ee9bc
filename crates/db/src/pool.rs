//! Pool health (the seed's `getConnectionHealthStatus`) and the unit of work every store
//! method runs in.
//!
//! Every store method takes one connection (or transaction) through [`PoolMonitor::enter`],
//! which counts the callers waiting for a connection, records how long the acquire took in
//! a histogram, and wraps the connection in a [`Unit`] that logs the method by name when it
//! ran longer than `DB_SLOW_QUERY_MS`.

use serde::Serialize;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// Upper bounds (µs) of the acquire-time histogram buckets; the last bucket is open.
pub const ACQUIRE_BUCKETS_US: [u64; 16] = [
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 5_000_000, 30_000_000,
];

/// Utilization (in use ÷ `DB_MAX_CONNECTIONS`) above which the pool reports `warning`…
pub const WARNING_UTILIZATION: f64 = 70.0;
/// …and `critical`.
pub const CRITICAL_UTILIZATION: f64 = 90.0;

/// Counters of one pool, shared by every store method that uses it.
pub struct PoolMonitor {
    /// `primary` or `replica`.
    pub role: &'static str,
    max: u32,
    slow: Duration,
    waiting: Arc<AtomicU64>,
    /// Acquires that got a connection (the outage watchdog's sign of progress).
    succeeded: Arc<AtomicU64>,
    timeouts: AtomicU64,
    slow_units: AtomicU64,
    buckets: [AtomicU64; ACQUIRE_BUCKETS_US.len() + 1],
}

impl PoolMonitor {
    pub fn new(role: &'static str, max: u32, slow: Duration) -> Self {
        PoolMonitor {
            role,
            max,
            slow,
            waiting: Arc::new(AtomicU64::new(0)),
            succeeded: Arc::new(AtomicU64::new(0)),
            timeouts: AtomicU64::new(0),
            slow_units: AtomicU64::new(0),
            buckets: Default::default(),
        }
    }

    /// The number of callers waiting for a connection, shared with watchers.
    pub(crate) fn waiting_counter(&self) -> Arc<AtomicU64> {
        self.waiting.clone()
    }

    /// The number of acquires that got a connection, shared with watchers.
    pub(crate) fn succeeded_counter(&self) -> Arc<AtomicU64> {
        self.succeeded.clone()
    }

    /// Acquires through `acquire`, counting the wait, and wraps the result for `name`.
    pub(crate) async fn enter<C, F>(
        &self,
        name: &'static str,
        persistent: bool,
        acquire: F,
    ) -> Result<Unit<'_, C>, sqlx::Error>
    where
        F: Future<Output = Result<C, sqlx::Error>>,
    {
        let started = Instant::now();
        self.waiting.fetch_add(1, Relaxed);
        let waiting = Waiting(&self.waiting);
        let result = acquire.await;
        drop(waiting);
        let waited = started.elapsed();
        self.observe(waited);
        match result {
            Ok(conn) => Ok({
                self.succeeded.fetch_add(1, Relaxed);
                Unit {
                    conn: Some(conn),
                    persistent,
                    name,
                    started: Instant::now(),
                    monitor: self,
                }
            }),
            Err(e) => {
                if matches!(e, sqlx::Error::PoolTimedOut) {
                    self.timeouts.fetch_add(1, Relaxed);
                }
                Err(e)
            }
        }
    }

    fn observe(&self, waited: Duration) {
        let us = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX);
        let i = ACQUIRE_BUCKETS_US
            .iter()
            .position(|&bound| us <= bound)
            .unwrap_or(ACQUIRE_BUCKETS_US.len());
        self.buckets[i].fetch_add(1, Relaxed);
    }

    /// The pool's figures, given what the driver reports of its size and idle connections.
    pub fn status(&self, size: u32, idle: u32) -> PoolStatus {
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Relaxed)).collect();
        let acquired: u64 = counts.iter().sum();
        let percentile = |p: f64| -> f64 {
            if acquired == 0 {
                return 0.0;
            }
            let rank = ((p * acquired as f64).ceil() as u64).max(1);
            let mut seen = 0;
            for (i, n) in counts.iter().enumerate() {
                seen += n;
                if seen >= rank {
                    // The bucket's upper bound: percentiles never read better than they are.
                    let bound = ACQUIRE_BUCKETS_US.get(i).copied().unwrap_or(u64::MAX);
                    return bound.min(60_000_000) as f64 / 1000.0;
                }
            }
            0.0
        };
        let in_use = size.saturating_sub(idle);
        let utilization = if self.max == 0 {
            0.0
        } else {
            100.0 * f64::from(in_use) / f64::from(self.max)
        };
        let waiting = self.waiting.load(Relaxed);
        let status = if utilization > CRITICAL_UTILIZATION {
            PoolHealth::Critical
        } else if utilization > WARNING_UTILIZATION {
            PoolHealth::Warning
        } else {
            PoolHealth::Healthy
        };
        PoolStatus {
            role: self.role,
            status,
            reachable: true,
            size,
            idle,
            in_use,
            waiting,
            max: self.max,
            utilization: (utilization * 100.0).round() / 100.0,
            acquire_ms: AcquireTimes {
                p50: percentile(0.50),
                p95: percentile(0.95),
                p99: percentile(0.99),
            },
            acquired,
            timeouts: self.timeouts.load(Relaxed),
            slow_queries: self.slow_units.load(Relaxed),
        }
    }
}

/// Decrements the waiting count even if the acquiring future is dropped (request timeout).
struct Waiting<'a>(&'a AtomicU64);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PoolHealth {
    Healthy,
    Warning,
    Critical,
}

/// Acquire-time percentiles since start, in milliseconds (bucket upper bounds).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AcquireTimes {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

/// One pool's health, as `/api/health` and `/metrics` show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PoolStatus {
    pub role: &'static str,
    pub status: PoolHealth,
    /// `false` while the outage watchdog finds the database unreachable.
    pub reachable: bool,
    /// Open connections.
    pub size: u32,
    pub idle: u32,
    pub in_use: u32,
    /// Callers waiting for a connection right now.
    pub waiting: u64,
    /// `DB_MAX_CONNECTIONS`.
    pub max: u32,
    /// Percent of `max` in use.
    pub utilization: f64,
    pub acquire_ms: AcquireTimes,
    /// Acquires since start (successful or not).
    pub acquired: u64,
    /// Acquires that gave up after `DB_CONNECTION_TIMEOUT`.
    pub timeouts: u64,
    /// Store calls slower than `DB_SLOW_QUERY_MS`.
    pub slow_queries: u64,
}

/// A connection or transaction held for one store method. Dereferences to the driver's
/// connection, so queries run on `&mut *unit`; logs the method when it was slow.
pub struct Unit<'m, C> {
    conn: Option<C>,
    /// Whether queries may be kept as named prepared statements: `false` behind a
    /// transaction-mode pooler. Every query sets `.persistent(unit.persistent)`.
    pub persistent: bool,
    name: &'static str,
    started: Instant,
    monitor: &'m PoolMonitor,
}

impl<C> Unit<'_, C> {
    /// The pool it came from: `primary`, `replica`, `reader`, `writer`.
    pub fn role(&self) -> &'static str {
        self.monitor.role
    }

    fn take(&mut self) -> C {
        self.conn.take().expect("unit used after it ended")
    }
}

impl<'c, DB: sqlx::Database> Unit<'_, sqlx::Transaction<'c, DB>> {
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        self.take().commit().await
    }
}

impl<C: Deref> Deref for Unit<'_, C> {
    type Target = C::Target;
    fn deref(&self) -> &C::Target {
        self.conn.as_ref().expect("unit used after it ended")
    }
}

impl<C: DerefMut> DerefMut for Unit<'_, C> {
    fn deref_mut(&mut self) -> &mut C::Target {
        self.conn.as_mut().expect("unit used after it ended")
    }
}

impl<C> Drop for Unit<'_, C> {
    fn drop(&mut self) {
        let took = self.started.elapsed();
        if took >= self.monitor.slow {
            self.monitor.slow_units.fetch_add(1, Relaxed);
            tracing::warn!(
                query = self.name,
                pool = self.monitor.role,
                duration_ms = took.as_millis() as u64,
                threshold_ms = self.monitor.slow.as_millis() as u64,
                "slow query"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn percentiles_and_status_follow_the_counts() {
        let m = PoolMonitor::new("primary", 10, Duration::from_secs(1));
        for _ in 0..90 {
            m.observe(Duration::from_micros(80));
        }
        for _ in 0..10 {
            m.observe(Duration::from_millis(20));
        }
        let s = m.status(8, 2);
        assert_eq!(s.acquired, 100);
        assert_eq!(s.acquire_ms.p50, 0.1);
        assert_eq!(s.acquire_ms.p95, 25.0);
        assert_eq!(s.in_use, 6);
        assert_eq!(s.utilization, 60.0);
        assert_eq!(s.status, PoolHealth::Healthy);
        assert_eq!(m.status(8, 0).status, PoolHealth::Warning);
        assert_eq!(m.status(10, 0).status, PoolHealth::Critical);
    }

    #[tokio::test]
    async fn waiting_counts_callers_until_they_get_a_connection_or_give_up() {
        let m = PoolMonitor::new("primary", 1, Duration::from_secs(1));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let pending = m.enter("test.wait", true, async move {
            rx.await.ok();
            Ok(())
        });
        tokio::pin!(pending);
        assert!(futures_poll_once(pending.as_mut()).await.is_none());
        assert_eq!(m.status(1, 0).waiting, 1);
        tx.send(()).unwrap();
        let unit = pending.await.unwrap();
        assert_eq!(m.status(1, 0).waiting, 0);
        drop(unit);
        let timed_out = m
            .enter("test.timeout", true, async {
                Err::<(), _>(sqlx::Error::PoolTimedOut)
            })
            .await;
        assert!(timed_out.is_err());
        let s = m.status(1, 0);
        assert_eq!((s.waiting, s.timeouts, s.acquired), (0, 1, 2));
    }

    /// Polls a future once: `Some` if it finished.
    async fn futures_poll_once<F: Future + Unpin>(mut f: F) -> Option<F::Output> {
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match std::pin::Pin::new(&mut f).poll(cx) {
                std::task::Poll::Ready(v) => Some(v),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }
}
