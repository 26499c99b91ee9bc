//! The in-process cache through the HTTP API: every invalidation rule (a write, then the
//! next read shows it), cached answers byte-identical to uncached ones, and the admin
//! routes. Redis and several instances are in `shared_cache.rs`.

use crate::helpers::TestApp;
use axum::http::Method;
use serde_json::json;

crate::on_both_backends!(
    job_writes_invalidate_lists_items_events_and_stats,
    profile_writes_invalidate_profile_and_items,
    cached_answers_are_byte_identical_to_uncached_ones,
    account_deletion_invalidates_the_cached_user,
    admin_routes_need_the_token_and_report_the_cache,
);

async fn job_writes_invalidate_lists_items_events_and_stats(app: TestApp) {
    let u = app.register("a@example.com").await;
    let t = &u.token;
    let job = app
        .create_job(&u, json!({"title": "Dev", "company": "Acme"}))
        .await;
    let path = format!("/api/jobs/{}", job["id"].as_str().unwrap());
    let reads = [
        "/api/jobs",
        "/api/jobs?status=applied",
        path.as_str(),
        "/api/jobs/stats",
    ];
    let events = format!("{path}/events");
    for p in reads.iter().copied().chain([events.as_str()]) {
        assert_eq!(app.get(p, t).await.cache(), "miss", "{p}");
        assert_eq!(app.get(p, t).await.cache(), "hit-l1", "{p}");
    }

    // PATCH: every read of this user's jobs shows the change at once.
    app.patch(&path, t, json!({"status": "applied", "notes": "sent"}))
        .await
        .assert_status(200);
    assert_eq!(app.get(&path, t).await.body["notes"], "sent");
    assert_eq!(
        app.get("/api/jobs", t).await.body["data"][0]["status"],
        "applied"
    );
    assert_eq!(
        app.get("/api/jobs?status=applied", t).await.body["pagination"]["totalItems"],
        1
    );
    assert_eq!(
        app.get("/api/jobs/stats", t).await.body["by_status"]["applied"],
        1
    );
    assert_eq!(
        app.get(&events, t).await.body["pagination"]["totalItems"],
        2
    );

    // POST: lists and totals.
    app.create_job(&u, json!({"title": "Ops", "company": "Globex"}))
        .await;
    assert_eq!(
        app.get("/api/jobs", t).await.body["pagination"]["totalItems"],
        2
    );
    assert_eq!(app.get("/api/jobs/stats", t).await.body["total"], 2);

    // DELETE: the job is gone everywhere.
    app.delete(&path, t).await.assert_status(204);
    app.get(&path, t).await.assert_error(404, "not_found");
    app.get(&events, t).await.assert_error(404, "not_found");
    assert_eq!(
        app.get("/api/jobs", t).await.body["pagination"]["totalItems"],
        1
    );
    assert_eq!(
        app.get("/api/jobs?status=applied", t).await.body["pagination"]["totalItems"],
        0
    );

    // Another user's cache is not touched by these writes.
    let other = app.register("b@example.com").await;
    app.get("/api/jobs", &other.token).await;
    app.create_job(&u, json!({"title": "QA", "company": "Initech"}))
        .await;
    assert_eq!(app.get("/api/jobs", &other.token).await.cache(), "hit-l1");
}

async fn profile_writes_invalidate_profile_and_items(app: TestApp) {
    let u = app.register("a@example.com").await;
    let t = &u.token;
    for p in [
        "/api/profile",
        "/api/skills",
        "/api/education",
        "/api/employment",
    ] {
        app.get(p, t).await;
        assert_eq!(app.get(p, t).await.cache(), "hit-l1", "{p}");
    }
    app.put("/api/profile", t, json!({"full_name": "Ada"}))
        .await
        .assert_status(200);
    let p = app.get("/api/profile", t).await;
    assert_eq!(
        (p.body["full_name"].as_str(), p.body["version"].as_i64()),
        (Some("Ada"), Some(2))
    );

    let skill = app.post("/api/skills", t, json!({"name": "Rust"})).await;
    let id = skill.assert_status(201)["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/api/skills", t).await.body["pagination"]["totalItems"],
        1
    );
    assert_eq!(
        app.get("/api/profile", t).await.body["version"],
        3,
        "the version bump is visible"
    );
    let one = format!("/api/skills/{id}");
    app.get(&one, t).await;
    app.patch(&one, t, json!({"proficiency": 5}))
        .await
        .assert_status(200);
    assert_eq!(app.get(&one, t).await.body["proficiency"], 5);
    app.post("/api/education", t, json!({"institution": "MIT"}))
        .await
        .assert_status(201);
    assert_eq!(
        app.get("/api/education", t).await.body["pagination"]["totalItems"],
        1
    );
    app.post(
        "/api/employment",
        t,
        json!({"company": "Acme", "title": "Dev"}),
    )
    .await
    .assert_status(201);
    assert_eq!(
        app.get("/api/employment", t).await.body["pagination"]["totalItems"],
        1
    );
    app.delete(&one, t).await.assert_status(204);
    app.get(&one, t).await.assert_error(404, "not_found");
    assert_eq!(app.get("/api/profile", t).await.body["version"], 7);
}

