//! The in-process tier: moka, bounded by bytes and by keys, with a TTL per entry and
//! eviction counted by cause.
//!
//! moka bounds the sum of entry weights. Weighing each entry as
//! `max(its bytes, max_bytes / max_keys)` makes that one bound hold both limits: no more
//! than `max_bytes` of entries, and no more than `max_keys` entries, since none weighs less
//! than `max_bytes / max_keys`.

use bytes::Bytes;
use moka::future::Cache as Moka;
use moka::notification::RemovalCause;
use moka::policy::EvictionPolicy;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Per-key overhead counted on top of the value (the key, moka's bookkeeping).
const ENTRY_OVERHEAD: u64 = 96;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Lru,
    TinyLfu,
}

impl Policy {
    pub fn name(self) -> &'static str {
        match self {
            Policy::Lru => "lru",
            Policy::TinyLfu => "tinylfu",
        }
    }
}

#[derive(Clone)]
pub struct Entry {
    pub bytes: Bytes,
    pub ttl: Duration,
}

#[derive(Default)]
pub struct Counters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub evicted_size: AtomicU64,
    pub expired: AtomicU64,
    pub explicit: AtomicU64,
    pub bytes: AtomicI64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TierStats {
    pub hits: u64,
    pub misses: u64,
    /// hits / (hits + misses), 0 when there were no lookups.
    pub hit_rate: f64,
    pub evictions_size: u64,
    pub evictions_expired: u64,
    pub evictions_explicit: u64,
    pub keys: u64,
    pub bytes: u64,
    pub max_keys: u64,
    pub max_bytes: u64,
    pub policy: &'static str,
}

pub fn hit_rate(hits: u64, misses: u64) -> f64 {
    let total = hits + misses;
    if total == 0 {
        0.0
    } else {
        hits as f64 / total as f64
    }
}

#[derive(Clone)]
pub struct LocalTier {
    cache: Moka<String, Entry>,
    pub counters: Arc<Counters>,
    max_bytes: u64,
    max_keys: u64,
    policy: Policy,
}

struct PerEntryTtl;

