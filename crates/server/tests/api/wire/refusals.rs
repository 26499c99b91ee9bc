//! Every answer the server makes carries the error envelope, including the ones hyper makes
//! before any route runs; a request id is echoed only when short and printable.

use super::{exchange, listen};
use std::time::Duration;

const WITHIN: Duration = Duration::from_secs(10);

#[track_caller]
fn assert_fresh_id(r: &super::Raw) {
    let id = r.header("x-request-id").expect("a request id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{r:?}");
}

#[tokio::test]
async fn refusals_before_routing_carry_the_envelope() {
    let (_app, addr, _stop) = listen(|_| {}).await;
    let long_query = format!(
        "GET /api/jobs?q={} HTTP/1.1\r\nhost: t\r\n\r\n",
        "a".repeat(70_000)
    );
    let r = exchange(addr, long_query.as_bytes(), WITHIN).await;
    r.assert_error(414, "uri_too_long");
    assert_fresh_id(&r);

    // Too many headers. (A header block over hyper's 400 KB buffer is refused the same
    // way, but the server closes before reading the rest, so the client may get a reset.)
    let mut many = String::from("GET /api/health/live HTTP/1.1\r\nhost: t\r\n");
    for i in 0..150 {
        many.push_str(&format!("x-filler-{i}: b\r\n"));
    }
    let r = exchange(addr, format!("{many}\r\n").as_bytes(), WITHIN).await;
    r.assert_error(431, "headers_too_large");
    assert_fresh_id(&r);

    for bad in [
        "GET /api/health/live HTTP/1.1\r\nhost: t\r\nbad header: x\r\n\r\n",
        "GET /api/health/live HTTP/1.1\r\nhost: t\r\nx-a: \x01\r\n\r\n",
        "NOT A REQUEST\r\n\r\n",
    ] {
        let r = exchange(addr, bad.as_bytes(), WITHIN).await;
        r.assert_error(400, "bad_request");
        assert_fresh_id(&r);
    }

    // A normal answer is untouched, and keep-alive still works after it.
    let r = exchange(
        addr,
        b"GET /api/nothing-here HTTP/1.1\r\nhost: t\r\n\r\n",
        WITHIN,
    )
    .await;
    r.assert_error(404, "not_found");
}

#[tokio::test]
async fn a_request_id_is_echoed_only_when_short_and_printable() {
    let (_app, addr, _stop) = listen(|_| {}).await;
    let ask = |id: Vec<u8>| async move {
        let mut req = b"GET /api/health/live HTTP/1.1\r\nhost: t\r\nx-request-id: ".to_vec();
        req.extend_from_slice(&id);
        req.extend_from_slice(b"\r\n\r\n");
        let r = exchange(addr, &req, WITHIN).await;
        assert_eq!(r.status, 200, "{r:?}");
        r.header("x-request-id").expect("an id").to_owned()
    };
    assert_eq!(
        ask(b"abc-123_XYZ.7".to_vec()).await,
        "abc-123_xyz.7",
        "head is lower-cased here"
    );
    for bad in [
        "k".repeat(8 * 1024).into_bytes(),
        "x".repeat(129).into_bytes(),
        "caf\u{e9}-\u{1F600}".as_bytes().to_vec(),
        b"two words".to_vec(),
    ] {
        let id = ask(bad.clone()).await;
        assert!(
            uuid::Uuid::parse_str(&id).is_ok(),
            "{id} for {} bytes",
            bad.len()
        );
    }
}
