//! Figures `/metrics` reads at scrape time from their owners (pools, cache tiers, the
//! sampler), registered once as gauges and counters in the Prometheus registry.

use super::sampler::Sample;
use crate::cache::CacheStats;
use crate::limit::LimitStatus;
use flowats_db::pool::PoolStatus;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

type FGauge = Gauge<f64, AtomicU64>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    pub pool: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TierLabels {
    pub tier: &'static str,
}

#[derive(Default)]
pub struct Scrape {
    /// Scrapes copy counters by difference: one at a time.
    updating: std::sync::Mutex<()>,
    pool_connections: Family<PoolLabels, Gauge>,
    pool_idle: Family<PoolLabels, Gauge>,
    pool_waiting: Family<PoolLabels, Gauge>,
    pool_max: Family<PoolLabels, Gauge>,
    pool_utilization: Family<PoolLabels, FGauge>,
    pool_acquire_p99: Family<PoolLabels, FGauge>,
    pool_acquires: Family<PoolLabels, Counter>,
    pool_timeouts: Family<PoolLabels, Counter>,
    pool_slow: Family<PoolLabels, Counter>,
    cache_hits: Family<TierLabels, Counter>,
    cache_misses: Family<TierLabels, Counter>,
    cache_evictions: Counter,
    cache_keys: Gauge,
    cache_bytes: Gauge,
    cpu: FGauge,
    memory_used: Gauge,
    memory_total: Gauge,
    process_cpu: FGauge,
    process_rss: Gauge,
    process_heap: Gauge,
    uptime: Gauge,
    ai_running: Gauge,
    ai_waiting: Gauge,
    auth_running: Gauge,
    auth_waiting: Gauge,
    auth_shed: Counter,
    requests_shed: Counter,
    auth_rate_limited: Counter,
}

impl Scrape {
    pub fn register(registry: &mut Registry) -> Scrape {
        let s = Scrape::default();
        let r = registry;
        r.register(
            "db_pool_connections",
            "Open connections",
            s.pool_connections.clone(),
        );
        r.register(
            "db_pool_idle_connections",
            "Idle connections",
            s.pool_idle.clone(),
        );
        r.register(
            "db_pool_waiting",
            "Callers waiting for a connection",
            s.pool_waiting.clone(),
        );
        r.register(
            "db_pool_max_connections",
            "DB_MAX_CONNECTIONS",
            s.pool_max.clone(),
        );
        r.register(
            "db_pool_utilization_percent",
            "Connections in use, percent of the maximum",
            s.pool_utilization.clone(),
        );
        r.register(
            "db_pool_acquire_p99_seconds",
            "99th-percentile acquire time since start",
            s.pool_acquire_p99.clone(),
        );
        r.register(
            "db_pool_acquires",
            "Connection acquires",
            s.pool_acquires.clone(),
        );
        r.register(
            "db_pool_timeouts",
            "Acquires that gave up after DB_CONNECTION_TIMEOUT",
            s.pool_timeouts.clone(),
        );
        r.register(
            "db_slow_queries",
            "Store calls slower than DB_SLOW_QUERY_MS",
            s.pool_slow.clone(),
        );
        r.register(
            "cache_hits",
            "Cache hits by tier (`all`: either tier)",
            s.cache_hits.clone(),
        );
        r.register(
            "cache_misses",
            "Cache misses by tier",
            s.cache_misses.clone(),
        );
        r.register(
            "cache_evictions",
            "In-process entries evicted for size",
            s.cache_evictions.clone(),
        );
        r.register("cache_keys", "In-process entries", s.cache_keys.clone());
        r.register(
            "cache_bytes",
            "In-process cache size in bytes",
            s.cache_bytes.clone(),
        );
        r.register("system_cpu_percent", "Machine CPU usage", s.cpu.clone());
        r.register(
            "system_memory_used_bytes",
            "Machine memory in use",
            s.memory_used.clone(),
        );
        r.register(
            "system_memory_total_bytes",
            "Machine memory",
            s.memory_total.clone(),
        );
        r.register(
            "process_cpu_percent",
            "This process's CPU usage (of one core)",
            s.process_cpu.clone(),
        );
        r.register(
            "process_resident_memory_bytes",
            "Resident set size",
            s.process_rss.clone(),
        );
        r.register(
            "process_heap_bytes",
            "Heap in use, counted by the allocator",
            s.process_heap.clone(),
        );
        r.register(
            "process_uptime_seconds",
            "Seconds since start",
            s.uptime.clone(),
        );
        r.register(
            "ai_generations_running",
            "AI generations running (at most AI_MAX_CONCURRENCY)",
            s.ai_running.clone(),
        );
        r.register(
            "ai_generations_waiting",
            "AI generations queued (at most AI_QUEUE_SIZE)",
            s.ai_waiting.clone(),
        );
        r.register(
            "auth_hashes_running",
            "Password hashes running (at most AUTH_HASH_CONCURRENCY)",
            s.auth_running.clone(),
        );
        r.register(
            "auth_hashes_waiting",
            "Password hashes waiting for a turn (at most AUTH_HASH_QUEUE)",
            s.auth_waiting.clone(),
        );
        r.register(
            "auth_hashes_shed",
            "Logins and registrations refused with 503 auth_busy",
            s.auth_shed.clone(),
        );
        r.register(
            "http_requests_shed",
            "Requests refused with 503 overloaded (MAX_IN_FLIGHT reached)",
            s.requests_shed.clone(),
        );
        r.register(
            "auth_rate_limited",
            "Logins and registrations refused with 429 rate_limited",
            s.auth_rate_limited.clone(),
        );
        s
    }

