//! The cache: one interface over two tiers (SPEC §6). Handlers ask it for a key's bytes
//! with a loader; they never see moka or Redis.
//!
//! - [`local`]: in-process moka tier, bounded by bytes and keys, per-entry TTL.
//! - [`redis`]: shared tier when `REDIS_URL` is set, with deadlines and a breaker.
//! - [`keys`]: `CacheKeys`, the one place keys are made, and the namespaces.
//!
//! Invalidation bumps a (user, namespace) generation that every key embeds. Without Redis
//! the generations live in this process. With Redis they live there (`INCR`), each
//! instance keeps a copy for at most [`GENERATION_TTL`], and a bump is published so every
//! instance updates its copy at once. Keys also embed the Redis incarnation
//! ([`incarnation`]), so nothing cached in one life of Redis is read in another. An
//! instance that (re)connects to Redis clears its in-process tier, since it may have
//! missed messages. While Redis is unreachable every read bypasses the cache; a bump that
//! cannot reach Redis is kept and replayed when Redis answers again, and until then that
//! user's namespace bypasses the cache.

pub mod incarnation;
pub mod keys;
pub mod local;
pub mod redis;
pub mod redis_tls;

pub use keys::{CacheKey, CacheKeys, Ns};

use crate::error::ApiError;
use bytes::Bytes;
use local::{Entry, LocalTier, Policy, TierStats};
use serde::Serialize;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

/// How long an instance trusts its copy of a generation when Redis is shared: the bound
/// on staleness should a published invalidation be lost.
pub const GENERATION_TTL: Duration = Duration::from_secs(1);
const EPOCH_KEY: &str = "flowats:epoch";

#[derive(Debug, Clone)]
pub struct CacheConfig {
    pub enabled: bool,
    pub max_bytes: u64,
    pub max_keys: u64,
    pub default_ttl: Duration,
    pub policy: Policy,
    pub cleanup_interval: Duration,
    pub redis_url: Option<String>,
    /// `REDIS_CA_CERT`: PEM roots for a `rediss://` server.
    pub redis_ca_cert: Option<std::path::PathBuf>,
    pub redis_timeout: Duration,
}

/// Where an answer came from; sent as `x-cache`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    L1,
    L2,
    Miss,
    Bypass,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::L1 => "hit-l1",
            Source::L2 => "hit-l2",
            Source::Miss => "miss",
            Source::Bypass => "bypass",
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CacheStats {
    pub enabled: bool,
    /// Both tiers together: a lookup is a hit if either tier answered.
    pub hit_rate: f64,
    pub hits: u64,
    pub misses: u64,
    /// Reads that skipped the cache (disabled, or Redis unreachable for a shared cache).
    pub bypassed: u64,
    pub local: TierStats,
    pub redis: Option<redis::RedisStats>,
}

#[derive(Default)]
struct Totals {
    hits: AtomicU64,
    misses: AtomicU64,
    bypassed: AtomicU64,
}

type GenKey = (Ns, Uuid);
/// A copy of a generation and the incarnation it was read under.
type GenCopy = (Arc<str>, u64);

pub struct Cache {
    config: CacheConfig,
    local: LocalTier,
    redis: Option<Arc<redis::RedisTier>>,
    /// This instance's copy of the generations.
    generations: moka::sync::Cache<GenKey, GenCopy>,
    /// Without Redis: the source of never-used generation numbers.
    sequence: AtomicU64,
    epoch: AtomicU64,
    /// Bumps that could not reach Redis, replayed when it answers again.
    pending: Mutex<HashSet<GenKey>>,
    has_pending: AtomicBool,
    totals: Totals,
    /// Told of every user whose data another instance invalidated (the read replica keeps
    /// that user's reads on the primary for a while).
    remote_writes: std::sync::OnceLock<Box<dyn Fn(Uuid) + Send + Sync>>,
}

fn generation_key((ns, user): GenKey) -> String {
    format!("flowats:gen:{}:{user}", ns.as_str())
}

