//! What `/api/health` shows a caller without the admin token: the status, whether the
//! instance can serve, which dependencies answer, and the alerts — enough for an uptime
//! monitor, a balancer or a status page, and nothing about the process (pid, memory),
//! the pools or the cache's errors, which help an attacker more than a visitor.

use crate::monitor::health::{Alert, Figures, Status};
use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// The health summary anyone may read (the full document needs the admin token).
#[derive(Serialize, ToSchema)]
pub struct HealthSummary {
    /// `healthy`, `degraded` or `critical`: `critical` is a scaling signal, not an outage.
    #[schema(value_type = String, example = "healthy")]
    pub status: Status,
    /// RFC 3339, UTC, whole seconds.
    pub timestamp: String,
    /// `false` when the instance cannot serve (database unreachable, shutting down): then
    /// the answer is 503.
    pub available: bool,
    pub checks: HealthChecks,
    /// One per crossed threshold: `metric`, `level`, `value`, `threshold`, `message`.
    #[schema(value_type = Vec<Object>)]
    pub alerts: Vec<Alert>,
}

#[derive(Serialize, ToSchema)]
pub struct HealthChecks {
    /// `up` or `down`.
    pub database: &'static str,
    /// The shared cache (Redis), when configured: `up` or `down` (down only degrades).
    pub cache: &'static str,
}

fn up(ok: bool) -> &'static str {
    if ok { "up" } else { "down" }
}

impl HealthSummary {
    pub fn new(
        status: Status,
        timestamp: String,
        available: bool,
        figures: &Figures,
        alerts: Vec<Alert>,
    ) -> HealthSummary {
        HealthSummary {
            status,
            timestamp,
            available,
            checks: HealthChecks {
                database: up(figures.db_reachable),
                cache: up(!figures.redis_down),
            },
            alerts,
        }
    }

    pub fn response(self, code: StatusCode, draft: bool) -> Response {
        if !draft {
            return (code, Json(self)).into_response();
        }
        let check =
            |ok: bool, otherwise: &str| json!([{"status": if ok { "pass" } else { otherwise }}]);
        let body = json!({
            "status": self.status.draft(),
            "serviceId": "flowats",
            "description": "FlowATS server",
            "notes": self.alerts.iter().map(|a| a.message.clone()).collect::<Vec<_>>(),
            "checks": {
                "database:reachable": check(self.checks.database == "up", "fail"),
                "cache:reachable": check(self.checks.cache == "up", "warn"),
            },
        });
        (
            code,
            [(header::CONTENT_TYPE, "application/health+json")],
            Json(body),
        )
            .into_response()
    }
}
