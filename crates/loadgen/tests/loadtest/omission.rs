//! No coordinated omission: a tiny real server answers one request at a time and stalls
//! once for a second. Arrivals scheduled during the stall keep being sent on time (open
//! model) and their latency counts the wait, so about half of those ~100 arrivals report
//! more than 500 ms; a closed-loop generator timing from its own send would report one
//! slow request.

use crate::helpers::args;
use axum::Router;
use axum::routing::get;
use flowats_loadgen::execute;
use flowats_loadgen::stats::Name;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub const STALL: Duration = Duration::from_millis(1000);

/// `GET /api/health`, served one at a time; the `stall_at`-th request (from 1) holds the
/// line for [`STALL`]. Returns the base URL.
pub async fn stalling_server(stall_at: u64) -> String {
    let seen = Arc::new(AtomicU64::new(0));
    let line = Arc::new(tokio::sync::Mutex::new(()));
    let app = Router::new().route(
        "/api/health",
        get(move || {
            let seen = seen.clone();
            let line = line.clone();
            async move {
                let _turn = line.lock().await;
                if seen.fetch_add(1, Ordering::SeqCst) + 1 == stall_at {
                    tokio::time::sleep(STALL).await;
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_of_arrivals_during_a_stall_includes_their_wait() {
    let base = stalling_server(20).await;
    let out = execute(&args(&[
        "--target-url",
        &base,
        "--flow",
        "health",
        "--phase",
        "2s@100",
    ]))
    .await
    .unwrap();
    let h = &out.total.names[&Name::Health];
    assert_eq!(h.requests, 200);
    assert_eq!(h.errors(), 0);
    let ms = |n: u64| n * 1000;
    assert!(
        h.latency.max() >= ms(990),
        "the stalled request itself: {} µs",
        h.latency.max()
    );
    // 100 arrivals/s for 1 s: ~100 queue behind the stall, waiting 1 s down to ~0; the
    // first half of them (and the stalled one) over 500 ms. Generous bounds: the machine
    // is shared, and a busy scheduler only adds delay.
    let slow = h.latency.count_between(ms(500), ms(5000));
    assert!(
        (40..=70).contains(&slow),
        "{slow} arrivals over 500 ms; expected about 51"
    );
    let over_750 = h.latency.count_between(ms(750), ms(5000));
    assert!(
        (18..=45).contains(&over_750),
        "{over_750} arrivals over 750 ms; expected about 26"
    );
}
