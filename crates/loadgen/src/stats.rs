//! What a run records: per phase and per request name, an HDR histogram of the successful
//! answers' latency, the shed answers (503/429 with Retry-After) with their own histogram,
//! and the errors by status code and by kind. [`Recorder`] is shared by every flow task;
//! its live counters feed the progress line.

use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Longest latency a histogram holds exactly (an hour, in microseconds); longer ones are
/// clamped to it.
const HIGHEST_US: u64 = 3_600_000_000;

/// The request names a report groups by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Name {
    Login,
    List,
    Filter,
    Get,
    Create,
    Update,
    Profile,
    Stats,
    Health,
}

impl Name {
    pub const ALL: [Name; 9] = [
        Name::Login,
        Name::List,
        Name::Filter,
        Name::Get,
        Name::Create,
        Name::Update,
        Name::Profile,
        Name::Stats,
        Name::Health,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Name::Login => "login",
            Name::List => "list",
            Name::Filter => "filter",
            Name::Get => "get",
            Name::Create => "create",
            Name::Update => "update",
            Name::Profile => "profile",
            Name::Stats => "stats",
            Name::Health => "health",
        }
    }

    pub fn parse(s: &str) -> Option<Name> {
        Name::ALL.into_iter().find(|n| n.as_str() == s)
    }
}

/// Why a request (or an arrival) failed without an unexpected status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// No complete answer within `--timeout`.
    Timeout,
    /// The connection could not be opened.
    Connect,
    /// The connection was reset or closed mid-answer.
    Reset,
    /// The arrival found `--max-in-flight` flows running and was not started.
    Dropped,
    /// An answer with the expected status but not the expected body (no token, no id).
    Invalid,
    /// Anything else the client reported.
    Other,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Timeout => "timeout",
            Kind::Connect => "connect",
            Kind::Reset => "reset",
            Kind::Dropped => "dropped",
            Kind::Invalid => "invalid",
            Kind::Other => "other",
        }
    }
}

pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_US, 3).expect("valid histogram bounds")
}

fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).clamp(1, HIGHEST_US)
}

/// One request name's record (in one phase, or merged).
#[derive(Clone, Debug)]
pub struct NameStats {
    /// Requests sent (every outcome).
    pub requests: u64,
    /// Latency of the answers with the expected status, in microseconds.
    pub latency: Histogram<u64>,
    /// Latency of the 503/429 answers carrying Retry-After, in microseconds.
    pub shed: Histogram<u64>,
    pub errors_by_status: BTreeMap<u16, u64>,
    pub errors_by_kind: BTreeMap<Kind, u64>,
}

impl Default for NameStats {
    fn default() -> Self {
        NameStats {
            requests: 0,
            latency: new_histogram(),
            shed: new_histogram(),
            errors_by_status: BTreeMap::new(),
            errors_by_kind: BTreeMap::new(),
        }
    }
}

impl NameStats {
    pub fn ok(&self) -> u64 {
        self.latency.len()
    }

    pub fn shed_count(&self) -> u64 {
        self.shed.len()
    }

    pub fn errors(&self) -> u64 {
        self.errors_by_status.values().sum::<u64>() + self.errors_by_kind.values().sum::<u64>()
    }

    pub fn merge(&mut self, other: &NameStats) {
        self.requests += other.requests;
        self.latency.add(&other.latency).expect("same bounds");
        self.shed.add(&other.shed).expect("same bounds");
        for (k, v) in &other.errors_by_status {
            *self.errors_by_status.entry(*k).or_default() += v;
        }
        for (k, v) in &other.errors_by_kind {
            *self.errors_by_kind.entry(*k).or_default() += v;
        }
    }
}

/// One phase's record (or the whole run's, merged).
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Per request name; only names that were used.
    pub names: BTreeMap<Name, NameStats>,
    /// Arrivals scheduled (started or dropped).
    pub arrivals: u64,
    /// Arrivals not started because `--max-in-flight` flows were running.
    pub dropped: u64,
    /// Flows that ran every step successfully.
    pub completed: u64,
    /// How late the generator started arrivals against their schedule, in microseconds.
    pub lag: Option<Histogram<u64>>,
}

impl Stats {
    pub fn name(&mut self, name: Name) -> &mut NameStats {
        self.names.entry(name).or_default()
    }

    /// Every name together: requests, latency, shed and errors, plus the dropped arrivals.
    pub fn all(&self) -> NameStats {
        let mut all = NameStats::default();
        for s in self.names.values() {
            all.merge(s);
        }
        if self.dropped > 0 {
            *all.errors_by_kind.entry(Kind::Dropped).or_default() += self.dropped;
        }
        all
    }

