//! The shared tier: Redis, reached through a self-reconnecting `ConnectionManager`.
//!
//! Every call runs under a short deadline (`REDIS_TIMEOUT_MS`). A failure opens a breaker
//! for a second, during which calls fail at once instead of each waiting out the deadline;
//! the first call after that probes Redis again. So a dead or frozen Redis costs requests
//! at most one deadline, and the cache degrades to the database path.

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const CHANNEL: &str = "flowats:cache:invalidate";
const BREAKER_OPEN: Duration = Duration::from_secs(1);

/// Redis could not be reached within the deadline (or the breaker is open).
#[derive(Debug, Clone, Copy)]
pub struct Down;

#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    errors: AtomicU64,
    timeouts: AtomicU64,
    reconnects: AtomicU64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedisStats {
    /// `up`, or `down` while the last call failed.
    pub status: &'static str,
    pub hits: u64,
    pub misses: u64,
    pub hit_rate: f64,
    pub errors: u64,
    pub timeouts: u64,
    /// Times the tier came back after being down (each one cleared the in-process tier).
    pub recoveries: u64,
    pub last_error: Option<String>,
    /// What the Redis server reports (`DBSIZE`, `INFO`); `null` when it cannot be asked.
    /// These count the whole Redis database, including keys of other applications.
    pub server: Option<RedisServerStats>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedisServerStats {
    pub keys: u64,
    pub used_memory_bytes: u64,
    pub maxmemory_bytes: u64,
    pub evicted_keys: u64,
    pub expired_keys: u64,
}

fn info_field(info: &str, name: &str) -> u64 {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

pub struct RedisTier {
    client: redis::Client,
    conn: OnceLock<ConnectionManager>,
    timeout: Duration,
    started: Instant,
    /// Milliseconds since `started` until which calls fail fast.
    open_until_ms: AtomicU64,
    up: AtomicBool,
    counters: Counters,
    last_error: Mutex<Option<String>>,
}

impl RedisTier {
    /// `ca_cert`: the PEM roots a `rediss://` server's certificate must chain to.
    pub fn new(
        url: &str,
        ca_cert: Option<&std::path::Path>,
        timeout: Duration,
    ) -> Result<RedisTier, String> {
        let client = super::redis_tls::client(url, ca_cert)?;
        Ok(RedisTier {
            client,
            conn: OnceLock::new(),
            timeout,
            started: Instant::now(),
            open_until_ms: AtomicU64::new(0),
            up: AtomicBool::new(false),
            counters: Counters::default(),
            last_error: Mutex::new(Some("not connected yet".into())),
        })
    }

    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Makes the first connection, retrying until it succeeds; the manager reconnects by
    /// itself after that.
    pub async fn connect_forever(&self) {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout.max(Duration::from_millis(500))))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1));
        let mut delay = Duration::from_millis(200);
        loop {
            match self
                .client
                .get_connection_manager_with_config(config.clone())
                .await
            {
                Ok(conn) => {
                    let _ = self.conn.set(conn);
                    self.up.store(true, Relaxed);
                    *self.last_error.lock().expect("lock") = None;
                    tracing::info!("redis connected");
                    return;
                }
                Err(e) => {
                    self.fail(&e.to_string(), false);
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Relaxed)
    }

    fn fail(&self, error: &str, timeout: bool) {
        let c = if timeout {
            &self.counters.timeouts
        } else {
            &self.counters.errors
        };
        c.fetch_add(1, Relaxed);
        self.open_until_ms
            .store(self.now_ms() + BREAKER_OPEN.as_millis() as u64, Relaxed);
        if self.up.swap(false, Relaxed) {
            tracing::warn!(error, "redis down: serving from the database");
        }
        *self.last_error.lock().expect("lock") = Some(error.to_owned());
    }

    /// Runs one command (or pipeline) under the deadline. Returns whether this call found
    /// Redis back after it had been down.
    async fn run<T: redis::FromRedisValue>(
        &self,
        f: impl AsyncFnOnce(&mut ConnectionManager) -> redis::RedisResult<T>,
    ) -> Result<(T, bool), Down> {
        let Some(conn) = self.conn.get() else {
            return Err(Down);
        };
        if self.now_ms() < self.open_until_ms.load(Relaxed) {
            return Err(Down);
        }
        let mut conn = conn.clone();
        match tokio::time::timeout(self.timeout, f(&mut conn)).await {
            Ok(Ok(v)) => {
                let recovered = !self.up.swap(true, Relaxed);
                if recovered {
                    *self.last_error.lock().expect("lock") = None;
                    self.counters.reconnects.fetch_add(1, Relaxed);
                }
                Ok((v, recovered))
            }
            Ok(Err(e)) => {
                self.fail(&e.to_string(), false);
                Err(Down)
            }
            Err(_) => {
                self.fail("no answer within REDIS_TIMEOUT_MS", true);
                Err(Down)
            }
        }
    }

    /// Runs a Lua script (`EVALSHA`, loaded again after a Redis restart) under the deadline.
    pub async fn script<T: redis::FromRedisValue>(
        &self,
        script: &redis::Script,
        keys: &[&str],
        args: &[u64],
    ) -> Result<T, Down> {
        let (value, _) = self
            .run(async |c| {
                let mut call = script.prepare_invoke();
                call.key(keys).arg(args);
                call.invoke_async(c).await
            })
            .await?;
        Ok(value)
    }

    /// The value and its remaining TTL.
    pub async fn get(&self, key: &str) -> Result<(Option<(Bytes, Duration)>, bool), Down> {
        let ((value, pttl), recovered): ((Option<Vec<u8>>, i64), bool) = self
            .run(async |c| redis::pipe().get(key).pttl(key).query_async(c).await)
            .await?;
        let found = value.map(|v| (Bytes::from(v), Duration::from_millis(pttl.max(1) as u64)));
        let counter = if found.is_some() {
            &self.counters.hits
        } else {
            &self.counters.misses
        };
        counter.fetch_add(1, Relaxed);
        Ok((found, recovered))
    }

    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, Down> {
        let ms = ttl.as_millis().max(1) as u64;
        let ((), recovered) = self
            .run(async |c| {
                redis::cmd("SET")
                    .arg(key)
                    .arg(value)
                    .arg("PX")
                    .arg(ms)
                    .query_async(c)
                    .await
            })
            .await?;
        Ok(recovered)
    }

    /// `MGET` of integer keys; a missing key reads as 0.
    pub async fn get_counters(&self, keys: &[String]) -> Result<(Vec<u64>, bool), Down> {
        let (values, recovered): (Vec<Option<u64>>, bool) = self
            .run(async |c| redis::cmd("MGET").arg(keys).query_async(c).await)
            .await?;
        Ok((
            values.into_iter().map(|v| v.unwrap_or(0)).collect(),
            recovered,
        ))
    }

    pub async fn incr(&self, key: &str) -> Result<(u64, bool), Down> {
        self.run(async |c| redis::cmd("INCR").arg(key).query_async(c).await)
            .await
    }

    pub async fn publish(&self, message: &str) -> Result<bool, Down> {
        let ((), recovered) = self
            .run(async |c| {
                redis::cmd("PUBLISH")
                    .arg(CHANNEL)
                    .arg(message)
                    .query_async(c)
                    .await
            })
            .await?;
        Ok(recovered)
    }

    /// The server's own figures, under the same deadline as every call.
    pub async fn server_stats(&self) -> Option<RedisServerStats> {
        let ((keys, info), _): ((u64, String), bool) = self
            .run(async |c| {
                redis::pipe()
                    .cmd("DBSIZE")
                    .cmd("INFO")
                    .arg("memory")
                    .query_async::<(u64, String)>(c)
                    .await
            })
            .await
            .ok()?;
        let (stats, _): (String, bool) = self
            .run(async |c| redis::cmd("INFO").arg("stats").query_async(c).await)
            .await
            .ok()?;
        Some(RedisServerStats {
            keys,
            used_memory_bytes: info_field(&info, "used_memory"),
            maxmemory_bytes: info_field(&info, "maxmemory"),
            evicted_keys: info_field(&stats, "evicted_keys"),
            expired_keys: info_field(&stats, "expired_keys"),
        })
    }

    pub fn stats(&self) -> RedisStats {
        let c = &self.counters;
        let (hits, misses) = (c.hits.load(Relaxed), c.misses.load(Relaxed));
        RedisStats {
            status: if self.is_up() { "up" } else { "down" },
            hits,
            misses,
            hit_rate: super::local::hit_rate(hits, misses),
            errors: c.errors.load(Relaxed),
            timeouts: c.timeouts.load(Relaxed),
            recoveries: c.reconnects.load(Relaxed),
            last_error: self.last_error.lock().expect("lock").clone(),
            server: None,
        }
    }
}
