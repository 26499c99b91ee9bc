//! When `/api/health` answers 503. The status (`healthy`, `degraded`, `critical`) and its
//! alerts are always in the body; the HTTP status says only whether this instance can serve,
//! so an uptime monitor or a balancer does not see an outage in a busy minute.
//! `HEALTH_FAIL_ON=critical` restores "503 whenever critical".

use super::health::{Alert, Figures, Level, Status};
use crate::config::HealthFailOn;
use axum::http::StatusCode;

/// Whether the instance can serve requests at all: its database answers and it is not
/// shutting down. (A shared cache that is down only degrades it.)
pub fn can_serve(figures: &Figures, draining: bool) -> bool {
    figures.db_reachable && !draining
}

/// The alert raised while the server shuts down.
pub fn draining_alert() -> Alert {
    Alert {
        metric: "server",
        level: Level::Critical,
        value: "shutting down".into(),
        threshold: "serving".into(),
        message: "the server is shutting down: it takes no new work".into(),
    }
}

pub fn http_status(status: Status, can_serve: bool, rule: HealthFailOn) -> StatusCode {
    let fails = match rule {
        HealthFailOn::Unavailable => !can_serve,
        HealthFailOn::Critical => !can_serve || status == Status::Critical,
    };
    if fails {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_instance_that_cannot_serve_fails_by_default() {
        use HealthFailOn::{Critical, Unavailable};
        let cases = [
            (Status::Healthy, true, Unavailable, 200),
            (Status::Degraded, true, Unavailable, 200),
            (Status::Critical, true, Unavailable, 200),
            (Status::Critical, false, Unavailable, 503),
            (Status::Healthy, true, Critical, 200),
            (Status::Degraded, true, Critical, 200),
            (Status::Critical, true, Critical, 503),
            (Status::Critical, false, Critical, 503),
        ];
        for (status, serves, rule, code) in cases {
            assert_eq!(
                http_status(status, serves, rule).as_u16(),
                code,
                "{status:?} {serves} {rule:?}"
            );
        }
        let up = Figures {
            db_reachable: true,
            ..Figures::default()
        };
        assert!(can_serve(&up, false));
        assert!(!can_serve(&up, true));
        assert!(!can_serve(&Figures::default(), false));
    }
}
