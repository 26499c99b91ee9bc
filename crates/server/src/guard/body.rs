//! Request bodies are read whole before a request takes an in-flight slot (`guard::shed`):
//! a declared `Content-Length` over the route's limit is answered 413 at once, without
//! reading a byte; a body that does not finish arriving within `BODY_READ_TIMEOUT_MS` is
//! answered 408 `body_timeout`; a chunked body that grows past the limit is cut at the
//! limit with 413. A slow or lying client therefore holds a connection for a few seconds
//! at most and never a place among the requests being handled.
//!
//! The cost: up to the limit (1 MiB; 16 MiB for the CSV import) is buffered per request
//! that is still uploading, before load shedding applies, for at most the timeout.

use crate::error::ApiError;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use std::time::Duration;

/// The largest body `path` accepts.
pub fn limit_for(path: &str) -> usize {
    if path == "/api/import/jobs" {
        crate::routes::import::IMPORT_LIMIT_BYTES
    } else {
        crate::config::BODY_LIMIT_BYTES
    }
}

pub async fn buffer(State(timeout): State<Duration>, req: Request, next: Next) -> Response {
    let limit = limit_for(req.uri().path());
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large(limit);
    }
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(timeout, collect(body, limit)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(Refused::TooLarge)) => too_large(limit),
        Ok(Err(Refused::Broken(why))) => closing(ApiError::bad_request(format!(
            "could not read the request body: {why}"
        ))),
        Err(_) => closing(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!(
                "the request body did not arrive within {} ms",
                timeout.as_millis()
            ),
        )),
    }
}

enum Refused {
    TooLarge,
    Broken(axum::Error),
}

async fn collect(body: Body, limit: usize) -> Result<Bytes, Refused> {
    let mut stream = body.into_data_stream();
    let mut first: Option<Bytes> = None;
    let mut rest: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(Refused::Broken)?;
        let so_far = first.as_ref().map_or(0, Bytes::len) + rest.len();
        if so_far + chunk.len() > limit {
            return Err(Refused::TooLarge);
        }
        // The usual body is one chunk: kept as is, not copied.
        match &first {
            None if rest.is_empty() => first = Some(chunk),
            _ => {
                if let Some(f) = first.take() {
                    rest.extend_from_slice(&f);
                }
                rest.extend_from_slice(&chunk);
            }
        }
    }
    Ok(first.unwrap_or_else(|| Bytes::from(rest)))
}

fn too_large(limit: usize) -> Response {
    closing(ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the request body is larger than {limit} bytes"),
    ))
}

/// The rest of the body is never read, so the connection cannot carry another request.
fn closing(e: ApiError) -> Response {
    let mut res = e.into_response();
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}
