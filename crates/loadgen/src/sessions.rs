//! `--flow sessions`: realistic sessions. Each account `user1@example.com` …
//! `userN@example.com` logs in once before the phases start (not counted in the rate), and
//! learns its jobs' ids; then every arrival picks a user and sends one request: 80 % reads
//! (list, get, profile, stats, 20 % each) and 20 % writes (create, status update, 10 % each).

use crate::client::Http;
use crate::flows::{Ctx, IdOnly, PageOfIds, STATUSES};
use crate::stats::{Kind, Name};
use bytes::Bytes;
use reqwest::Method;
use reqwest::header::RETRY_AFTER;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The password `flowats seed --users N` gives every account.
pub const BULK_PASSWORD: &str = "password";
/// Logins sent at once during setup: the server hashes on a few cores anyway.
const SETUP_CONCURRENCY: usize = 8;
/// Job ids remembered per user (the newest replace the oldest).
const MAX_IDS: usize = 256;

pub struct Session {
    pub token: String,
    jobs: Mutex<Vec<String>>,
}

pub struct Sessions {
    pub users: Vec<Session>,
    /// How long logging everyone in took.
    pub setup: Duration,
}

impl Session {
    fn pick_job(&self, r: usize) -> Option<String> {
        let jobs = self.jobs.lock().expect("jobs lock");
        (!jobs.is_empty()).then(|| jobs[r % jobs.len()].clone())
    }

    fn remember(&self, id: String, r: usize) {
        let mut jobs = self.jobs.lock().expect("jobs lock");
        if jobs.len() < MAX_IDS {
            jobs.push(id);
        } else {
            jobs[r % MAX_IDS] = id;
        }
    }
}

/// Logs every account in (retrying when the server sheds) and reads its first page of
/// jobs; an account with none gets one, so `get` and `update` always have a target.
pub async fn setup(http: Arc<Http>, users: u32, progress: bool) -> anyhow::Result<Sessions> {
    let started = Instant::now();
    let permits = Arc::new(tokio::sync::Semaphore::new(SETUP_CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 1..=users {
        let http = http.clone();
        let permits = permits.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("open semaphore");
            (
                i,
                open_session(&http, &format!("user{i}@example.com")).await,
            )
        });
    }
    let mut slots: Vec<Option<Session>> = (0..users).map(|_| None).collect();
    let mut done = 0;
    while let Some(joined) = tasks.join_next().await {
        let (i, session) = joined?;
        slots[i as usize - 1] = Some(session?);
        done += 1;
        if progress {
            eprint!("\rlogging in {done}/{users} users   ");
        }
    }
    if progress && users > 0 {
        eprintln!();
    }
    Ok(Sessions {
        users: slots.into_iter().map(|s| s.expect("every slot")).collect(),
        setup: started.elapsed(),
    })
}

async fn open_session(http: &Http, email: &str) -> anyhow::Result<Session> {
    let body =
        Bytes::from(serde_json::json!({"email": email, "password": BULK_PASSWORD}).to_string());
    let mut attempts = 0;
    let token = loop {
        let req = http.with_body(Method::POST, http.urls.login.clone(), None, body.clone());
        let res = req.send().await?;
        let status = res.status().as_u16();
        let wait = res
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
        let bytes = res.bytes().await?;
        match (status, wait) {
            (200, _) => {
                break serde_json::from_slice::<serde_json::Value>(&bytes)?["token"]
                    .as_str()
                    .ok_or_else(|| anyhow::anyhow!("login of {email}: no token in the answer"))?
                    .to_owned();
            }
            (503 | 429, Some(secs)) if attempts < 30 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_secs(secs.clamp(1, 10))).await;
            }
            (401, _) => anyhow::bail!(
                "{email} cannot log in with password `{BULK_PASSWORD}`: create the accounts \
                 with `flowats seed --users N` (N at least --users)"
            ),
            _ => anyhow::bail!(
                "login of {email}: HTTP {status}: {}",
                String::from_utf8_lossy(&bytes)
            ),
        }
    };
    let res = http
        .get(http.urls.list.clone(), Some(&token))
        .send()
        .await?;
    anyhow::ensure!(
        res.status() == 200,
        "listing the jobs of {email}: HTTP {}",
        res.status()
    );
    let page: PageOfIds = serde_json::from_slice(&res.bytes().await?)?;
    let mut jobs: Vec<String> = page.data.into_iter().map(|j| j.id).collect();
    if jobs.is_empty() {
        let body = Bytes::from_static(br#"{"title":"Load test job","company":"Test Corp"}"#);
        let res = http
            .with_body(Method::POST, http.urls.create.clone(), Some(&token), body)
            .send()
            .await?;
        anyhow::ensure!(
            res.status() == 201,
            "creating a job for {email}: HTTP {}",
            res.status()
        );
        jobs.push(serde_json::from_slice::<IdOnly>(&res.bytes().await?)?.id);
    }
    Ok(Session {
        token,
        jobs: Mutex::new(jobs),
    })
}

impl Ctx {
    /// One request of one user.
    pub(crate) async fn session_request(&self, phase: usize, at: Instant) -> Option<()> {
        let sessions = self.sessions.as_ref().expect("sessions set up");
        let user = &sessions.users[self.rng.below(sessions.users.len())];
        let token = &user.token;
        let urls = &self.http.urls;
        let roll = self.rng.below(100);
        let r = self.rng.below(usize::MAX);
        match roll {
            0..20 => {
                self.get(phase, Name::List, urls.list.clone(), token, at)
                    .await
            }
            20..40 => {
                let id = self.job_of(user, phase, Name::Get, r)?;
                self.get(phase, Name::Get, urls.job(&id), token, at).await
            }
            40..60 => {
                self.get(phase, Name::Profile, urls.profile.clone(), token, at)
                    .await
            }
            60..80 => {
                self.get(phase, Name::Stats, urls.stats.clone(), token, at)
                    .await
            }
            80..90 => {
                let id = self.create(phase, token, at).await?;
                user.remember(id, r);
                Some(Bytes::new())
            }
            _ => {
                let id = self.job_of(user, phase, Name::Update, r)?;
                let status = STATUSES[r % STATUSES.len()];
                let body = Bytes::from(format!(r#"{{"status":"{status}"}}"#));
                let req = self
                    .http
                    .with_body(Method::PATCH, urls.job(&id), Some(token), body);
                self.http
                    .send(&self.rec, phase, Name::Update, req, 200, at)
                    .await
            }
        }
        .map(drop)
    }

    fn job_of(&self, user: &Session, phase: usize, name: Name, r: usize) -> Option<String> {
        let id = user.pick_job(r);
        if id.is_none() {
            self.rec.failed(phase, name, Kind::Invalid, false);
        }
        id
    }
}