impl moka::Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _: &String, value: &Entry, _: Instant) -> Option<Duration> {
        Some(value.ttl)
    }
    fn expire_after_update(
        &self,
        _: &String,
        value: &Entry,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

fn entry_bytes(key: &str, value: &Entry) -> u64 {
    key.len() as u64 + value.bytes.len() as u64 + ENTRY_OVERHEAD
}

impl LocalTier {
    pub fn new(max_bytes: u64, max_keys: u64, policy: Policy) -> LocalTier {
        let counters = Arc::new(Counters::default());
        let floor = (max_bytes / max_keys.max(1)).max(1);
        let listener_counters = counters.clone();
        let cache = Moka::builder()
            .max_capacity(max_bytes)
            .weigher(move |k: &String, v: &Entry| {
                entry_bytes(k, v).max(floor).min(u32::MAX as u64) as u32
            })
            .expire_after(PerEntryTtl)
            .eviction_policy(match policy {
                Policy::Lru => EvictionPolicy::lru(),
                Policy::TinyLfu => EvictionPolicy::tiny_lfu(),
            })
            .eviction_listener(move |k: Arc<String>, v: Entry, cause| {
                let c = &listener_counters;
                c.bytes.fetch_sub(entry_bytes(&k, &v) as i64, Relaxed);
                match cause {
                    RemovalCause::Size => c.evicted_size.fetch_add(1, Relaxed),
                    RemovalCause::Expired => c.expired.fetch_add(1, Relaxed),
                    RemovalCause::Explicit => c.explicit.fetch_add(1, Relaxed),
                    RemovalCause::Replaced => 0,
                };
            })
            .build();
        LocalTier {
            cache,
            counters,
            max_bytes,
            max_keys,
            policy,
        }
    }

    pub async fn get(&self, key: &str) -> Option<Bytes> {
        let found = self.cache.get(key).await.map(|e| e.bytes);
        let counter = if found.is_some() {
            &self.counters.hits
        } else {
            &self.counters.misses
        };
        counter.fetch_add(1, Relaxed);
        found
    }

    pub async fn insert(&self, key: String, bytes: Bytes, ttl: Duration) {
        let entry = Entry { bytes, ttl };
        self.counters
            .bytes
            .fetch_add(entry_bytes(&key, &entry) as i64, Relaxed);
        self.cache.insert(key, entry).await;
    }

    /// Returns the cached value or runs `init` once, however many callers miss the key at
    /// the same time; the others wait for its result. Errors are not cached. The flag is
    /// `true` when this call found the value already there.
    pub async fn get_or_try_insert<F, E>(
        &self,
        key: String,
        init: F,
    ) -> Result<(Bytes, bool), Arc<E>>
    where
        F: std::future::Future<Output = Result<Entry, E>>,
        E: Send + Sync + 'static,
    {
        let counters = self.counters.clone();
        let key_len = key.len();
        let entry = self
            .cache
            .entry(key)
            .or_try_insert_with(async move {
                let entry = init.await?;
                counters.bytes.fetch_add(
                    (key_len as u64 + entry.bytes.len() as u64 + ENTRY_OVERHEAD) as i64,
                    Relaxed,
                );
                Ok(entry)
            })
            .await?;
        let hit = !entry.is_fresh();
        let counter = if hit {
            &self.counters.hits
        } else {
            &self.counters.misses
        };
        counter.fetch_add(1, Relaxed);
        Ok((entry.into_value().bytes, hit))
    }

    pub fn clear(&self) {
        self.cache.invalidate_all();
    }

    /// Applies pending expirations and evictions (moka does this lazily, on cache calls).
    pub async fn run_pending_tasks(&self) {
        self.cache.run_pending_tasks().await;
    }

    pub fn stats(&self) -> TierStats {
        let c = &self.counters;
        let (hits, misses) = (c.hits.load(Relaxed), c.misses.load(Relaxed));
        TierStats {
            hits,
            misses,
            hit_rate: hit_rate(hits, misses),
            evictions_size: c.evicted_size.load(Relaxed),
            evictions_expired: c.expired.load(Relaxed),
            evictions_explicit: c.explicit.load(Relaxed),
            keys: self.cache.entry_count(),
            bytes: c.bytes.load(Relaxed).max(0) as u64,
            max_keys: self.max_keys,
            max_bytes: self.max_bytes,
            policy: self.policy.name(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(max_bytes: u64, max_keys: u64) -> LocalTier {
        LocalTier::new(max_bytes, max_keys, Policy::Lru)
    }

    #[tokio::test]
    async fn entries_expire_after_their_own_ttl() {
        let t = tier(1 << 20, 100);
        t.insert(
            "short".into(),
            Bytes::from_static(b"a"),
            Duration::from_millis(50),
        )
        .await;
        t.insert(
            "long".into(),
            Bytes::from_static(b"b"),
            Duration::from_secs(60),
        )
        .await;
        assert!(t.get("short").await.is_some());
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(t.get("short").await.is_none());
        assert!(t.get("long").await.is_some());
        // Reads check expiry exactly; removal (and the listener) follows moka's timer
        // wheel, whose first level ticks about once a second.
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        t.run_pending_tasks().await;
        let s = t.stats();
        assert_eq!((s.evictions_expired, s.keys), (1, 1), "{s:?}");
    }

    #[tokio::test]
    async fn the_key_limit_holds() {
        let t = tier(1 << 30, 50);
        for i in 0..500 {
            t.insert(
                format!("k{i}"),
                Bytes::from_static(b"x"),
                Duration::from_secs(60),
            )
            .await;
        }
        t.run_pending_tasks().await;
        let s = t.stats();
        assert!(s.keys <= 50, "{s:?}");
        assert!(s.evictions_size >= 450, "{s:?}");
    }

    #[tokio::test]
    async fn the_byte_limit_holds_and_bytes_are_counted() {
        let t = tier(100_000, 10_000);
        let value = Bytes::from(vec![7u8; 1_000]);
        for i in 0..1_000 {
            t.insert(format!("k{i}"), value.clone(), Duration::from_secs(60))
                .await;
        }
        t.run_pending_tasks().await;
        let s = t.stats();
        assert!(s.bytes <= 100_000, "{s:?}");
        assert!(s.bytes >= 50_000, "most of the budget is used: {s:?}");
        assert!(s.keys <= 100, "{s:?}");
        t.clear();
        t.run_pending_tasks().await;
        let s = t.stats();
        assert_eq!((s.keys, s.bytes), (0, 0), "{s:?}");
        assert!(s.evictions_explicit > 0);
    }

    #[tokio::test]
    async fn a_hundred_concurrent_misses_load_once() {
        let t = tier(1 << 20, 100);
        let loads = Arc::new(AtomicU64::new(0));
        let calls = (0..100).map(|_| {
            let t = t.clone();
            let loads = loads.clone();
            tokio::spawn(async move {
                t.get_or_try_insert::<_, ()>("hot".into(), async move {
                    loads.fetch_add(1, Relaxed);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok(Entry {
                        bytes: Bytes::from_static(b"v"),
                        ttl: Duration::from_secs(60),
                    })
                })
                .await
                .map(|(b, _)| b)
            })
        });
        for c in calls.collect::<Vec<_>>() {
            assert_eq!(c.await.unwrap().unwrap(), Bytes::from_static(b"v"));
        }
        assert_eq!(loads.load(Relaxed), 1);
        let s = t.stats();
        assert_eq!((s.hits, s.misses), (99, 1));
        assert!((s.hit_rate - 0.99).abs() < 1e-9);
    }

    #[tokio::test]
    async fn errors_are_not_cached() {
        let t = tier(1 << 20, 100);
        let r = t
            .get_or_try_insert::<_, &str>("k".into(), async { Err("boom") })
            .await;
        assert!(r.is_err());
        let r = t
            .get_or_try_insert::<_, &str>("k".into(), async {
                Ok(Entry {
                    bytes: Bytes::from_static(b"ok"),
                    ttl: Duration::from_secs(60),
                })
            })
            .await;
        assert_eq!(r.unwrap(), (Bytes::from_static(b"ok"), false));
    }

    #[test]
    fn hit_rate_arithmetic() {
        assert_eq!(hit_rate(0, 0), 0.0);
        assert_eq!(hit_rate(3, 1), 0.75);
    }
}
