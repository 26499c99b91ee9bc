//! Faults survived: each test runs the load of `ledger.rs` against a real `flowats serve`
//! process while one thing goes wrong — Redis killed or paused, PostgreSQL or PgBouncer
//! restarted, the pool exhausted by a lock held past `DB_CONNECTION_TIMEOUT`, SQLite's disk
//! full, SIGTERM — and then checks the books: only clean 503s during the fault, no hang,
//! nothing answered 201 missing from the database, recovery without a restart. Each prints
//! a `FAULT {json}` line; `FLOWATS_FAULT_SECS` makes the runs longer (`scripts/faults`).

use crate::ledger::{self, Fault, Load, Rules};
use crate::pg_private::{PrivateBouncer, PrivatePg};
use crate::redis_server::RedisServer;
use crate::server_process::ServerProcess;
use flowats_db::testing;
use serde_json::json;
use sqlx::Connection;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use tokio::task::block_in_place;
use tokio::time::sleep;

/// A server on a SQLite file in `dir`, with `env` on top.
async fn sqlite_server(dir: &Path, env: &[(&'static str, String)]) -> (ServerProcess, PathBuf) {
    let file = dir.join("flowats.db");
    let mut all = ledger::server_env();
    all.push(("DATABASE_URL", format!("sqlite://{}", file.display())));
    all.extend_from_slice(env);
    (ServerProcess::spawn(&all).await, file)
}

async fn postgres_server(url: &str, env: &[(&'static str, String)]) -> ServerProcess {
    let mut all = ledger::server_env();
    all.push(("DATABASE_URL", url.to_owned()));
    all.extend_from_slice(env);
    ServerProcess::spawn(&all).await
}

/// Runs the load on `server`: the phases' first part, `apply` (which starts the fault),
/// the fault's part, `remove`, the last part. Returns the run and the fault's times.
async fn under_fault(
    name: &'static str,
    server: &ServerProcess,
    apply: impl AsyncFnOnce(),
    remove: impl AsyncFnOnce(),
) -> (ledger::Run, Fault) {
    let p = ledger::phases();
    let load = Load::start(&server.base).await;
    sleep(p.before).await;
    let start = load.at();
    apply().await;
    sleep(p.fault).await;
    remove().await;
    let removed = load.at();
    sleep(p.after).await;
    let run = load.finish().await;
    (
        run,
        Fault {
            name,
            start,
            removed: Some(removed),
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fault_redis_killed_and_restarted() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (server, file) = sqlite_server(dir.path(), &[("REDIS_URL", redis.url())]).await;
    let redis = std::sync::Mutex::new(&mut redis);
    let (run, fault) = under_fault(
        "redis_killed",
        &server,
        async || block_in_place(|| redis.lock().unwrap().kill()),
        async || block_in_place(|| redis.lock().unwrap().restart()),
    )
    .await;
    drop(server);
    let ids = ledger::sqlite_ids(&file).await;
    run.check(&fault, &Rules::visible(), &ids, json!({}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fault_redis_paused_and_resumed() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (server, file) = sqlite_server(dir.path(), &[("REDIS_URL", redis.url())]).await;
    let (run, fault) = under_fault(
        "redis_paused",
        &server,
        async || redis.pause(),
        async || redis.resume(),
    )
    .await;
    drop(server);
    let ids = ledger::sqlite_ids(&file).await;
    run.check(&fault, &Rules::visible(), &ids, json!({}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fault_postgres_restarted() {
    if testing::postgres_url().is_none() {
        return;
    }
    let Some(pg) = PrivatePg::start() else {
        return;
    };
    let server = postgres_server(&pg.url(), &[]).await;
    let (run, fault) = under_fault(
        "postgres_restarted",
        &server,
        async || block_in_place(|| pg.down()),
        async || block_in_place(|| pg.up()),
    )
    .await;
    drop(server);
    let ids = ledger::postgres_ids(&pg.url()).await;
    run.check(&fault, &Rules::visible(), &ids, json!({}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fault_pgbouncer_restarted() {
    if testing::postgres_url().is_none() {
        return;
    }
    let Some(pg) = PrivatePg::start() else {
        return;
    };
    let Some(bouncer) = PrivateBouncer::start(pg.port) else {
        return;
    };
    let server = postgres_server(
        &pg.url(),
        &[
            ("DB_POOL_MODE", "pgbouncer".to_owned()),
            ("DATABASE_POOLER_URL", bouncer.url("postgres")),
        ],
    )
    .await;
    let bouncer = std::sync::Mutex::new(bouncer);
    let (run, fault) = under_fault(
        "pgbouncer_restarted",
        &server,
        async || block_in_place(|| bouncer.lock().unwrap().down()),
        async || block_in_place(|| bouncer.lock().unwrap().up()),
    )
    .await;
    drop(server);
    let ids = ledger::postgres_ids(&pg.url()).await;
    run.check(&fault, &Rules::visible(), &ids, json!({}));
}

/// The pool's settings for the exhaustion faults: two connections, a one-second wait.
fn small_pool() -> Vec<(&'static str, String)> {
    vec![
        ("DB_MAX_CONNECTIONS", "2".to_owned()),
        ("DB_CONNECTION_TIMEOUT", "1000".to_owned()),
        ("DB_STATEMENT_TIMEOUT", "2000".to_owned()),
    ]
}

/// SQLite: another session holds the write lock (`BEGIN IMMEDIATE`) longer than
/// `DB_CONNECTION_TIMEOUT` (which bounds `busy_timeout`): the writer waits, then gives up;
/// the writes queued behind it time out of the pool; reads go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fault_pool_exhausted_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (server, file) = sqlite_server(dir.path(), &small_pool()).await;
    let url = format!("sqlite://{}", file.display());
    let lock = tokio::sync::Mutex::new(None);
    let (run, fault) = under_fault(
        "pool_exhausted_sqlite",
        &server,
        async || {
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut conn)
                .await
                .expect("take the write lock");
            *lock.lock().await = Some(conn);
        },
        async || {
            let mut conn = lock.lock().await.take().unwrap();
            sqlx::raw_sql("COMMIT").execute(&mut conn).await.unwrap();
        },
    )
    .await;
    drop(server);
    let ids = ledger::sqlite_ids(&file).await;
    run.check(&fault, &Rules::visible(), &ids, json!({}));
}

/// PostgreSQL: another session holds `ACCESS EXCLUSIVE` on jobs, so both pooled
/// connections block on it; the other requests time out of the pool, the blocked ones
/// run into the statement timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fault_pool_exhausted_postgres() {
    let Some(db) = testing::postgres().await else {
        return;
    };
    let mut env = db.env.clone();
    env.extend(small_pool());
    let server = postgres_server(&db.url, &env).await;
    let lock = tokio::sync::Mutex::new(None);
    let (run, fault) = under_fault(
        "pool_exhausted_postgres",
        &server,
        async || {
            let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::raw_sql("BEGIN; LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE")
                .execute(&mut conn)
                .await
                .expect("lock jobs");
            *lock.lock().await = Some(conn);
        },
        async || {
            let mut conn = lock.lock().await.take().unwrap();
            sqlx::raw_sql("ROLLBACK").execute(&mut conn).await.unwrap();
        },
    )
    .await;
    drop(server);
    let ids = ledger::postgres_ids(&db.url).await;
    run.check(&fault, &Rules::visible(), &ids, json!({}));
}

/// A tmpfs of `size` mounted on a fresh directory; unmounted on drop. `None` (skip) when
/// not root, except under `CI=true`.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("temp dir");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(Tmpfs(dir)),
            other => {
                let why = match other {
                    Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_owned(),
                    Err(e) => e.to_string(),
                };
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "CI=true but a tmpfs cannot be mounted (needs root): {why}"
                );
                eprintln!("skipping: cannot mount a tmpfs (needs root): {why}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(self.0.path())
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Still busy (a connection closing): detach it now, freed when unused.
            let _ = Command::new("umount").arg("-l").arg(self.0.path()).status();
        }
    }
}

/// Writes zeros to `path` until the file system refuses: returns the bytes written.
fn fill(path: &Path) -> u64 {
    use std::io::Write;
    let mut f = std::fs::File::create(path).expect("create the filler");
    let chunk = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
            Err(e) => panic!("filling the disk: {e}"),
        }
    }
    let _ = f.flush();
    written
}

/// SQLite's disk full: its file on a small tmpfs, filled up during the load. Writes get
/// 503 `db_disk_full`, reads go on, the file is intact, writes resume when space is freed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fault_sqlite_disk_full() {
    let Some(fs) = Tmpfs::mount("64m") else {
        return;
    };
    let (server, file) = sqlite_server(fs.path(), &[]).await;
    let filler = fs.path().join("filler");
    let (run, fault) = under_fault(
        "sqlite_disk_full",
        &server,
        async || {
            block_in_place(|| fill(&filler));
        },
        async || std::fs::remove_file(&filler).expect("remove the filler"),
    )
    .await;
    drop(server);
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let ids = ledger::sqlite_ids(&file).await;
    run.check(
        &fault,
        &Rules {
            code: Some("db_disk_full"),
            ..Rules::visible()
        },
        &ids,
        json!({ "integrity": integrity }),
    );
    assert_eq!(
        integrity, "ok",
        "PRAGMA integrity_check after the disk was full"
    );
}

/// SIGTERM under load: creations held in flight by a write lock when the signal comes
/// all finish with 201, new requests are refused (no HTTP answer, or 503), nothing is
/// written without its 201, and the process exits within `SHUTDOWN_TIMEOUT_MS`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fault_sigterm_under_load() {
    const SHUTDOWN: Duration = Duration::from_secs(5);
    const HOLD: Duration = Duration::from_millis(500);
    let dir = tempfile::tempdir().unwrap();
    let (mut server, file) = sqlite_server(
        dir.path(),
        &[
            ("SHUTDOWN_TIMEOUT_MS", SHUTDOWN.as_millis().to_string()),
            ("DB_CONNECTION_TIMEOUT", "5000".to_owned()),
        ],
    )
    .await;
    let p = ledger::phases();
    let load = Load::start(&server.base).await;
    sleep(p.before + p.fault).await;
    // The write lock keeps creations waiting inside the server when the signal comes.
    let url = format!("sqlite://{}", file.display());
    let mut lock = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut lock)
        .await
        .expect("take the write lock");
    sleep(HOLD).await;
    let signalled = load.at();
    let clock = std::time::Instant::now();
    server.sigterm();
    sleep(HOLD).await;
    sqlx::raw_sql("COMMIT").execute(&mut lock).await.unwrap();
    lock.close().await.unwrap();
    let exited = server.wait_exit(SHUTDOWN + Duration::from_secs(3)).await;
    let exit = clock.elapsed();
    let exited_at = load.at();
    sleep(Duration::from_millis(500)).await;
    let run = load.finish().await;
    let ids = ledger::sqlite_ids(&file).await;

    let in_flight = run
        .samples
        .iter()
        .filter(|s| s.start + ledger::IN_FLIGHT_MARGIN < signalled && s.end > signalled)
        .count();
    let refused_after_exit = run
        .samples
        .iter()
        .filter(|s| s.start > exited_at && s.outcome != ledger::Outcome::Ok)
        .count();
    run.check(
        &Fault {
            name: "sigterm",
            start: signalled,
            removed: None,
        },
        &Rules {
            refused_after: Some(signalled),
            no_unacknowledged: true,
            ..Rules::visible()
        },
        &ids,
        json!({ "exit_ms": exit.as_millis() as u64, "in_flight": in_flight }),
    );
    assert_eq!(
        exited,
        Some(true),
        "flowats did not exit cleanly after SIGTERM"
    );
    assert!(
        exit <= SHUTDOWN,
        "exit took {exit:?}, past SHUTDOWN_TIMEOUT_MS"
    );
    assert!(in_flight > 0, "no request was in flight at the signal");
    assert!(
        refused_after_exit > 0,
        "no request was refused after the exit"
    );
}
