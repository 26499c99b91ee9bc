//! A real `flowats serve` process on a free port, started with a clean environment plus
//! what the test passes, and waited for until it is ready. It may be sent SIGTERM and
//! waited for; dropping it kills it.

use crate::helpers::SECRET;
use crate::redis_server::free_port;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct ServerProcess {
    child: Child,
    pub base: String,
    /// The working directory: no `.env` of the repository is picked up.
    _dir: tempfile::TempDir,
}

impl ServerProcess {
    /// `flowats serve` with `JWT_SECRET`, `HOST`, `PORT`, JSON logs at `warn`, the auth rate
    /// limits off, and `env` on top.
    pub async fn spawn(env: &[(&str, String)]) -> ServerProcess {
        let port = free_port();
        let dir = tempfile::tempdir().expect("temp dir");
        let child = Command::new(env!("CARGO_BIN_EXE_flowats"))
            .arg("serve")
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("JWT_SECRET", SECRET)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .env("AUTH_RATE_LIMIT_IP", "0")
            .env("AUTH_RATE_LIMIT_EMAIL", "0")
            .envs(env.iter().map(|(k, v)| (*k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start flowats");
        let mut server = ServerProcess {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
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
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("flowats exited before it was ready: {status}");
            }
            assert!(Instant::now() < deadline, "flowats did not become ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    pub fn sigterm(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -TERM flowats");
    }

    /// Waits up to `limit` for the process to exit; `Some(success)` when it did.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<bool> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait flowats") {
                return Some(status.success());
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