impl Cache {
    /// Builds the cache; with Redis configured, starts connecting (the server does not
    /// wait for Redis) and listening for invalidations.
    pub fn start(config: CacheConfig) -> Result<Arc<Cache>, String> {
        let redis = match &config.redis_url {
            Some(url) => Some(Arc::new(redis::RedisTier::new(
                url,
                config.redis_ca_cert.as_deref(),
                config.redis_timeout,
            )?)),
            None => None,
        };
        let mut generations = moka::sync::Cache::builder().max_capacity(1_000_000);
        if redis.is_some() {
            generations = generations.time_to_live(GENERATION_TTL);
        }
        let cache = Arc::new(Cache {
            local: LocalTier::new(config.max_bytes, config.max_keys, config.policy),
            generations: generations.build(),
            sequence: AtomicU64::new(1),
            epoch: AtomicU64::new(0),
            pending: Mutex::new(HashSet::new()),
            has_pending: AtomicBool::new(false),
            remote_writes: std::sync::OnceLock::new(),
            totals: Totals::default(),
            redis,
            config,
        });
        if cache.config.enabled {
            if let Some(r) = &cache.redis {
                let weak = Arc::downgrade(&cache);
                r.on_connect(move |changed| {
                    if let Some(c) = weak.upgrade() {
                        c.forget(changed);
                    }
                });
                tokio::spawn(redis::connect_forever(Arc::downgrade(r)));
                tokio::spawn(subscriber(Arc::downgrade(&cache), r.client().clone()));
            }
            tokio::spawn(cleanup(
                Arc::downgrade(&cache),
                cache.config.cleanup_interval,
            ));
        }
        Ok(cache)
    }

    pub fn default_ttl(&self) -> Duration {
        self.config.default_ttl
    }

    /// The cached bytes of `key`, or `load()`'s, stored in both tiers for `ttl`.
    /// Concurrent misses on one key in this process run `load` once. Errors are not cached.
    pub async fn get_or_load<F, Fut>(
        &self,
        key: CacheKey,
        ttl: Duration,
        load: F,
    ) -> Result<(Bytes, Source), ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, ApiError>>,
    {
        let Some((incarnation, epoch, generation)) = self.generation(key.ns, key.user).await else {
            self.totals.bypassed.fetch_add(1, Relaxed);
            return Ok((load().await?, Source::Bypass));
        };
        let full = key.render(&incarnation, epoch, generation);
        let from_l2 = AtomicBool::new(false);
        let full_ref = full.as_str();
        let init = async {
            if let Some(r) = &self.redis
                && let Ok(Some((bytes, remaining))) = r.get(&incarnation, full_ref).await
            {
                from_l2.store(true, Relaxed);
                return Ok(Entry {
                    bytes,
                    ttl: remaining.min(ttl),
                });
            }
            let bytes = load().await?;
            if let Some(r) = &self.redis {
                // Best effort: a failed write only costs a later miss.
                let _ = r.set(&incarnation, full_ref, &bytes, ttl).await;
            }
            Ok::<_, ApiError>(Entry { bytes, ttl })
        };
        let (bytes, hit) = self
            .local
            .get_or_try_insert(full.clone(), init)
            .await
            .map_err(|e| (*e).clone())?;
        let source = match (hit, from_l2.load(Relaxed)) {
            (true, _) => Source::L1,
            (false, true) => Source::L2,
            (false, false) => Source::Miss,
        };
        let counter = if source == Source::Miss {
            &self.totals.misses
        } else {
            &self.totals.hits
        };
        counter.fetch_add(1, Relaxed);
        Ok((bytes, source))
    }

