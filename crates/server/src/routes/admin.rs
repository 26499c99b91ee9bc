//! Operator routes, behind `ADMIN_TOKEN`.

use crate::app::AppState;
use crate::cache::CacheStats;
use crate::error::ErrorBody;
use crate::extract::Admin;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

/// Hits, misses, hit rate, evictions by cause, keys and bytes of each cache tier.
#[utoipa::path(get, path = "/api/admin/cache/stats", tag = "ops", security(("admin" = [])),
    responses((status = 200, body = CacheStats), (status = 401, body = ErrorBody),
        (status = 404, description = "ADMIN_TOKEN is not set", body = ErrorBody)))]
pub async fn cache_stats(State(state): State<AppState>, _: Admin) -> Json<CacheStats> {
    Json(state.cache.stats_with_server().await)
}

/// Empty both cache tiers, on every instance.
#[utoipa::path(post, path = "/api/admin/cache/flush", tag = "ops", security(("admin" = [])),
    responses((status = 204, description = "flushed"), (status = 401, body = ErrorBody),
        (status = 404, description = "ADMIN_TOKEN is not set", body = ErrorBody)))]
pub async fn cache_flush(State(state): State<AppState>, _: Admin) -> StatusCode {
    state.cache.flush().await;
    StatusCode::NO_CONTENT
}
