//! Request metrics. Two views of the same requests:
//! - Prometheus families (`/metrics`), labelled by matched route, method and status class
//!   only, so the number of series stays bounded;
//! - plain totals and a latency histogram, snapshotted every few seconds into a ring that
//!   the dashboard charts and the health document's request alert reads.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

/// Upper bounds (ms) of the latency buckets the ring keeps; the last bucket is open.
pub const LATENCY_BUCKETS_MS: [f64; 14] = [
    0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
];
/// Snapshots kept: ten minutes at one every two seconds.
pub const RING_LEN: usize = 300;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: &'static str,
    pub method: &'static str,
    /// `2xx`, `3xx`, `4xx`, `5xx`.
    pub status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: &'static str,
    pub method: &'static str,
}

/// Figures at one instant; the dashboard turns pairs of them into rates.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Milliseconds since the Unix epoch.
    pub at: u64,
    pub requests: u64,
    pub errors: u64,
    pub latency_buckets: Vec<u64>,
    pub in_flight: i64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub pool_utilization: f64,
    pub cpu_percent: f64,
    pub memory_percent: f64,
    pub process_rss: u64,
    pub heap: Option<u64>,
}

pub struct Metrics {
    pub registry: Registry,
    pub scrape: super::scrape::Scrape,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram>,
    in_flight: Gauge,
    total: AtomicU64,
    errors: AtomicU64,
    buckets: [AtomicU64; LATENCY_BUCKETS_MS.len() + 1],
    routes: RwLock<HashMap<String, &'static str>>,
    ring: Mutex<VecDeque<Snapshot>>,
}

fn duration_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS_MS.iter().map(|ms| ms / 1000.0))
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("flowats");
        let requests = Family::<RequestLabels, Counter>::default();
        let durations = Family::<RouteLabels, Histogram>::new_with_constructor(
            duration_histogram as fn() -> Histogram,
        );
        let in_flight = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by matched route, method and status class",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request duration, by matched route and method",
            durations.clone(),
        );
        registry.register(
            "http_requests_in_flight",
            "HTTP requests being handled",
            in_flight.clone(),
        );
        let scrape = super::scrape::Scrape::register(&mut registry);
        Metrics {
            registry,
            scrape,
            requests,
            durations,
            in_flight,
            total: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            buckets: Default::default(),
            routes: RwLock::new(HashMap::new()),
            ring: Mutex::new(VecDeque::with_capacity(RING_LEN)),
        }
    }

    /// A `'static` copy of a route template (the set of routes is fixed, so this is bounded).
    pub fn intern(&self, route: &str) -> &'static str {
        if let Some(r) = self.routes.read().expect("routes lock").get(route) {
            return r;
        }
        let mut routes = self.routes.write().expect("routes lock");
        if let Some(r) = routes.get(route) {
            return r;
        }
        let leaked: &'static str = Box::leak(route.to_owned().into_boxed_str());
        routes.insert(route.to_owned(), leaked);
        leaked
    }

    /// Counts a request in flight until the guard is dropped.
    pub fn in_flight_guard(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    pub fn finished(&self, route: &'static str, method: &'static str, status: u16, took: Duration) {
        let class = match status {
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method,
                status: class,
            })
            .inc();
        self.durations
            .get_or_create(&RouteLabels { route, method })
            .observe(took.as_secs_f64());
        self.total.fetch_add(1, Relaxed);
        if status >= 500 {
            self.errors.fetch_add(1, Relaxed);
        }
        let ms = took.as_secs_f64() * 1000.0;
        let i = LATENCY_BUCKETS_MS
            .iter()
            .position(|&bound| ms <= bound)
            .unwrap_or(LATENCY_BUCKETS_MS.len());
        self.buckets[i].fetch_add(1, Relaxed);
    }

    pub fn in_flight(&self) -> i64 {
        self.in_flight.get()
    }

    /// Totals so far: (requests, 5xx answers, latency bucket counts).
    pub fn totals(&self) -> (u64, u64, Vec<u64>) {
        (
            self.total.load(Relaxed),
            self.errors.load(Relaxed),
            self.buckets.iter().map(|b| b.load(Relaxed)).collect(),
        )
    }

    pub fn push(&self, snapshot: Snapshot) {
        let mut ring = self.ring.lock().expect("ring lock");
        if ring.len() == RING_LEN {
            ring.pop_front();
        }
        ring.push_back(snapshot);
    }

    pub fn recent(&self) -> Vec<Snapshot> {
        self.ring
            .lock()
            .expect("ring lock")
            .iter()
            .cloned()
            .collect()
    }

    /// The 95th-percentile request duration (ms, bucket upper bound) over the snapshots of
    /// the last `window`, or `None` without requests in it.
    pub fn recent_p95_ms(&self, window: Duration) -> Option<f64> {
        let ring = self.ring.lock().expect("ring lock");
        let last = ring.back()?;
        let cutoff = last.at.saturating_sub(window.as_millis() as u64);
        let first = ring.iter().find(|s| s.at >= cutoff)?;
        let delta: Vec<u64> = last
            .latency_buckets
            .iter()
            .zip(&first.latency_buckets)
            .map(|(b, a)| b.saturating_sub(*a))
            .collect();
        percentile_ms(&delta, 0.95)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// The `p` quantile of bucket counts, as the upper bound (ms) of its bucket; the open
/// bucket reads as twice the last bound.
pub fn percentile_ms(counts: &[u64], p: f64) -> Option<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = ((p * total as f64).ceil() as u64).max(1);
    let mut seen = 0;
    for (i, n) in counts.iter().enumerate() {
        seen += n;
        if seen >= rank {
            return Some(
                LATENCY_BUCKETS_MS
                    .get(i)
                    .copied()
                    .unwrap_or(LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.len() - 1] * 2.0),
            );
        }
    }
    None
}

/// A request in flight; dropping it counts the request out.
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_read_bucket_upper_bounds() {
        let mut counts = vec![0; LATENCY_BUCKETS_MS.len() + 1];
        counts[1] = 90; // ≤ 1 ms
        counts[7] = 10; // ≤ 100 ms
        assert_eq!(percentile_ms(&counts, 0.5), Some(1.0));
        assert_eq!(percentile_ms(&counts, 0.95), Some(100.0));
        assert_eq!(percentile_ms(&[0; 15], 0.5), None);
    }
}
