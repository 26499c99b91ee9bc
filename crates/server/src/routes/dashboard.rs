//! `/dashboard`: one page for an operator, charting the live figures (requests/s, latency
//! percentiles, server-error (5xx) rate, cache hit rate, pool utilization, CPU, memory) and the current
//! alerts. HTML, JavaScript and the chart library (uPlot, vendored: see
//! `assets/dashboard/VERSION`) are compiled into the binary; nothing loads from outside.
//! The page exists only when `ADMIN_TOKEN` is set, and its data comes from
//! `GET /api/admin/metrics/recent`, behind that token.

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::Admin;
use crate::monitor::{self, health, metrics::LATENCY_BUCKETS_MS};
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

const INDEX: &str = include_str!("../../assets/dashboard/index.html");
const SCRIPT: &str = include_str!("../../assets/dashboard/dashboard.js");
const UPLOT: &str = include_str!("../../assets/dashboard/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../../assets/dashboard/uPlot.min.css");

pub fn routes() -> Router<AppState> {
    let asset = |mime: &'static str, body: &'static str| {
        move |State(state): State<AppState>| async move {
            if state.config.admin_token.is_none() {
                return not_found();
            }
            ([(header::CONTENT_TYPE, mime)], body).into_response()
        }
    };
    Router::new()
        .route("/dashboard", get(asset("text/html; charset=utf-8", INDEX)))
        .route(
            "/dashboard/dashboard.js",
            get(asset("text/javascript; charset=utf-8", SCRIPT)),
        )
        .route(
            "/dashboard/uPlot.iife.min.js",
            get(asset("text/javascript; charset=utf-8", UPLOT)),
        )
        .route(
            "/dashboard/uPlot.min.css",
            get(asset("text/css; charset=utf-8", UPLOT_CSS)),
        )
}

fn not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route").into_response()
}

/// The last ten minutes of snapshots (one every two seconds), the current status and alerts.
#[utoipa::path(get, path = "/api/admin/metrics/recent", tag = "ops", security(("admin" = [])),
    responses((status = 200, description = "snapshots, status and alerts"),
              (status = 401, body = crate::error::ErrorBody)))]
pub async fn recent(State(state): State<AppState>, _: Admin) -> Json<serde_json::Value> {
    let m = &state.monitor;
    let sample = m.sampler.latest();
    let figures = monitor::figures(&state, &sample);
    let (status, alerts) = health::assess(&figures, &m.thresholds);
    Json(json!({
        "status": status,
        "alerts": alerts,
        "uptime": m.started.elapsed().as_secs(),
        "latencyBucketsMs": LATENCY_BUCKETS_MS,
        "snapshots": m.metrics.recent(),
    }))
}
