//! Login floods: password hashing runs at most `AUTH_HASH_CONCURRENCY` at once with at most
//! `AUTH_HASH_QUEUE` waiting; everything past that is answered 503 `auth_busy` with
//! `Retry-After: 1` at once, and nothing is lost or left hanging.

use crate::helpers::TestApp;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use flowats_server::config::Secret;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::time::Duration;
use tower::ServiceExt;

crate::on_both_backends!(
    a_flood_past_a_held_turn_is_shed_at_once_and_the_queue_is_served,
    a_waiter_gives_up_at_its_deadline,
    a_real_login_flood_is_answered_in_full,
    the_api_document_lists_the_503,
);

const ADMIN: &str = "admin-token-for-tests-0123456789";
const PASSWORD: &str = "password123";
/// Catches a hang; never reached by a working server.
const HANG: Duration = Duration::from_secs(120);

async fn limited(app: &TestApp, queue: usize, max_wait: Duration) -> TestApp {
    TestApp::with_config(flowats_db::testing::TestDb::share(&app.db), |c| {
        c.auth_hash_concurrency = 1;
        c.auth_hash_queue = queue;
        c.auth_hash_max_wait = max_wait;
        c.admin_token = Some(Secret::new(ADMIN.to_owned()));
    })
    .await
}

struct Answer {
    status: StatusCode,
    retry_after: Option<String>,
    body: Value,
}

impl Answer {
    fn is_busy(&self) -> bool {
        self.status == StatusCode::SERVICE_UNAVAILABLE
            && self.body["error"]["code"] == "auth_busy"
            && self.retry_after.as_deref() == Some("1")
    }

    fn has_token(&self) -> bool {
        self.status == StatusCode::OK && self.body["token"].as_str().is_some_and(|t| !t.is_empty())
    }
}

