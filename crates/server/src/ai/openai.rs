//! The `openai` provider: any OpenAI-compatible chat-completions endpoint (`AI_API_URL`,
//! `AI_API_KEY`, `AI_MODEL`).
//!
//! The model is not trusted with the facts: the `local` writer first makes a draft from the
//! profile (and the reasons for each choice), and the model is asked to improve its wording
//! for the job without adding facts. The `why` and the match score are the draft's.
//!
//! A 429, a 5xx or a failed connection is retried `AI_MAX_RETRIES` times with exponential
//! backoff and jitter, or after the upstream's `Retry-After` when it sends one; all of it
//! within `AI_TIMEOUT_MS`. What still fails is answered in the API's terms:
//!
//! | upstream | answer |
//! |---|---|
//! | 429 | 503 `ai_rate_limited`, `Retry-After` |
//! | 503, or no connection | 503 `ai_unavailable`, `Retry-After` |
//! | other 5xx | 502 `ai_upstream_error` |
//! | other 4xx (bad key, unknown model) | 502 `ai_upstream_rejected` |
//! | a body that is not a completion | 502 `ai_bad_response` |
//! | no answer within the budget | 504 `ai_timeout` |

use super::provider::Provider;
use super::writer::{self, Context, Document, Kind};
use crate::config::{OpenAiConfig, Secret};
use crate::error::ApiError;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// First backoff step; doubled on each retry, up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// `Retry-After` sent to our clients when the upstream gave none.
const DEFAULT_RETRY_AFTER: u64 = 5;
/// The job description is cut here: enough for any real posting.
const MAX_DESCRIPTION: usize = 20_000;

pub struct OpenAi {
    http: reqwest::Client,
    endpoint: String,
    key: Option<Secret>,
    model: String,
    retries: u32,
    budget: Duration,
    id: String,
}

/// Why one attempt failed.
#[derive(Debug)]
enum Failure {
    Connect(String),
    Timeout,
    Status {
        status: u16,
        retry_after: Option<u64>,
        message: String,
    },
    BadResponse(String),
}

impl Failure {
    fn transport(e: reqwest::Error) -> Failure {
        if e.is_timeout() {
            Failure::Timeout
        } else {
            Failure::Connect(error_chain(&e))
        }
    }

    fn retryable(&self) -> bool {
        match self {
            Failure::Connect(_) => true,
            Failure::Status { status, .. } => *status == 429 || *status >= 500,
            Failure::Timeout | Failure::BadResponse(_) => false,
        }
    }

    fn into_api_error(self) -> ApiError {
        let (status, code, message, retry_after, cause) = match self {
            Failure::Connect(cause) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "ai_unavailable",
                "the AI service could not be reached; retry shortly".to_owned(),
                Some(DEFAULT_RETRY_AFTER),
                cause,
            ),
            Failure::Timeout => (
                StatusCode::GATEWAY_TIMEOUT,
                "ai_timeout",
                "the AI generation took longer than AI_TIMEOUT_MS".to_owned(),
                None,
                "no answer within the budget".to_owned(),
            ),
            Failure::Status {
                status,
                retry_after,
                message,
            } => {
                let cause = format!("upstream status {status}: {message}");
                match status {
                    429 => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "ai_rate_limited",
                        "the AI service is rate-limiting this server; retry later".to_owned(),
                        Some(retry_after.unwrap_or(DEFAULT_RETRY_AFTER)),
                        cause,
                    ),
                    503 => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "ai_unavailable",
                        "the AI service is unavailable; retry shortly".to_owned(),
                        Some(retry_after.unwrap_or(DEFAULT_RETRY_AFTER)),
                        cause,
                    ),
                    500.. => (
                        StatusCode::BAD_GATEWAY,
                        "ai_upstream_error",
                        format!("the AI service failed (status {status})"),
                        None,
                        cause,
                    ),
                    _ => (
                        StatusCode::BAD_GATEWAY,
                        "ai_upstream_rejected",
                        format!("the AI service refused the request (status {status})"),
                        None,
                        cause,
                    ),
                }
            }
            Failure::BadResponse(cause) => (
                StatusCode::BAD_GATEWAY,
                "ai_bad_response",
                "the AI service sent an answer that is not a completion".to_owned(),
                None,
                cause,
            ),
        };
        let mut e = ApiError::new(status, code, message);
        e.retry_after = retry_after;
        e.cause = Some(cause);
        e
    }
}

