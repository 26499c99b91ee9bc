//! Backpressure from the database: an exhausted pool and a statement past its timeout end
//! in a fast 503 with `Retry-After`, never a hang, and concurrent writes queue instead of
//! failing.

use crate::helpers::TestApp;
use flowats_db::testing::{self, TestDb};
use serde_json::json;
use sqlx::Connection;
use std::sync::Arc;
use std::time::{Duration, Instant};

crate::on_both_backends!(two_hundred_concurrent_creations_all_land);

/// Another session locks the job's row, so the server's `SELECT … FOR UPDATE` of it (in
/// `PATCH /api/jobs/{id}`) waits for as long as the lock is held.
async fn lock_job(db: &TestDb, job: &str) -> sqlx::PgConnection {
    let mut conn = sqlx::PgConnection::connect(&db.url)
        .await
        .expect("lock session");
    sqlx::raw_sql("BEGIN").execute(&mut conn).await.unwrap();
    sqlx::query("SELECT 1 FROM jobs WHERE id = CAST($1 AS UUID) FOR UPDATE")
        .bind(job)
        .execute(&mut conn)
        .await
        .expect("lock the job row");
    conn
}

/// Waits until a server session is blocked by the lock `lock` holds.
async fn wait_until_blocked(lock: &mut sqlx::PgConnection) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let blocked: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))",
        )
        .fetch_one(&mut *lock)
        .await
        .unwrap();
        if blocked > 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no session waited for the row lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn postgres_pool_exhaustion_answers_503_within_the_connection_timeout() {
    let Some(base) = testing::postgres().await else {
        return;
    };
    let db = base
        .reopen(|o| {
            o.max_connections = 1;
            o.acquire_timeout = Duration::from_millis(300);
            o.statement_timeout = Duration::from_secs(30);
        })
        .await;
    let app = Arc::new(TestApp::with_config(db, |c| c.cache.enabled = false).await);
    let user = app.register("a@example.com").await;
    let job = app
        .create_job(&user, json!({"title": "Engineer", "company": "Acme"}))
        .await;
    let id = job["id"].as_str().unwrap().to_owned();

    let mut lock = lock_job(&base, &id).await;
    let patch = {
        let (app, token, id) = (app.clone(), user.token.clone(), id.clone());
        tokio::spawn(async move {
            app.patch(
                &format!("/api/jobs/{id}"),
                &token,
                json!({"status": "applied"}),
            )
            .await
        })
    };
    // The PATCH holds the pool's only connection while it waits for the row.
    wait_until_blocked(&mut lock).await;
    let ops = app.state.db.ops.clone();

    let started = Instant::now();
    let r = app.get("/api/jobs", &user.token).await;
    let took = started.elapsed();
    r.assert_error(503, "db_pool_timeout");
    assert_eq!(r.headers["retry-after"], "1");
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "503 after {took:?}; DB_CONNECTION_TIMEOUT is 300 ms"
    );
    let status = &ops.pool_status()[0];
    assert!(status.timeouts >= 1, "{status:?}");
    assert_eq!(status.utilization, 100.0);
    assert_eq!(status.status, flowats_db::pool::PoolHealth::Critical);

    // Once the row is free the waiting PATCH finishes, and the pool serves again.
    sqlx::raw_sql("ROLLBACK").execute(&mut lock).await.unwrap();
    let patched = patch.await.unwrap();
    assert_eq!(patched.assert_status(200)["status"], "applied");
    // (An offset page lists and counts on one connection: a store call that held one
    // connection while waiting for another would time out here with a pool of one.)
    let list = app.get("/api/jobs", &user.token).await;
    assert_eq!(list.assert_status(200)["pagination"]["totalItems"], 1);
    assert_eq!(ops.pool_status()[0].waiting, 0);
}

#[tokio::test]
async fn postgres_statement_timeout_cancels_the_query_and_answers_503() {
    let Some(base) = testing::postgres().await else {
        return;
    };
    let db = base
        .reopen(|o| o.statement_timeout = Duration::from_millis(300))
        .await;
    let app = TestApp::with_config(db, |c| c.cache.enabled = false).await;
    let user = app.register("a@example.com").await;
    let job = app
        .create_job(&user, json!({"title": "Engineer", "company": "Acme"}))
        .await;
    let id = job["id"].as_str().unwrap().to_owned();

    let mut lock = lock_job(&base, &id).await;
    let started = Instant::now();
    // The PATCH's `SELECT … FOR UPDATE` waits for the row until the server cancels it.
    let r = app
        .patch(
            &format!("/api/jobs/{id}"),
            &user.token,
            json!({"status": "applied"}),
        )
        .await;
    let took = started.elapsed();
    r.assert_error(503, "db_statement_timeout");
    assert!(r.headers.contains_key("retry-after"));
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "503 after {took:?}; DB_STATEMENT_TIMEOUT is 300 ms"
    );
    sqlx::raw_sql("ROLLBACK").execute(&mut lock).await.unwrap();
    // The cancelled unit ran past DB_SLOW_QUERY_MS (200 ms) and was counted (and logged).
    let status = &app.state.db.ops.pool_status()[0];
    assert!(status.slow_queries >= 1, "{status:?}");

    // Nothing was written by the cancelled request, and the same PATCH now succeeds.
    let events = app
        .get(&format!("/api/jobs/{id}/events"), &user.token)
        .await;
    assert_eq!(
        events.assert_status(200)["data"].as_array().unwrap().len(),
        1
    );
    let r = app
        .patch(
            &format!("/api/jobs/{id}"),
            &user.token,
            json!({"status": "applied"}),
        )
        .await;
    assert_eq!(r.assert_status(200)["status"], "applied");
}

/// SQLite has one writer: concurrent writes wait their turn rather than fail with
/// "database is locked"; PostgreSQL queues them on its pool.
async fn two_hundred_concurrent_creations_all_land(app: TestApp) {
    let app = Arc::new(app);
    let user = app.register("a@example.com").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let (app, token) = (app.clone(), user.token.clone());
        tasks.spawn(async move {
            app.post(
                "/api/jobs",
                &token,
                json!({"title": format!("Job {i}"), "company": "Acme"}),
            )
            .await
        });
    }
    let mut statuses = std::collections::BTreeMap::new();
    while let Some(r) = tasks.join_next().await {
        let r = r.unwrap();
        *statuses.entry(r.status.as_u16()).or_insert(0) += 1;
    }
    assert_eq!(statuses, [(201, 200)].into(), "every creation answered 201");
    let list = app.get("/api/jobs?limit=1", &user.token).await;
    assert_eq!(list.assert_status(200)["pagination"]["totalItems"], 200);
    let stats = app.get("/api/jobs/stats", &user.token).await;
    assert_eq!(stats.assert_status(200)["by_status"]["interested"], 200);
}
