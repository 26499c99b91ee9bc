//! A real FlowATS server on a random port over a temporary SQLite file, and `Args` from
//! command-line words.

use clap::Parser;
use flowats_db::testing::TestDb;
use flowats_loadgen::Args;
use flowats_server::app::{AppState, Application};
use flowats_server::config::Config;
use std::time::Duration;

const SECRET: &str = "test-secret-test-secret-test-secret-0123";

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: Args,
}

/// `flowats loadtest WORDS…` as the subcommand would parse them.
pub fn args(words: &[&str]) -> Args {
    Cli::try_parse_from(std::iter::once("loadtest").chain(words.iter().copied()))
        .expect("valid loadtest flags")
        .args
}

pub struct Server {
    pub base: String,
    /// The server's state over the same database, for seeding and counting.
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _db: TestDb,
}

impl Server {
    /// The `Application` `flowats serve` runs, on 127.0.0.1 and a free port.
    pub async fn start() -> Server {
        let db = flowats_db::testing::sqlite().await;
        let mut config = Config::from_lookup(|k| match k {
            "JWT_SECRET" => Some(SECRET.to_owned()),
            "LOG_FORMAT" => Some("json".to_owned()),
            // Every virtual user signs in from 127.0.0.1.
            "AUTH_RATE_LIMIT_IP" | "AUTH_RATE_LIMIT_EMAIL" => Some("0".to_owned()),
            // These tests check the flows, not shedding: on a busy machine a hash may wait
            // longer than the default 50 ms for a core, behind more than the default queue.
            "AUTH_HASH_MAX_WAIT_MS" => Some("5000".to_owned()),
            "AUTH_HASH_QUEUE" => Some("1000".to_owned()),
            _ => None,
        })
        .expect("test config");
        config.database_url = db.url.clone();
        config.host = "127.0.0.1".into();
        config.port = 0;
        config.shutdown_timeout = Duration::from_secs(5);
        let state = AppState::new(config.clone(), db.db.clone()).expect("state");
        let app = Application::build(config).await.expect("build");
        let base = format!("http://{}", app.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(app.run(async {
            let _ = stopped.await;
        }));
        Server {
            base,
            state,
            stop: Some(stop),
            handle: Some(handle),
            _db: db,
        }
    }

    /// Jobs of the account with this email, as the database counts them.
    pub async fn jobs_of(&self, email: &str) -> i64 {
        let db = &self.state.db;
        let user = db
            .users
            .credentials(email.into())
            .await
            .expect("credentials")
            .expect("account exists")
            .id;
        db.jobs
            .count_jobs(user, Default::default())
            .await
            .expect("count")
    }

    pub async fn stop(mut self) {
        self.stop.take().expect("running").send(()).ok();
        let handle = self.handle.take().expect("running");
        tokio::time::timeout(Duration::from_secs(10), handle)
            .await
            .expect("server stops")
            .expect("server task")
            .expect("server ran cleanly");
    }
}
