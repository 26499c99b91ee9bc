//! The reference for the cached-read benchmark: a bare axum server that answers
//! `GET /api/jobs` (any query string) with a file's bytes, built once into `Bytes`, as
//! `application/json`. Same runtime as `flowats serve` (tokio multi-thread, one worker per
//! core); no middleware, no authentication, no cache lookup.
//!
//! `refserver --port P --body FILE [--host 127.0.0.1]`

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::get;
use bytes::Bytes;
use flowats_bench::Flags;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let flags = Flags::parse("refserver", &["port", "body", "host"])?;
    let port: u16 = flags.get("port", 0)?;
    let host = flags.text("host").unwrap_or("127.0.0.1").to_owned();
    let path = flags
        .text("body")
        .ok_or("refserver: --body FILE is required")?;
    let body = Bytes::from(std::fs::read(path).map_err(|e| format!("refserver: {path}: {e}"))?);

    let app = Router::new().route(
        "/api/jobs",
        get(move || {
            let body = body.clone();
            async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )],
                    body,
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind((host.as_str(), port))
        .await
        .map_err(|e| format!("refserver: bind {host}:{port}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("refserver listening on {addr}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| format!("refserver: {e}"))
}
