//! The accept loop: HTTP/1.1 over TCP through hyper, with what `axum::serve` leaves out — a
//! header-read timeout (`HEADER_READ_TIMEOUT_MS`: a client that trickles its headers is
//! disconnected instead of holding a connection for good), `TCP_NODELAY`, and the peer
//! address on every request (`ConnectInfo`, read by `guard::ClientIp`), and the error
//! envelope on the answers hyper makes by itself (`refusal`).
//!
//! On shutdown the listener is closed first (new connections are refused), idle keep-alive
//! connections are closed, and requests in flight finish, for up to `deadline`.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

mod refusal;

pub struct ServeOptions {
    pub header_read_timeout: Duration,
    /// How long requests in flight may take to finish after the shutdown signal.
    pub deadline: Duration,
}

pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |mut req: axum::http::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                req
            });
        let conn = http.serve_connection(
            TokioIo::new(refusal::Enveloped::new(stream)),
            TowerToHyperService::new(service),
        );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing in-flight requests");
    if tokio::time::timeout(options.deadline, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(deadline = ?options.deadline, "shutdown deadline passed with requests still in flight");
    }
}
