//! The read replica against a real streaming standby (`scripts/replica`, 127.0.0.1:5433):
//! which reads it serves, read-your-writes, replay lag and a replica outage.
//!
//! Runs when `FLOWATS_TEST_REPLICA_URL` names the replica's copy of the database that
//! `FLOWATS_TEST_DATABASE_URL` names (e.g. `postgres://postgres@127.0.0.1:5433/flowats_ci`);
//! without it the test is skipped, except under `CI=true`, where it fails. It pauses and
//! stops that shared replica (and always resumes and restarts it), so it is one sequential
//! test.

use flowats_db::models::JobFields;
use flowats_db::replica::{ReplicaState, ReplicaStatus};
use flowats_db::testing::{self, TestDb};
use flowats_db::{Database, DbOptions};
use serde_json::json;
use std::future::Future;
use std::process::Command;
use std::time::{Duration, Instant};
use uuid::Uuid;

const REPLICA_URL_VAR: &str = "FLOWATS_TEST_REPLICA_URL";
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/replica");
const MAX_LAG: Duration = Duration::from_secs(1);

/// The replica's base URL, or `None` to skip; panics under `CI=true` when unset.
fn replica_url() -> Option<String> {
    match std::env::var(REPLICA_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but {REPLICA_URL_VAR} is not set: the replica test must run in CI")
        }
        _ => {
            eprintln!("skipping: {REPLICA_URL_VAR} is not set");
            None
        }
    }
}

/// Runs `scripts/replica <cmd>`; whether it succeeded.
fn run_script(cmd: &str) -> bool {
    let started = Instant::now();
    match Command::new(SCRIPT).arg(cmd).output() {
        Ok(out) => {
            eprintln!(
                "scripts/replica {cmd} ({:?}): {}{}",
                started.elapsed(),
                String::from_utf8_lossy(&out.stdout).trim_end(),
                String::from_utf8_lossy(&out.stderr).trim_end()
            );
            out.status.success()
        }
        Err(e) => {
            eprintln!("scripts/replica {cmd}: {e}");
            false
        }
    }
}

async fn script(cmd: &'static str) {
    let ok = tokio::task::spawn_blocking(move || run_script(cmd))
        .await
        .expect("scripts/replica task");
    assert!(ok, "scripts/replica {cmd} failed");
}

/// Leaves the shared replica running and replaying, whatever happened to the test.
#[derive(Default)]
struct Restore {
    paused: bool,
    stopped: bool,
}

impl Drop for Restore {
    fn drop(&mut self) {
        if self.stopped {
            run_script("start");
        }
        if self.paused {
            run_script("resume");
        }
    }
}

/// Polls `check` every 50 ms until it holds; panics after `timeout`. Returns how long it took.
async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            let took = started.elapsed();
            eprintln!("{what}: after {took:?}");
            return took;
        }
        assert!(
            started.elapsed() < timeout,
            "{what}: not within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn status(db: &Database) -> ReplicaStatus {
    db.ops.replica_status().expect("a replica is configured")
}

/// Acquires on the replica's pool so far (every read offered to it counts).
fn replica_reads(db: &Database) -> u64 {
    status(db).pool.acquired
}

async fn wait_for_state(db: &Database, want: ReplicaState, timeout: Duration) -> Duration {
    wait_for(&format!("replica state {want:?}"), timeout, || async {
        status(db).state == want
    })
    .await
}

/// `user`'s stats through `reader`, which must take them from the replica. Other writers
/// on the primary can make the checker see a moment of lag (its measure is the age of the
/// last replayed commit while WAL is still being applied), so a read that went to the
/// primary is tried again, up to three times, once the replica is Ok again.
async fn stats_from_replica(reader: &Database, user: Uuid) -> Vec<(String, i64)> {
    for attempt in 1..=3 {
        wait_for_state(reader, ReplicaState::Ok, Duration::from_secs(10)).await;
        let before = replica_reads(reader);
        let got = stats(reader, user).await;
        if replica_reads(reader) == before + 1 {
            return got;
        }
        eprintln!(
            "attempt {attempt}: job_stats went to the primary (replica now {:?})",
            status(reader)
        );
    }
    panic!("job_stats of a user who did not write here never went to the replica");
}

fn job(title: &str, status: &str) -> JobFields {
    serde_json::from_value(json!({"title": title, "company": "Acme", "status": status})).unwrap()
}

