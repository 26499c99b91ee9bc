//! Redis restarts under traffic: after a restart that loads an older snapshot, and after a
//! kill and restart that loses everything, no read returns data older than a write that
//! was acknowledged. A ledger keeps the last acknowledged value; every read is checked
//! against it.

use crate::helpers::{TestApp, User};
use crate::redis_server::RedisServer;
use crate::shared_cache::app_on;
use flowats_db::testing::TestDb;
use serde_json::json;
use std::time::{Duration, Instant};

flowats_db::backend_tests!(no_stale_read_across_a_redis_snapshot_restore_or_a_kill,);

const TRAFFIC: Duration = Duration::from_millis(2_500);

/// The last acknowledged write and the reads checked against it.
struct Ledger<'a> {
    app: &'a TestApp,
    user: &'a User,
    path: String,
    id: String,
    acknowledged: String,
    reads: u32,
    stale: Vec<String>,
    sources: std::collections::BTreeMap<String, u32>,
}

impl<'a> Ledger<'a> {
    async fn new(app: &'a TestApp, user: &'a User) -> Ledger<'a> {
        let job = app
            .create_job(
                user,
                json!({"title": "Dev", "company": "Acme", "notes": "w0"}),
            )
            .await;
        let id = job["id"].as_str().unwrap().to_owned();
        Ledger {
            app,
            user,
            path: format!("/api/jobs/{id}"),
            id,
            acknowledged: "w0".into(),
            reads: 0,
            stale: Vec::new(),
            sources: Default::default(),
        }
    }

    async fn write(&mut self, value: String) {
        let body = json!({ "notes": value });
        let r = self.app.patch(&self.path, &self.user.token, body).await;
        r.assert_status(200);
        self.acknowledged = value;
    }

    /// Reads the job and the list, and records any answer older than the ledger.
    async fn read(&mut self) {
        let token = &self.user.token;
        let one = self.app.get(&self.path, token).await;
        let list = self.app.get("/api/jobs", token).await;
        let in_list = list.body["data"]
            .as_array()
            .and_then(|jobs| jobs.iter().find(|j| j["id"] == self.id.as_str()))
            .map(|j| j["notes"].clone());
        for (what, seen, source) in [
            (
                "job",
                Some(one.body["notes"].clone()),
                one.cache().to_owned(),
            ),
            ("list", in_list, list.cache().to_owned()),
        ] {
            self.reads += 1;
            *self.sources.entry(source.clone()).or_default() += 1;
            if seen.as_ref().and_then(|v| v.as_str()) != Some(self.acknowledged.as_str()) {
                self.stale.push(format!(
                    "{what}: {seen:?} ({source}) after {:?} was acknowledged",
                    self.acknowledged
                ));
            }
        }
    }

    /// Write-then-read for `how_long`, then reads alone for `then_read` (long enough for
    /// every copy of a generation to be fetched again).
    async fn traffic(&mut self, tag: &str, how_long: Duration, then_read: Duration) {
        let started = Instant::now();
        let mut i = 0;
        while started.elapsed() < how_long {
            i += 1;
            self.write(format!("{tag} {i}")).await;
            self.read().await;
        }
        let started = Instant::now();
        while started.elapsed() < then_read {
            self.read().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Runs `during` on a thread half a second into the ledger's traffic (write-then-read for
/// `writes`, then reads alone), and gives the server back.
async fn with_traffic(
    ledger: &mut Ledger<'_>,
    tag: &str,
    writes: Duration,
    mut redis: RedisServer,
    during: impl FnOnce(&mut RedisServer) + Send + 'static,
) -> RedisServer {
    let thread = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        during(&mut redis);
        redis
    });
    ledger
        .traffic(tag, writes, Duration::from_millis(2_500))
        .await;
    thread.join().expect("redis thread")
}

async fn no_stale_read_across_a_redis_snapshot_restore_or_a_kill(db: TestDb) {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let app = app_on(&db, &redis).await;
    let u = app.register("a@example.com").await;
    let mut ledger = Ledger::new(&app, &u).await;

    // (a) A snapshot is taken while the cache holds w0; later writes are acknowledged;
    // Redis comes back from the snapshot, with the older generations and entries, while
    // only reads arrive; then again under write-then-read traffic.
    ledger.read().await;
    ledger.read().await;
    redis.save();
    ledger.write("after the snapshot".into()).await;
    ledger.read().await;
    ledger.read().await;
    let redis = with_traffic(&mut ledger, "-", Duration::ZERO, redis, |r| r.restart()).await;
    assert!(app.state.cache.healthy(), "the cache recovered");
    ledger.read().await;
    redis.save();
    let redis = with_traffic(&mut ledger, "restored", TRAFFIC, redis, |r| r.restart()).await;

    // (b) Redis killed and restarted empty under continuous write-then-read traffic.
    let redis = with_traffic(&mut ledger, "killed", TRAFFIC, redis, |r| {
        r.kill();
        std::thread::sleep(Duration::from_millis(300));
        r.restart_empty();
    })
    .await;
    assert!(app.state.cache.healthy(), "the cache recovered");
    drop(redis);

    eprintln!(
        "{} reads checked, by x-cache: {:?}",
        ledger.reads, ledger.sources
    );
    assert!(
        ledger.sources.keys().any(|s| s.starts_with("hit")),
        "the cache served hits: {:?}",
        ledger.sources
    );
    assert!(
        ledger.stale.is_empty(),
        "{} stale reads of {}: {:#?}",
        ledger.stale.len(),
        ledger.reads,
        ledger.stale
    );
}
