//! A private PostgreSQL cluster and a private PgBouncer per test, on free ports, that a
//! test may stop and start without disturbing the shared servers other tests use.
//!
//! Both refuse to run as root, so under root they run as the `postgres` user.

use crate::redis_server::free_port;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// `program args…`, as the postgres user when we are root.
fn command(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// A temporary directory the postgres user may write.
fn private_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    if is_root() {
        let ok = Command::new("chown")
            .args(["-R", "postgres:"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "chown the temp dir to postgres");
    }
    dir
}

fn missing(what: &str) -> Option<()> {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but {what} is not available"
    );
    eprintln!("skipping: {what} is not available");
    None
}

/// The newest PostgreSQL server binaries (`/usr/lib/postgresql/<version>/bin`).
fn pg_bin() -> Option<PathBuf> {
    let mut versions: Vec<u32> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    versions.sort();
    let bin = PathBuf::from(format!("/usr/lib/postgresql/{}/bin", versions.pop()?));
    bin.join("initdb").exists().then_some(bin)
}

fn run(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn wait_for_port(port: u16, up: bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() != up {
        assert!(Instant::now() < deadline, "port {port} never went up={up}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub struct PrivatePg {
    bin: PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
}

impl PrivatePg {
    /// A fresh cluster (trust auth, user postgres), started; `None` (skip) when the
    /// server binaries are not installed, except under `CI=true`.
    pub fn start() -> Option<PrivatePg> {
        let Some(bin) = pg_bin() else {
            missing("a PostgreSQL server installation (/usr/lib/postgresql/*/bin)")?;
            unreachable!()
        };
        let pg = PrivatePg {
            bin,
            dir: private_dir(),
            port: free_port(),
        };
        let mut initdb = command(&pg.bin.join("initdb"));
        initdb
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(pg.data());
        run(initdb, "initdb");
        pg.up();
        Some(pg)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn up(&self) {
        let mut c = command(&self.bin.join("pg_ctl"));
        c.args(["start", "-w", "-l"])
            .arg(self.dir.path().join("log"))
            .arg("-D")
            .arg(self.data())
            .arg("-o")
            .arg(format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                self.port,
                self.dir.path().display()
            ))
            .stdout(Stdio::null());
        run(c, "pg_ctl start");
        wait_for_port(self.port, true);
    }

    /// A fast shutdown: sessions are terminated, as in a restart or failover.
    pub fn down(&self) {
        let mut c = command(&self.bin.join("pg_ctl"));
        c.args(["stop", "-w", "-m", "fast", "-D"])
            .arg(self.data())
            .stdout(Stdio::null());
        run(c, "pg_ctl stop");
        wait_for_port(self.port, false);
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let mut c = command(&self.bin.join("pg_ctl"));
        c.args(["stop", "-m", "immediate", "-D"])
            .arg(self.data())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let _ = c.status();
    }
}

pub struct PrivateBouncer {
    child: Option<Child>,
    dir: tempfile::TempDir,
    pub port: u16,
}

impl PrivateBouncer {
    /// PgBouncer in transaction mode in front of `127.0.0.1:<pg_port>`, the repository's
    /// settings on a free port; `None` (skip) when it is not installed, except under CI.
    pub fn start(pg_port: u16) -> Option<PrivateBouncer> {
        if Command::new("pgbouncer").arg("--version").output().is_err() {
            missing("pgbouncer")?;
        }
        let dir = private_dir();
        let port = free_port();
        let repo_ini = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../ops/pgbouncer/pgbouncer.ini"
        );
        let ini = std::fs::read_to_string(repo_ini).expect("read ops/pgbouncer/pgbouncer.ini");
        let run_dir = dir.path().display().to_string();
        let ini = ini
            .replace("port=5432", &format!("port={pg_port}"))
            .replace("listen_port = 6543", &format!("listen_port = {port}"))
            .replace("/tmp/flowats-pgbouncer", &run_dir);
        std::fs::write(dir.path().join("pgbouncer.ini"), ini).unwrap();
        std::fs::write(dir.path().join("userlist.txt"), "\"postgres\" \"\"\n").unwrap();
        if is_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.args(["-R", "postgres:"]).arg(dir.path());
                    c
                },
                "chown",
            );
        }
        let mut bouncer = PrivateBouncer {
            child: None,
            dir,
            port,
        };
        bouncer.up();
        Some(bouncer)
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub fn up(&mut self) {
        let mut c = if is_root() {
            let mut c = Command::new("pgbouncer");
            c.args(["-u", "postgres"]);
            c
        } else {
            Command::new("pgbouncer")
        };
        let child = c
            .arg(self.dir.path().join("pgbouncer.ini"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pgbouncer");
        self.child = Some(child);
        wait_for_port(self.port, true);
    }

    /// Killed outright, as a crash would.
    pub fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        wait_for_port(self.port, false);
    }
}

impl Drop for PrivateBouncer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
