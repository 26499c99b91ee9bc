//! Load shedding over a real socket: past `MAX_IN_FLIGHT` requests being handled, one more
//! is answered 503 `overloaded` at once, but the health routes still answer.

use super::listen;
use axum::http::header;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[tokio::test]
async fn past_the_in_flight_limit_requests_are_shed_at_once_but_health_answers() {
    let (app, addr, _stop) = listen(|c| {
        c.guard.max_in_flight = 2;
        c.auth_hash_concurrency = 1;
        c.auth_hash_queue = 8;
        c.auth_hash_max_wait = Duration::from_secs(60);
    })
    .await;
    let base = format!("http://{addr}");
    let http = crate::helpers::http();
    // The one hashing turn is held: two sign-ins wait for it inside their handlers, each
    // holding an in-flight slot.
    let turn = app.state.passwords.limiter().admit().await.unwrap();
    let held: Vec<_> = (0..2)
        .map(|_| {
            let (http, base) = (http.clone(), base.clone());
            tokio::spawn(async move {
                http.post(format!("{base}/api/auth/login"))
                    .json(&json!({"email": "a@example.com", "password": "password123"}))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut shed = None;
    for _ in 0..250 {
        let r = http.get(format!("{base}/api/jobs")).send().await.unwrap();
        if r.status() == 503 {
            shed = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let r = shed.expect("a third request was not shed");
    assert_eq!(r.headers()[header::RETRY_AFTER], "1");
    let started = Instant::now();
    let r = http.get(format!("{base}/api/jobs")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "overloaded");
    assert!(started.elapsed() < Duration::from_secs(1));
    for path in ["/api/health/live", "/api/health/ready", "/api/health"] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    // The turn comes free: the held requests end and the server takes work again.
    drop(turn);
    for h in held {
        assert_eq!(h.await.unwrap(), 401);
    }
    let r = http.get(format!("{base}/api/jobs")).send().await.unwrap();
    assert_eq!(r.status(), 401, "the permits were not given back");
}
