//! Two real `flowats serve` processes on one PostgreSQL and one Redis: a write through
//! instance A is seen by a read through instance B within 100 ms, over 1,000 pairs.

use crate::helpers::SECRET;
use crate::redis_server::{RedisServer, free_port};
use flowats_db::testing::TestDb;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct ServerProcess {
    child: Child,
    base: String,
}

impl ServerProcess {
    async fn start(db: &TestDb, redis_url: &str) -> ServerProcess {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_flowats"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &db.url)
            .envs(db.env.iter().map(|(k, v)| (*k, v)))
            .env("REDIS_URL", redis_url)
            .env("JWT_SECRET", SECRET)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .env("AUTH_RATE_LIMIT_IP", "0")
            .env("AUTH_RATE_LIMIT_EMAIL", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start flowats");
        let server = ServerProcess {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let http = crate::helpers::http();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = http
                .get(format!("{}/api/health/ready", server.base))
                .send()
                .await;
            if ready.is_ok_and(|r| r.status() == 200) {
                break;
            }
            assert!(Instant::now() < deadline, "flowats did not become ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
