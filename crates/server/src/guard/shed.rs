//! Load shedding: at most `MAX_IN_FLIGHT` requests are handled at once; one more is answered
//! 503 `overloaded` with `Retry-After: 1` at once, instead of joining a queue that would
//! make every request slow (waits for a pooled connection run up to
//! `DB_CONNECTION_TIMEOUT`). The health routes and `/metrics` are never shed, so a balancer
//! and a scraper still see the instance.

use crate::app::AppState;
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Semaphore;

pub struct InFlight {
    permits: Option<Arc<Semaphore>>,
    limit: usize,
    shed: AtomicU64,
}

impl InFlight {
    /// 0: no limit.
    pub fn new(limit: usize) -> InFlight {
        InFlight {
            permits: (limit > 0).then(|| Arc::new(Semaphore::new(limit))),
            limit,
            shed: AtomicU64::new(0),
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Requests being handled now (of those that count against the limit).
    pub fn current(&self) -> usize {
        self.permits
            .as_ref()
            .map_or(0, |p| self.limit - p.available_permits())
    }

    /// Requests shed since start.
    pub fn shed(&self) -> u64 {
        self.shed.load(Ordering::Relaxed)
    }
}

fn exempt(path: &str) -> bool {
    path.starts_with("/api/health") || path == "/metrics"
}

pub async fn limit(State(state): State<Option<AppState>>, req: Request, next: Next) -> Response {
    let Some(state) = state else {
        return next.run(req).await;
    };
    let Some(permits) = &state.in_flight.permits else {
        return next.run(req).await;
    };
    if exempt(req.uri().path()) {
        return next.run(req).await;
    }
    match permits.clone().try_acquire_owned() {
        Ok(permit) => {
            let res = next.run(req).await;
            drop(permit);
            res
        }
        Err(_) => {
            state.in_flight.shed.fetch_add(1, Ordering::Relaxed);
            let mut e = ApiError::unavailable(
                "the server is handling as many requests as it can; retry shortly",
                1,
            );
            e.code = "overloaded";
            e.into_response()
        }
    }
}