async fn cached_answers_are_byte_identical_to_uncached_ones(app: TestApp) {
    let u = app.register("a@example.com").await;
    for i in 0..3 {
        app.create_job(
            &u,
            json!({"title": format!("Job {i}"), "company": "Acme", "notes": "ünïcødé \"quoted\""}),
        )
        .await;
    }
    let miss = app.get("/api/jobs?limit=2", &u.token).await;
    let hit = app.get("/api/jobs?limit=2", &u.token).await;
    assert_eq!((miss.cache(), hit.cache()), ("miss", "hit-l1"));
    assert_eq!(miss.raw, hit.raw);
    assert_eq!(miss.headers["content-type"], hit.headers["content-type"]);
    assert_eq!(miss.headers["content-type"], "application/json");

    // With the cache off, the database path gives the same bytes.
    let db = flowats_db::testing::TestDb::share(&app.db);
    let uncached = TestApp::with_config(db, |c| c.cache.enabled = false).await;
    let plain = uncached.get("/api/jobs?limit=2", &u.token).await;
    assert_eq!(plain.cache(), "bypass");
    assert_eq!(plain.raw, hit.raw);
}

async fn account_deletion_invalidates_the_cached_user(app: TestApp) {
    let u = app.register("a@example.com").await;
    assert_eq!(app.get("/api/auth/me", &u.token).await.status, 200);
    app.get("/api/jobs", &u.token).await;
    app.delete("/api/account", &u.token)
        .await
        .assert_status(204);
    app.get("/api/jobs", &u.token)
        .await
        .assert_error(401, "unauthorized");
}

async fn admin_routes_need_the_token_and_report_the_cache(app: TestApp) {
    // Without ADMIN_TOKEN the routes do not exist.
    app.call(
        Method::GET,
        "/api/admin/cache/stats",
        Some("anything"),
        None,
    )
    .await
    .assert_error(404, "not_found");

    let db = flowats_db::testing::TestDb::share(&app.db);
    let token = "admin-token-admin-token";
    let app = TestApp::with_config(db, |c| {
        c.admin_token = Some(flowats_server::config::Secret::new(token))
    })
    .await;
    app.call(Method::GET, "/api/admin/cache/stats", None, None)
        .await
        .assert_error(401, "unauthorized");
    app.call(
        Method::GET,
        "/api/admin/cache/stats",
        Some("admin-token-admin-tokeX"),
        None,
    )
    .await
    .assert_error(401, "unauthorized");

    let u = app.register("a@example.com").await;
    app.get("/api/jobs", &u.token).await;
    app.get("/api/jobs", &u.token).await;
    let stats = app
        .call(Method::GET, "/api/admin/cache/stats", Some(token), None)
        .await;
    let s = stats.assert_status(200);
    assert_eq!(s["enabled"], true);
    assert!(s["local"]["hits"].as_u64().unwrap() >= 1, "{s}");
    assert!(
        s["local"]["keys"].as_u64().unwrap() >= 1 || s["local"]["bytes"].as_u64().unwrap() > 0,
        "{s}"
    );
    assert!(s["redis"].is_null());

    app.call(Method::POST, "/api/admin/cache/flush", Some(token), None)
        .await
        .assert_status(204);
    assert_eq!(app.get("/api/jobs", &u.token).await.cache(), "miss");
}
