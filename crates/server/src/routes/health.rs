//! The health document (`/api/health`), liveness and readiness.

mod summary;

use crate::app::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Admin;
use crate::monitor::{
    self, alloc, availability,
    health::{self as status, Status},
};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;
pub use summary::{HealthChecks, HealthSummary};

const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The health document. Anyone gets the summary: `status` (`healthy`, `degraded`,
/// `critical`), `timestamp`, whether the instance can serve, its checks (database, cache
/// up or down) and the alerts. With the `ADMIN_TOKEN` bearer, the seed's full document:
/// CPU, memory and load, this process (pid, RSS, heap, CPU, uptime), the database pools,
/// the cache tiers, the queues and recent requests. 503 only when the instance cannot
/// serve (database unreachable, shutting down), or with `HEALTH_FAIL_ON=critical` also when
/// `critical`. No I/O: every figure was gathered in the background. With
/// `Accept: application/health+json` the same, in the IETF health-check draft's shape.
#[utoipa::path(get, path = "/api/health", tag = "ops",
    security((), ("admin" = [])),
    responses(
        (status = 200, description = "can serve: the body's `status` is `healthy`, `degraded` or `critical` (a scaling signal). The summary below; with the admin token, the full document (`metrics`: cpu, memory, process, database, cache, ai, auth, requests)", body = HealthSummary),
        (status = 503, description = "cannot serve: database unreachable or shutting down (or `critical`, with HEALTH_FAIL_ON=critical)", body = HealthSummary)))]
pub async fn health(State(state): State<AppState>, mut parts: Parts) -> Response {
    let wants_draft = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/health+json"));
    // Only a caller that sends a token is checked: a probe without one is never counted
    // as a failed admin attempt. Any other token gets the summary.
    let admin = parts.headers.contains_key(header::AUTHORIZATION)
        && Admin::from_request_parts(&mut parts, &state).await.is_ok();
    // The figures change once a sampler tick (a second): so does the document, which is
    // built at most once per tick and served as bytes in between.
    let slot = &state.monitor.health_cache[usize::from(wants_draft) + 2 * usize::from(admin)];
    if let Some(cached) = slot.lock().expect("health cache").as_ref()
        && cached.at.elapsed() < crate::monitor::sampler::EVERY
    {
        return cached.response();
    }
    let response = render(&state, wants_draft, admin);
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return ApiError::internal("health document too large").into_response();
    };
    let cached = crate::monitor::CachedHealth {
        at: std::time::Instant::now(),
        status: parts.status,
        content_type: parts.headers.get(header::CONTENT_TYPE).cloned(),
        body: bytes,
    };
    let response = cached.response();
    *slot.lock().expect("health cache") = Some(cached);
    response
}

