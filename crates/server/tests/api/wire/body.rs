//! Bodies that lie or stall: 413 at once for a declared length over the limit, 408 after
//! `BODY_READ_TIMEOUT_MS` for one that stalls, and neither holds an in-flight slot.

use super::{exchange, listen, read_answer};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Far below the 30 s request deadline the old answer waited for.
const AT_ONCE: Duration = Duration::from_secs(5);

fn post(path: &str, content_type: &str, length: u64, first_bytes: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nhost: t\r\ncontent-type: {content_type}\r\ncontent-length: {length}\r\n\r\n{first_bytes}"
    )
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_at_once() {
    let (_app, addr, _stop) = listen(|_| {}).await;
    let json = "application/json";
    for (path, content_type, length) in [
        ("/api/jobs", json, 99_999_999_999),
        ("/api/jobs", json, 2 * 1024 * 1024),
        ("/api/auth/login", json, 1024 * 1024 + 1),
        ("/api/import/jobs", "text/csv", 16 * 1024 * 1024 + 1),
    ] {
        let started = Instant::now();
        let r = exchange(
            addr,
            post(path, content_type, length, "{").as_bytes(),
            AT_ONCE,
        )
        .await;
        r.assert_error(413, "payload_too_large");
        assert!(started.elapsed() < AT_ONCE, "{path} {length}");
    }
}

/// Many connections send headers and part of a body, then nothing; the in-flight limit is
/// 2. Normal requests are still served (not shed), and each stalled one is answered 408.
#[tokio::test]
async fn stalled_bodies_do_not_hold_in_flight_slots() {
    let (_app, addr, _stop) = listen(|c| {
        c.guard.max_in_flight = 2;
        c.http.body_read_timeout = Duration::from_millis(1500);
    })
    .await;
    let mut stalled = Vec::new();
    for i in 0..20 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let path = if i % 2 == 0 {
            "/api/auth/login"
        } else {
            "/api/import/jobs"
        };
        let kind = if i % 2 == 0 {
            "application/json"
        } else {
            "text/csv"
        };
        s.write_all(post(path, kind, 100, "{\"email\":").as_bytes())
            .await
            .unwrap();
        stalled.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let http = crate::helpers::http();
    for _ in 0..5 {
        let r = http
            .get(format!("http://{addr}/api/jobs"))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert_eq!(
            status,
            401,
            "a normal request was not served: {}",
            r.text().await.unwrap()
        );
    }
    for s in &mut stalled {
        read_answer(s, Duration::from_secs(10))
            .await
            .assert_error(408, "body_timeout");
    }
}

/// A body that does arrive, in pieces, is served as one.
#[tokio::test]
async fn a_body_sent_in_pieces_is_served() {
    let (_app, addr, _stop) = listen(|_| {}).await;
    let body = r#"{"email":"nobody@example.com","password":"wrong-password"}"#;
    let mut s = TcpStream::connect(addr).await.unwrap();
    let (a, b) = body.split_at(10);
    s.write_all(post("/api/auth/login", "application/json", body.len() as u64, a).as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.write_all(b.as_bytes()).await.unwrap();
    read_answer(&mut s, AT_ONCE)
        .await
        .assert_error(401, "unauthorized");
}
