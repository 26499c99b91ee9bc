//! Managed Redis: `rediss://` (TLS). A private `redis-server` serves TLS only
//! (`--port 0 --tls-port …`) with a certificate authority and a server certificate this
//! test makes with the `openssl` command; the server trusts that authority through
//! `REDIS_CA_CERT`. The cache round-trips through it and the sign-in limits share it.

use crate::redis_server::free_port;
use crate::shared_limits::flowats_config;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct TlsRedis {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run openssl");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a certificate for 127.0.0.1 signed by it, in `dir`.
fn certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        run(Command::new("openssl").args(args).current_dir(dir));
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=flowats test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "san.ext",
        "-out",
        "server.crt",
    ]);
}

impl TlsRedis {
    /// `None` (skipped) without `redis-server` or `openssl`, except under `CI=true`.
    fn start() -> Option<TlsRedis> {
        let missing = ["redis-server", "openssl"]
            .into_iter()
            .find(|tool| Command::new(tool).arg("version").output().is_err());
        if let Some(tool) = missing {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but {tool} is missing"
            );
            eprintln!("skipping: {tool} is not installed");
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        certificates(dir.path());
        let port = free_port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .args([
                "--tls-cert-file",
                "server.crt",
                "--tls-key-file",
                "server.key",
            ])
            .args(["--tls-ca-cert-file", "ca.crt", "--tls-auth-clients", "no"])
            .args(["--save", "", "--appendonly", "no", "--dir", "."])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server (TLS) did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(TlsRedis { child, port, dir })
    }

    fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.port)
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn rediss_round_trips_through_the_cache_and_shares_the_limits() {
    let Some(redis) = TlsRedis::start() else {
        return;
    };
    let db = flowats_db::testing::sqlite().await;
    let ca = redis.ca();
    let tls = |c: &mut flowats_server::config::Config| {
        c.cache.redis_ca_cert = Some(ca.clone());
        c.guard.auth_per_ip = 2;
    };
    let a = crate::shared_limits::instance(&db, &redis.url(), tls).await;
    let b = crate::shared_limits::instance(&db, &redis.url(), tls).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while !(a.state.cache.healthy() && b.state.cache.healthy()) {
        assert!(
            Instant::now() < deadline,
            "the cache never reached Redis over TLS"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let u = a.register("tls@example.com").await;
    let job = a
        .create_job(&u, json!({"title": "Dev", "company": "Acme"}))
        .await;
    let path = format!("/api/jobs/{}", job["id"].as_str().unwrap());
    assert_eq!(a.get(&path, &u.token).await.cache(), "miss");
    let shared = b.get(&path, &u.token).await;
    assert_eq!(shared.cache(), "hit-l2", "B reads what A stored, over TLS");
    assert_eq!(shared.body["title"], "Dev");
    // The sign-in limit is one budget over TLS too.
    let login = crate::abuse::login("nobody@example.com");
    for (app, status) in [(&a, 401), (&b, 401), (&a, 429)] {
        let r =
            crate::abuse::sign_in(app, "/api/auth/login", "192.0.2.50", None, login.clone()).await;
        assert_eq!(r.status.as_u16(), status, "{}", r.body);
    }
    let stats = b.state.cache.stats_with_server().await;
    assert!(
        stats
            .redis
            .expect("redis tier")
            .server
            .expect("server figures")
            .keys
            > 0
    );
}

#[test]
fn rediss_is_accepted_at_start_and_a_missing_ca_file_is_not() {
    let ok = flowats_config(&[("REDIS_URL", "rediss://default:pw@127.0.0.1:6380")]);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        stdout.contains("REDIS_URL=rediss://default:***@127.0.0.1:6380\n"),
        "{stdout}"
    );
    let bad = flowats_config(&[
        ("REDIS_URL", "rediss://127.0.0.1:6380"),
        ("REDIS_CA_CERT", "/nonexistent/ca.crt"),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("REDIS_CA_CERT"));
}