impl OpenAi {
    pub fn new(config: &OpenAiConfig, budget: Duration) -> anyhow::Result<OpenAi> {
        crate::install_tls_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("flowats/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let url = config.url.trim_end_matches('/');
        let endpoint = if url.ends_with("/chat/completions") {
            url.to_owned()
        } else {
            format!("{url}/chat/completions")
        };
        Ok(OpenAi {
            http,
            endpoint,
            key: config.key.clone(),
            model: config.model.clone(),
            retries: config.retries,
            budget,
            id: format!("openai/{}", config.model),
        })
    }

    /// One request; the completion's text.
    async fn attempt(&self, body: &Value, deadline: Instant) -> Result<String, Failure> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let mut request = self.http.post(&self.endpoint).json(body).timeout(remaining);
        if let Some(key) = &self.key {
            request = request.bearer_auth(key.expose());
        }
        let response = request.send().await.map_err(Failure::transport)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let bytes = response.bytes().await.map_err(Failure::transport)?;
        if !status.is_success() {
            return Err(Failure::Status {
                status: status.as_u16(),
                retry_after,
                message: upstream_message(&bytes),
            });
        }
        completion_text(&bytes).map_err(Failure::BadResponse)
    }

    /// Attempts until one succeeds, a failure is final, the retries run out or the next
    /// wait would pass the deadline.
    async fn complete(&self, body: &Value) -> Result<String, ApiError> {
        let deadline = Instant::now() + self.budget;
        let mut attempt = 0;
        loop {
            let failure = match self.attempt(body, deadline).await {
                Ok(text) => return Ok(text),
                Err(f) => f,
            };
            if !failure.retryable() || attempt >= self.retries {
                return Err(failure.into_api_error());
            }
            let wait = match &failure {
                Failure::Status {
                    retry_after: Some(secs),
                    ..
                } => Duration::from_secs(*secs),
                _ => backoff(attempt),
            };
            if Instant::now() + wait >= deadline {
                return Err(failure.into_api_error());
            }
            tracing::warn!(attempt, ?wait, failure = ?failure, "AI request failed; retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

#[async_trait::async_trait]
impl Provider for OpenAi {
    fn id(&self) -> &str {
        &self.id
    }

    async fn write(&self, kind: Kind, cx: &Context<'_>) -> Result<Document, ApiError> {
        let draft = writer::write(kind, cx);
        let body = json!({
            "model": self.model,
            "temperature": 0.2,
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": prompt(kind, cx, &draft)},
            ],
        });
        let content = self.complete(&body).await?;
        Ok(Document {
            content,
            why: draft.why,
            score: draft.score,
        })
    }
}

const SYSTEM: &str = "You write job application documents in Markdown. Use only the facts \
given to you: never invent employers, titles, dates, degrees, skills or figures. Lead with \
what the job asks for. Answer with the document alone.";

/// The user message: the job, the draft made from the profile, and the plan behind it.
fn prompt(kind: Kind, cx: &Context<'_>, draft: &Document) -> String {
    let job = &cx.job.fields;
    let what = match kind {
        Kind::Resume => "resume",
        Kind::CoverLetter => "cover letter",
    };
    let mut p = String::new();
    let _ = writeln!(
        p,
        "Improve this {what} for the job below. Keep its facts and its order; do not claim \
         the requirements marked as not met.\n"
    );
    let _ = writeln!(
        p,
        "## Job\n\nTitle: {}\nCompany: {}",
        job.title, job.company
    );
    if let Some(location) = &job.location {
        let _ = writeln!(p, "Location: {location}");
    }
    if let Some(description) = &job.description {
        let cut: String = description.chars().take(MAX_DESCRIPTION).collect();
        let _ = writeln!(p, "\n{cut}");
    }
    let _ = writeln!(p, "\n## Plan\n");
    for choice in &draft.why {
        let _ = writeln!(
            p,
            "- {}: {} ({})",
            choice.action, choice.what, choice.because
        );
    }
    let _ = writeln!(p, "\n## Draft\n\n{}", draft.content);
    p
}

/// The text of the first choice of a chat completion.
fn completion_text(bytes: &[u8]) -> Result<String, String> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not JSON ({e}): {}", snippet(bytes)))?;
    match value["choices"][0]["message"]["content"].as_str() {
        Some(text) if !text.trim().is_empty() => Ok(text.trim().to_owned()),
        Some(_) => Err("the completion is empty".to_owned()),
        None => Err(format!("no choices[0].message.content: {}", snippet(bytes))),
    }
}

/// `error.message` of an OpenAI-style error body, or the start of the body.
fn upstream_message(bytes: &[u8]) -> String {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| snippet(bytes))
}

fn snippet(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).chars().take(200).collect()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let _ = write!(s, ": {inner}");
        source = inner.source();
    }
    s
}

