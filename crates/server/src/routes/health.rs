//! Liveness and readiness, with the database pools' figures. The full health document
//! comes with the monitoring work.

use crate::app::AppState;
use crate::error::{ApiError, ErrorBody};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::time::Duration;

const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The process is up. No I/O.
#[utoipa::path(get, path = "/api/health/live", tag = "ops",
    responses((status = 200, description = "alive")))]
pub async fn live() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// The database answers, within 2 seconds. The cache is reported (`ok`, or `degraded`
/// when a configured Redis is unreachable) but does not make the instance unready.
#[utoipa::path(get, path = "/api/health/ready", tag = "ops",
    responses((status = 200, description = "ready"), (status = 503, body = ErrorBody)))]
pub async fn ready(State(state): State<AppState>) -> Response {
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
