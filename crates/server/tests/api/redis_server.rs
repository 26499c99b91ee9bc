//! A private `redis-server` per test, on a free port, that a test may kill, restart,
//! pause (SIGSTOP) and resume without disturbing anything else on the machine.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

impl RedisServer {
    /// `None` (test skipped) when `redis-server` is not installed, except under `CI=true`.
    pub fn start() -> Option<RedisServer> {
        if Command::new("redis-server")
            .arg("--version")
            .output()
            .is_err()
        {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but redis-server is not installed"
            );
            eprintln!("skipping: redis-server is not installed");
            return None;
        }
        let mut server = RedisServer {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
        };
        server.spawn();
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "no", "--dir"])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.answers() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn answers(&self) -> bool {
        self.command(b"PING\r\n", b"+PONG\r\n", Duration::from_millis(200))
    }

    /// Sends one inline command and checks the exact reply.
    fn command(&self, line: &[u8], reply: &[u8], wait: Duration) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(wait));
        let mut buf = vec![0u8; reply.len()];
        s.write_all(line).is_ok() && s.read_exact(&mut buf).is_ok() && buf == reply
    }

    /// Writes a snapshot (`SAVE`) that the next [`RedisServer::restart`] loads back.
    pub fn save(&self) {
        assert!(
            self.command(b"SAVE\r\n", b"+OK\r\n", Duration::from_secs(10)),
            "SAVE failed"
        );
    }

    /// Kills the server and starts an empty one: whatever a snapshot held is gone.
    pub fn restart_empty(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(self.dir.path().join("dump.rdb"));
        self.spawn();
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let ok = Command::new("kill")
            .args([sig, &pid])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill {sig} {pid}");
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server (no shutdown save) and starts it again on the same directory, so it
    /// loads the last snapshot [`RedisServer::save`] wrote, if any.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    pub fn pause(&self) {
        self.signal("-STOP");
    }

    pub fn resume(&self) {
        self.signal("-CONT");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.signal_quiet("-CONT");
        }
        self.kill();
    }
}

impl RedisServer {
    fn signal_quiet(&self, sig: &str) -> std::io::Result<()> {
        if let Some(c) = &self.child {
            Command::new("kill")
                .args([sig, &c.id().to_string()])
                .status()?;
        }
        Ok(())
    }
}
