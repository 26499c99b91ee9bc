//! The load every fault test runs, and its books.
//!
//! [`Load`] runs [`CLIENTS`] clients over real HTTP against a server process, each its own
//! user, each creating jobs (`POST /api/jobs`) and reading them back, plus a probe of
//! `/api/health/ready`. Every request has a client-side deadline ([`DEADLINE`], a little
//! above the server's `REQUEST_TIMEOUT_MS`); one that passes it is a hang. Every creation
//! answered 201 goes into the **ledger**.
//!
//! [`Run::check`] then holds the run to the rules of a fault: only 503s with `Retry-After`
//! and an error code while the fault lasts (and a short settling time after it), nothing
//! else; every id in the ledger found in the database afterwards (nothing lost); the
//! server recovered by itself. It prints one line `FAULT {json}` with the figures (which
//! `scripts/faults` collects) before it asserts anything.

use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// `REQUEST_TIMEOUT_MS` of the servers under fault.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// The client's deadline: past it a request counts as hung.
pub const DEADLINE: Duration = Duration::from_secs(6);
/// Concurrent clients.
pub const CLIENTS: usize = 4;
/// 503s are still accepted this long after the fault is removed, and the server must have
/// recovered (a request succeeded, the probe says healthy) within it.
pub const SETTLE: Duration = Duration::from_secs(3);

/// The environment every faulted server gets on top of its database settings (its
/// warnings, one per refused request, would drown the test's output).
pub fn server_env() -> Vec<(&'static str, String)> {
    vec![
        (
            "REQUEST_TIMEOUT_MS",
            REQUEST_TIMEOUT.as_millis().to_string(),
        ),
        ("RUST_LOG", "error".to_owned()),
    ]
}

/// How long each part of a fault test lasts: load before the fault, the fault, load
/// after it. `FLOWATS_FAULT_SECS` (default 5) sets the total, split 20/40/40 with floors
/// of 1, 2 and [`SETTLE`] seconds.
pub struct Phases {
    pub before: Duration,
    pub fault: Duration,
    pub after: Duration,
}

pub fn phases() -> Phases {
    let total: f64 = match std::env::var("FLOWATS_FAULT_SECS") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("FLOWATS_FAULT_SECS={v:?}: expected seconds")),
        Err(_) => 5.0,
    };
    let part = |share: f64, floor: Duration| Duration::from_secs_f64(total * share).max(floor);
    Phases {
        before: part(0.2, Duration::from_secs(1)),
        fault: part(0.4, Duration::from_secs(2)),
        after: part(0.4, SETTLE),
    }
}

/// What one request came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The expected status (201 for a creation, 200 for a read).
    Ok,
    /// 503 with `Retry-After` and an error code in the envelope.
    Unavailable(String),
    /// Any other answer: the status and the envelope's code, if any.
    Status(u16, String),
    /// No answer within [`DEADLINE`].
    Hang,
    /// No HTTP answer at all (refused, reset).
    Transport(String),
}

#[derive(Debug, Clone)]
pub struct Sample {
    pub what: &'static str,
    /// Since the load started.
    pub start: Duration,
    pub end: Duration,
    pub outcome: Outcome,
}

/// A readiness probe: 200 with the cache not degraded.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pub at: Duration,
    pub healthy: bool,
}

pub struct Load {
    t0: Instant,
    stop: Arc<AtomicBool>,
    clients: tokio::task::JoinSet<(Vec<Sample>, Vec<Uuid>)>,
    probe: tokio::task::JoinHandle<Vec<Probe>>,
}

/// What a load saw.
pub struct Run {
    pub samples: Vec<Sample>,
    pub ledger: Vec<Uuid>,
    pub probes: Vec<Probe>,
    pub duration: Duration,
}