    pub fn merge(&mut self, other: &Stats) {
        for (name, s) in &other.names {
            self.name(*name).merge(s);
        }
        self.arrivals += other.arrivals;
        self.dropped += other.dropped;
        self.completed += other.completed;
        if let Some(lag) = &other.lag {
            self.lag
                .get_or_insert_with(new_histogram)
                .add(lag)
                .expect("same bounds");
        }
    }
}

/// Counters the progress line reads without taking a lock.
#[derive(Default)]
pub struct Live {
    pub arrivals: AtomicU64,
    pub requests: AtomicU64,
    pub ok: AtomicU64,
    pub shed: AtomicU64,
    pub errors: AtomicU64,
}

/// Shared by every flow task: one locked [`Stats`] per phase.
pub struct Recorder {
    phases: Vec<Mutex<Stats>>,
    pub live: Live,
}

impl Recorder {
    pub fn new(phases: usize) -> Recorder {
        Recorder {
            phases: (0..phases).map(|_| Mutex::new(Stats::default())).collect(),
            live: Live::default(),
        }
    }

    fn with<R>(&self, phase: usize, f: impl FnOnce(&mut Stats) -> R) -> R {
        f(&mut self.phases[phase].lock().expect("stats lock"))
    }

    /// An arrival was scheduled; `lag` is how late the generator got to it.
    pub fn arrival(&self, phase: usize, lag: Duration, dropped: bool) {
        self.live.arrivals.fetch_add(1, Ordering::Relaxed);
        if dropped {
            self.live.errors.fetch_add(1, Ordering::Relaxed);
        }
        self.with(phase, |s| {
            s.arrivals += 1;
            if dropped {
                s.dropped += 1;
            }
            s.lag
                .get_or_insert_with(new_histogram)
                .saturating_record(micros(lag));
        });
    }

    pub fn ok(&self, phase: usize, name: Name, latency: Duration) {
        self.live.requests.fetch_add(1, Ordering::Relaxed);
        self.live.ok.fetch_add(1, Ordering::Relaxed);
        self.with(phase, |s| {
            let n = s.name(name);
            n.requests += 1;
            n.latency.saturating_record(micros(latency));
        });
    }

    pub fn shed(&self, phase: usize, name: Name, latency: Duration) {
        self.live.requests.fetch_add(1, Ordering::Relaxed);
        self.live.shed.fetch_add(1, Ordering::Relaxed);
        self.with(phase, |s| {
            let n = s.name(name);
            n.requests += 1;
            n.shed.saturating_record(micros(latency));
        });
    }

    pub fn bad_status(&self, phase: usize, name: Name, status: u16) {
        self.live.requests.fetch_add(1, Ordering::Relaxed);
        self.live.errors.fetch_add(1, Ordering::Relaxed);
        self.with(phase, |s| {
            let n = s.name(name);
            n.requests += 1;
            *n.errors_by_status.entry(status).or_default() += 1;
        });
    }

    /// A request that got no usable answer. `sent`: it counts as a request (false for a
    /// step that could not even be built, e.g. no job to fetch).
    pub fn failed(&self, phase: usize, name: Name, kind: Kind, sent: bool) {
        if sent {
            self.live.requests.fetch_add(1, Ordering::Relaxed);
        }
        self.live.errors.fetch_add(1, Ordering::Relaxed);
        self.with(phase, |s| {
            let n = s.name(name);
            n.requests += u64::from(sent);
            *n.errors_by_kind.entry(kind).or_default() += 1;
        });
    }

    pub fn completed(&self, phase: usize) {
        self.with(phase, |s| s.completed += 1);
    }

    /// A copy of the per-phase records (taken at the end of the run).
    pub fn snapshot(&self) -> Vec<Stats> {
        self.phases
            .iter()
            .map(|m| m.lock().expect("stats lock").clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_merges_names_and_counts_dropped_arrivals_as_errors() {
        let r = Recorder::new(2);
        r.ok(0, Name::Login, Duration::from_millis(20));
        r.ok(1, Name::List, Duration::from_millis(2));
        r.shed(1, Name::Login, Duration::from_millis(1));
        r.bad_status(1, Name::List, 500);
        r.failed(1, Name::List, Kind::Timeout, true);
        r.arrival(1, Duration::ZERO, true);
        let phases = r.snapshot();
        let mut total = Stats::default();
        for p in &phases {
            total.merge(p);
        }
        let all = total.all();
        assert_eq!(all.requests, 5);
        assert_eq!(all.ok(), 2);
        assert_eq!(all.shed_count(), 1);
        assert_eq!(all.errors(), 3);
        assert_eq!(all.errors_by_kind[&Kind::Dropped], 1);
        assert_eq!(total.names[&Name::List].errors_by_status[&500], 1);
        assert!(all.latency.max() >= 19_000);
    }
}