    /// The incarnation, flush epoch and generation of `(ns, user)`, or `None` when the
    /// cache must be bypassed (disabled, Redis unreachable, or a bump of this namespace not
    /// yet replayed).
    async fn generation(&self, ns: Ns, user: Uuid) -> Option<(Arc<str>, u64, u64)> {
        if !self.config.enabled {
            return None;
        }
        let key = (ns, user);
        let Some(r) = &self.redis else {
            let (incarnation, generation) = self.generations.get_with(key, || {
                (
                    incarnation::in_process(),
                    self.sequence.fetch_add(1, Relaxed),
                )
            });
            return Some((incarnation, self.epoch.load(Relaxed), generation));
        };
        if self.has_pending.load(Relaxed) {
            // Replaying the bumps that failed is what lets those namespaces use the cache
            // again; try whenever Redis may be back.
            self.replay_pending(r).await;
            if self.pending.lock().expect("lock").contains(&key) {
                return None;
            }
        }
        if !r.is_up() {
            // Probe through the normal path below (the breaker keeps this cheap); a
            // cached generation must not be trusted while Redis may be missing bumps.
            self.generations.invalidate(&key);
        }
        let incarnation = r.incarnation()?;
        if let Some((of, generation)) = self.generations.get(&key)
            && of == incarnation
        {
            return Some((incarnation, self.epoch.load(Relaxed), generation));
        }
        let values = r
            .get_counters(&incarnation, &[EPOCH_KEY.to_owned(), generation_key(key)])
            .await
            .ok()?;
        if self.has_pending.load(Relaxed) {
            return None;
        }
        self.epoch.fetch_max(values[0], Relaxed);
        let generation = self.raise(key, &incarnation, values[1]);
        Some((incarnation, self.epoch.load(Relaxed), generation))
    }

    /// Sets this instance's copy to `value` unless it already knows a later one of the same
    /// incarnation (a copy of another incarnation is replaced).
    fn raise(&self, key: GenKey, incarnation: &Arc<str>, value: u64) -> u64 {
        self.generations
            .entry(key)
            .and_upsert_with(|old| match old.map(|o| o.into_value()) {
                Some((of, known)) if of == *incarnation => (of, known.max(value)),
                _ => (incarnation.clone(), value),
            })
            .into_value()
            .1
    }

    /// Makes every cached entry of these namespaces of `user` unreachable, here at once and
    /// on every instance within a published message (or [`GENERATION_TTL`]).
    pub async fn invalidate(&self, user: Uuid, namespaces: &[Ns]) {
        if !self.config.enabled {
            return;
        }
        for &ns in namespaces {
            let key = (ns, user);
            match &self.redis {
                None => {
                    let next = self.sequence.fetch_add(1, Relaxed);
                    self.generations
                        .insert(key, (incarnation::in_process(), next));
                }
                Some(r) => {
                    self.generations.invalidate(&key);
                    if !self.bump_shared(r, key).await {
                        // The flag is set under the lock, so a replay cannot clear it
                        // after this insert.
                        let mut pending = self.pending.lock().expect("lock");
                        pending.insert(key);
                        self.has_pending.store(true, Relaxed);
                    }
                }
            }
        }
    }

    /// `INCR` and publish one generation; `false` if Redis could not be reached.
    async fn bump_shared(&self, r: &redis::RedisTier, key: GenKey) -> bool {
        let Some(incarnation) = r.incarnation() else {
            return false;
        };
        let Ok(generation) = r.incr(&incarnation, &generation_key(key)).await else {
            return false;
        };
        self.raise(key, &incarnation, generation);
        let message = format!("g {} {} {generation} {incarnation}", key.0.as_str(), key.1);
        // A lost message is bounded by GENERATION_TTL on the other instances.
        let _ = r.publish(&message).await;
        true
    }

    /// After a new subscription: this instance may have missed invalidations, so it
    /// replays its own pending bumps and forgets what it holds.
    async fn resync(&self) {
        if let Some(r) = &self.redis {
            self.replay_pending(r).await;
        }
        self.forget(false);
    }

    /// Forgets the in-process tier and the generation copies: on every new connection to
    /// Redis (before it serves anything) and new subscription. A new incarnation also
    /// starts from epoch 0, as its Redis does.
    fn forget(&self, new_incarnation: bool) {
        self.generations.invalidate_all();
        self.local.clear();
        if new_incarnation {
            self.epoch.store(0, Relaxed);
        }
        tracing::info!(
            new_incarnation,
            "cache resynchronised with redis: in-process tier cleared"
        );
    }

