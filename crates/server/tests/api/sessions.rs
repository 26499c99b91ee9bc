//! Sessions that can end (logout, password change, on every instance), the bearer scheme's
//! answers (`WWW-Authenticate`, any case), and `Idempotency-Key` on creation.

use crate::helpers::{TestApp, User};
use crate::redis_server::RedisServer;
use axum::body::Body;
use axum::http::{Method, Request, header};
use flowats_db::testing::TestDb;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

crate::on_both_backends!(
    logout_refuses_the_token_at_once,
    a_401_names_the_bearer_scheme_and_the_scheme_is_matched_in_any_case,
    an_idempotent_retry_returns_the_first_answer_and_creates_once,
);

mod shared {
    use super::a_password_change_ends_the_other_sessions_on_another_instance;
    flowats_db::backend_tests!(a_password_change_ends_the_other_sessions_on_another_instance);
}

async fn login(app: &TestApp, email: &str, password: &str) -> crate::helpers::Resp {
    app.call(
        Method::POST,
        "/api/auth/login",
        None,
        Some(json!({"email": email, "password": password})),
    )
    .await
}

async fn logout_refuses_the_token_at_once(app: TestApp) {
    let u = app.register("out@example.com").await;
    let other = login(&app, "out@example.com", "password123").await;
    let other = other.assert_status(200)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Cached as live first, so the logout must reach the cache too.
    app.get("/api/auth/me", &u.token).await.assert_status(200);
    app.get("/api/auth/me", &u.token).await.assert_status(200);

    let r = app
        .call(Method::POST, "/api/auth/logout", Some(&u.token), None)
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    app.get("/api/auth/me", &u.token)
        .await
        .assert_error(401, "unauthorized");
    app.get("/api/jobs", &u.token)
        .await
        .assert_error(401, "unauthorized");
    app.call(Method::POST, "/api/auth/logout", Some(&u.token), None)
        .await
        .assert_error(401, "unauthorized");
    // The account's other session goes on.
    app.get("/api/auth/me", &other).await.assert_status(200);
}

async fn a_401_names_the_bearer_scheme_and_the_scheme_is_matched_in_any_case(app: TestApp) {
    let u = app.register("scheme@example.com").await;
    let with = |value: Option<String>| {
        let mut req = Request::get("/api/jobs");
        if let Some(v) = value {
            req = req.header(header::AUTHORIZATION, v);
        }
        req.body(Body::empty()).unwrap()
    };
    for refused in [
        None,
        Some("Bearer not-a-token".to_owned()),
        Some(format!("Basic {}", u.token)),
    ] {
        let r = app.send(with(refused.clone())).await;
        r.assert_error(401, "unauthorized");
        assert_eq!(
            r.headers
                .get(header::WWW_AUTHENTICATE)
                .map(|v| v.to_str().unwrap()),
            Some("Bearer"),
            "{refused:?}"
        );
    }
    let r = login(&app, "scheme@example.com", "wrong-password").await;
    r.assert_error(401, "unauthorized");
    assert_eq!(r.headers[header::WWW_AUTHENTICATE], "Bearer");
    for scheme in ["bearer", "BEARER", "bEaReR"] {
        app.send(with(Some(format!("{scheme} {}", u.token))))
            .await
            .assert_status(200);
    }
}

async fn post_keyed(
    app: &TestApp,
    user: &User,
    path: &str,
    key: &str,
    body: Value,
) -> crate::helpers::Resp {
    let req = Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", user.token))
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", key)
        .body(Body::from(body.to_string()))
        .unwrap();
    app.send(req).await
}

