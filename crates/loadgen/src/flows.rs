//! What one arrival does, per `--flow`. A flow's first request is timed from the arrival's
//! scheduled instant, each later one from the end of the step before; a failed step ends
//! the flow (its later steps are not sent).

use crate::args::FlowKind;
use crate::client::Http;
use crate::rng::Rng;
use crate::sessions::Sessions;
use crate::stats::{Kind, Name, Recorder};
use bytes::Bytes;
use reqwest::Method;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Instant;

/// The statuses `browse` filters by and `sessions` moves jobs to.
pub const STATUSES: [&str; 8] = [
    "interested",
    "applied",
    "screening",
    "interviewing",
    "offer",
    "accepted",
    "rejected",
    "withdrawn",
];

/// Everything a flow task needs, shared by all of them.
pub struct Ctx {
    pub http: Arc<Http>,
    pub rec: Recorder,
    pub rng: Rng,
    pub flow: FlowKind,
    pub sessions: Option<Sessions>,
    login_body: Bytes,
}

/// The seed's `POST /api/jobs` body.
const CREATE_BODY: &[u8] = br#"{"title":"Software Engineer","company":"Test Corp"}"#;

#[derive(Deserialize)]
struct Token {
    token: String,
}

#[derive(Deserialize)]
pub struct IdOnly {
    pub id: String,
}

#[derive(Deserialize)]
pub struct PageOfIds {
    pub data: Vec<IdOnly>,
}

impl Ctx {
    pub fn new(
        http: Arc<Http>,
        rec: Recorder,
        rng: Rng,
        flow: FlowKind,
        email: &str,
        password: &str,
    ) -> Ctx {
        let login_body = serde_json::json!({"email": email, "password": password}).to_string();
        Ctx {
            http,
            rec,
            rng,
            flow,
            sessions: None,
            login_body: Bytes::from(login_body),
        }
    }

    /// Runs one arrival scheduled at `at`, in phase `phase`.
    pub async fn run(&self, phase: usize, at: Instant) {
        let done = match self.flow {
            FlowKind::Seed => self.seed(phase, at).await,
            FlowKind::Browse => self.browse(phase, at).await,
            FlowKind::Sessions => self.session_request(phase, at).await,
            FlowKind::Login => self.login(phase, at).await.map(drop),
            FlowKind::Health => self
                .http
                .send(
                    &self.rec,
                    phase,
                    Name::Health,
                    self.http.get(self.http.urls.health.clone(), None),
                    200,
                    at,
                )
                .await
                .map(drop),
        };
        if done.is_some() {
            self.rec.completed(phase);
        }
    }

    async fn login(&self, phase: usize, start: Instant) -> Option<String> {
        let req = self.http.with_body(
            Method::POST,
            self.http.urls.login.clone(),
            None,
            self.login_body.clone(),
        );
        let body = self
            .http
            .send(&self.rec, phase, Name::Login, req, 200, start)
            .await?;
        self.parse::<Token>(phase, Name::Login, &body)
            .map(|t| t.token)
    }

    /// A body that should parse; when it does not, an `invalid` error under `name`.
    pub fn parse<T: serde::de::DeserializeOwned>(
        &self,
        phase: usize,
        name: Name,
        body: &[u8],
    ) -> Option<T> {
        match serde_json::from_slice(body) {
            Ok(v) => Some(v),
            Err(_) => {
                self.rec.failed(phase, name, Kind::Invalid, false);
                None
            }
        }
    }

    pub async fn get(
        &self,
        phase: usize,
        name: Name,
        url: reqwest::Url,
        token: &str,
        start: Instant,
    ) -> Option<Bytes> {
        let req = self.http.get(url, Some(token));
        self.http
            .send(&self.rec, phase, name, req, 200, start)
            .await
    }

    /// `POST /api/jobs` with the seed's body; the new job's id.
    pub async fn create(&self, phase: usize, token: &str, start: Instant) -> Option<String> {
        let req = self.http.with_body(
            Method::POST,
            self.http.urls.create.clone(),
            Some(token),
            Bytes::from_static(CREATE_BODY),
        );
        let body = self
            .http
            .send(&self.rec, phase, Name::Create, req, 201, start)
            .await?;
        self.parse::<IdOnly>(phase, Name::Create, &body)
            .map(|j| j.id)
    }

    /// The seed's Artillery flow: login → list → create.
    async fn seed(&self, phase: usize, at: Instant) -> Option<()> {
        let token = self.login(phase, at).await?;
        let list = self.http.urls.list.clone();
        self.get(phase, Name::List, list, &token, Instant::now())
            .await?;
        self.create(phase, &token, Instant::now()).await.map(drop)
    }

    /// login → list → filter by a status → get one of the listed jobs.
    async fn browse(&self, phase: usize, at: Instant) -> Option<()> {
        let token = self.login(phase, at).await?;
        let list = self.http.urls.list.clone();
        let body = self
            .get(phase, Name::List, list, &token, Instant::now())
            .await?;
        let page: PageOfIds = self.parse(phase, Name::List, &body)?;
        let status = STATUSES[self.rng.below(STATUSES.len())];
        let filter = self.http.urls.filter(status);
        self.get(phase, Name::Filter, filter, &token, Instant::now())
            .await?;
        if page.data.is_empty() {
            // Nothing to fetch: the account has no jobs.
            self.rec.failed(phase, Name::Get, Kind::Invalid, false);
            return None;
        }
        let id = &page.data[self.rng.below(page.data.len())].id;
        let url = self.http.urls.job(id);
        self.get(phase, Name::Get, url, &token, Instant::now())
            .await
            .map(drop)
    }
}
