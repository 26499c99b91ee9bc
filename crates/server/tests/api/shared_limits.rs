//! Sign-in and admin-token limits held by the whole deployment: two instances sharing one
//! Redis (a private `redis-server`) cannot together exceed a budget; with Redis paused or
//! gone each instance still enforces its own, within the Redis deadline; wrong admin tokens
//! are limited; a trivially weak `ADMIN_TOKEN` is refused at start.
//! The limits do not depend on the database backend: SQLite.

use crate::abuse::{assert_limited, login, sign_in};
use crate::helpers::{Resp, TestApp};
use crate::redis_server::RedisServer;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, header};
use flowats_db::testing::TestDb;
use flowats_server::config::{Config, Secret};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const ADMIN: &str = "9e4b7c2a1f6d3e8b0a5c9f2e7d4b1a6c5f0e3d8c";
/// Catches a hang on Redis; a working server answers within the Redis deadline (200 ms).
const NO_HANG: Duration = Duration::from_secs(2);

/// An instance on `db` sharing `redis_url`, once its limits reach Redis.
pub async fn instance(
    db: &TestDb,
    redis_url: &str,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    let url = redis_url.to_owned();
    let app = TestApp::with_config(TestDb::share(db), |c| {
        c.cache.redis_url = Some(url);
        c.cache.redis_timeout = Duration::from_millis(200);
        c.admin_token = Some(Secret::new(ADMIN));
        configure(c);
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while app.state.auth_limits.shared_up() != Some(true) {
        assert!(Instant::now() < deadline, "limits never reached Redis");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app
}

async fn admin_call(app: &TestApp, peer: &str, token: &str) -> Resp {
    let mut req = Request::get("/api/admin/cache/stats")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let peer: SocketAddr = format!("{peer}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    app.send(req).await
}

fn statuses(answers: &[Resp]) -> Vec<u16> {
    answers.iter().map(|r| r.status.as_u16()).collect()
}

#[tokio::test]
async fn two_instances_share_one_budget_per_address_email_and_admin() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let db = flowats_db::testing::sqlite().await;
    let limits = |c: &mut Config| {
        c.guard.auth_per_ip = 4;
        c.guard.auth_per_email = 3;
        c.guard.admin_per_ip = 2;
    };
    let (a, b) = (
        instance(&db, &redis.url(), limits).await,
        instance(&db, &redis.url(), limits).await,
    );
    // One address, alternating instances: 4 attempts in all, not 4 each.
    let mut answers = Vec::new();
    for i in 0..8 {
        let app = if i % 2 == 0 { &a } else { &b };
        let email = format!("u{i}@example.com");
        answers.push(sign_in(app, "/api/auth/login", "192.0.2.1", None, login(&email)).await);
    }
    assert_eq!(statuses(&answers), [401, 401, 401, 401, 429, 429, 429, 429]);
    assert_limited(&answers[4], "address");

    // One email from many addresses, across instances: 3 in all.
    let mut answers = Vec::new();
    for i in 0..6 {
        let app = if i % 2 == 0 { &a } else { &b };
        let peer = format!("198.51.100.{i}");
        answers.push(
            sign_in(
                app,
                "/api/auth/login",
                &peer,
                None,
                login("victim@example.com"),
            )
            .await,
        );
    }
    assert_eq!(statuses(&answers), [401, 401, 401, 429, 429, 429]);
    assert_limited(&answers[3], "email");

    // Wrong admin tokens: 2 in all; then even the right one waits, on both instances.
    let wrong = "0".repeat(40);
    assert_eq!(admin_call(&a, "203.0.113.9", &wrong).await.status, 401);
    assert_eq!(admin_call(&b, "203.0.113.9", &wrong).await.status, 401);
    assert_limited(&admin_call(&a, "203.0.113.9", &wrong).await, "admin");
    assert_limited(&admin_call(&b, "203.0.113.9", ADMIN).await, "admin");
    assert_eq!(admin_call(&b, "203.0.113.10", ADMIN).await.status, 200);
}

#[tokio::test]
async fn with_redis_paused_or_gone_each_instance_keeps_its_own_limit_without_hanging() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let db = flowats_db::testing::sqlite().await;
    let limits = |c: &mut Config| c.guard.auth_per_ip = 3;
    let (a, b) = (
        instance(&db, &redis.url(), limits).await,
        instance(&db, &redis.url(), limits).await,
    );
    for _ in 0..3 {
        sign_in(
            &a,
            "/api/auth/login",
            "192.0.2.7",
            None,
            login("x@example.com"),
        )
        .await
        .assert_error(401, "unauthorized");
    }
    // Shared: B knows what A spent.
    assert_limited(
        &sign_in(
            &b,
            "/api/auth/login",
            "192.0.2.7",
            None,
            login("x@example.com"),
        )
        .await,
        "address",
    );

    // Frozen Redis (SIGSTOP), then a dead one: each answer comes within the deadline, and
    // B's own limit (3 a minute) still applies.
    for (phase, peer) in [("paused", "192.0.2.8"), ("killed", "192.0.2.9")] {
        if phase == "paused" {
            redis.pause();
        } else {
            redis.resume();
            redis.kill();
        }
        let mut answers = Vec::new();
        for _ in 0..5 {
            let started = Instant::now();
            answers.push(sign_in(&b, "/api/auth/login", peer, None, login("y@example.com")).await);
            assert!(
                started.elapsed() < NO_HANG,
                "{phase}: waited {:?}",
                started.elapsed()
            );
        }
        assert_eq!(statuses(&answers), [401, 401, 401, 429, 429], "{phase}");
        assert_limited(&answers[3], "address");
        assert_eq!(b.state.auth_limits.shared_up(), Some(false), "{phase}");
    }
}

#[tokio::test]
async fn wrong_admin_tokens_get_429_after_the_budget_even_for_the_right_token() {
    let app = TestApp::with_config(flowats_db::testing::sqlite().await, |c| {
        c.admin_token = Some(Secret::new(ADMIN));
        c.guard.admin_per_ip = 3;
    })
    .await;
    // The operator's own calls spend nothing.
    for _ in 0..10 {
        assert_eq!(admin_call(&app, "198.51.100.5", ADMIN).await.status, 200);
    }
    let tokens: Vec<String> = (0..6).map(|i| format!("guess-{i}")).collect();
    let guesses: Vec<Resp> =
        futures_util::future::join_all(tokens.iter().map(|t| admin_call(&app, "198.51.100.6", t)))
            .await;
    let mut seen = statuses(&guesses);
    seen.sort_unstable();
    assert_eq!(seen, [401, 401, 401, 429, 429, 429]);
    let limited = guesses.iter().find(|r| r.status == 429).unwrap();
    assert_limited(limited, "admin");
    // A right guess now looks like a wrong one; the operator elsewhere is served.
    assert_limited(&admin_call(&app, "198.51.100.6", ADMIN).await, "admin");
    assert_eq!(admin_call(&app, "198.51.100.5", ADMIN).await.status, 200);
}

/// `flowats config` (the same parsing as `serve`) with `env` on a clean environment.
pub fn flowats_config(env: &[(&str, &str)]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_flowats"))
        .arg("config")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .output()
        .expect("run flowats config")
}

#[test]
fn a_trivially_weak_admin_token_stops_the_start() {
    for weak in [
        "a".repeat(48),
        "admin".repeat(8),
        "short-admin-token".to_owned(),
    ] {
        let out = flowats_config(&[("ADMIN_TOKEN", &weak)]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{weak}: {stderr}");
        assert!(
            stderr.contains("ADMIN_TOKEN") && stderr.contains("too weak"),
            "{stderr}"
        );
        assert!(!stderr.contains(&weak), "the token was echoed: {stderr}");
    }
    let out = flowats_config(&[("ADMIN_TOKEN", ADMIN)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ADMIN_TOKEN=*** (set)\n"), "{stdout}");
    assert!(stdout.contains("ADMIN_RATE_LIMIT=10\n"), "{stdout}");
}
