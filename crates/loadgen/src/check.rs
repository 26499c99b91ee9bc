//! `--check`: the targets table (built in from the seed's targets and SPEC §8, adjustable
//! with `--target`), and the comparison of a run against it.

use crate::args::parse_duration;
use crate::stats::{Kind, Name, NameStats, Stats};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    P50,
    P90,
    P95,
    P99,
    P999,
    Max,
    /// Requests that failed (bad status, no answer, dropped).
    Errors,
    /// Requests answered 503/429 with Retry-After.
    Shed,
}

impl Metric {
    const ALL: [Metric; 8] = [
        Metric::P50,
        Metric::P90,
        Metric::P95,
        Metric::P99,
        Metric::P999,
        Metric::Max,
        Metric::Errors,
        Metric::Shed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::P50 => "p50",
            Metric::P90 => "p90",
            Metric::P95 => "p95",
            Metric::P99 => "p99",
            Metric::P999 => "p999",
            Metric::Max => "max",
            Metric::Errors => "errors",
            Metric::Shed => "shed",
        }
    }

    fn quantile(self) -> Option<f64> {
        Some(match self {
            Metric::P50 => 0.50,
            Metric::P90 => 0.90,
            Metric::P95 => 0.95,
            Metric::P99 => 0.99,
            Metric::P999 => 0.999,
            Metric::Max => 1.0,
            Metric::Errors | Metric::Shed => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Limit {
    /// A latency: the metric must be below it.
    Time(Duration),
    /// A count: the metric must be at most it.
    Count(u64),
    /// A share of the requests, in percent: at most it.
    Share(f64),
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::Time(d) => write!(f, "< {}", crate::report::ms(d.as_micros() as u64)),
            Limit::Count(n) => write!(f, "<= {n}"),
            Limit::Share(p) => write!(f, "<= {p}%"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// A request name, `all` or `shed`.
    pub name: String,
    pub metric: Metric,
    pub limit: Limit,
}

/// One `--target` flag.
#[derive(Clone, Debug, PartialEq)]
pub enum TargetSpec {
    /// `NAME=off`
    Off(String),
    /// `NAME=METRIC:VALUE[,METRIC:VALUE…]`
    Set(Vec<Target>),
}

impl TargetSpec {
    pub fn parse(s: &str) -> Result<TargetSpec, String> {
        let (name, rest) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}`: a target is NAME=METRIC:VALUE, e.g. list=p95:200ms"))?;
        let name = name.trim();
        let known = name == "all" || name == "shed" || Name::parse(name).is_some();
        if !known {
            let names: Vec<_> = Name::ALL.iter().map(|n| n.as_str()).collect();
            return Err(format!(
                "unknown name `{name}` in `{s}`: use {}, all or shed",
                names.join(", ")
            ));
        }
        if rest.trim() == "off" {
            return Ok(TargetSpec::Off(name.to_owned()));
        }
        let mut targets = Vec::new();
        for part in rest.split(',') {
            let (metric, value) = part
                .split_once(':')
                .ok_or_else(|| format!("`{part}` in `{s}`: expected METRIC:VALUE"))?;
            let metric = Metric::ALL
                .into_iter()
                .find(|m| m.as_str() == metric.trim())
                .ok_or_else(|| {
                    format!(
                        "unknown metric `{metric}` in `{s}`: use p50, p90, p95, p99, p999, max, errors or shed"
                    )
                })?;
            let value = value.trim();
            let limit = if metric.quantile().is_some() {
                Limit::Time(parse_duration(value)?)
            } else if name == "shed" {
                return Err(format!(
                    "`{s}`: the shed answers have latency targets only (p50 … max)"
                ));
            } else if let Some(p) = value.strip_suffix('%') {
                let p: f64 = p
                    .trim()
                    .parse()
                    .map_err(|_| format!("`{value}` is not a percentage"))?;
                if !(0.0..=100.0).contains(&p) {
                    return Err(format!("`{value}`: a percentage is 0 to 100"));
                }
                Limit::Share(p)
            } else {
                Limit::Count(
                    value
                        .parse()
                        .map_err(|_| format!("`{value}` is not a count (or a share like 1%)"))?,
                )
            };
            targets.push(Target {
                name: name.to_owned(),
                metric,
                limit,
            });
        }
        Ok(TargetSpec::Set(targets))
    }
}

/// The built-in table: the seed's response-time targets (§9) per request, 0 errors, and
/// shedding within 100 ms (issue 8).
pub fn defaults() -> Vec<Target> {
    let ms = |n| Limit::Time(Duration::from_millis(n));
    let p95 = |name: &str, n| Target {
        name: name.to_owned(),
        metric: Metric::P95,
        limit: ms(n),
    };
    vec![
        p95("health", 50),
        p95("list", 200),
        p95("filter", 200),
        p95("get", 200),
        p95("stats", 200),
        p95("create", 500),
        p95("update", 500),
        p95("profile", 100),
        p95("login", 500),
        Target {
            name: "shed".into(),
            metric: Metric::P99,
            limit: ms(100),
        },
        Target {
            name: "all".into(),
            metric: Metric::Errors,
            limit: Limit::Count(0),
        },
    ]
}

/// The defaults with the `--target` flags applied in order.
pub fn targets(specs: &[TargetSpec]) -> Vec<Target> {
    let mut table = defaults();
    for spec in specs {
        match spec {
            TargetSpec::Off(name) => table.retain(|t| &t.name != name),
            TargetSpec::Set(set) => {
                for t in set {
                    table.retain(|old| !(old.name == t.name && old.metric == t.metric));
                    table.push(t.clone());
                }
            }
        }
    }
    table
}

#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub name: String,
    pub metric: &'static str,
    pub limit: String,
    /// The measured value, formatted; `null` when the run has no such requests.
    pub actual: Option<String>,
    /// `pass`, `miss` or `skipped` (no requests of that name in the run).
    pub result: &'static str,
}

/// Each target against the whole run.
pub fn evaluate(targets: &[Target], total: &Stats) -> Vec<Verdict> {
    let all = total.all();
    targets
        .iter()
        .map(|t| {
            let (actual, passed) = match measure(t, total, &all) {
                None => (None, None),
                Some((text, ok)) => (Some(text), Some(ok)),
            };
            Verdict {
                name: t.name.clone(),
                metric: t.metric.as_str(),
                limit: t.limit.to_string(),
                actual,
                result: match passed {
                    None => "skipped",
                    Some(true) => "pass",
                    Some(false) => "miss",
                },
            }
        })
        .collect()
}

/// The measured value and whether it meets the limit; `None` when there is nothing to measure.
fn measure(t: &Target, total: &Stats, all: &NameStats) -> Option<(String, bool)> {
    let stats: &NameStats = match t.name.as_str() {
        "all" | "shed" => all,
        name => total.names.get(&Name::parse(name)?)?,
    };
    if stats.requests == 0 && t.name != "all" {
        return None;
    }
    if let Some(q) = t.metric.quantile() {
        let hist: &Histogram<u64> = if t.name == "shed" {
            &stats.shed
        } else {
            &stats.latency
        };
        if hist.is_empty() {
            // Shed answers are optional; successful answers are not.
            return (t.name != "shed").then(|| ("no successful answer".to_owned(), false));
        }
        let us = if q >= 1.0 {
            hist.max()
        } else {
            hist.value_at_quantile(q)
        };
        let Limit::Time(limit) = t.limit else {
            return Some(("latency metric without a time".to_owned(), false));
        };
        return Some((crate::report::ms(us), (us as u128) < limit.as_micros()));
    }
    let count = match t.metric {
        Metric::Errors => stats.errors(),
        _ => stats.shed_count(),
    };
    // Dropped arrivals never sent a request, but they count in the share (of `all`).
    let dropped = stats
        .errors_by_kind
        .get(&Kind::Dropped)
        .copied()
        .unwrap_or(0);
    let base = (stats.requests + dropped).max(1);
    Some(match t.limit {
        Limit::Count(n) => (count.to_string(), count <= n),
        Limit::Share(p) => {
            let share = 100.0 * count as f64 / base as f64;
            (format!("{share:.3}% ({count})"), share <= p)
        }
        Limit::Time(_) => ("count metric with a time".to_owned(), false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Recorder;

    #[test]
    fn parses_and_overrides() {
        let spec = TargetSpec::parse("login=p99:25ms,errors:1%").unwrap();
        let TargetSpec::Set(set) = &spec else {
            panic!()
        };
        assert_eq!(set[0].metric, Metric::P99);
        assert_eq!(set[0].limit, Limit::Time(Duration::from_millis(25)));
        assert_eq!(set[1].limit, Limit::Share(1.0));
        let table = targets(&[
            spec,
            TargetSpec::parse("login=p95:100ms").unwrap(),
            TargetSpec::parse("health=off").unwrap(),
        ]);
        let login: Vec<_> = table.iter().filter(|t| t.name == "login").collect();
        assert_eq!(login.len(), 3, "p95 replaced, p99 and errors added");
        assert!(login.contains(&&Target {
            name: "login".into(),
            metric: Metric::P95,
            limit: Limit::Time(Duration::from_millis(100)),
        }));
        assert!(table.iter().all(|t| t.name != "health"));
        for bad in [
            "nope=p95:1ms",
            "list",
            "list=p42:1ms",
            "list=p95:fast",
            "shed=errors:0",
            "list=errors:x",
            "list=errors:120%",
        ] {
            assert!(TargetSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn misses_and_skips() {
        let r = Recorder::new(1);
        for _ in 0..99 {
            r.ok(0, Name::List, Duration::from_millis(5));
        }
        r.ok(0, Name::List, Duration::from_millis(300));
        r.bad_status(0, Name::List, 500);
        r.shed(0, Name::Login, Duration::from_millis(2));
        let mut total = Stats::default();
        total.merge(&r.snapshot()[0]);
        let table = targets(&[TargetSpec::parse("list=max:250ms").unwrap()]);
        let v = evaluate(&table, &total);
        let get = |n: &str, m: &str| v.iter().find(|x| x.name == n && x.metric == m).unwrap();
        assert_eq!(get("list", "p95").result, "pass");
        assert_eq!(get("list", "max").result, "miss");
        assert_eq!(get("all", "errors").result, "miss");
        assert_eq!(get("health", "p95").result, "skipped");
        assert_eq!(get("shed", "p99").result, "pass");
        assert_eq!(get("login", "p95").result, "miss", "only shed answers");
    }
}
