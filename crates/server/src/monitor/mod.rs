//! Monitoring (SPEC §7): a background sampler of CPU and memory, request metrics, the
//! health status with its alerts, and the periodic resource log (the seed's
//! `startResourceMonitoring`). Handlers only read what the background tasks gathered.

pub mod alloc;
pub mod availability;
pub mod health;
pub mod metrics;
pub mod middleware;
pub mod sampler;
pub mod scrape;

use crate::app::AppState;
use health::{Figures, Status, Thresholds};
use metrics::{Metrics, Snapshot};
use sampler::{Sample, Sampler};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the dashboard's ring gets a snapshot.
pub const SNAPSHOT_EVERY: Duration = Duration::from_secs(2);
/// The window of the request-duration alert.
pub const REQUEST_WINDOW: Duration = Duration::from_secs(60);

/// A rendered `/api/health` answer, reused until the next sampler tick.
#[derive(Clone)]
pub struct CachedHealth {
    pub at: Instant,
    pub status: axum::http::StatusCode,
    pub content_type: Option<axum::http::HeaderValue>,
    pub body: bytes::Bytes,
}

impl CachedHealth {
    pub fn response(&self) -> axum::response::Response {
        let mut r = axum::response::Response::new(axum::body::Body::from(self.body.clone()));
        *r.status_mut() = self.status;
        if let Some(ct) = &self.content_type {
            r.headers_mut()
                .insert(axum::http::header::CONTENT_TYPE, ct.clone());
        }
        r
    }
}

pub struct Monitor {
    /// `/api/health`, as seed JSON and as `application/health+json`, each as the summary
    /// anyone sees and as the full document behind `ADMIN_TOKEN` (index: see
    /// `routes::health`).
    pub health_cache: [std::sync::Mutex<Option<CachedHealth>>; 4],
    /// Set when the shutdown signal arrives: `/api/health` and readiness answer 503.
    pub draining: std::sync::atomic::AtomicBool,
    pub started: Instant,
    pub sampler: Arc<Sampler>,
    pub metrics: Metrics,
    pub thresholds: Thresholds,
    pub slow_request: Duration,
    pub critical_request: Duration,
}

impl Monitor {
    pub fn new(slow_request: Duration, critical_request: Duration) -> Monitor {
        Monitor {
            health_cache: Default::default(),
            draining: Default::default(),
            started: Instant::now(),
            sampler: Sampler::start(),
            metrics: Metrics::new(),
            thresholds: Thresholds::new(slow_request, critical_request),
            slow_request,
            critical_request,
        }
    }
}

/// The figures the status is computed from, gathered without blocking.
pub fn figures(state: &AppState, sample: &Sample) -> Figures {
    let pools = state.db.ops.pool_status();
    Figures {
        cpu_percent: sample.cpu_percent,
        memory_percent: percent_of(sample.memory_used, sample.memory_total),
        heap_percent: alloc::heap_in_use().map(|h| percent_of(h, sample.memory_total)),
        db_reachable: pools.iter().all(|p| p.reachable),
        db_utilization: pools
            .iter()
            .filter(|p| p.role != "writer")
            .map(|p| p.utilization)
            .fold(0.0, f64::max),
        redis_down: !state.cache.healthy(),
        request_p95_ms: state.monitor.metrics.recent_p95_ms(REQUEST_WINDOW),
    }
}

pub fn percent_of(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

/// Every [`SNAPSHOT_EVERY`], a snapshot for the dashboard; every `MONITOR_INTERVAL_MS`, the
/// figures in the log (a warning when degraded, an error when critical).
pub async fn run(state: AppState, log_every: Duration) {
    let mut tick = tokio::time::interval(SNAPSHOT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_log = Instant::now();
    loop {
        tick.tick().await;
        let sample = state.monitor.sampler.latest();
        snapshot(&state, &sample);
        if last_log.elapsed() >= log_every {
            last_log = Instant::now();
            log_figures(&state, &sample);
        }
    }
}

/// Takes one snapshot for the dashboard's ring (the monitor task does this every two seconds).
pub fn snapshot(state: &AppState, sample: &Sample) {
    let m = &state.monitor.metrics;
    let (requests, errors, latency_buckets) = m.totals();
    let cache = state.cache.stats();
    let f = figures(state, sample);
    m.push(Snapshot {
        at: time::OffsetDateTime::now_utc().unix_timestamp_nanos() as u64 / 1_000_000,
        requests,
        errors,
        latency_buckets,
        in_flight: m.in_flight(),
        cache_hits: cache.hits,
        cache_misses: cache.misses,
        pool_utilization: f.db_utilization,
        cpu_percent: sample.cpu_percent,
        memory_percent: f.memory_percent,
        process_rss: sample.process_rss,
        heap: alloc::heap_in_use(),
    });
}

fn log_figures(state: &AppState, sample: &Sample) {
    let f = figures(state, sample);
    let (status, alerts) = health::assess(&f, &state.monitor.thresholds);
    let (requests, errors, _) = state.monitor.metrics.totals();
    let cache = state.cache.stats();
    macro_rules! figures_event {
        ($level:expr) => {
            tracing::event!(
                $level,
                status = ?status,
                cpu = %health::percent(sample.cpu_percent),
                memory = %health::percent(f.memory_percent),
                rss = %health::bytes(sample.process_rss),
                heap = %alloc::heap_in_use().map_or("n/a".to_owned(), health::bytes),
                db_utilization = %health::percent(f.db_utilization),
                cache_hit_rate = %health::percent(cache.hit_rate * 100.0),
                requests,
                errors,
                p95_ms = f.request_p95_ms,
                alerts = alerts.len(),
                "resources"
            )
        };
    }
    match status {
        Status::Healthy => figures_event!(tracing::Level::INFO),
        Status::Degraded => figures_event!(tracing::Level::WARN),
        Status::Critical => figures_event!(tracing::Level::ERROR),
    }
}
