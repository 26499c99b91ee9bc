//! `GET /metrics`: Prometheus text exposition, behind `ADMIN_TOKEN`.

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::Admin;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

pub async fn prometheus(State(state): State<AppState>, _: Admin) -> Response {
    let m = &state.monitor;
    m.metrics.scrape.update(
        &state.db.ops.pool_status(),
        &state.cache.stats(),
        &m.sampler.latest(),
        crate::monitor::alloc::heap_in_use(),
        m.started.elapsed().as_secs(),
    );
    let ai = state.ai.queue.status();
    m.metrics.scrape.update_ai(ai.running, ai.waiting);
    m.metrics.scrape.update_auth(&state.passwords.status());
    m.metrics
        .scrape
        .update_guard(state.in_flight.shed(), state.auth_limits.refused());
    let mut text = String::with_capacity(16 * 1024);
    if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &m.metrics.registry) {
        return ApiError::internal(format!("encoding metrics: {e}")).into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