async fn request(
    req: reqwest::RequestBuilder,
    expect: u16,
    what: &'static str,
    t0: Instant,
) -> (Sample, Value) {
    let start = t0.elapsed();
    let answer = tokio::time::timeout(DEADLINE, async {
        let res = req.send().await?;
        let status = res.status().as_u16();
        let retry_after = res.headers().contains_key(reqwest::header::RETRY_AFTER);
        let bytes = res.bytes().await?;
        Ok::<_, reqwest::Error>((status, retry_after, bytes))
    })
    .await;
    let (outcome, body) = match answer {
        Err(_) => (Outcome::Hang, Value::Null),
        Ok(Err(e)) => (Outcome::Transport(chain(&e)), Value::Null),
        Ok(Ok((status, retry_after, bytes))) => {
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
            let outcome = if status == expect {
                Outcome::Ok
            } else if status == 503 && retry_after && !code.is_empty() {
                Outcome::Unavailable(code)
            } else {
                Outcome::Status(status, code)
            };
            (outcome, body)
        }
    };
    let end = t0.elapsed();
    (
        Sample {
            what,
            start,
            end,
            outcome,
        },
        body,
    )
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

/// One client: create, read it back, list; until `stop`.
async fn client(
    base: String,
    token: String,
    stop: Arc<AtomicBool>,
    t0: Instant,
) -> (Vec<Sample>, Vec<Uuid>) {
    let http = crate::helpers::http();
    let (mut samples, mut ledger) = (Vec::new(), Vec::new());
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let create = http
            .post(format!("{base}/api/jobs"))
            .bearer_auth(&token)
            .json(&json!({"title": format!("Fault job {n}"), "company": "Acme"}));
        let (sample, body) = request(create, 201, "create", t0).await;
        let created = (sample.outcome == Outcome::Ok)
            .then(|| body["id"].as_str().and_then(|id| id.parse::<Uuid>().ok()))
            .flatten();
        samples.push(sample);
        if let Some(id) = created {
            ledger.push(id);
            let read = http
                .get(format!("{base}/api/jobs/{id}"))
                .bearer_auth(&token);
            samples.push(request(read, 200, "read", t0).await.0);
        }
        let list = http
            .get(format!("{base}/api/jobs?limit=5"))
            .bearer_auth(&token);
        samples.push(request(list, 200, "list", t0).await.0);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    (samples, ledger)
}

async fn probe(base: String, stop: Arc<AtomicBool>, t0: Instant) -> Vec<Probe> {
    let http = crate::helpers::http();
    let mut probes = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let at = t0.elapsed();
        let res = tokio::time::timeout(DEADLINE, async {
            let r = http.get(format!("{base}/api/health/ready")).send().await?;
            let status = r.status();
            Ok::<_, reqwest::Error>((status, r.json::<Value>().await.unwrap_or_default()))
        })
        .await;
        let healthy = matches!(&res, Ok(Ok((status, body)))
            if *status == 200 && body["checks"]["cache"] != "degraded");
        probes.push(Probe { at, healthy });
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    probes
}

impl Load {
    /// Registers [`CLIENTS`] users and starts their clients and the probe.
    pub async fn start(base: &str) -> Load {
        let http = crate::helpers::http();
        let t0 = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let mut clients = tokio::task::JoinSet::new();
        for i in 0..CLIENTS {
            let r = http
                .post(format!("{base}/api/auth/register"))
                .json(&json!({"email": format!("fault{i}@example.com"),
                              "password": "password123", "name": "Fault"}))
                .send()
                .await
                .expect("register");
            assert_eq!(r.status(), 201, "register: {:?}", r.text().await);
            let body: Value = r.json().await.expect("register body");
            let token = body["token"].as_str().expect("token").to_owned();
            clients.spawn(client(base.to_owned(), token, stop.clone(), t0));
        }
        let probe = tokio::spawn(probe(base.to_owned(), stop.clone(), t0));
        Load {
            t0,
            stop,
            clients,
            probe,
        }
    }

    /// Time since the load started (the clock of every sample).
    pub fn at(&self) -> Duration {
        self.t0.elapsed()
    }

    pub async fn finish(self) -> Run {
        self.stop.store(true, Ordering::Relaxed);
        let duration = self.t0.elapsed();
        let (mut samples, mut ledger) = (Vec::new(), Vec::new());
        for (s, l) in self.clients.join_all().await {
            samples.extend(s);
            ledger.extend(l);
        }
        samples.sort_by_key(|s| s.start);
        Run {
            samples,
            ledger,
            probes: self.probe.await.expect("probe"),
            duration,
        }
    }
}

/// When the fault was applied and removed (`None`: it is not removed, as a shutdown).
pub struct Fault {
    pub name: &'static str,
    pub start: Duration,
    pub removed: Option<Duration>,
}

/// What a fault test expects beyond the common rules.
#[derive(Default)]
pub struct Rules {
    /// The fault must be visible (a 503 or an unhealthy probe), or the test tested nothing.
    pub must_see: bool,
    /// At least one 503 must carry this code.
    pub code: Option<&'static str>,
    /// A shutdown at this time: requests started after it (less a margin for requests not
    /// yet read by the server) may end without an HTTP answer (refused, reset).
    pub refused_after: Option<Duration>,
    /// Jobs in the database that no client saw a 201 for must be none.
    pub no_unacknowledged: bool,
}

impl Rules {
    /// The rules every fault starts from: the fault must have been seen.
    pub fn visible() -> Rules {
        Rules {
            must_see: true,
            ..Rules::default()
        }
    }
}

/// A request started this long before a shutdown was certainly read by the server.
pub const IN_FLIGHT_MARGIN: Duration = Duration::from_millis(200);

/// The figures of one fault test.
#[derive(Debug)]
pub struct Books {
    pub requests: usize,
    pub created: usize,
    /// Reads (of a job, of the list) answered 200.
    pub reads: usize,
    pub unavailable: usize,
    /// Answers the rules do not allow: other statuses, hangs, transport errors.
    pub failures: Vec<Sample>,
    pub hangs: usize,
    pub refused: usize,
    pub lost: usize,
    pub unacknowledged: usize,
    pub max_latency: Duration,
    pub recovery: Option<Duration>,
    pub errors_lasted: Duration,
    /// Something went wrong at all: a request not answered as expected, a probe unhealthy.
    pub seen: bool,
}

impl Run {
    fn books(&self, fault: &Fault, rules: &Rules, in_db: &HashSet<Uuid>) -> Books {
        // 503s are fine from the fault until it has settled (to the end for a shutdown).
        let allowed_until = fault.removed.map_or(Duration::MAX, |r| r + SETTLE);
        let mut failures = Vec::new();
        let (mut unavailable, mut refused, mut hangs) = (0, 0, 0);
        for s in &self.samples {
            let ok = match &s.outcome {
                Outcome::Ok => true,
                Outcome::Unavailable(_) => {
                    unavailable += 1;
                    s.end >= fault.start && s.start <= allowed_until
                }
                Outcome::Transport(_) => {
                    refused += 1;
                    rules
                        .refused_after
                        .is_some_and(|t| s.start + IN_FLIGHT_MARGIN >= t)
                }
                Outcome::Hang => {
                    hangs += 1;
                    false
                }
                Outcome::Status(..) => false,
            };
            if !ok {
                failures.push(s.clone());
            }
        }
        let ledger: HashSet<Uuid> = self.ledger.iter().copied().collect();
        let recovery = fault.removed.and_then(|r| {
            let request = self
                .samples
                .iter()
                .filter(|s| s.start >= r && s.outcome == Outcome::Ok)
                .map(|s| s.end)
                .min()?;
            let probe = self
                .probes
                .iter()
                .find(|p| p.at >= r && p.healthy)
                .map(|p| p.at)?;
            Some(request.max(probe) - r)
        });
        let bad: Vec<(Duration, Duration)> = self
            .samples
            .iter()
            .filter(|s| s.outcome != Outcome::Ok)
            .map(|s| (s.start, s.end))
            .chain(
                self.probes
                    .iter()
                    .filter(|p| !p.healthy)
                    .map(|p| (p.at, p.at)),
            )
            .collect();
        let errors_lasted = match (bad.iter().map(|b| b.0).min(), bad.iter().map(|b| b.1).max()) {
            (Some(first), Some(last)) => last - first,
            _ => Duration::ZERO,
        };
        Books {
            requests: self.samples.len(),
            created: self.ledger.len(),
            reads: self
                .samples
                .iter()
                .filter(|s| s.what != "create" && s.outcome == Outcome::Ok)
                .count(),
            unavailable,
            failures,
            hangs,
            refused,
            lost: ledger.difference(in_db).count(),
            unacknowledged: in_db.difference(&ledger).count(),
            max_latency: self
                .samples
                .iter()
                .map(|s| s.end - s.start)
                .max()
                .unwrap_or_default(),
            recovery,
            errors_lasted,
            seen: !bad.is_empty(),
        }
    }

    /// How many 503s of each code.
    fn codes(&self) -> std::collections::BTreeMap<&str, usize> {
        let mut codes = std::collections::BTreeMap::new();
        for s in &self.samples {
            if let Outcome::Unavailable(code) = &s.outcome {
                *codes.entry(code.as_str()).or_default() += 1;
            }
        }
        codes
    }

    /// Prints the `FAULT` line with `extra` figures merged in, then asserts the rules.
    pub fn check(
        &self,
        fault: &Fault,
        rules: &Rules,
        in_db: &HashSet<Uuid>,
        extra: Value,
    ) -> Books {
        let b = self.books(fault, rules, in_db);
        let ms = |d: Duration| d.as_millis() as u64;
        let mut line = json!({
            "name": fault.name,
            "secs": (self.duration.as_secs_f64() * 10.0).round() / 10.0,
            "requests": b.requests,
            "created": b.created,
            "reads": b.reads,
            "unavailable": b.unavailable,
            "errors": b.failures.len(),
            "hangs": b.hangs,
            "refused": b.refused,
            "lost": b.lost,
            "unacknowledged": b.unacknowledged,
            "max_latency_ms": ms(b.max_latency),
            "recovery_ms": b.recovery.map(ms),
            "errors_ms": ms(b.errors_lasted),
            "codes": self.codes(),
        });
        if let (Some(line), Value::Object(extra)) = (line.as_object_mut(), extra) {
            line.extend(extra);
        }
        println!("FAULT {line}");

        assert!(b.created > 0, "{}: no job was ever created", fault.name);
        assert!(
            b.failures.is_empty(),
            "{}: {} answers the rules do not allow, first: {:?}",
            fault.name,
            b.failures.len(),
            &b.failures[..b.failures.len().min(5)]
        );
        assert_eq!(b.lost, 0, "{}: jobs answered 201 are missing", fault.name);
        if rules.no_unacknowledged {
            assert_eq!(
                b.unacknowledged, 0,
                "{}: jobs were written whose creation never got its 201",
                fault.name
            );
        }
        if rules.must_see {
            assert!(
                b.seen,
                "{}: the fault was never visible: the test tested nothing",
                fault.name
            );
        }
        if let Some(code) = rules.code {
            assert!(
                self.samples
                    .iter()
                    .any(|s| s.outcome == Outcome::Unavailable(code.to_owned())),
                "{}: no 503 with code {code}",
                fault.name
            );
        }
        if fault.removed.is_some() {
            let recovery = b
                .recovery
                .unwrap_or_else(|| panic!("{}: never recovered", fault.name));
            assert!(
                recovery <= SETTLE,
                "{}: recovered only after {recovery:?}",
                fault.name
            );
            let late = self
                .samples
                .iter()
                .filter(|s| s.start > fault.removed.unwrap() + SETTLE)
                .count();
            assert!(late > 0, "{}: no request after recovery", fault.name);
        }
        b
    }
}

/// The ids in the jobs table of a SQLite database file.
pub async fn sqlite_ids(path: &std::path::Path) -> HashSet<Uuid> {
    use sqlx::Connection;
    let url = format!("sqlite://{}?mode=ro", path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("open the SQLite file");
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM jobs")
        .fetch_all(&mut conn)
        .await
        .expect("read job ids");
    conn.close().await.expect("close");
    ids.into_iter().collect()
}

/// The ids in the jobs table of a PostgreSQL database (URL with its `search_path`).
pub async fn postgres_ids(url: &str) -> HashSet<Uuid> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .expect("connect to PostgreSQL");
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM jobs")
        .fetch_all(&mut conn)
        .await
        .expect("read job ids");
    conn.close().await.expect("close");
    ids.into_iter().collect()
}
