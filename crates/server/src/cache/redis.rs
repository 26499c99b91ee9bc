//! The shared tier: Redis, through one multiplexed connection that [`connect_forever`]
//! replaces whenever it fails. A new connection serves nothing before it has established
//! its incarnation (see [`super::incarnation`]).
//!
//! Every call runs under a short deadline (`REDIS_TIMEOUT_MS`). A failure opens a breaker
//! for a second, during which calls fail at once instead of each waiting out the deadline;
//! the first call after that probes Redis again. So a dead or frozen Redis costs requests
//! at most one deadline, and the cache degrades to the database path.

use super::incarnation::{self, MARKER_KEY};
use bytes::Bytes;
use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
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
    /// New connections after the first (each one cleared the in-process tier).
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

/// A connection and the incarnation established on it.
struct Live {
    conn: MultiplexedConnection,
    incarnation: Arc<str>,
}

/// Told, before a new connection or incarnation serves anything, whether the incarnation
/// changed: the in-process tier must forget what it holds.
type OnConnect = Box<dyn Fn(bool) + Send + Sync>;

pub struct RedisTier {
    client: redis::Client,
    live: RwLock<Option<Arc<Live>>>,
    /// Wakes [`connect_forever`] when the connection is dropped.
    lost: tokio::sync::Notify,
    on_connect: OnceLock<OnConnect>,
    last_incarnation: Mutex<Option<Arc<str>>>,
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
            live: RwLock::new(None),
            lost: tokio::sync::Notify::new(),
            on_connect: OnceLock::new(),
            last_incarnation: Mutex::new(None),
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

    pub fn on_connect(&self, hook: impl Fn(bool) + Send + Sync + 'static) {
        let _ = self.on_connect.set(Box::new(hook));
    }

    /// The incarnation of the current connection; `None` while there is none.
    pub fn incarnation(&self) -> Option<Arc<str>> {
        self.current().map(|l| l.incarnation.clone())
    }

    fn current(&self) -> Option<Arc<Live>> {
        self.live.read().expect("lock").clone()
    }

