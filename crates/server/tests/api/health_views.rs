//! `/api/health` does not cry wolf: `critical` (a busy machine, slow requests) stays in the
//! body and answers 200 unless `HEALTH_FAIL_ON=critical`; 503 means the instance cannot
//! serve (here: shutting down). Anonymous callers get the summary, the admin token the
//! full document.

use crate::helpers::TestApp;
use axum::body::Body;
use axum::http::{Method, Request, header};
use flowats_server::config::{HealthFailOn, Secret};
use std::sync::atomic::Ordering;
use std::time::Duration;

crate::on_both_backends!(
    anonymous_callers_get_the_summary_and_the_admin_the_document,
    a_critical_status_answers_503_only_when_configured_to,
    shutting_down_answers_503,
);

const ADMIN: &str = "admin-token-for-tests-0123456789";

async fn with_admin(app: &TestApp, rule: HealthFailOn, critical: Duration) -> TestApp {
    TestApp::with_config(flowats_db::testing::TestDb::share(&app.db), |c| {
        c.admin_token = Some(Secret::new(ADMIN.to_owned()));
        c.http.health_fail_on = rule;
        c.slow_request = critical;
        c.critical_request = critical;
    })
    .await
}

async fn draft(app: &TestApp, token: Option<&str>) -> crate::helpers::Resp {
    let mut req = Request::get("/api/health").header(header::ACCEPT, "application/health+json");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    app.send(req.body(Body::empty()).unwrap()).await
}

async fn anonymous_callers_get_the_summary_and_the_admin_the_document(app: TestApp) {
    let app = with_admin(&app, HealthFailOn::Unavailable, Duration::from_secs(5)).await;
    let user = app.register("a@example.com").await;
    for token in [None, Some(user.token.as_str()), Some("wrong-token")] {
        let r = app.call(Method::GET, "/api/health", token, None).await;
        let body = r.assert_status(200);
        assert!(
            ["healthy", "degraded", "critical"].contains(&body["status"].as_str().unwrap()),
            "{body}"
        );
        assert_eq!(body["available"], true, "{body}");
        assert_eq!(body["checks"]["database"], "up", "{body}");
        assert_eq!(body["checks"]["cache"], "up", "{body}");
        assert!(body["alerts"].is_array() && body["timestamp"].is_string());
        assert!(body.get("metrics").is_none(), "{body}");
        let raw = String::from_utf8(r.raw.to_vec()).unwrap();
        for secret in ["pid", "rss", "pools", "lastError", "last_error"] {
            assert!(!raw.contains(secret), "{secret} in {raw}");
        }
        let d = draft(&app, token).await;
        assert_eq!(d.status, 200);
        assert_eq!(d.body["checks"]["database:reachable"][0]["status"], "pass");
        assert!(
            d.body["checks"].get("cpu:utilization").is_none(),
            "{}",
            d.body
        );
    }
    let r = app
        .call(Method::GET, "/api/health", Some(ADMIN), None)
        .await;
    let body = r.assert_status(200);
    assert_eq!(
        body["metrics"]["process"]["pid"],
        u64::from(std::process::id()),
        "{body}"
    );
    assert!(body["metrics"]["database"]["pools"].is_array(), "{body}");
    let d = draft(&app, Some(ADMIN)).await;
    assert!(d.body["checks"]["cpu:utilization"][0]["observedValue"].is_number());
}

/// Every request slower than 1 ms is past the critical request threshold: after a
/// registration (a password hash), the last minute's p95 is critical.
async fn critical_health(app: &TestApp, rule: HealthFailOn) -> crate::helpers::Resp {
    let app = with_admin(app, rule, Duration::from_millis(1)).await;
    let snapshot =
        || flowats_server::monitor::snapshot(&app.state, &app.state.monitor.sampler.latest());
    snapshot();
    app.register(&format!("{}@example.com", rule.as_str()))
        .await;
    snapshot();
    app.call(Method::GET, "/api/health", Some(ADMIN), None)
        .await
}

async fn a_critical_status_answers_503_only_when_configured_to(app: TestApp) {
    let r = critical_health(&app, HealthFailOn::Unavailable).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "critical", "{}", r.body);
    let alerts = r.body["alerts"].as_array().unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a["metric"] == "requests.p95" && a["level"] == "critical"),
        "{}",
        r.body
    );
    let r = critical_health(&app, HealthFailOn::Critical).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.body["status"], "critical");
}

async fn shutting_down_answers_503(app: TestApp) {
    let app = with_admin(&app, HealthFailOn::Unavailable, Duration::from_secs(5)).await;
    app.state.monitor.draining.store(true, Ordering::Relaxed);
    let r = app.call(Method::GET, "/api/health", None, None).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.body["available"], false);
    assert!(
        r.body["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["metric"] == "server"),
        "{}",
        r.body
    );
    app.call(Method::GET, "/api/health/ready", None, None)
        .await
        .assert_error(503, "not_ready");
    let live = app.call(Method::GET, "/api/health/live", None, None).await;
    assert_eq!(live.status, 200, "the process is alive");
}
