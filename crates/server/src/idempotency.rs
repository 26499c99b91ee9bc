//! `Idempotency-Key` on `POST`: a retry with the same key (same user) gets the first
//! answer again instead of creating again, on any instance and after restarts, for
//! `IDEMPOTENCY_TTL_HOURS`.
//!
//! The key is claimed in the database before the route runs (`idempotency_keys`, one row
//! per user and key, with a hash of method, path, query and body). A 2xx answer is stored
//! and replayed to every later request with that key (`Idempotent-Replayed: true`); any
//! other answer gives the key back, since nothing was created and the client may retry.
//! While the first request runs, the same key answers 409 `idempotency_in_progress`; a
//! claim older than the request deadline is taken over (that request was cancelled). The
//! same key with another request is 422 `idempotency_key_reused`. Requests without a valid
//! token are left to the route (401); keys belong to users.

use crate::app::AppState;
use crate::auth::sessions::bearer_token;
use crate::error::ApiError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use flowats_db::Timestamp;
use flowats_db::sessions::{Claim, StoredAnswer};
use sha2::{Digest, Sha256};
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

pub const HEADER: HeaderName = HeaderName::from_static("idempotency-key");
/// Sent on a replayed answer.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// The longest key accepted.
pub const MAX_KEY: usize = 255;
/// The largest body a keyed request may have (the CSV import's limit; other routes keep
/// their own, smaller one).
const BODY_LIMIT: usize = crate::routes::import::IMPORT_LIMIT_BYTES;
/// The largest answer kept for replay.
const ANSWER_LIMIT: usize = 64 * 1024 * 1024;

/// The middleware, on every API route (only `POST`s with the header are affected).
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST || !req.headers().contains_key(HEADER) {
        return next.run(req).await;
    }
    let key = match key_of(&req) {
        Ok(key) => key,
        Err(e) => return e.into_response(),
    };
    let Some(user) = bearer_token(req.headers())
        .and_then(|t| state.tokens.verify(t).ok())
        .map(|(user, _)| user)
    else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than {BODY_LIMIT} bytes"),
        )
        .into_response();
    };
    let fingerprint = fingerprint(&parts.method, &parts.uri, &bytes);
    let ttl = state.config.idempotency_ttl;
    // Past the request deadline the first request was cancelled: its claim may be taken.
    let stale = state.config.request_timeout + Duration::from_secs(1);
    let claim = state
        .db
        .idempotency
        .claim(user, key.clone(), fingerprint, ago(ttl), ago(stale))
        .await;
    match claim {
        Ok(Claim::Claimed) => {}
        Ok(Claim::Replay(answer)) => return replay(answer),
        Ok(Claim::InProgress) => {
            let mut e = ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_in_progress",
                "a request with this Idempotency-Key is still running; retry shortly",
            );
            e.retry_after = Some(1);
            return e.into_response();
        }
        Ok(Claim::Mismatch) => {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used for another request (method, path or body differ)",
            )
            .into_response();
        }
        Err(e) => return ApiError::from(e).into_response(),
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    finish(&state, user, key, response).await
}

/// Stores a 2xx answer for replay; gives the key back after any other.
async fn finish(state: &AppState, user: Uuid, key: String, response: Response) -> Response {
    if !response.status().is_success() {
        if let Err(e) = state.db.idempotency.release(user, key).await {
            tracing::warn!(error = %e, "could not release an idempotency key");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, ANSWER_LIMIT).await {
        Ok(b) => b,
        Err(e) => return ApiError::internal(format!("reading the answer: {e}")).into_response(),
    };
    let answer = StoredAnswer {
        status: parts.status.as_u16(),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: bytes.to_vec(),
    };
    if let Err(e) = state.db.idempotency.complete(user, key, answer).await {
        // The answer still goes out; a retry finds the key running, then stale.
        tracing::warn!(error = %e, "could not store an idempotent answer");
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn key_of(req: &Request) -> Result<String, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "Idempotency-Key must be 1 to {MAX_KEY} printable ASCII characters"
        ))
        .with_details(serde_json::json!({"header": "Idempotency-Key"}))
    };
    let value = req.headers().get(HEADER).ok_or_else(bad)?;
    let key = value.to_str().map_err(|_| bad())?.trim();
    if key.is_empty() || key.len() > MAX_KEY || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    Ok(key.to_owned())
}

fn fingerprint(method: &Method, uri: &axum::http::Uri, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_str().as_bytes());
    h.update(b"\n");
    h.update(uri.path_and_query().map_or("", |p| p.as_str()).as_bytes());
    h.update(b"\n");
    h.update(body);
    format!("{:x}", h.finalize())
}

fn ago(d: Duration) -> Timestamp {
    Timestamp::from(OffsetDateTime::now_utc() - d)
}

fn replay(answer: StoredAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, answer.body).into_response();
    let headers = response.headers_mut();
    headers.remove(header::CONTENT_TYPE);
    if let Some(ct) = answer
        .content_type
        .and_then(|ct| HeaderValue::from_str(&ct).ok())
    {
        headers.insert(header::CONTENT_TYPE, ct);
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// Deletes expired sessions and idempotency records, every ten minutes.
pub async fn purge_forever(state: AppState) {
    let mut every = tokio::time::interval(Duration::from_secs(600));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let before = ago(state.config.idempotency_ttl);
        match state.db.sessions.purge(Timestamp::now(), before).await {
            Ok((sessions, keys)) if sessions + keys > 0 => {
                tracing::info!(
                    sessions,
                    keys,
                    "purged expired sessions and idempotency keys"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging expired sessions failed"),
        }
    }
}