fn render(state: &AppState, wants_draft: bool, admin: bool) -> Response {
    let m = &state.monitor;
    let sample = m.sampler.latest();
    let figures = monitor::figures(state, &sample);
    let (mut status, mut alerts) = status::assess(&figures, &m.thresholds);
    let draining = m.draining.load(Ordering::Relaxed);
    if draining {
        alerts.push(availability::draining_alert());
        status = Status::Critical;
    }
    let serves = availability::can_serve(&figures, draining);
    let code = availability::http_status(status, serves, state.config.http.health_fail_on);
    let uptime = m.started.elapsed().as_secs();
    let heap = alloc::heap_in_use();
    let cache = state.cache.stats();
    let (requests, errors, _) = m.metrics.totals();
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let timestamp = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    if !admin {
        let summary = HealthSummary::new(status, timestamp, serves, &figures, alerts);
        return summary.response(code, wants_draft);
    }
    if wants_draft {
        let observed = |value: serde_json::Value, unit: &str, at: &str| json!([{"observedValue": value, "observedUnit": unit, "time": at, "status": status.draft()}]);
        let body = json!({
            "status": status.draft(),
            "version": env!("CARGO_PKG_VERSION"),
            "serviceId": "flowats",
            "description": "FlowATS server",
            "notes": alerts.iter().map(|a| a.message.clone()).collect::<Vec<_>>(),
            "checks": {
                "cpu:utilization": observed(json!(round2(figures.cpu_percent)), "percent", &timestamp),
                "memory:utilization": observed(json!(round2(figures.memory_percent)), "percent", &timestamp),
                "database:connections": observed(json!(round2(figures.db_utilization)), "percent", &timestamp),
                "database:responseTime": observed(json!(figures.request_p95_ms), "ms", &timestamp),
                "uptime": [{"observedValue": uptime, "observedUnit": "s", "time": timestamp}],
            },
        });
        return (
            code,
            [(header::CONTENT_TYPE, "application/health+json")],
            Json(body),
        )
            .into_response();
    }
    let body = json!({
        "status": status,
        "timestamp": timestamp,
        "uptime": uptime,
        "metrics": {
            "cpu": {
                "usage": status::percent(sample.cpu_percent),
                "loadAverage": sample.load_average.iter().map(|l| format!("{l:.2}")).collect::<Vec<_>>(),
                "cores": sample.cores,
            },
            "memory": {
                "used": status::bytes(sample.memory_used),
                "total": status::bytes(sample.memory_total),
                "percentage": status::percent(figures.memory_percent),
            },
            "process": {
                "rss": status::bytes(sample.process_rss),
                "heapUsed": heap.map(status::bytes),
                "heapPercentage": figures.heap_percent.map(status::percent),
                "cpu": status::percent(sample.process_cpu_percent),
                "uptime": uptime,
                "pid": std::process::id(),
            },
            "database": database_figures(state),
            "cache": cache,
            "ai": {"queue": state.ai.queue.status()},
            "auth": {
                "hashing": state.passwords.status(),
                "rateLimited": state.auth_limits.refused(),
            },
            "requests": {
                "total": requests,
                "errors": errors,
                "inFlight": m.metrics.in_flight(),
                "maxInFlight": state.in_flight.limit(),
                "shed": state.in_flight.shed(),
                "p95Ms": figures.request_p95_ms,
            },
        },
        "alerts": alerts,
    });
    (code, Json(body)).into_response()
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The process is up. No I/O.
#[utoipa::path(get, path = "/api/health/live", tag = "ops",
    responses((status = 200, description = "alive")))]
pub async fn live() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// The database answers, within 2 seconds, and the server is not shutting down. The cache is reported (`ok`, or `degraded`
/// when a configured Redis is unreachable) but does not make the instance unready.
#[utoipa::path(get, path = "/api/health/ready", tag = "ops",
    responses((status = 200, description = "ready"), (status = 503, body = ErrorBody)))]
pub async fn ready(State(state): State<AppState>) -> Response {
    if state.monitor.draining.load(Ordering::Relaxed) {
        let mut e = ApiError::unavailable("the server is shutting down", 2)
            .with_details(json!({"server": "shutting down"}));
        e.code = "not_ready";
        return e.into_response();
    }
    match tokio::time::timeout(READY_TIMEOUT, state.db.ops.ping()).await {
        Ok(Ok(())) => {
            // A shared cache that is down degrades the instance but does not make it
            // unready: it keeps answering from the database.
            let cache = if state.cache.healthy() {
                "ok"
            } else {
                "degraded"
            };
            Json(json!({
                "status": "ready",
                "checks": {"database": "ok", "cache": cache},
                "database": database_figures(&state),
            }))
            .into_response()
        }
        outcome => {
            let why = match outcome {
                Ok(Err(e)) => e.chain(),
                _ => format!("no answer within {READY_TIMEOUT:?}"),
            };
            tracing::warn!(reason = %why, "not ready: database");
            let mut e = ApiError::unavailable("the database is unreachable", 2)
                .with_details(json!({"database": "down"}));
            e.code = "not_ready";
            e.into_response()
        }
    }
}

/// Pool health (the seed's `getConnectionHealthStatus`) and the read replica's state.
pub fn database_figures(state: &AppState) -> serde_json::Value {
    let ops = &state.db.ops;
    json!({
        "backend": state.db.backend,
        "poolMode": state.config.db.pool_mode.as_str(),
        "pools": ops.pool_status(),
        "replica": ops.replica_status(),
    })
}