    /// Opens a connection and establishes its incarnation, under one deadline.
    async fn connect(&self) -> Result<(), String> {
        let wait = self.timeout.max(Duration::from_millis(500));
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(wait))
            .set_response_timeout(Some(wait));
        let attempt = async {
            let mut conn = self
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            let incarnation = incarnation::establish(&mut conn).await?;
            Ok::<_, redis::RedisError>(Live { conn, incarnation })
        };
        let live = tokio::time::timeout(wait * 2, attempt)
            .await
            .map_err(|_| "no answer while connecting".to_owned())?
            .map_err(|e| e.to_string())?;
        let first = self.last_incarnation.lock().expect("lock").is_none();
        self.publish_live(None, live);
        if !first {
            self.counters.reconnects.fetch_add(1, Relaxed);
        }
        self.up.store(true, Relaxed);
        self.open_until_ms.store(0, Relaxed);
        *self.last_error.lock().expect("lock") = None;
        Ok(())
    }

    /// Makes `live` the connection, unless the current one is no longer `replacing`; the
    /// hook runs first, so nothing is served under the new incarnation before the
    /// in-process tier has forgotten the old.
    fn publish_live(&self, replacing: Option<&Arc<Live>>, live: Live) {
        let mut current = self.live.write().expect("lock");
        if current.as_ref().map(Arc::as_ptr) != replacing.map(Arc::as_ptr) {
            return;
        }
        let mut last = self.last_incarnation.lock().expect("lock");
        let changed = last.as_deref() != Some(&*live.incarnation);
        if let Some(hook) = self.on_connect.get() {
            hook(changed);
        }
        tracing::info!(incarnation = &*live.incarnation, changed, "redis connected");
        *last = Some(live.incarnation.clone());
        *current = Some(Arc::new(live));
    }

    /// Forgets `live` (if still current) and wakes the connector.
    fn drop_live(&self, live: &Arc<Live>) {
        let mut current = self.live.write().expect("lock");
        if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, live)) {
            *current = None;
            self.lost.notify_one();
        }
    }

    /// The marker read with a command no longer names the incarnation of `live`: adopt the
    /// marker now there (or write one) on the same connection, which is still the same
    /// Redis life. The command's own result is not used.
    async fn marker_moved(&self, live: &Arc<Live>, seen: Option<String>) -> Down {
        let mut conn = live.conn.clone();
        let adopted = tokio::time::timeout(self.timeout, incarnation::adopt(&mut conn, seen)).await;
        match adopted {
            Ok(Ok(incarnation)) => self.publish_live(Some(live), Live { conn, incarnation }),
            _ => self.drop_live(live),
        }
        Down
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Relaxed) && self.live.read().expect("lock").is_some()
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

    /// Runs one command (or pipeline) under the deadline, on the current connection; with
    /// `incarnation`, only if that is still the connection's. A connection that fails or
    /// does not answer is dropped (the connector makes a new one).
    async fn run<T>(
        &self,
        incarnation: Option<&str>,
        f: impl AsyncFnOnce(&mut MultiplexedConnection) -> redis::RedisResult<T>,
    ) -> Result<(T, Arc<Live>), Down> {
        if self.now_ms() < self.open_until_ms.load(Relaxed) {
            return Err(Down);
        }
        let Some(live) = self.current() else {
            return Err(Down);
        };
        if incarnation.is_some_and(|i| i != &*live.incarnation) {
            return Err(Down);
        }
        let mut conn = live.conn.clone();
        match tokio::time::timeout(self.timeout, f(&mut conn)).await {
            Ok(Ok(v)) => {
                self.up.store(true, Relaxed);
                Ok((v, live))
            }
            Ok(Err(e)) => {
                if !matches!(e.kind(), redis::ErrorKind::Server(_)) {
                    self.drop_live(&live);
                }
                self.fail(&e.to_string(), false);
                Err(Down)
            }
            Err(_) => {
                self.drop_live(&live);
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
            .run(None, async |c| {
                let mut call = script.prepare_invoke();
                call.key(keys).arg(args);
                call.invoke_async(c).await
            })
            .await?;
        Ok(value)
    }

    /// The value and its remaining TTL, if `key` (made under `incarnation`) is there.
    pub async fn get(
        &self,
        incarnation: &str,
        key: &str,
    ) -> Result<Option<(Bytes, Duration)>, Down> {
        let ((value, pttl), _): ((Option<Vec<u8>>, i64), _) = self
            .run(Some(incarnation), async |c| {
                redis::pipe().get(key).pttl(key).query_async(c).await
            })
            .await?;
        let found = value.map(|v| (Bytes::from(v), Duration::from_millis(pttl.max(1) as u64)));
        let counter = if found.is_some() {
            &self.counters.hits
        } else {
            &self.counters.misses
        };
        counter.fetch_add(1, Relaxed);
        Ok(found)
    }

    pub async fn set(
        &self,
        incarnation: &str,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<(), Down> {
        let ms = ttl.as_millis().max(1) as u64;
        self.run(Some(incarnation), async |c| {
            redis::cmd("SET")
                .arg(key)
                .arg(value)
                .arg("PX")
                .arg(ms)
                .query_async::<()>(c)
                .await
        })
        .await?;
        Ok(())
    }

    /// `MGET` of integer keys (a missing key reads as 0), if `incarnation` is still the
    /// one the marker names.
    pub async fn get_counters(&self, incarnation: &str, keys: &[String]) -> Result<Vec<u64>, Down> {
        let (mut values, live): (Vec<Option<String>>, _) = self
            .run(Some(incarnation), async |c| {
                redis::cmd("MGET")
                    .arg(MARKER_KEY)
                    .arg(keys)
                    .query_async(c)
                    .await
            })
            .await?;
        let marker = values.remove(0);
        if !incarnation::names(marker.as_deref(), incarnation) {
            return Err(self.marker_moved(&live, marker).await);
        }
        Ok(values
            .into_iter()
            .map(|v| v.and_then(|v| v.parse().ok()).unwrap_or(0))
            .collect())
    }

    /// `INCR`, if `incarnation` is still the one the marker names.
    pub async fn incr(&self, incarnation: &str, key: &str) -> Result<u64, Down> {
        let ((marker, value), live): ((Option<String>, u64), _) = self
            .run(Some(incarnation), async |c| {
                redis::pipe()
                    .get(MARKER_KEY)
                    .incr(key, 1)
                    .query_async(c)
                    .await
            })
            .await?;
        if !incarnation::names(marker.as_deref(), incarnation) {
            return Err(self.marker_moved(&live, marker).await);
        }
        Ok(value)
    }

    pub async fn publish(&self, message: &str) -> Result<(), Down> {
        self.run(None, async |c| {
            redis::cmd("PUBLISH")
                .arg(CHANNEL)
                .arg(message)
                .query_async::<()>(c)
                .await
        })
        .await?;
        Ok(())
    }

    /// The server's own figures, under the same deadline as every call.
    pub async fn server_stats(&self) -> Option<RedisServerStats> {
        let ((keys, info), _): ((u64, String), _) = self
            .run(None, async |c| {
                redis::pipe()
                    .cmd("DBSIZE")
                    .cmd("INFO")
                    .arg("memory")
                    .query_async::<(u64, String)>(c)
                    .await
            })
            .await
            .ok()?;
        let (stats, _): (String, _) = self
            .run(None, async |c| {
                redis::cmd("INFO").arg("stats").query_async(c).await
            })
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

/// Keeps a connection: makes the first, and a new one whenever the current one is dropped,
/// retrying with a growing delay while Redis does not answer. Ends with the tier.
pub async fn connect_forever(tier: Weak<RedisTier>) {
    let mut delay = Duration::ZERO;
    loop {
        let Some(t) = tier.upgrade() else { return };
        if t.live.read().expect("lock").is_some() {
            let _ = tokio::time::timeout(Duration::from_secs(1), t.lost.notified()).await;
            continue;
        }
        match t.connect().await {
            Ok(()) => delay = Duration::ZERO,
            Err(e) => {
                t.fail(&e, false);
                drop(t);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).clamp(Duration::from_millis(200), Duration::from_secs(5));
            }
        }
    }
}
