//! Tracker depth (issue 11) through the HTTP API: contacts and their links to jobs,
//! interviews, tasks and follow-up rules, notes, tags and sources, duplicate detection, the
//! CSV export and import, and the stats that come with them. Every test runs on both
//! backends.

mod bounds;
mod cache;
mod concurrency;
mod csv;
mod duplicates;
mod pagination;
mod records;
mod rules;
mod stats;

use crate::helpers::{Resp, TestApp, User};
use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::Value;

/// The `id` of a created record, as a string.
pub fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

/// The `field`s named in a 422's details.
#[track_caller]
pub fn fields(r: &Resp) -> Vec<String> {
    r.assert_error(422, "validation_failed");
    r.body["error"]["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|d| d["field"].as_str().expect("field").to_owned())
        .collect()
}

/// Asserts a 422 whose details name `field`.
#[track_caller]
pub fn assert_invalid(r: &Resp, field: &str) {
    let got = fields(r);
    assert!(
        got.iter().any(|f| f == field),
        "expected {field} in {got:?}; body: {}",
        r.body
    );
}

/// Asserts a 400 whose details name the query parameter.
#[track_caller]
pub fn assert_bad_param(r: &Resp, parameter: &str) {
    r.assert_error(400, "bad_request");
    assert_eq!(
        r.body["error"]["details"]["parameter"], parameter,
        "body: {}",
        r.body
    );
}

/// `pagination.totalItems` of an offset page.
#[track_caller]
pub fn total(r: &Resp) -> i64 {
    r.assert_status(200)["pagination"]["totalItems"]
        .as_i64()
        .expect("totalItems")
}

/// The `key` of every row of one page.
pub fn keys_of(r: &Resp, key: &str) -> Vec<String> {
    r.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|row| row[key].as_str().expect("key").to_owned())
        .collect()
}

/// Walks a list in offset mode, `limit` rows a page, until an empty page.
pub async fn walk_offset(
    app: &TestApp,
    u: &User,
    base: &str,
    key: &str,
    limit: u32,
) -> Vec<String> {
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut out = Vec::new();
    for page in 1.. {
        let r = app
            .get(&format!("{base}{sep}page={page}&limit={limit}"), &u.token)
            .await;
        r.assert_status(200);
        let rows = keys_of(&r, key);
        if rows.is_empty() {
            return out;
        }
        out.extend(rows);
        assert!(page < 1000, "{base}: the offset walk does not end");
    }
    unreachable!()
}

/// Walks a list in cursor mode, `limit` rows a page, to the end.
pub async fn walk_cursor(
    app: &TestApp,
    u: &User,
    base: &str,
    key: &str,
    limit: u32,
) -> Vec<String> {
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut url = format!("{base}{sep}cursor=&limit={limit}");
    let mut out = Vec::new();
    let mut first = true;
    loop {
        let r = app.get(&url, &u.token).await;
        let body = r.assert_status(200);
        assert_eq!(body["pagination"]["hasPreviousPage"], !first, "{url}");
        assert!(body["pagination"].get("totalItems").is_none(), "{url}");
        out.extend(keys_of(&r, key));
        match body["pagination"]["nextCursor"].as_str() {
            Some(next) => {
                assert_eq!(body["pagination"]["hasNextPage"], true, "{url}");
                url = format!("{base}{sep}cursor={next}&limit={limit}");
            }
            None => {
                assert_eq!(body["pagination"]["hasNextPage"], false, "{url}");
                return out;
            }
        }
        first = false;
        assert!(out.len() < 10_000, "{base}: the cursor walk does not end");
    }
}

/// `POST /api/import/jobs{query}` with this body and content type.
pub async fn import(app: &TestApp, u: &User, query: &str, content_type: &str, csv: &str) -> Resp {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/import/jobs{query}"))
        .header(header::AUTHORIZATION, format!("Bearer {}", u.token))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(csv.to_owned()))
        .expect("request");
    app.send(req).await
}

/// `GET /api/export/jobs.csv`: the body as sent, after checking the status and headers.
pub async fn export(app: &TestApp, u: &User) -> String {
    let r = app.get("/api/export/jobs.csv", &u.token).await;
    assert_eq!(r.status.as_u16(), 200, "export: {}", r.body);
    let content_type = r.headers[header::CONTENT_TYPE].to_str().unwrap();
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    String::from_utf8(r.raw.to_vec()).expect("UTF-8 CSV")
}

/// The server's clock: today's UTC date.
pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// A time `days` ago as the server writes it (RFC 3339, six fraction digits, UTC).
pub fn days_ago(days: i64) -> String {
    flowats_db::Timestamp::from(time::OffsetDateTime::now_utc() - time::Duration::days(days))
        .to_string()
}