    /// Bumps, in Redis, the generations whose bump failed earlier; stops at the first
    /// failure (the next call retries).
    async fn replay_pending(&self, r: &redis::RedisTier) {
        let pending: Vec<GenKey> = self.pending.lock().expect("lock").iter().copied().collect();
        for key in pending {
            if !self.bump_shared(r, key).await {
                return;
            }
            self.pending.lock().expect("lock").remove(&key);
        }
        let pending = self.pending.lock().expect("lock");
        self.has_pending.store(!pending.is_empty(), Relaxed);
    }

    /// Empties both tiers: here at once; in Redis by moving every key to a new epoch
    /// (old entries are never read again and expire by TTL), on every instance by message.
    pub async fn flush(&self) {
        self.local.clear();
        self.generations.invalidate_all();
        match &self.redis {
            None => {
                self.epoch.fetch_add(1, Relaxed);
            }
            Some(r) => {
                let Some(incarnation) = r.incarnation() else {
                    return;
                };
                if let Ok(epoch) = r.incr(&incarnation, EPOCH_KEY).await {
                    self.epoch.fetch_max(epoch, Relaxed);
                    let _ = r.publish(&format!("flush {epoch}")).await;
                }
            }
        }
    }

    /// Calls `notify` with the user of every invalidation message (sent by any instance).
    pub fn on_remote_write(&self, notify: impl Fn(Uuid) + Send + Sync + 'static) {
        let _ = self.remote_writes.set(Box::new(notify));
    }

    /// Applies a message from another instance (or this one).
    fn apply(&self, message: &str) {
        let parts: Vec<&str> = message.split(' ').collect();
        match parts.as_slice() {
            ["g", ns, user, generation, incarnation] => {
                if let (Some(ns), Ok(user), Ok(generation)) = (
                    Ns::parse(ns),
                    Uuid::parse_str(user),
                    generation.parse::<u64>(),
                ) {
                    let current = self.redis.as_ref().and_then(|r| r.incarnation());
                    match current.filter(|c| **c == **incarnation) {
                        Some(c) => {
                            self.raise((ns, user), &c, generation);
                        }
                        // Another incarnation's count says nothing about this one's.
                        None => self.generations.invalidate(&(ns, user)),
                    }
                    if let Some(notify) = self.remote_writes.get() {
                        notify(user);
                    }
                }
            }
            ["flush", epoch] => {
                if let Ok(epoch) = epoch.parse::<u64>() {
                    self.epoch.fetch_max(epoch, Relaxed);
                }
                self.generations.invalidate_all();
                self.local.clear();
            }
            _ => tracing::warn!(message, "unknown cache message"),
        }
    }

    pub fn stats(&self) -> CacheStats {
        let t = &self.totals;
        let (hits, misses) = (t.hits.load(Relaxed), t.misses.load(Relaxed));
        CacheStats {
            enabled: self.config.enabled,
            hit_rate: local::hit_rate(hits, misses),
            hits,
            misses,
            bypassed: t.bypassed.load(Relaxed),
            local: self.local.stats(),
            redis: self.redis.as_ref().map(|r| r.stats()),
        }
    }

    /// [`Cache::stats`] plus what the Redis server reports about itself.
    pub async fn stats_with_server(&self) -> CacheStats {
        let mut stats = self.stats();
        if let (Some(r), Some(s)) = (&self.redis, stats.redis.as_mut()) {
            s.server = r.server_stats().await;
        }
        stats
    }

    /// `false` when a configured Redis is unreachable: the cache is degraded.
    pub fn healthy(&self) -> bool {
        self.redis.as_ref().is_none_or(|r| r.is_up())
    }
}

