//! The application: shared state, and [`Application`], which connects, migrates, binds and
//! serves. `main` and the tests start the server through the same code path.

use crate::auth::{self, Passwords, Tokens};
use crate::cache::Cache;
use crate::config::Config;
use crate::cursor::Cursors;
use crate::monitor::Monitor;
use anyhow::Context;
use flowats_db::Database;
use std::future::Future;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use tokio::net::TcpListener;

/// What every handler can reach.
pub struct App {
    pub db: Database,
    pub cache: Arc<Cache>,
    pub tokens: Tokens,
    pub cursors: Cursors,
    pub passwords: Passwords,
    pub monitor: Monitor,
    pub ai: crate::ai::Generations,
    /// Sign-in rate limits per client address and per email.
    pub auth_limits: crate::guard::AuthLimits,
    /// The global in-flight limit (load shedding).
    pub in_flight: crate::guard::InFlight,
    pub config: Config,
}

#[derive(Clone)]
pub struct AppState(Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl AppState {
    /// Connects to the configured database and applies pending migrations.
    pub async fn connect(config: Config) -> anyhow::Result<AppState> {
        let db = open_database(&config).await?;
        AppState::new(config, db)
    }

    pub fn new(config: Config, db: Database) -> anyhow::Result<AppState> {
        let secret = auth::load_secret(&config)?;
        let cache = Cache::start(config.cache.clone()).map_err(anyhow::Error::msg)?;
        // A write on another instance keeps that user's replica reads on the primary too.
        let ops = db.ops.clone();
        cache.on_remote_write(move |user| ops.note_write(user));
        Ok(AppState(Arc::new(App {
            cache,
            tokens: Tokens::new(&secret, config.jwt_ttl),
            cursors: Cursors::new(&secret),
            passwords: Passwords::new(
                config.auth_hash_concurrency,
                config.auth_hash_queue,
                config.auth_hash_max_wait,
            ),
            monitor: Monitor::new(config.slow_request, config.critical_request),
            ai: crate::ai::Generations::new(
                crate::ai::provider::from_config(&config.ai_provider, config.ai_timeout)?,
                config.ai_concurrency,
                config.ai_queue,
            ),
            auth_limits: crate::guard::AuthLimits::start(&config).map_err(anyhow::Error::msg)?,
            in_flight: crate::guard::InFlight::new(config.guard.max_in_flight),
            db,
            config,
        })))
    }
}

/// Opens the configured database and brings its schema up to date.
pub async fn open_database(config: &Config) -> anyhow::Result<Database> {
    let db = Database::connect(&config.database_url, &config.db)
        .await
        .context("opening the database")?;
    db.ops.migrate().await.context("applying migrations")?;
    Ok(db)
}

/// A bound, ready-to-serve server.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let addr = format!("{}:{}", config.host, config.port);
        let state = AppState::connect(config).await?;
        let listener = TcpListener::bind(&addr)
            .await
            .with_context(|| format!("binding {addr}"))?;
        Ok(Application { listener, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish for up to
    /// `SHUTDOWN_TIMEOUT_MS` before returning anyway; closes the pool last.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let state = self.state;
        let db = state.db.clone();
        let monitor = tokio::spawn(crate::monitor::run(
            state.clone(),
            state.config.monitor_interval,
        ));
        let sweeper = tokio::spawn({
            let state = state.clone();
            async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
                loop {
                    every.tick().await;
                    state.auth_limits.sweep();
                }
            }
        });
        let purge = tokio::spawn(crate::idempotency::purge_forever(state.clone()));
        let options = crate::serve::ServeOptions {
            header_read_timeout: state.config.guard.header_read_timeout,
            deadline: state.config.shutdown_timeout,
        };
        // From the signal on, the health routes say so (503) while requests finish.
        let shutdown = {
            let state = state.clone();
            async move {
                shutdown.await;
                state
                    .monitor
                    .draining
                    .store(true, std::sync::atomic::Ordering::Relaxed);
            }
        };
        let app = crate::router::router(state);
        crate::serve::serve(self.listener, app, options, shutdown).await;
        monitor.abort();
        sweeper.abort();
        purge.abort();
        db.ops.close().await;
        Ok(())
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
