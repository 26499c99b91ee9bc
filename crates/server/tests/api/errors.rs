//! The error envelope on the paths axum would otherwise answer in plain text, and the
//! request id on every response.

use crate::helpers::TestApp;
use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::json;

crate::on_both_backends!(
    bodies_are_checked_before_handlers,
    unknown_routes_and_methods_use_the_envelope,
    every_response_carries_a_request_id,
    health_routes,
);

async fn bodies_are_checked_before_handlers(app: TestApp) {
    let u = app.register("a@example.com").await;
    let req = |content_type: Option<&str>, body: Body| {
        let mut r =
            Request::post("/api/jobs").header(header::AUTHORIZATION, format!("Bearer {}", u.token));
        if let Some(ct) = content_type {
            r = r.header(header::CONTENT_TYPE, ct);
        }
        r.body(body).unwrap()
    };
    let r = app
        .send(req(Some("application/json"), Body::from("{\"title\": ")))
        .await;
    assert!(
        r.assert_error(400, "bad_request")
            .contains("malformed JSON")
    );
    let r = app.send(req(Some("text/plain"), Body::from("{}"))).await;
    r.assert_error(400, "bad_request");
    let r = app
        .send(req(None, Body::from(r#"{"title":"a","company":"b"}"#)))
        .await;
    r.assert_error(400, "bad_request");
    let r = app
        .send(req(Some("application/json"), Body::from("[1, 2]")))
        .await;
    r.assert_error(400, "bad_request");
    let big = format!(
        r#"{{"title":"a","company":"b","notes":"{}"}}"#,
        "x".repeat(1_100_000)
    );
    let r = app
        .send(req(Some("application/json"), Body::from(big)))
        .await;
    r.assert_error(413, "payload_too_large");
    let r = app
        .send(req(
            Some("application/json; charset=utf-8"),
            Body::from(r#"{"title":"a","company":"b"}"#),
        ))
        .await;
    r.assert_status(201);
    assert_eq!(
        app.get("/api/jobs", &u.token).await.body["pagination"]["totalItems"],
        1
    );
}

async fn unknown_routes_and_methods_use_the_envelope(app: TestApp) {
    let r = app.call(Method::GET, "/api/nope", None, None).await;
    r.assert_error(404, "not_found");
    let r = app
        .call(Method::PUT, "/api/jobs", None, Some(json!({})))
        .await;
    r.assert_error(405, "method_not_allowed");
}

async fn every_response_carries_a_request_id(app: TestApp) {
    let r = app.call(Method::GET, "/api/health/live", None, None).await;
    let generated = r.headers["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
    let req = Request::get("/api/jobs")
        .header("x-request-id", "trace-me-42")
        .body(Body::empty())
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.headers["x-request-id"], "trace-me-42");
}

async fn health_routes(app: TestApp) {
    let r = app.call(Method::GET, "/api/health/live", None, None).await;
    assert_eq!(r.assert_status(200)["status"], "ok");
    let r = app.call(Method::GET, "/api/health/ready", None, None).await;
    assert_eq!(r.assert_status(200)["checks"]["database"], "ok");

    // With the database gone, readiness says so quickly instead of hanging.
    app.state.db.ops.close().await;
    let r = app.call(Method::GET, "/api/health/ready", None, None).await;
    r.assert_error(503, "not_ready");
    assert!(r.headers.contains_key(header::RETRY_AFTER));
    let live = app.call(Method::GET, "/api/health/live", None, None).await;
    assert_eq!(live.status, 200, "liveness does no I/O");
}