/// `BASE_BACKOFF × 2^attempt`, capped, with ±50 % jitter so retrying servers spread out.
fn backoff(attempt: u32) -> Duration {
    let step = BASE_BACKOFF
        .saturating_mul(1 << attempt.min(16))
        .min(MAX_BACKOFF);
    let jitter = f64::from(getrandom::u32().unwrap_or(u32::MAX / 2)) / f64::from(u32::MAX);
    step.mul_f64(0.5 + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_text_takes_the_first_choice_and_refuses_the_rest() {
        let ok = br#"{"choices":[{"message":{"role":"assistant","content":" # Hi \n"}}]}"#;
        assert_eq!(completion_text(ok).unwrap(), "# Hi");
        assert!(
            completion_text(b"<html>")
                .unwrap_err()
                .starts_with("not JSON")
        );
        assert!(completion_text(br#"{"choices":[]}"#).is_err());
        let empty = br#"{"choices":[{"message":{"content":"  "}}]}"#;
        assert_eq!(
            completion_text(empty).unwrap_err(),
            "the completion is empty"
        );
    }

    #[test]
    fn upstream_errors_map_to_gateway_statuses() {
        let status = |status, retry_after| Failure::Status {
            status,
            retry_after,
            message: "x".into(),
        };
        let e = status(429, Some(7)).into_api_error();
        assert_eq!(
            (e.status.as_u16(), e.code, e.retry_after),
            (503, "ai_rate_limited", Some(7))
        );
        let e = status(503, None).into_api_error();
        assert_eq!(
            (e.status.as_u16(), e.code, e.retry_after),
            (503, "ai_unavailable", Some(5))
        );
        let e = status(500, None).into_api_error();
        assert_eq!((e.status.as_u16(), e.code), (502, "ai_upstream_error"));
        let e = status(401, None).into_api_error();
        assert_eq!((e.status.as_u16(), e.code), (502, "ai_upstream_rejected"));
        assert!(!status(401, None).retryable() && status(502, None).retryable());
        let e = Failure::Timeout.into_api_error();
        assert_eq!((e.status.as_u16(), e.code), (504, "ai_timeout"));
    }

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        for attempt in 0..6 {
            let step = BASE_BACKOFF.saturating_mul(1 << attempt).min(MAX_BACKOFF);
            let d = backoff(attempt);
            assert!(d >= step / 2 && d <= step + step / 2, "{attempt}: {d:?}");
        }
        assert!(backoff(40) <= MAX_BACKOFF + MAX_BACKOFF / 2);
    }
}
