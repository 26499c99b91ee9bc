//! The `flowats loadtest` flags, and the parsers of their small languages: durations
//! (`250ms`, `60s`, `2m`), phases (`60s@10`) and targets (`list=p95:200ms`).

use crate::check::TargetSpec;
use std::path::PathBuf;
use std::time::Duration;

/// The seed's Artillery profile: 60 s at 10 arrivals/s, 120 s at 50, 60 s at 100.
pub const SEED_PROFILE: [(u64, f64); 3] = [(60, 10.0), (120, 50.0), (60, 100.0)];

const AFTER_HELP: &str = "\
Phases: DURATION@RATE, e.g. `--phase 30s@200 --phase 2m@500`: arrivals per second held \
constant for that long, each arrival starting at its scheduled instant whether or not earlier \
ones have finished (open model). Durations take ms, s, m or h; a bare number is seconds.

Latency: a flow's first request is timed from its arrival's scheduled instant, so time spent \
waiting for the generator or a stalled server counts; each later request of the flow from the \
end of the one before. Histograms hold the successful answers; 503 and 429 answers carrying \
Retry-After are counted as `shed`, with their own histogram; anything else unexpected is an \
error, by status code or by kind (timeout, connect, reset, dropped, invalid).

Targets (--check): built in are health p95 < 50ms; list, filter, get and stats p95 < 200ms; \
create and update p95 < 500ms; profile p95 < 100ms; login p95 < 500ms; shed p99 < 100ms; \
all errors = 0. Names without requests in the run are skipped.
  --target NAME=METRIC:VALUE[,METRIC:VALUE...]   add or replace a target
  --target NAME=off                             drop NAME's built-in targets
NAME is a request name (login, list, filter, get, create, update, profile, stats, health), \
`all` (every request together) or `shed` (the shed answers' latency). METRIC is p50, p90, p95, \
p99, p999 or max with a duration (25ms, 1.5s, 800us); or `errors` / `shed` with a count (0) \
or a share of the requests (0.5%). Examples: --target login=p99:25ms --target all=errors:1%";

/// What each arrival does.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowKind {
    /// The seed's Artillery flow: login → GET /api/jobs?page=1&limit=20 → POST /api/jobs.
    Seed,
    /// login → list → filter by status → get one job.
    Browse,
    /// Users logged in once beforehand; each arrival is one request, 80 % reads, 20 % writes.
    Sessions,
    /// POST /api/auth/login only: a login flood.
    Login,
    /// GET /api/health only.
    Health,
}

impl FlowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowKind::Seed => "seed",
            FlowKind::Browse => "browse",
            FlowKind::Sessions => "sessions",
            FlowKind::Login => "login",
            FlowKind::Health => "health",
        }
    }

    /// Requests one arrival of this flow sends when every step succeeds.
    pub fn steps(self) -> u64 {
        match self {
            FlowKind::Seed => 3,
            FlowKind::Browse => 4,
            FlowKind::Sessions | FlowKind::Login | FlowKind::Health => 1,
        }
    }
}

/// One phase of the schedule: `rate` arrivals per second for `duration`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Phase {
    #[serde(serialize_with = "as_secs")]
    pub duration: Duration,
    pub rate: f64,
}

fn as_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl Phase {
    /// Arrivals in this phase: duration × rate, rounded.
    pub fn arrivals(&self) -> u64 {
        (self.duration.as_secs_f64() * self.rate).round() as u64
    }
}

/// Drive a FlowATS server with an open-model load (constant arrival rates) and report
/// latency percentiles, errors and shed requests per request name.
#[derive(clap::Args, Clone, Debug)]
#[command(after_long_help = AFTER_HELP)]
pub struct Args {
    /// The server's base URL (plain http).
    #[arg(long, value_name = "URL", default_value = "http://localhost:8787")]
    pub target_url: String,
    /// What each arrival does.
    #[arg(long, value_enum, default_value_t = FlowKind::Seed)]
    pub flow: FlowKind,
    /// A phase, DURATION@RATE (e.g. 60s@10); repeat for several, run in order.
    /// Default: the seed's 60s@10, 120s@50, 60s@100.
    #[arg(long = "phase", value_name = "DURATION@RATE", value_parser = parse_phase)]
    pub phases: Vec<Phase>,
    /// Flows running at once at most; arrivals beyond it are counted as `dropped` errors.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_in_flight: usize,
    /// Deadline of each request, body included.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// `sessions`: accounts user1@example.com … userN@example.com (password `password`,
    /// made by `flowats seed --users N`), each logged in once before the phases start.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub users: u32,
    /// The account of the seed, browse and login flows.
    #[arg(long, default_value = "test@example.com")]
    pub email: String,
    /// Its password.
    #[arg(long, default_value = "password")]
    pub password: String,
    /// Also write the whole result as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Compare against the targets (see below); exit non-zero on a miss.
    #[arg(long)]
    pub check: bool,
    /// Add, replace or drop a target: NAME=METRIC:VALUE[,…] or NAME=off (see below).
    #[arg(long = "target", value_name = "NAME=METRIC:VALUE", value_parser = TargetSpec::parse)]
    pub targets: Vec<TargetSpec>,
    /// Show the progress line even when stderr is not a terminal.
    #[arg(long)]
    pub progress: bool,
    /// Speak HTTP/2 without TLS (prior knowledge) instead of HTTP/1.1.
    #[arg(long)]
    pub http2: bool,
    /// Seed of the random choices (users, jobs, statuses, operations).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
}

impl Args {
    /// The phases to run: the given ones, or the seed's profile.
    pub fn schedule(&self) -> Vec<Phase> {
        if !self.phases.is_empty() {
            return self.phases.clone();
        }
        SEED_PROFILE
            .iter()
            .map(|&(secs, rate)| Phase {
                duration: Duration::from_secs(secs),
                rate,
            })
            .collect()
    }
}

/// `250ms`, `1.5s`, `2m`, `1h`, `800us`; a bare number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (e.g. 250ms, 60s, 2m)"))?;
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" => 1e-6,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{s}`: use us, ms, s, m or h"
            ));
        }
    };
    let secs = value * scale;
    if !secs.is_finite() || secs <= 0.0 || secs > 365.0 * 86400.0 {
        return Err(format!("`{s}` must be a positive duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `DURATION@RATE`, e.g. `60s@10` or `500ms@2000`.
pub fn parse_phase(s: &str) -> Result<Phase, String> {
    let (d, r) = s
        .split_once('@')
        .ok_or_else(|| format!("`{s}`: a phase is DURATION@RATE, e.g. 60s@10"))?;
    let duration = parse_duration(d)?;
    let rate: f64 = r
        .trim()
        .parse()
        .map_err(|_| format!("`{r}` is not a rate (arrivals per second, e.g. 10 or 0.5)"))?;
    if !rate.is_finite() || rate <= 0.0 || rate > 1_000_000.0 {
        return Err(format!(
            "the rate in `{s}` must be above 0 and at most 1000000 per second"
        ));
    }
    Ok(Phase { duration, rate })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("60"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("800us"), Ok(Duration::from_micros(800)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn phases() {
        let p = parse_phase("60s@10").unwrap();
        assert_eq!(p.duration, Duration::from_secs(60));
        assert_eq!(p.arrivals(), 600);
        assert_eq!(parse_phase("500ms@2000").unwrap().arrivals(), 1000);
        assert!(parse_phase("60s").unwrap_err().contains("DURATION@RATE"));
        assert!(parse_phase("60s@0").is_err());
        assert!(parse_phase("60s@fast").is_err());
    }
}