async fn user(db: &Database, email: &str) -> Uuid {
    db.users
        .create_user(email.into(), "Test".into(), "$argon2id$fake".into())
        .await
        .expect("create user")
        .id
}

/// The user's job counts per status, sorted.
async fn stats(db: &Database, user: Uuid) -> Vec<(String, i64)> {
    let mut stats: Vec<_> = db
        .jobs
        .job_stats(user)
        .await
        .expect("job stats")
        .into_iter()
        .map(|s| (s.status, s.count))
        .collect();
    stats.sort();
    stats
}

fn counts(want: &[(&str, i64)]) -> Vec<(String, i64)> {
    want.iter().map(|(s, n)| (s.to_string(), *n)).collect()
}

/// Waits until the replica itself (read directly) shows `want` for `user`.
async fn replicated(direct: &Database, user: Uuid, want: &[(&str, i64)]) {
    let want = counts(want);
    wait_for(
        "the replica to replay the writes",
        Duration::from_secs(10),
        || async {
            // An error means the schema has not reached the replica yet.
            direct.jobs.job_stats(user).await.is_ok_and(|got| {
                let mut got: Vec<_> = got.into_iter().map(|s| (s.status, s.count)).collect();
                got.sort();
                got == want
            })
        },
    )
    .await;
}

