//! The result of a run as data (`--json`) and as the summary table on stdout.

use crate::args::Phase;
use crate::check::Verdict;
use crate::stats::{Name, NameStats, Stats};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

/// Latency percentiles in milliseconds.
#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    pub min: f64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Option<Latency> {
        let ms = |us: u64| us as f64 / 1000.0;
        (!h.is_empty()).then(|| Latency {
            min: ms(h.min()),
            mean: h.mean() / 1000.0,
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p95: ms(h.value_at_quantile(0.95)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        })
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct NameReport {
    /// Requests sent, whatever became of them.
    pub requests: u64,
    /// Answered with the expected status.
    pub ok: u64,
    /// Requests per second of the section's window.
    pub rate: f64,
    /// Of the `ok` answers.
    pub latency_ms: Option<Latency>,
    /// 503/429 answers with Retry-After.
    pub shed: u64,
    pub shed_latency_ms: Option<Latency>,
    pub errors: u64,
    pub errors_by_status: BTreeMap<String, u64>,
    pub errors_by_kind: BTreeMap<&'static str, u64>,
}

impl NameReport {
    fn of(s: &NameStats, window: Duration) -> NameReport {
        NameReport {
            requests: s.requests,
            ok: s.ok(),
            rate: s.requests as f64 / window.as_secs_f64().max(1e-9),
            latency_ms: Latency::of(&s.latency),
            shed: s.shed_count(),
            shed_latency_ms: Latency::of(&s.shed),
            errors: s.errors(),
            errors_by_status: s
                .errors_by_status
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            errors_by_kind: s
                .errors_by_kind
                .iter()
                .map(|(k, v)| (k.as_str(), *v))
                .collect(),
        }
    }
}

/// A phase, or the whole run.
#[derive(Clone, Debug, Serialize)]
pub struct Section {
    /// The phase's duration; for the whole run, from the first arrival to the last flow's end.
    pub window_s: f64,
    pub arrivals: u64,
    pub dropped: u64,
    /// Flows whose every step succeeded.
    pub completed: u64,
    /// How late the generator started arrivals (its own delay, included in the latencies).
    pub generator_lag_ms: Option<Latency>,
    pub all: NameReport,
    pub by_name: BTreeMap<&'static str, NameReport>,
}

impl Section {
    pub fn of(s: &Stats, window: Duration) -> Section {
        Section {
            window_s: window.as_secs_f64(),
            arrivals: s.arrivals,
            dropped: s.dropped,
            completed: s.completed,
            generator_lag_ms: s.lag.as_ref().and_then(Latency::of),
            all: NameReport::of(&s.all(), window),
            by_name: s
                .names
                .iter()
                .map(|(n, v)| (n.as_str(), NameReport::of(v, window)))
                .collect(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct PhaseReport {
    pub phase: Phase,
    #[serde(flatten)]
    pub section: Section,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub flow: &'static str,
    pub target_url: String,
    /// Start of the run, Unix time in milliseconds.
    pub started_unix_ms: u128,
    pub max_in_flight: usize,
    /// Stopped early by Ctrl-C: the last phase(s) ran only in part.
    pub interrupted: bool,
    /// `sessions`: users logged in before the phases, and how long that took.
    pub users: Option<u32>,
    pub setup_s: Option<f64>,
    pub phases: Vec<PhaseReport>,
    pub total: Section,
    /// Each target of the table, met or not (printed with --check).
    pub check: Vec<Verdict>,
}

/// Milliseconds, with precision to match the size: `0.412 ms`, `12.3 ms`, `1520 ms`.
pub fn ms(us: u64) -> String {
    let v = us as f64 / 1000.0;
    if v < 1.0 {
        format!("{v:.3}ms")
    } else if v < 100.0 {
        format!("{v:.1}ms")
    } else {
        format!("{v:.0}ms")
    }
}

fn f(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| ms((v * 1000.0).round() as u64))
}

fn errors_text(r: &NameReport) -> String {
    let mut parts: Vec<String> = r
        .errors_by_status
        .iter()
        .map(|(k, v)| format!("{k}×{v}"))
        .collect();
    parts.extend(r.errors_by_kind.iter().map(|(k, v)| format!("{k}×{v}")));
    parts.join(" ")
}

impl Report {
    /// The summary table.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let t = &self.total;
        let _ = writeln!(
            out,
            "flowats loadtest: flow {} against {}, {} phase(s), {:.1} s, at most {} flows in flight",
            self.flow,
            self.target_url,
            self.phases.len(),
            t.window_s,
            self.max_in_flight
        );
        if self.interrupted {
            let _ = writeln!(
                out,
                "INTERRUPTED: the schedule was stopped early; the last phase's rates are understated"
            );
        }
        if let (Some(users), Some(setup)) = (self.users, self.setup_s) {
            let _ = writeln!(out, "{users} users logged in beforehand in {setup:.1} s");
        }
        let _ = writeln!(
            out,
            "\n{:<14} {:>9} {:>8} {:>9} {:>9} {:>8} {:>7} {:>9} {:>9} {:>9}",
            "phase",
            "arrivals",
            "dropped",
            "requests",
            "req/s",
            "shed",
            "errors",
            "p50",
            "p99",
            "max"
        );
        let rows = self
            .phases
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let label = format!(
                    "{} {}s@{}",
                    i + 1,
                    p.phase.duration.as_secs_f64(),
                    p.phase.rate
                );
                (label, &p.section)
            })
            .chain(std::iter::once(("total".to_owned(), t)));
        for (label, s) in rows {
            let l = s.all.latency_ms.as_ref();
            let _ = writeln!(
                out,
                "{:<14} {:>9} {:>8} {:>9} {:>9.1} {:>8} {:>7} {:>9} {:>9} {:>9}",
                label,
                s.arrivals,
                s.dropped,
                s.all.requests,
                s.all.rate,
                s.all.shed,
                s.all.errors,
                f(l.map(|l| l.p50)),
                f(l.map(|l| l.p99)),
                f(l.map(|l| l.max)),
            );
        }
        let _ = writeln!(
            out,
            "\n{:<8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>7}",
            "request", "count", "req/s", "min", "p50", "p95", "p99", "max", "shed", "errors"
        );
        // In the flows' order (login, list, filter, …), then everything together.
        let names = Name::ALL
            .iter()
            .filter_map(|n| Some((n.as_str(), t.by_name.get(n.as_str())?)))
            .chain(std::iter::once(("all", &t.all)));
        for (name, r) in names {
            let l = r.latency_ms.as_ref();
            let _ = writeln!(
                out,
                "{:<8} {:>9} {:>9.1} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>7}",
                name,
                r.requests,
                r.rate,
                f(l.map(|l| l.min)),
                f(l.map(|l| l.p50)),
                f(l.map(|l| l.p95)),
                f(l.map(|l| l.p99)),
                f(l.map(|l| l.max)),
                r.shed,
                r.errors,
            );
        }
        if let Some(s) = &t.all.shed_latency_ms {
            let _ = writeln!(
                out,
                "\nshed (503/429 with Retry-After): {} answers, p50 {} p99 {} max {}",
                t.all.shed,
                f(Some(s.p50)),
                f(Some(s.p99)),
                f(Some(s.max))
            );
        }
        let failing: Vec<String> = t
            .by_name
            .iter()
            .filter(|(_, r)| r.errors > 0)
            .map(|(n, r)| format!("{n}: {}", errors_text(r)))
            .chain((t.dropped > 0).then(|| format!("dropped arrivals: {}", t.dropped)))
            .collect();
        if !failing.is_empty() {
            let _ = writeln!(out, "\nerrors: {}", failing.join("; "));
        }
        if let Some(lag) = &t.generator_lag_ms {
            let _ = writeln!(
                out,
                "\ngenerator lag behind schedule: p50 {} p99 {} max {} (included in the latencies)",
                f(Some(lag.p50)),
                f(Some(lag.p99)),
                f(Some(lag.max))
            );
        }
        out
    }

    /// The `--check` lines.
    pub fn render_check(&self) -> String {
        let mut out = String::from("\ncheck:\n");
        for v in &self.check {
            let _ = writeln!(
                out,
                "  {:<7} {:<8} {:<6} {:<12} {}",
                v.result.to_uppercase(),
                v.name,
                v.metric,
                v.limit,
                v.actual.as_deref().unwrap_or("(no requests)")
            );
        }
        out
    }

    pub fn misses(&self) -> Vec<&Verdict> {
        self.check.iter().filter(|v| v.result == "miss").collect()
    }
}