/// Sends one request on its own task, so many are in flight at once.
fn fire(router: &Router, path: &str, body: Value) -> tokio::task::JoinHandle<Answer> {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let router = router.clone();
    tokio::spawn(async move {
        let res = router.oneshot(req).await.expect("infallible");
        let status = res.status();
        let retry_after = res
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        Answer {
            status,
            retry_after,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    })
}

fn login(router: &Router, email: &str) -> tokio::task::JoinHandle<Answer> {
    fire(
        router,
        "/api/auth/login",
        json!({"email": email, "password": PASSWORD}),
    )
}

async fn answers(tasks: Vec<tokio::task::JoinHandle<Answer>>) -> Vec<Answer> {
    let all = futures_util::future::join_all(tasks);
    tokio::time::timeout(HANG, all)
        .await
        .expect("every request is answered")
        .into_iter()
        .map(|r| r.expect("no handler panicked"))
        .collect()
}

async fn until_waiting(app: &TestApp, waiting: usize) {
    tokio::time::timeout(HANG, async {
        while app.state.passwords.status().waiting != waiting {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("the logins reach the queue");
}

/// The one hashing turn is held (the test stands in for a hash that has not finished), two
/// logins take the two queue places, and then a flood of logins, known and unknown emails
/// alike, and registrations: every one of those is answered 503 `auth_busy` while the turn
/// is still held, so none of them waited for a hash. Releasing the turn serves the queue.
async fn a_flood_past_a_held_turn_is_shed_at_once_and_the_queue_is_served(app: TestApp) {
    app.register("known@example.com").await;
    let app = limited(&app, 2, HANG).await;
    let held = app.state.passwords.limiter().admit().await.unwrap();

    let queued: Vec<_> = (0..2)
        .map(|_| login(&app.router, "known@example.com"))
        .collect();
    until_waiting(&app, 2).await;

    let flood: Vec<_> = (0..30)
        .map(|i| match i % 3 {
            0 => login(&app.router, "known@example.com"),
            1 => login(&app.router, &format!("nobody{i}@example.com")),
            _ => fire(
                &app.router,
                "/api/auth/register",
                json!({"email": format!("new{i}@example.com"), "password": PASSWORD, "name": "N"}),
            ),
        })
        .collect();
    let shed = answers(flood).await;
    // All answered, and the turn is still held: nothing in the flood hashed.
    let status = app.state.passwords.status();
    assert_eq!((status.running, status.waiting), (1, 2));
    for a in &shed {
        assert!(a.is_busy(), "{} {:?}: {}", a.status, a.retry_after, a.body);
    }
    assert_eq!(status.shed, 30);

    // The health document and /metrics show the queue as it stands.
    let health = app
        .call(axum::http::Method::GET, "/api/health", Some(ADMIN), None)
        .await;
    let hashing = &health.body["metrics"]["auth"]["hashing"];
    assert_eq!(hashing["running"], 1, "{hashing}");
    assert_eq!(hashing["waiting"], 2, "{hashing}");
    assert_eq!(hashing["maxConcurrency"], 1, "{hashing}");
    assert_eq!(hashing["maxWaiting"], 2, "{hashing}");
    assert_eq!(hashing["shed"], 30, "{hashing}");
    let metrics = app
        .call(axum::http::Method::GET, "/metrics", Some(ADMIN), None)
        .await;
    let text = String::from_utf8(metrics.raw.to_vec()).unwrap();
    for line in [
        "flowats_auth_hashes_running 1",
        "flowats_auth_hashes_waiting 2",
        "flowats_auth_hashes_shed_total 30",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
    }

    // The queued logins get their turn once the held one ends.
    drop(held);
    for a in answers(queued).await {
        assert!(a.has_token(), "{}: {}", a.status, a.body);
    }
    let status = app.state.passwords.status();
    assert_eq!((status.running, status.waiting, status.shed), (0, 0, 30));
    // No registration of the flood went through.
    let r = app
        .call(
            axum::http::Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": "new2@example.com", "password": PASSWORD})),
        )
        .await;
    r.assert_error(401, "unauthorized");
}

/// A login that cannot start hashing within `AUTH_HASH_MAX_WAIT_MS` stops waiting and is
/// answered `auth_busy`, for a known and an unknown email alike.
async fn a_waiter_gives_up_at_its_deadline(app: TestApp) {
    app.register("known@example.com").await;
    let app = limited(&app, 8, Duration::from_millis(50)).await;
    let held = app.state.passwords.limiter().admit().await.unwrap();
    let waiters = vec![
        login(&app.router, "known@example.com"),
        login(&app.router, "nobody@example.com"),
    ];
    for a in answers(waiters).await {
        assert!(a.is_busy(), "{}: {}", a.status, a.body);
    }
    let status = app.state.passwords.status();
    assert_eq!((status.running, status.waiting, status.shed), (1, 0, 2));
    drop(held);
    let r = login(&app.router, "known@example.com").await.unwrap();
    assert!(r.has_token(), "{}: {}", r.status, r.body);
}

/// Real logins only, many more at once than one hashing turn and two queue places can
/// take: every request is answered, each either with a token (or 401 for an unknown
/// email) or shed, and the shed count matches what the clients saw.
async fn a_real_login_flood_is_answered_in_full(app: TestApp) {
    app.register("known@example.com").await;
    let app = limited(&app, 2, Duration::from_millis(100)).await;
    // One login first, so the pool has a connection and the first turn is free.
    login(&app.router, "known@example.com").await.unwrap();
    let n = 48;
    let flood: Vec<_> = (0..n)
        .map(|i| {
            if i % 4 == 3 {
                login(&app.router, &format!("nobody{i}@example.com"))
            } else {
                login(&app.router, "known@example.com")
            }
        })
        .collect();
    let all = answers(flood).await;
    let (mut ok, mut unknown, mut busy) = (0, 0, 0);
    for (i, a) in all.iter().enumerate() {
        if a.is_busy() {
            busy += 1;
        } else if i % 4 == 3 {
            assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);
            unknown += 1;
        } else {
            assert!(a.has_token(), "{}: {}", a.status, a.body);
            ok += 1;
        }
    }
    assert_eq!(ok + unknown + busy, n, "every request answered once");
    assert!(ok + unknown >= 1, "the first in line is always served");
    // 48 hashes need far longer than a 100 ms wait behind one turn: most are shed.
    assert!(busy >= 1, "ok {ok}, unknown {unknown}, busy {busy}");
    let status = app.state.passwords.status();
    assert_eq!(status.shed, busy as u64);
    assert_eq!(
        (status.running, status.waiting),
        (0, 0),
        "nothing left behind"
    );
}

async fn the_api_document_lists_the_503(app: TestApp) {
    let doc = app
        .call(axum::http::Method::GET, "/api/openapi.json", None, None)
        .await;
    for path in ["/api/auth/login", "/api/auth/register"] {
        let busy = &doc.body["paths"][path]["post"]["responses"]["503"];
        let text = busy["description"].as_str().unwrap_or_default();
        assert!(text.contains("auth_busy"), "{path}: {busy}");
        assert!(busy["headers"]["Retry-After"].is_object(), "{path}: {busy}");
    }
}