/// `base` with the same `options=-c search_path=<schema>` as the test database's URL.
fn with_schema_of(base: &str, primary: &TestDb) -> String {
    let marker = "search_path%3D";
    let at = primary.url.find(marker).expect("test URL names its schema") + marker.len();
    let schema: String = primary.url[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_serves_stale_reads_until_it_lags_or_fails() {
    let Some(replica_base) = replica_url() else {
        return;
    };
    let Some(writer) = testing::postgres().await else {
        return;
    };
    let started = Instant::now();
    let mut restore = Restore::default();
    // A stopped or paused replica (an earlier run that was killed) is brought back first.
    script("start").await;
    script("resume").await;

    let replica_url = with_schema_of(&replica_base, &writer);
    // The same schema read straight from the replica (never through a pooler, which leads
    // to the primary): what it has replayed so far.
    let direct = Database::connect(&replica_url, &testing::options())
        .await
        .expect("connect to the replica");
    // The handle under test: the primary plus the replica. `writer` (no replica) writes
    // for it, so its users have no recent write noted here.
    let reader = writer
        .reopen(|o: &mut DbOptions| {
            o.read_url = Some(replica_url.clone());
            o.read_max_lag = MAX_LAG;
        })
        .await;

    let a = user(&writer, "a@example.com").await;
    let b = user(&writer, "b@example.com").await;
    for (i, s) in ["applied", "applied", "interested"].iter().enumerate() {
        writer
            .jobs
            .create_job(a, job(&format!("A{i}"), s))
            .await
            .unwrap();
    }
    writer.jobs.create_job(b, job("B0", "offer")).await.unwrap();
    replicated(&direct, a, &[("applied", 2), ("interested", 1)]).await;
    replicated(&direct, b, &[("offer", 1)]).await;
    wait_for_state(&reader, ReplicaState::Ok, Duration::from_secs(10)).await;
    assert_eq!(status(&reader).routing, "replica");

    // (a) Users without a recent write here read from the replica.
    assert_eq!(
        stats_from_replica(&reader, a).await,
        counts(&[("applied", 2), ("interested", 1)])
    );
    assert_eq!(
        stats_from_replica(&reader, b).await,
        counts(&[("offer", 1)])
    );

    // (b) Read-your-writes: right after A writes through this handle, A reads from the
    // primary (and sees the write); B still reads from the replica.
    reader.jobs.create_job(a, job("A3", "offer")).await.unwrap();
    let a_wrote = Instant::now();
    let before = replica_reads(&reader);
    assert_eq!(
        stats(&reader, a).await,
        counts(&[("applied", 2), ("interested", 1), ("offer", 1)])
    );
    assert_eq!(
        replica_reads(&reader),
        before,
        "a user's reads stay on the primary right after their write"
    );
    assert_eq!(
        stats_from_replica(&reader, b).await,
        counts(&[("offer", 1)]),
        "B still reads the replica"
    );

    // (c) Lag: with replay paused, a write elsewhere leaves the replica behind; once the
    // lag is over the limit the reads go to the primary, which has the write.
    restore.paused = true;
    script("pause").await;
    writer.jobs.create_job(b, job("B1", "offer")).await.unwrap();
    let lagging = wait_for_state(&reader, ReplicaState::Lagging, Duration::from_secs(5)).await;
    // Not before the lag limit has passed: the lag counts from the unreplayed write.
    assert!(
        lagging >= MAX_LAG - Duration::from_millis(50),
        "lagging after {lagging:?}, before DATABASE_READ_MAX_LAG_MS ({MAX_LAG:?})"
    );
    assert_eq!(status(&reader).routing, "primary");
    assert_eq!(
        stats(&direct, b).await,
        counts(&[("offer", 1)]),
        "the paused replica has not replayed the write"
    );
    let before = replica_reads(&reader);
    assert_eq!(stats(&reader, b).await, counts(&[("offer", 2)]));
    assert_eq!(
        replica_reads(&reader),
        before,
        "a lagging replica serves no reads"
    );
    script("resume").await;
    restore.paused = false;
    wait_for_state(&reader, ReplicaState::Ok, Duration::from_secs(10)).await;
    assert_eq!(status(&reader).routing, "replica");
    replicated(&direct, b, &[("offer", 2)]).await;
    assert_eq!(
        stats_from_replica(&reader, b).await,
        counts(&[("offer", 2)]),
        "a replica caught up serves reads again"
    );

    // (d) Outage: reads answer from the primary, at once while the checker has not
    // noticed yet (the replica's acquire gives up quickly) and without trying the replica
    // once it is down.
    restore.stopped = true;
    script("stop").await;
    let t = Instant::now();
    assert_eq!(stats(&reader, b).await, counts(&[("offer", 2)]));
    let first = t.elapsed();
    eprintln!(
        "job_stats right after the replica stopped (state {:?}): {first:?}",
        status(&reader).state
    );
    assert!(first < Duration::from_secs(2), "took {first:?}");
    wait_for_state(&reader, ReplicaState::Down, Duration::from_secs(5)).await;
    let down = status(&reader);
    assert_eq!(down.routing, "primary");
    assert!(down.error.is_some(), "a down replica reports its error");
    let before = replica_reads(&reader);
    let t = Instant::now();
    assert_eq!(stats(&reader, b).await, counts(&[("offer", 2)]));
    let answered = t.elapsed();
    eprintln!("job_stats while the replica is down: {answered:?}");
    assert!(answered < Duration::from_secs(2), "took {answered:?}");
    assert_eq!(
        replica_reads(&reader),
        before,
        "a down replica is not tried"
    );

    script("start").await;
    restore.stopped = false;
    // A restarted standby measures its lag only once new WAL arrives from the primary:
    // keep writing (as a live primary does) until it reports Ok.
    let c = user(&writer, "c@example.com").await;
    let mut nudged = Instant::now() - Duration::from_secs(1);
    wait_for(
        "replica state Ok after the restart",
        Duration::from_secs(15),
        || {
            let due = nudged.elapsed() >= Duration::from_millis(500);
            if due {
                nudged = Instant::now();
            }
            let (writer, reader) = (&writer, &reader);
            async move {
                if due {
                    writer
                        .jobs
                        .create_job(c, job("C", "applied"))
                        .await
                        .unwrap();
                }
                status(reader).state == ReplicaState::Ok
            }
        },
    )
    .await;
    assert_eq!(status(&reader).routing, "replica");
    assert_eq!(
        stats_from_replica(&reader, b).await,
        counts(&[("offer", 2)]),
        "the restarted replica serves reads"
    );

    // The read-your-writes window (lag limit + 5 s) ends: A reads from the replica again.
    let window = MAX_LAG + flowats_db::replica::READ_YOUR_WRITES;
    if let Some(rest) = window.checked_sub(a_wrote.elapsed()) {
        tokio::time::sleep(rest + Duration::from_millis(100)).await;
    }
    replicated(
        &direct,
        a,
        &[("applied", 2), ("interested", 1), ("offer", 1)],
    )
    .await;
    assert_eq!(
        stats_from_replica(&reader, a).await,
        counts(&[("applied", 2), ("interested", 1), ("offer", 1)]),
        "the window has passed"
    );
    eprintln!("replica test took {:?}", started.elapsed());
}
