//! HTTP tests through the real router, on SQLite always and on PostgreSQL when
//! `FLOWATS_TEST_DATABASE_URL` is set (required under `CI=true`). One test binary; each
//! test gets its own fresh database.

mod helpers;

mod abuse;
mod ai;
mod analytics;
mod auth;
mod cache;
mod cache_restart;
mod cursors;
mod errors;
mod faults;
mod health_views;
mod jobs;
mod ledger;
mod login_flood;
mod monitoring;
mod openai;
mod outage;
mod pg_private;
mod pool;
mod processes;
mod profile;
mod redis_server;
mod redis_tls;
mod security;
mod seed;
mod server;
mod server_process;
mod sessions;
mod shared_cache;
mod shared_limits;
mod tracker;
mod wire;

/// Runs each listed `async fn(TestApp)` once per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                super::$name($crate::helpers::TestApp::new(flowats_db::testing::sqlite().await).await).await
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                if let Some(db) = flowats_db::testing::postgres().await {
                    super::$name($crate::helpers::TestApp::new(db).await).await
                }
            })*
        }
    };
}
