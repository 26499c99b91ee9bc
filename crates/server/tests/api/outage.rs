//! Recovery: PostgreSQL, or the PgBouncer in front of it, goes away under load and comes
//! back. During the outage requests fail fast with 503; afterwards they succeed again
//! without restarting the server, and no dead connection is handed out.

use crate::helpers::TestApp;
use crate::pg_private::{PrivateBouncer, PrivatePg};
use flowats_db::testing::{self, TestDb};
use flowats_db::{DbOptions, PoolMode};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Far longer than any answer during the outage may take: the fast failure comes from
/// the outage watchdog, not from waiting out the acquire timeout.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(20);
/// The slowest answer allowed while the database is away.
const FAST: Duration = Duration::from_secs(3);

fn options() -> DbOptions {
    DbOptions {
        max_connections: 4,
        acquire_timeout: ACQUIRE_TIMEOUT,
        ..DbOptions::default()
    }
}

#[derive(Debug)]
struct Sample {
    at: Duration,
    status: u16,
    code: String,
    took: Duration,
}

/// Four clients listing jobs in a loop until `stop`; returns every answer.
fn load(
    app: &Arc<TestApp>,
    token: &str,
    stop: &Arc<AtomicBool>,
    t0: Instant,
) -> tokio::task::JoinSet<Vec<Sample>> {
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (app, token, stop) = (app.clone(), token.to_owned(), stop.clone());
        clients.spawn(async move {
            let mut samples = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let r = app.get("/api/jobs", &token).await;
                samples.push(Sample {
                    at: started - t0,
                    status: r.status.as_u16(),
                    code: r.body["error"]["code"].as_str().unwrap_or("").to_owned(),
                    took: started.elapsed(),
                });
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            samples
        });
    }
    clients
}

/// Runs the load, calls `outage` (which takes the service away and brings it back, and
/// returns when it is back), keeps the load on for a few seconds, and checks the answers.
async fn survives(app: TestApp, outage: impl AsyncFnOnce()) {
    let app = Arc::new(app);
    let user = app.register("a@example.com").await;
    app.create_job(
        &user,
        serde_json::json!({"title": "Engineer", "company": "Acme"}),
    )
    .await;
    let stop = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let clients = load(&app, &user.token, &stop, t0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let down_at = t0.elapsed();
    outage().await;
    let back_at = t0.elapsed();
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, Ordering::Relaxed);
    let samples: Vec<Sample> = clients.join_all().await.into_iter().flatten().collect();

    let mut by_code = BTreeMap::new();
    for s in &samples {
        *by_code.entry((s.status, s.code.clone())).or_insert(0) += 1;
    }
    eprintln!("outage {down_at:?}..{back_at:?}: answers {by_code:?}");
    for s in &samples {
        assert!(
            s.status == 200 || (s.status == 503 && s.code.starts_with("db_")),
            "unexpected answer {s:?}"
        );
        assert!(
            s.took < FAST,
            "an answer took {:?} during the outage: {s:?}",
            s.took
        );
    }
    assert!(
        samples.iter().any(|s| s.status == 503),
        "the outage was never seen: {by_code:?}"
    );
    // Recovered by itself: every request started a second after the service came back
    // succeeds (no dead connection handed out).
    let late: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.at > back_at + Duration::from_secs(1))
        .collect();
    assert!(
        late.len() > 10,
        "too few requests after recovery: {}",
        late.len()
    );
    if let Some(bad) = late.iter().find(|s| s.status != 200) {
        panic!("after recovery: {bad:?}; answers {by_code:?}");
    }
}

#[tokio::test]
async fn postgres_restart_under_load_fails_fast_and_recovers() {
    if testing::postgres_url().is_none() {
        return;
    }
    let Some(pg) = PrivatePg::start() else {
        return;
    };
    let db = TestDb::connect(&pg.url(), options()).await;
    let app = TestApp::with_config(db, |c| c.cache.enabled = false).await;
    survives(app, async || {
        pg.down();
        tokio::time::sleep(Duration::from_secs(2)).await;
        pg.up();
    })
    .await;
}

#[tokio::test]
async fn postgres_pgbouncer_restart_under_load_fails_fast_and_recovers() {
    if testing::postgres_url().is_none() {
        return;
    }
    let Some(pg) = PrivatePg::start() else {
        return;
    };
    let Some(mut bouncer) = PrivateBouncer::start(pg.port) else {
        return;
    };
    let db = TestDb::connect(
        &pg.url(),
        DbOptions {
            pool_mode: PoolMode::PgBouncer,
            pooler_url: Some(bouncer.url("postgres")),
            ..options()
        },
    )
    .await;
    let app = TestApp::with_config(db, |c| c.cache.enabled = false).await;
    survives(app, async || {
        bouncer.down();
        tokio::time::sleep(Duration::from_secs(2)).await;
        bouncer.up();
    })
    .await;
    drop(pg);
}
