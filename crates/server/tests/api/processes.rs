//! Two real `flowats serve` processes on one PostgreSQL and one Redis: a write through
//! instance A is seen by a read through instance B within 100 ms, over 1,000 pairs.

use crate::redis_server::RedisServer;
use crate::server_process::ServerProcess;
use flowats_db::testing::TestDb;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

impl ServerProcess {
    async fn start(db: &TestDb, redis_url: &str) -> ServerProcess {
        let mut env: Vec<(&str, String)> = db.env.clone();
        env.push(("DATABASE_URL", db.url.clone()));
        env.push(("REDIS_URL", redis_url.to_owned()));
        ServerProcess::spawn(&env).await
    }
}

#[tokio::test]
async fn two_server_processes_see_each_others_writes_within_100ms() {
    let Some(db) = flowats_db::testing::postgres().await else {
        return;
    };
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let a = ServerProcess::start(&db, &redis.url()).await;
    let b = ServerProcess::start(&db, &redis.url()).await;
    let http = crate::helpers::http();

    let auth: Value = http
        .post(format!("{}/api/auth/register", a.base))
        .json(&json!({"email": "pair@example.com", "password": "password123", "name": "P"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = auth["token"].as_str().unwrap().to_owned();
    let job: Value = http
        .post(format!("{}/api/jobs", a.base))
        .bearer_auth(&token)
        .json(&json!({"title": "Dev", "company": "Acme"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = format!("/api/jobs/{}", job["id"].as_str().unwrap());

    let mut lags = Vec::with_capacity(1_000);
    let mut cached_reads = 0;
    for i in 0..1_000 {
        let note = format!("note {i}");
        let r = http
            .patch(format!("{}{path}", a.base))
            .bearer_auth(&token)
            .json(&json!({ "notes": note }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let written = Instant::now();
        loop {
            let r = http
                .get(format!("{}{path}", b.base))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            let hit = r
                .headers()
                .get("x-cache")
                .is_some_and(|v| v.to_str().unwrap_or("").starts_with("hit"));
            let body: Value = r.json().await.unwrap();
            if body["notes"] == note.as_str() {
                cached_reads += usize::from(hit);
                break;
            }
            assert!(
                written.elapsed() < Duration::from_millis(100),
                "B still stale 100 ms after write {i}"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        lags.push(written.elapsed());
    }
    lags.sort();
    eprintln!(
        "two processes, 1000 write/read pairs: median lag {:?}, p99 {:?}, worst {:?} ({cached_reads} reads from cache)",
        lags[500], lags[990], lags[999]
    );
    // Reads after convergence are served from the shared cache, not only the database.
    let again = http
        .get(format!("{}{path}", b.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.headers()["x-cache"], "hit-l1");
}
