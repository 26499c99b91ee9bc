//! The FlowATS server: configuration, the router and its handlers, authentication, and
//! the command-line entry points. Storage lives in the `flowats-db` crate.

pub mod ai;
pub mod app;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod config;
pub mod csv;
pub mod cursor;
pub mod error;
pub mod extract;
pub mod funnel;
pub mod guard;
pub mod idempotency;
pub mod limit;
pub mod monitor;
pub mod openapi;
pub mod pagination;
pub mod router;
pub mod routes;
pub mod seed;
pub mod serve;
pub mod telemetry;

/// Installs rustls's ring provider as the process default. reqwest is built with rustls but
/// without a provider of its own (its default, aws-lc, needs a C build), and refuses to build
/// any client — plain http included — until one is installed. Calling it again is harmless.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
