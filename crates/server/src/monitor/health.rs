//! The health status and its alerts (SPEC §7), computed from figures that are passed in, so
//! every threshold can be tested with injected values.

use serde::Serialize;
use std::time::Duration;

/// Warning and critical limits, in percent (requests: milliseconds).
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub memory: (f64, f64),
    pub cpu: (f64, f64),
    pub heap: (f64, f64),
    pub db_connections: (f64, f64),
    pub request_ms: (f64, f64),
}

impl Thresholds {
    /// SPEC §7's limits; the request limits are `SLOW_REQUEST_MS` / `CRITICAL_REQUEST_MS`.
    pub fn new(slow: Duration, critical: Duration) -> Thresholds {
        Thresholds {
            memory: (80.0, 90.0),
            cpu: (70.0, 90.0),
            heap: (80.0, 90.0),
            db_connections: (70.0, 90.0),
            request_ms: (slow.as_secs_f64() * 1000.0, critical.as_secs_f64() * 1000.0),
        }
    }
}

/// What the status is computed from.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub cpu_percent: f64,
    pub memory_percent: f64,
    /// Heap in use as a percent of the machine's memory, when the allocator counts it.
    pub heap_percent: Option<f64>,
    pub db_reachable: bool,
    /// The busiest pool's share of `DB_MAX_CONNECTIONS` in use (SQLite's single writer is
    /// left out: one write in flight is 100 % of it, and normal).
    pub db_utilization: f64,
    pub redis_down: bool,
    /// 95th-percentile request duration over the last minute.
    pub request_p95_ms: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Warning,
    Critical,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Alert {
    /// `cpu`, `memory`, `heap`, `database.connections`, `database`, `cache`, `requests.p95`.
    pub metric: &'static str,
    pub level: Level,
    pub value: String,
    pub threshold: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Healthy,
    Degraded,
    Critical,
}

impl Status {
    /// The IETF health-check draft's word for it.
    pub fn draft(self) -> &'static str {
        match self {
            Status::Healthy => "pass",
            Status::Degraded => "warn",
            Status::Critical => "fail",
        }
    }
}

/// The status and one alert per crossed threshold.
pub fn assess(f: &Figures, t: &Thresholds) -> (Status, Vec<Alert>) {
    let mut alerts = Vec::new();
    let mut check =
        |metric: &'static str, value: Option<f64>, (warn, crit): (f64, f64), unit: &str| {
            let Some(value) = value else { return };
            let (level, limit) = if value > crit {
                (Level::Critical, crit)
            } else if value > warn {
                (Level::Warning, warn)
            } else {
                return;
            };
            let shown = |v: f64| {
                if unit == "%" {
                    format!("{v:.2}%")
                } else {
                    format!("{v:.0} {unit}")
                }
            };
            alerts.push(Alert {
                metric,
                level,
                value: shown(value),
                threshold: shown(limit),
                message: format!(
                    "{metric} at {} is over the {level:?} threshold of {}",
                    shown(value),
                    shown(limit)
                )
                .to_lowercase(),
            });
        };
    check("cpu", Some(f.cpu_percent), t.cpu, "%");
    check("memory", Some(f.memory_percent), t.memory, "%");
    check("heap", f.heap_percent, t.heap, "%");
    check(
        "database.connections",
        Some(f.db_utilization),
        t.db_connections,
        "%",
    );
    check("requests.p95", f.request_p95_ms, t.request_ms, "ms");
    if !f.db_reachable {
        alerts.push(Alert {
            metric: "database",
            level: Level::Critical,
            value: "unreachable".into(),
            threshold: "reachable".into(),
            message: "the database is unreachable".into(),
        });
    }
    if f.redis_down {
        alerts.push(Alert {
            metric: "cache",
            level: Level::Warning,
            value: "redis unreachable".into(),
            threshold: "reachable".into(),
            message: "the shared cache (Redis) is unreachable: serving from the database".into(),
        });
    }
    let status = match alerts.iter().map(|a| a.level).max() {
        Some(Level::Critical) => Status::Critical,
        Some(Level::Warning) => Status::Degraded,
        None => Status::Healthy,
    };
    (status, alerts)
}

/// `512.00 MB`, `2.00 GB`: the seed's byte format (powers of 1024).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2} {}", UNITS[unit])
}

pub fn percent(v: f64) -> String {
    format!("{v:.2}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calm() -> Figures {
        Figures {
            cpu_percent: 10.0,
            memory_percent: 30.0,
            heap_percent: Some(1.0),
            db_reachable: true,
            db_utilization: 5.0,
            redis_down: false,
            request_p95_ms: Some(5.0),
        }
    }

    fn t() -> Thresholds {
        Thresholds::new(Duration::from_secs(1), Duration::from_secs(5))
    }

    #[test]
    fn calm_figures_are_healthy_without_alerts() {
        assert_eq!(assess(&calm(), &t()), (Status::Healthy, vec![]));
    }

    #[test]
    fn each_threshold_raises_its_alert_at_its_level() {
        type Set = fn(&mut Figures, f64);
        let cases: [(&str, Set, f64, f64, f64); 5] = [
            ("cpu", |f, v| f.cpu_percent = v, 70.0, 90.0, 95.0),
            ("memory", |f, v| f.memory_percent = v, 80.0, 90.0, 95.0),
            ("heap", |f, v| f.heap_percent = Some(v), 80.0, 90.0, 95.0),
            (
                "database.connections",
                |f, v| f.db_utilization = v,
                70.0,
                90.0,
                100.0,
            ),
            (
                "requests.p95",
                |f, v| f.request_p95_ms = Some(v),
                1000.0,
                5000.0,
                10000.0,
            ),
        ];
        for (metric, set, warn, crit, over) in cases {
            let at = |v: f64| {
                let mut f = calm();
                set(&mut f, v);
                assess(&f, &t())
            };
            // At the limit nothing fires; just over it the warning does; over the critical
            // limit the critical alert does.
            assert_eq!(at(warn).0, Status::Healthy, "{metric} at {warn}");
            let (status, alerts) = at(warn + 0.01);
            assert_eq!(status, Status::Degraded, "{metric}");
            assert_eq!(alerts.len(), 1);
            assert_eq!(
                (alerts[0].metric, alerts[0].level),
                (metric, Level::Warning)
            );
            assert_eq!(at(crit).0, Status::Degraded, "{metric} at {crit}");
            let (status, alerts) = at(over);
            assert_eq!(status, Status::Critical, "{metric}");
            assert_eq!(
                (alerts[0].metric, alerts[0].level),
                (metric, Level::Critical)
            );
        }
    }

    #[test]
    fn dependencies_down() {
        let mut f = calm();
        f.redis_down = true;
        let (status, alerts) = assess(&f, &t());
        assert_eq!(status, Status::Degraded);
        assert_eq!(alerts[0].metric, "cache");
        f.db_reachable = false;
        let (status, alerts) = assess(&f, &t());
        assert_eq!(status, Status::Critical);
        assert_eq!(alerts.len(), 2);
        assert_eq!(Status::Critical.draft(), "fail");
    }

    #[test]
    fn formats_follow_the_seed() {
        assert_eq!(bytes(512 * 1024 * 1024), "512.00 MB");
        assert_eq!(bytes(2 * 1024 * 1024 * 1024), "2.00 GB");
        assert_eq!(bytes(12), "12.00 B");
        assert_eq!(percent(15.234), "15.23%");
    }
}