    /// The abuse limits' counters: requests shed, sign-ins rate-limited.
    pub fn update_guard(&self, shed: u64, rate_limited: u64) {
        let _one_at_a_time = self.updating.lock().expect("scrape lock");
        advance(&self.requests_shed, shed);
        advance(&self.auth_rate_limited, rate_limited);
    }

    /// The AI queue's figures (running, waiting).
    pub fn update_ai(&self, running: usize, waiting: usize) {
        self.ai_running.set(running as i64);
        self.ai_waiting.set(waiting as i64);
    }

    /// The password hashing queue's figures.
    pub fn update_auth(&self, hashing: &LimitStatus) {
        self.auth_running.set(hashing.running as i64);
        self.auth_waiting.set(hashing.waiting as i64);
        let _one_at_a_time = self.updating.lock().expect("scrape lock");
        advance(&self.auth_shed, hashing.shed);
    }

    /// Copies the current figures in. Counters advance by what their source counted since
    /// the last scrape (the sources only grow).
    pub fn update(
        &self,
        pools: &[PoolStatus],
        cache: &CacheStats,
        sample: &Sample,
        heap: Option<u64>,
        uptime: u64,
    ) {
        let _one_at_a_time = self.updating.lock().expect("scrape lock");
        for p in pools {
            let l = PoolLabels { pool: p.role };
            self.pool_connections
                .get_or_create(&l)
                .set(i64::from(p.size));
            self.pool_idle.get_or_create(&l).set(i64::from(p.idle));
            self.pool_waiting.get_or_create(&l).set(p.waiting as i64);
            self.pool_max.get_or_create(&l).set(i64::from(p.max));
            self.pool_utilization.get_or_create(&l).set(p.utilization);
            self.pool_acquire_p99
                .get_or_create(&l)
                .set(p.acquire_ms.p99 / 1000.0);
            advance(&self.pool_acquires.get_or_create(&l), p.acquired);
            advance(&self.pool_timeouts.get_or_create(&l), p.timeouts);
            advance(&self.pool_slow.get_or_create(&l), p.slow_queries);
        }
        let tiers = [
            ("all", cache.hits, cache.misses),
            ("local", cache.local.hits, cache.local.misses),
        ];
        for (tier, hits, misses) in tiers
            .into_iter()
            .chain(cache.redis.as_ref().map(|r| ("redis", r.hits, r.misses)))
        {
            let l = TierLabels { tier };
            advance(&self.cache_hits.get_or_create(&l), hits);
            advance(&self.cache_misses.get_or_create(&l), misses);
        }
        advance(&self.cache_evictions, cache.local.evictions_size);
        self.cache_keys.set(cache.local.keys as i64);
        self.cache_bytes.set(cache.local.bytes as i64);
        self.cpu.set(sample.cpu_percent);
        self.memory_used.set(sample.memory_used as i64);
        self.memory_total.set(sample.memory_total as i64);
        self.process_cpu.set(sample.process_cpu_percent);
        self.process_rss.set(sample.process_rss as i64);
        self.process_heap.set(heap.map_or(-1, |h| h as i64));
        self.uptime.set(uptime as i64);
    }
}

fn advance(counter: &Counter, to: u64) {
    let now = counter.get();
    if to > now {
        counter.inc_by(to - now);
    }
}