/// Listens for invalidations, reconnecting forever; every (re)subscription clears this
/// instance's in-process tier, since messages may have been missed while away.
async fn subscriber(cache: std::sync::Weak<Cache>, client: ::redis::Client) {
    use futures_util::StreamExt;
    let mut delay = Duration::from_millis(200);
    loop {
        let timeout = match cache.upgrade() {
            Some(c) => c.config.redis_timeout.max(Duration::from_millis(500)),
            None => return,
        };
        let connected = tokio::time::timeout(timeout, async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(redis::CHANNEL).await?;
            Ok::<_, ::redis::RedisError>(pubsub)
        })
        .await;
        match connected {
            Ok(Ok(mut pubsub)) => {
                delay = Duration::from_millis(200);
                match cache.upgrade() {
                    Some(c) => c.resync().await,
                    None => return,
                }
                let mut messages = pubsub.on_message();
                while let Some(msg) = messages.next().await {
                    let Some(c) = cache.upgrade() else { return };
                    if let Ok(text) = msg.get_payload::<String>() {
                        c.apply(&text);
                    }
                }
                tracing::warn!("redis subscription lost; reconnecting");
            }
            Ok(Err(e)) => tracing::debug!(error = %e, "redis subscribe failed"),
            Err(_) => tracing::debug!("redis subscribe timed out"),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// The periodic cleanup task: applies moka's pending expirations and evictions, so the
/// statistics and memory follow the TTLs even when the cache is idle.
async fn cleanup(cache: std::sync::Weak<Cache>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(c) = cache.upgrade() else { return };
        c.local.run_pending_tasks().await;
        c.generations.run_pending_tasks();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> CacheConfig {
        CacheConfig {
            enabled: true,
            max_bytes: 1 << 20,
            max_keys: 1_000,
            default_ttl: Duration::from_secs(60),
            policy: Policy::Lru,
            cleanup_interval: Duration::from_secs(60),
            redis_url: None,
            redis_ca_cert: None,
            redis_timeout: Duration::from_millis(100),
        }
    }

    async fn read(cache: &Cache, key: CacheKey, value: &'static str) -> (Bytes, Source) {
        cache
            .get_or_load(key, Duration::from_secs(60), || async {
                Ok(Bytes::from_static(value.as_bytes()))
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn invalidating_a_namespace_hides_only_that_users_namespace() {
        let cache = Cache::start(config()).unwrap();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let job = CacheKeys::job(a, a);
        assert_eq!(
            read(&cache, job.clone(), "v1").await,
            (Bytes::from_static(b"v1"), Source::Miss)
        );
        assert_eq!(read(&cache, job.clone(), "v2").await.1, Source::L1);
        read(&cache, CacheKeys::profile(a), "p").await;
        read(&cache, CacheKeys::job(b, b), "b").await;

        cache.invalidate(a, Ns::invalidated_by_job_write()).await;
        assert_eq!(
            read(&cache, job.clone(), "v2").await,
            (Bytes::from_static(b"v2"), Source::Miss)
        );
        assert_eq!(
            read(&cache, CacheKeys::profile(a), "x").await.1,
            Source::L1,
            "other namespace kept"
        );
        assert_eq!(
            read(&cache, CacheKeys::job(b, b), "x").await.1,
            Source::L1,
            "other user kept"
        );

        cache.flush().await;
        assert_eq!(
            read(&cache, CacheKeys::job(b, b), "x").await.1,
            Source::Miss
        );
        let s = cache.stats();
        assert_eq!((s.hits, s.misses), (3, 5));
    }

    #[tokio::test]
    async fn a_disabled_cache_always_loads() {
        let cache = Cache::start(CacheConfig {
            enabled: false,
            ..config()
        })
        .unwrap();
        let key = CacheKeys::profile(Uuid::now_v7());
        assert_eq!(read(&cache, key.clone(), "1").await.1, Source::Bypass);
        assert_eq!(
            read(&cache, key, "2").await,
            (Bytes::from_static(b"2"), Source::Bypass)
        );
        assert_eq!(cache.stats().bypassed, 2);
    }
}
