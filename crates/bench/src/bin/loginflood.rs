//! The login-flood benchmark's load generator (`scripts/bench-login-flood` runs it).
//!
//! One run, printed as one JSON object:
//! 1. argon2: the time of one verification, in process (the server's own `Passwords`, with
//!    its parameters), median of `--argon2-samples`; and the latency of single logins over
//!    HTTP on the idle server, one at a time.
//! 2. idle: `GET /api/health` at `--health-rate` per second for `--duration` seconds.
//! 3. flood: logins posted at `--rate` per second (open model: each is sent when its
//!    schedule says, whatever the others are doing, on a fresh or idle keep-alive
//!    connection), while the health prober runs again at the same low rate.
//!
//! Every latency is measured from the request's scheduled start (no coordinated omission).
//! The HTTP/1.1 client is a few lines over `TcpStream`: it must cost the machine far less
//! than the server it measures.
//!
//! `loginflood --url http://127.0.0.1:8787 [--email E --password P --rate N --duration S
//!  --health-rate N --argon2-samples N --logins N]`

use flowats_bench::Flags;
use flowats_server::auth::Passwords;
use serde_json::{Value, json};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("loginflood: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Target {
    addr: String,
    login: Vec<u8>,
    health: Vec<u8>,
}

async fn run() -> Result<Value, String> {
    let flags = Flags::parse(
        "loginflood",
        &[
            "url",
            "email",
            "password",
            "rate",
            "duration",
            "health-rate",
            "argon2-samples",
            "logins",
        ],
    )?;
    let url = flags.text("url").ok_or("--url is required")?;
    let addr = url
        .strip_prefix("http://")
        .ok_or("--url must be http://host:port")?
        .trim_end_matches('/')
        .to_owned();
    let email = flags.text("email").unwrap_or("test@example.com");
    let password = flags.text("password").unwrap_or("password");
    let rate: f64 = flags.get("rate", 300.0)?;
    let duration = Duration::from_secs_f64(flags.get("duration", 10.0)?);
    let health_rate: f64 = flags.get("health-rate", 50.0)?;
    let samples: usize = flags.get("argon2-samples", 20)?;
    let logins: usize = flags.get("logins", 20)?;

    let body = json!({"email": email, "password": password}).to_string();
    let target = Arc::new(Target {
        login: format!(
            "POST /api/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
        health: format!("GET /api/health HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes(),
        addr,
    });

    let argon2_ms = argon2_ms(samples).await?;
    let single = sequential_logins(&target, logins).await?;
    let idle = Load::run(&target, None, health_rate, duration).await;
    let flood = Load::run(&target, Some(rate), health_rate, duration).await;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ceiling = cores as f64 * 1000.0 / argon2_ms;
    let served = flood.logins.ok.len() as f64 / duration.as_secs_f64();
    let health_ratio = flood.health.p(99.0) / idle.health.p(99.0);
    Ok(json!({
        "cores": cores,
        "argon2_ms": round(argon2_ms),
        "single_login_ms": {"p50": round(single.p(50.0)), "max": round(single.p(100.0))},
        "ceiling_per_s": round(ceiling),
        "offered_per_s": rate,
        "duration_s": duration.as_secs_f64(),
        "served_per_s": round(served),
        "served_ratio": round(served / ceiling),
        "logins": flood.logins.summary(),
        "health_idle": idle.health.summary(),
        "health_flood": flood.health.summary(),
        "health_p99_ratio": round(health_ratio),
        "server_shed_total": server_shed(&target).await,
    }))
}

fn round(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// The server's own hashing, on this machine: one verification, in milliseconds.
async fn argon2_ms(samples: usize) -> Result<f64, String> {
    let p = Passwords::new(1, 0, Duration::from_secs(60));
    let hash = p.hash("password".into()).await.map_err(|e| e.to_string())?;
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples.max(1) {
        let t = Instant::now();
        p.verify("password".into(), hash.clone())
            .await
            .map_err(|e| e.to_string())?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(flowats_bench::median(&times))
}

async fn sequential_logins(target: &Target, n: usize) -> Result<Latencies, String> {
    let mut conn = Conn::open(&target.addr)
        .await
        .map_err(|e| format!("connecting to {}: {e}", target.addr))?;
    let mut l = Latencies::default();
    for _ in 0..n.max(1) {
        let t = Instant::now();
        let (status, _) = conn.send(&target.login).await.map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!(
                "a login on the idle server answered {status}: is the demo account seeded?"
            ));
        }
        l.push(t);
    }
    Ok(l)
}

/// The server's own count of shed logins, from `/api/health` (rendered at most once a
/// second: read after a fresh tick).
async fn server_shed(target: &Target) -> Value {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let Ok(mut conn) = Conn::open(&target.addr).await else {
        return Value::Null;
    };
    match conn.send(&target.health).await {
        Ok((_, body)) => serde_json::from_slice::<Value>(&body)
            .map(|v| v["metrics"]["auth"]["hashing"]["shed"].clone())
            .unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

/// Milliseconds, each from its request's scheduled start.
#[derive(Default, Clone)]
struct Latencies(Vec<f64>);

impl Latencies {
    fn push(&mut self, due: Instant) {
        self.0.push(due.elapsed().as_secs_f64() * 1000.0);
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    /// Nearest-rank percentile; 0 when empty.
    fn p(&self, pct: f64) -> f64 {
        let mut v = self.0.clone();
        if v.is_empty() {
            return 0.0;
        }
        v.sort_by(f64::total_cmp);
        let rank = ((pct / 100.0) * v.len() as f64).ceil() as usize;
        v[rank.clamp(1, v.len()) - 1]
    }

    fn summary(&self) -> Value {
        json!({
            "n": self.len(),
            "p50_ms": round(self.p(50.0)),
            "p99_ms": round(self.p(99.0)),
            "max_ms": round(self.p(100.0)),
        })
    }
}

#[derive(Default)]
struct Outcomes {
    ok: Latencies,
    shed: Latencies,
    /// Anything else: another status, a 503 without `auth_busy`, a socket error.
    other: Vec<String>,
    lost: usize,
}

impl Outcomes {
    fn summary(&self) -> Value {
        let mut other: Vec<_> = self.other.iter().take(5).cloned().collect();
        other.dedup();
        json!({
            "ok": self.ok.summary(),
            "shed": self.shed.summary(),
            "other": self.other.len(),
            "other_examples": other,
            "lost": self.lost,
        })
    }
}

struct Load {
    logins: Outcomes,
    health: Latencies,
}

impl Load {
    /// Logins at `rate` (none when `None`) and health probes at `health_rate`, for
    /// `duration`; then waits for the last answers (up to 30 s: past it a request is lost).
    async fn run(
        target: &Arc<Target>,
        rate: Option<f64>,
        health_rate: f64,
        duration: Duration,
    ) -> Load {
        let pool: Arc<Mutex<Vec<Conn>>> = Arc::default();
        let outcomes: Arc<Mutex<Outcomes>> = Arc::default();
        let health: Arc<Mutex<Latencies>> = Arc::default();
        let start = Instant::now() + Duration::from_millis(50);
        let mut tasks = tokio::task::JoinSet::new();
        let mut next_login = rate.map(|_| 0u64);
        let mut next_health = 0u64;
        let due = |i: u64, r: f64| start + Duration::from_secs_f64(i as f64 / r);
        loop {
            let login_at = next_login.map(|i| due(i, rate.unwrap_or(1.0)));
            let health_at = due(next_health, health_rate);
            let (at, is_login) = match login_at {
                Some(l) if l < health_at => (l, true),
                _ => (health_at, false),
            };
            if at >= start + duration {
                break;
            }
            tokio::time::sleep_until(at.into()).await;
            let target = target.clone();
            if is_login {
                next_login = next_login.map(|i| i + 1);
                let (pool, outcomes) = (pool.clone(), outcomes.clone());
                tasks.spawn(async move {
                    let answer = pooled(&pool, &target.addr, &target.login).await;
                    let mut o = outcomes.lock().expect("outcomes");
                    match answer {
                        Ok((200, body)) if contains(&body, b"\"token\"") => o.ok.push(at),
                        Ok((503, body)) if contains(&body, b"auth_busy") => o.shed.push(at),
                        Ok((status, body)) => o.other.push(format!(
                            "{status} {}",
                            String::from_utf8_lossy(&body[..body.len().min(120)])
                        )),
                        Err(e) => o.other.push(e.to_string()),
                    }
                });
            } else {
                next_health += 1;
                let health = health.clone();
                tasks.spawn(async move {
                    // Its own connection each time, like a monitoring probe; the status
                    // is 503 while the machine's CPU is past 90 %: only the time counts.
                    if let Ok(mut c) = Conn::open(&target.addr).await
                        && c.send(&target.health).await.is_ok()
                    {
                        health.lock().expect("health").push(at);
                    }
                });
            }
        }
        let drained = tokio::time::timeout(Duration::from_secs(30), async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        let lost = if drained.is_err() { tasks.len() } else { 0 };
        tasks.abort_all();
        let mut logins = std::mem::take(&mut *outcomes.lock().expect("outcomes"));
        logins.lost = lost;
        let health = health.lock().expect("health").clone();
        Load { logins, health }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A request on an idle pooled connection, or a new one; the connection goes back to the
/// pool after a complete answer.
async fn pooled(
    pool: &Mutex<Vec<Conn>>,
    addr: &str,
    request: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let idle = pool.lock().expect("pool").pop();
    let mut conn = match idle {
        Some(c) => c,
        None => Conn::open(addr).await?,
    };
    let answer = conn.send(request).await?;
    pool.lock().expect("pool").push(conn);
    Ok(answer)
}

struct Conn(BufReader<TcpStream>);

impl Conn {
    async fn open(addr: &str) -> std::io::Result<Conn> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(Conn(BufReader::new(s)))
    }

    /// Sends one request and reads the answer: status and body (`Content-Length` framed,
    /// which is how the server answers JSON).
    async fn send(&mut self, request: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        let bad =
            |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
        self.0.get_mut().write_all(request).await?;
        let mut line = String::new();
        if self.0.read_line(&mut line).await? == 0 {
            return Err(bad("connection closed before an answer"));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no status line"))?;
        let mut length = 0usize;
        loop {
            line.clear();
            if self.0.read_line(&mut line).await? == 0 {
                return Err(bad("connection closed in the headers"));
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value
                    .trim()
                    .parse()
                    .map_err(|_| bad("bad content-length"))?;
            }
        }
        let mut body = vec![0; length];
        self.0.read_exact(&mut body).await?;
        Ok((status, body))
    }
}
