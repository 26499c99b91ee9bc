//! The request middleware: every request's matched route (`/api/jobs/{id}`, never the raw
//! path), method, status and duration go into the metrics; one over `SLOW_REQUEST_MS` logs
//! a warning, over `CRITICAL_REQUEST_MS` an error. It runs inside the request's span, which
//! carries the request id.

use crate::app::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// `None`: a router without an app state (the router's own unit tests); nothing is counted.
pub async fn track(State(state): State<Option<AppState>>, req: Request, next: Next) -> Response {
    let Some(state) = state else {
        return next.run(req).await;
    };
    let monitor = &state.monitor;
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("<unmatched>", |p| monitor.metrics.intern(p.as_str()));
    let method = method_label(req.method());
    // Counted out when the request ends, or when its future is dropped (client gone).
    let _in_flight = monitor.metrics.in_flight_guard();
    let started = Instant::now();
    let response = next.run(req).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    monitor.metrics.finished(route, method, status, took);
    let ms = took.as_millis() as u64;
    if took >= monitor.critical_request {
        tracing::error!(
            route,
            method,
            status,
            duration_ms = ms,
            "critical request duration"
        );
    } else if took >= monitor.slow_request {
        tracing::warn!(route, method, status, duration_ms = ms, "slow request");
    }
    response
}

/// Methods as bounded labels: anything unusual is `OTHER`.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}