async fn an_idempotent_retry_returns_the_first_answer_and_creates_once(app: TestApp) {
    let u = app.register("idem@example.com").await;
    let job = json!({"title": "Dev", "company": "Acme"});
    let first = post_keyed(&app, &u, "/api/jobs", "k-1", job.clone()).await;
    let id = first.assert_status(201)["id"].clone();
    assert!(first.headers.get("idempotent-replayed").is_none());

    let again = post_keyed(&app, &u, "/api/jobs", "k-1", job.clone()).await;
    assert_eq!(again.assert_status(201)["id"], id);
    assert_eq!(again.raw, first.raw, "the first answer, byte for byte");
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.headers[header::CONTENT_TYPE], "application/json");

    // Another instance on the same database (or this one restarted) answers the same.
    let other = TestApp::new(TestDb::share(&app.db)).await;
    let there = post_keyed(&other, &u, "/api/jobs", "k-1", job.clone()).await;
    assert_eq!(there.assert_status(201)["id"], id);
    let list = app.get("/api/jobs", &u.token).await;
    assert_eq!(list.assert_status(200)["pagination"]["totalItems"], 1);

    // The same key with another body, or on another route: 422, nothing created.
    let changed = post_keyed(
        &app,
        &u,
        "/api/jobs",
        "k-1",
        json!({"title": "Other", "company": "Acme"}),
    )
    .await;
    changed.assert_error(422, "idempotency_key_reused");
    let elsewhere = post_keyed(&app, &u, "/api/contacts", "k-1", json!({"name": "Ann"})).await;
    elsewhere.assert_error(422, "idempotency_key_reused");

    // Every other create too: a contact, once.
    let c1 = post_keyed(&app, &u, "/api/contacts", "c-1", json!({"name": "Ann"})).await;
    let c2 = post_keyed(&app, &u, "/api/contacts", "c-1", json!({"name": "Ann"})).await;
    assert_eq!(c1.assert_status(201)["id"], c2.assert_status(201)["id"]);
    let contacts = app.get("/api/contacts", &u.token).await;
    assert_eq!(contacts.assert_status(200)["pagination"]["totalItems"], 1);

    // An answer that created nothing is not kept: the fixed request may reuse the key.
    post_keyed(&app, &u, "/api/jobs", "k-2", json!({"title": ""}))
        .await
        .assert_error(422, "validation_failed");
    post_keyed(
        &app,
        &u,
        "/api/jobs",
        "k-2",
        json!({"title": "Ops", "company": "Acme"}),
    )
    .await
    .assert_status(201);

    // Keys are per user: another user's same key creates their own job.
    let v = app.register("idem2@example.com").await;
    let theirs = post_keyed(&app, &v, "/api/jobs", "k-1", job).await;
    assert_ne!(theirs.assert_status(201)["id"], id);

    // A malformed key is refused before anything runs.
    post_keyed(
        &app,
        &u,
        "/api/jobs",
        &"x".repeat(256),
        json!({"title": "T", "company": "C"}),
    )
    .await
    .assert_error(400, "bad_request");
}

async fn a_password_change_ends_the_other_sessions_on_another_instance(db: TestDb) {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let a = crate::shared_cache::app_on(&db, &redis).await;
    let b = crate::shared_cache::app_on(&db, &redis).await;
    let mine = a.register("pw@example.com").await;
    let theirs = login(&b, "pw@example.com", "password123").await;
    let theirs = theirs.assert_status(200)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // B holds "live" for the other session in its memory.
    b.get("/api/auth/me", &theirs).await.assert_status(200);
    assert_eq!(b.get("/api/auth/me", &theirs).await.status.as_u16(), 200);

    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    a.post(
        "/api/auth/password",
        &mine.token,
        change("wrong-password", "newpassword1"),
    )
    .await
    .assert_error(403, "wrong_password");
    a.post(
        "/api/auth/password",
        &mine.token,
        change("password123", "short"),
    )
    .await
    .assert_error(422, "validation_failed");
    let r = a
        .post(
            "/api/auth/password",
            &mine.token,
            change("password123", "newpassword1"),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    let changed = Instant::now();

    // B refuses the other session as soon as the invalidation arrives.
    loop {
        let r = b.get("/api/auth/me", &theirs).await;
        if r.status.as_u16() == 401 {
            break;
        }
        assert!(
            changed.elapsed() < Duration::from_millis(100),
            "B still accepts an ended session after 100 ms"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    a.get("/api/auth/me", &theirs)
        .await
        .assert_error(401, "unauthorized");
    // The session that changed the password goes on, on both instances.
    a.get("/api/auth/me", &mine.token).await.assert_status(200);
    b.get("/api/auth/me", &mine.token).await.assert_status(200);
    login(&b, "pw@example.com", "password123")
        .await
        .assert_error(401, "unauthorized");
    login(&b, "pw@example.com", "newpassword1")
        .await
        .assert_status(200);
}
