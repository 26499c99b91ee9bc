//! The abuse limits (crate::guard, crate::serve): sign-in rate limits per address and per
//! email (OWASP API2 brute force, API4), `X-Forwarded-For` only from trusted proxies, the
//! header-read timeout (the in-flight limit: wire/shed.rs), the security headers and CORS (API8).
//! They do not depend on the backend, so they run on SQLite.

use crate::helpers::{Resp, TestApp, config};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, header};
use flowats_server::app::Application;
use flowats_server::config::{Config, CorsOrigins};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn app(configure: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::with_config(flowats_db::testing::sqlite().await, configure).await
}

/// A sign-in call as if it came over a socket from `peer`, with an optional
/// `X-Forwarded-For`.
pub async fn sign_in(
    app: &TestApp,
    path: &str,
    peer: &str,
    xff: Option<&str>,
    body: Value,
) -> Resp {
    let mut req = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(x) = xff {
        req = req.header("x-forwarded-for", x);
    }
    let mut req = req.body(Body::from(body.to_string())).unwrap();
    let peer: SocketAddr = format!("{peer}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    app.send(req).await
}

pub fn login(email: &str) -> Value {
    json!({"email": email, "password": "wrong-password"})
}

#[track_caller]
pub fn assert_limited(r: &Resp, scope: &str) {
    r.assert_error(429, "rate_limited");
    assert_eq!(r.body["error"]["details"]["scope"], scope, "{}", r.body);
    let retry: u64 = r.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
}

#[tokio::test]
async fn an_address_that_keeps_trying_gets_429_before_any_hash() {
    let app = app(|c| c.guard.auth_per_ip = 5).await;
    app.register("victim@example.com").await;
    for i in 0..5 {
        // Sign-ups and logins share the address's budget.
        let r = if i % 2 == 0 {
            sign_in(
                &app,
                "/api/auth/login",
                "192.0.2.1",
                None,
                login("victim@example.com"),
            )
            .await
        } else {
            let body = json!({"email": format!("new{i}@example.com"), "password": "password123", "name": "N"});
            sign_in(&app, "/api/auth/register", "192.0.2.1", None, body).await
        };
        assert!(matches!(r.status.as_u16(), 401 | 201), "{i}: {}", r.body);
    }
    let r = sign_in(
        &app,
        "/api/auth/login",
        "192.0.2.1",
        None,
        login("victim@example.com"),
    )
    .await;
    assert_limited(&r, "address");
    let body = json!({"email": "late@example.com", "password": "password123", "name": "L"});
    assert_limited(
        &sign_in(&app, "/api/auth/register", "192.0.2.1", None, body).await,
        "address",
    );
    // The refused sign-up created nothing: from another address its password fails.
    let late = json!({"email": "late@example.com", "password": "password123"});
    sign_in(&app, "/api/auth/login", "192.0.2.3", None, late)
        .await
        .assert_error(401, "unauthorized");
    // Another address is served.
    let r = sign_in(
        &app,
        "/api/auth/login",
        "192.0.2.2",
        None,
        login("victim@example.com"),
    )
    .await;
    r.assert_error(401, "unauthorized");
    assert_eq!(app.state.auth_limits.refused(), 2);
}

#[tokio::test]
async fn one_email_tried_from_many_addresses_is_limited() {
    let app = app(|c| c.guard.auth_per_email = 3).await;
    // The sign-up is the first of the email's three attempts.
    let user = app.register("target@example.com").await;
    for i in 1..=2 {
        let r = sign_in(
            &app,
            "/api/auth/login",
            &format!("198.51.100.{i}"),
            None,
            login("Target@Example.com "),
        )
        .await;
        r.assert_error(401, "unauthorized");
    }
    let r = sign_in(
        &app,
        "/api/auth/login",
        "198.51.100.99",
        None,
        login("target@example.com"),
    )
    .await;
    assert_limited(&r, "email");
    // Other accounts are not affected, and the account's existing sessions keep working.
    let r = sign_in(
        &app,
        "/api/auth/login",
        "198.51.100.99",
        None,
        login("other@example.com"),
    )
    .await;
    r.assert_error(401, "unauthorized");
    app.get("/api/auth/me", &user.token)
        .await
        .assert_status(200);
    // An email no address can be is refused before it becomes a rate-limit key.
    let keys = app.state.auth_limits.tracked();
    let long = format!("{}@example.com", "a".repeat(300));
    let r = sign_in(&app, "/api/auth/login", "198.51.100.99", None, login(&long)).await;
    r.assert_error(422, "validation_failed");
    assert!(
        r.body["error"]["details"].to_string().contains("email"),
        "{}",
        r.body
    );
    assert_eq!(app.state.auth_limits.tracked(), keys);
}

#[tokio::test]
async fn forwarded_for_counts_only_from_a_trusted_proxy() {
    let app = app(|c| {
        c.guard.auth_per_ip = 2;
        c.guard.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    // An untrusted client rotating the header is still one address.
    for i in 0..2 {
        let r = sign_in(
            &app,
            "/api/auth/login",
            "203.0.113.5",
            Some(&format!("10.9.9.{i}")),
            login(&format!("a{i}@x.test")),
        )
        .await;
        r.assert_error(401, "unauthorized");
    }
    let r = sign_in(
        &app,
        "/api/auth/login",
        "203.0.113.5",
        Some("10.9.9.77"),
        login("b@x.test"),
    )
    .await;
    assert_limited(&r, "address");
    // Through the trusted proxy, each forwarded client has its own budget ...
    for client in ["198.51.100.1", "198.51.100.2"] {
        for i in 0..2 {
            let r = sign_in(
                &app,
                "/api/auth/login",
                "127.0.0.1",
                Some(client),
                login(&format!("{client}-{i}@x.test")),
            )
            .await;
            r.assert_error(401, "unauthorized");
        }
    }
    let r = sign_in(
        &app,
        "/api/auth/login",
        "127.0.0.1",
        Some("198.51.100.1"),
        login("c@x.test"),
    )
    .await;
    assert_limited(&r, "address");
    // ... and a client cannot escape it by prepending a forged hop.
    let r = sign_in(
        &app,
        "/api/auth/login",
        "127.0.0.1",
        Some("1.2.3.4, 198.51.100.2"),
        login("d@x.test"),
    )
    .await;
    assert_limited(&r, "address");
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = app(|_| {}).await;
    let user = app.register("h@example.com").await;
    for (path, page) in [
        ("/api/jobs", false),
        ("/api/jobs/nope", false),
        ("/api/nothing", false),
        ("/docs", true),
    ] {
        let r = app.get(path, &user.token).await;
        let h = |name: &str| r.headers.get(name).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            h("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(h("x-frame-options").as_deref(), Some("DENY"), "{path}");
        assert_eq!(
            h("referrer-policy").as_deref(),
            Some("no-referrer"),
            "{path}"
        );
        let csp = h("content-security-policy").unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(
            csp.starts_with("default-src 'none'"),
            !page,
            "{path}: {csp}"
        );
        assert!(h("strict-transport-security").is_some(), "{path}");
        // No CORS unless configured.
        assert!(h("access-control-allow-origin").is_none(), "{path}");
    }
    let r = app.get("/api/jobs", &user.token).await;
    assert_eq!(r.headers[header::CACHE_CONTROL], "no-store");
    // A route's own caching is kept.
    let r = app.get("/docs/swagger-ui.css", "").await;
    assert_eq!(r.headers[header::CACHE_CONTROL], "public, max-age=86400");
}

#[tokio::test]
async fn cors_answers_only_the_allowed_origins() {
    let app =
        app(|c| c.guard.cors_origins = CorsOrigins::List(vec!["https://app.example".into()])).await;
    let preflight = |origin: &'static str| {
        Request::options("/api/jobs")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "authorization,content-type",
            )
            .body(Body::empty())
            .unwrap()
    };
    let ok = app.send(preflight("https://app.example")).await;
    assert_eq!(
        ok.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://app.example"
    );
    let methods = ok.headers[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .unwrap();
    assert!(methods.contains("PATCH"), "{methods}");
    let evil = app.send(preflight("https://evil.example")).await;
    assert!(
        evil.headers
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
    // A simple request from the allowed origin sees the request id and Retry-After.
    let req = Request::get("/api/health/live")
        .header(header::ORIGIN, "https://app.example")
        .body(Body::empty())
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(
        r.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://app.example"
    );
    let exposed = r.headers[header::ACCESS_CONTROL_EXPOSE_HEADERS]
        .to_str()
        .unwrap();
    assert!(
        exposed.contains("x-request-id") && exposed.contains("retry-after"),
        "{exposed}"
    );
}

/// The real server on a free port, with `configure` applied.
async fn serve(
    configure: impl FnOnce(&mut Config),
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    flowats_db::testing::TestDb,
) {
    let db = flowats_db::testing::sqlite().await;
    let mut config = config(&db.url);
    config.port = 0;
    config.shutdown_timeout = Duration::from_secs(2);
    configure(&mut config);
    let app = Application::build(config).await.expect("build");
    let addr = app.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    (addr, stop, db)
}

#[tokio::test]
async fn a_client_that_trickles_its_headers_is_disconnected() {
    let (addr, stop, _db) =
        serve(|c| c.guard.header_read_timeout = Duration::from_millis(300)).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /api/health/live HTTP/1.1\r\nhost: t\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection was still open after 5 s");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    // A normal client is served meanwhile and after.
    let r = crate::helpers::http()
        .get(format!("http://{addr}/api/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let _ = stop.send(());
}
