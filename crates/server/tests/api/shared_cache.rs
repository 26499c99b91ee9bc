//! The shared tier: instances coherent through Redis, and Redis failures survived.
//! Each test runs its own `redis-server` (see `redis_server.rs`).

use crate::helpers::{TestApp, User};
use crate::redis_server::RedisServer;
use flowats_db::testing::TestDb;
use serde_json::json;
use std::time::{Duration, Instant};

flowats_db::backend_tests!(
    two_instances_share_entries_and_see_each_others_writes,
    redis_killed_then_restarted,
    redis_paused_then_resumed,
);

const REDIS_TIMEOUT: Duration = Duration::from_millis(200);

pub async fn app_on(db: &TestDb, redis: &RedisServer) -> TestApp {
    let url = redis.url();
    let app = TestApp::with_config(TestDb::share(db), |c| {
        c.cache.redis_url = Some(url);
        c.cache.redis_timeout = REDIS_TIMEOUT;
    })
    .await;
    wait_for(|| app.state.cache.healthy(), "redis to connect").await;
    app
}

async fn wait_for(mut ok: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn job_of(app: &TestApp, u: &User) -> String {
    let job = app
        .create_job(u, json!({"title": "Dev", "company": "Acme"}))
        .await;
    format!("/api/jobs/{}", job["id"].as_str().unwrap())
}

async fn two_instances_share_entries_and_see_each_others_writes(db: TestDb) {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let a = app_on(&db, &redis).await;
    let b = app_on(&db, &redis).await;
    let u = a.register("a@example.com").await;
    let path = job_of(&a, &u).await;

    assert_eq!(a.get(&path, &u.token).await.cache(), "miss");
    let shared = b.get(&path, &u.token).await;
    assert_eq!(shared.cache(), "hit-l2", "B reads what A stored in Redis");
    assert_eq!(b.get(&path, &u.token).await.cache(), "hit-l1");

    // A writes, B reads: B must see each write within 100 ms.
    let mut worst = Duration::ZERO;
    for i in 0..200 {
        let note = format!("note {i}");
        a.patch(&path, &u.token, json!({ "notes": note }))
            .await
            .assert_status(200);
        let written = Instant::now();
        loop {
            let r = b.get(&path, &u.token).await;
            if r.body["notes"] == note.as_str() {
                break;
            }
            assert!(
                written.elapsed() < Duration::from_millis(100),
                "B still stale after 100 ms at {i}"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        worst = worst.max(written.elapsed());
    }
    eprintln!("two instances in one process: worst write-to-read lag over 200 pairs: {worst:?}");
    let stats = b.state.cache.stats_with_server().await;
    let redis_stats = stats.redis.expect("redis tier");
    assert!(redis_stats.hits >= 1, "{redis_stats:?}");
    assert!(redis_stats.server.expect("server figures").keys > 0);
    // The writer itself never reads its old value.
    a.patch(&path, &u.token, json!({"notes": "mine"})).await;
    assert_eq!(a.get(&path, &u.token).await.body["notes"], "mine");
}

/// Redis killed: requests keep being answered from the database, quickly, the cache says
/// it is degraded, and when Redis is back the tier recovers by itself and nothing written
/// meanwhile is served stale.
async fn redis_killed_then_restarted(db: TestDb) {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let app = app_on(&db, &redis).await;
    let u = app.register("a@example.com").await;
    let path = job_of(&app, &u).await;
    app.get(&path, &u.token).await;
    assert_eq!(app.get(&path, &u.token).await.cache(), "hit-l1");

    redis.kill();
    for i in 0..20 {
        let started = Instant::now();
        let note = format!("offline {i}");
        app.patch(&path, &u.token, json!({ "notes": note }))
            .await
            .assert_status(200);
        let r = app.get(&path, &u.token).await;
        assert_eq!(
            r.body["notes"],
            note.as_str(),
            "never stale while Redis is down"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "a request waited {:?}",
            started.elapsed()
        );
    }
    assert!(
        !app.state.cache.healthy(),
        "the cache reports itself degraded"
    );
    let ready = app
        .call(axum::http::Method::GET, "/api/health/ready", None, None)
        .await;
    assert_eq!(ready.assert_status(200)["checks"]["cache"], "degraded");
    assert_eq!(app.state.cache.stats().redis.unwrap().status, "down");

    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = app.get(&path, &u.token).await;
        assert_eq!(r.body["notes"], "offline 19");
        if r.cache() == "hit-l1" || r.cache() == "hit-l2" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the cache never recovered: {}",
            r.cache()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(app.state.cache.healthy());
    app.patch(&path, &u.token, json!({"notes": "back"})).await;
    assert_eq!(app.get(&path, &u.token).await.body["notes"], "back");
}

/// Redis frozen (SIGSTOP): no request hangs much past the Redis deadline.
async fn redis_paused_then_resumed(db: TestDb) {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let app = app_on(&db, &redis).await;
    let u = app.register("a@example.com").await;
    let path = job_of(&app, &u).await;
    app.get(&path, &u.token).await;

    redis.pause();
    let mut slowest = Duration::ZERO;
    for i in 0..20 {
        let started = Instant::now();
        let note = format!("paused {i}");
        app.patch(&path, &u.token, json!({ "notes": note }))
            .await
            .assert_status(200);
        let r = app.get(&path, &u.token).await;
        assert_eq!(r.body["notes"], note.as_str());
        slowest = slowest.max(started.elapsed());
    }
    eprintln!(
        "slowest write+read pair with Redis paused: {slowest:?} (deadline {REDIS_TIMEOUT:?})"
    );
    assert!(
        slowest < REDIS_TIMEOUT * 4 + Duration::from_millis(500),
        "{slowest:?}"
    );
    assert!(!app.state.cache.healthy());

    redis.resume();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = app.get(&path, &u.token).await;
        assert_eq!(r.body["notes"], "paused 19");
        if r.cache().starts_with("hit") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the cache never recovered: {}",
            r.cache()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(app.state.cache.healthy());
}
