//! Injection (SQL and LIKE): quotes, `' OR 1=1 --`, `; DROP TABLE`, `%`, `_`, `\`, Unicode
//! and NUL sent in every query parameter of every list of `/api/openapi.json` (and in the
//! AI routes' `regenerate`), in bodies and in paths are data: a parameter with a fixed set
//! of values answers 400 naming it; the text search `q` answers 200 with exactly the jobs
//! that contain the text literally (a `%` finds only titles with a `%`); what is stored
//! comes back as sent; and every table is intact afterwards.

use super::operations;
use crate::helpers::{TestApp, User};
use axum::http::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

crate::on_both_backends!(injection_strings_are_data_everywhere);

const NEEDLES: &[&str] = &[
    "'",
    "''",
    "' OR 1=1 --",
    "' OR '1'='1",
    "\" OR \"\"=\"",
    "'; DROP TABLE jobs; --",
    "1; DELETE FROM users",
    "' UNION SELECT password_hash FROM users --",
    "%",
    "_",
    "\\",
    "100%",
    "a_b",
    "\\%",
    "%' --",
    "Ünïcödé",
    "😀",
    "$1",
    "?",
    "*/ /*",
    ")",
    "\u{0}",
    "x\u{0}y",
];

/// Titles that make each needle's matches checkable: `100x` would match `100%` if `%` were
/// a wildcard, `axb` would match `a_b`.
const TITLES: &[&str] = &[
    "100% remote",
    "100x remote",
    "a_b testing",
    "axb testing",
    "O'Reilly author",
    "back\\slash dev",
    "Ünïcödé engineer",
    "emoji 😀 role",
    "'; DROP TABLE jobs; -- lead",
    "\"quoted\" title",
    "plain title",
];

fn encode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

async fn titles(app: &TestApp, user: &User, query: &str) -> (u16, Value, BTreeSet<String>) {
    let r = app
        .get(&format!("/api/jobs?limit=100&{query}"), &user.token)
        .await;
    let found = r.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|j| j["title"].as_str().unwrap().to_owned())
        .collect();
    (r.status.as_u16(), r.body, found)
}

async fn counts(app: &TestApp, users: &[&User]) -> Vec<i64> {
    let db = &app.db.db;
    let mut all = Vec::new();
    for u in users {
        let id = uuid::Uuid::parse_str(&u.id).unwrap();
        all.push(db.jobs.count_jobs(id, Default::default()).await.unwrap());
        all.push(db.skills.count(id).await.unwrap());
        all.push(
            db.artifacts
                .count_artifacts(id, Default::default())
                .await
                .unwrap(),
        );
        all.push(i64::from(db.users.user_exists(id).await.unwrap()));
        let page = flowats_db::models::Page {
            limit: 1,
            offset: 0,
        };
        all.push(db.jobs.event_history(id).await.unwrap().len() as i64);
        all.push(db.education.list(id, page).await.unwrap().total);
    }
    all
}

async fn injection_strings_are_data_everywhere(app: TestApp) {
    let a = app.register("a@example.com").await;
    let b = app.register("b@example.com").await;
    for user in [&a, &b] {
        for title in TITLES {
            let job = app
                .create_job(user, json!({"title": title, "company": "Acme"}))
                .await;
            assert_eq!(job["title"], *title, "stored as sent");
        }
    }
    let job = app.get("/api/jobs?limit=1", &a.token).await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post("/api/ai/resume", &a.token, json!({"job_id": job}))
        .await
        .assert_status(201);
    let before = counts(&app, &[&a, &b]).await;

    // Every query parameter the document lists for a list, besides paging, is checked.
    let paging = ["page", "cursor", "limit", "includeTotal"];
    let mut params = BTreeSet::new();
    for op in operations(&app).await {
        for p in op.query_params() {
            if !paging.contains(&p.as_str()) {
                params.insert((op.method.clone(), op.path.clone(), p));
            }
        }
    }
    assert!(params.len() >= 6, "{params:?}");
    let mut cases = 0;
    for (method, path, param) in &params {
        for needle in NEEDLES {
            let query = format!("{param}={}", encode(needle));
            match (method.as_str(), path.as_str(), param.as_str()) {
                ("GET", "/api/jobs", "q") => {
                    let (status, body, found) = titles(&app, &a, &query).await;
                    if needle.contains('\u{0}') {
                        assert_eq!(status, 400, "q={needle:?}: {body}");
                        assert_eq!(body["error"]["details"]["parameter"], "q");
                        continue;
                    }
                    assert_eq!(status, 200, "q={needle:?}: {body}");
                    let needle = needle.trim().to_lowercase();
                    let want: BTreeSet<String> = TITLES
                        .iter()
                        .filter(|t| t.to_lowercase().contains(&needle) || "acme".contains(&needle))
                        .map(|t| t.to_string())
                        .collect();
                    assert_eq!(found, want, "q={needle:?}");
                    assert_eq!(body["pagination"]["totalItems"], want.len(), "q={needle:?}");
                }
                ("GET", _, "status" | "sort" | "kind" | "job_id")
                | ("POST", "/api/ai/resume" | "/api/ai/cover-letter", "regenerate") => {
                    let (path, body) = match method.as_str() {
                        "POST" => (path.clone(), Some(json!({"job_id": job}))),
                        _ => (path.replace("{id}", &job), None),
                    };
                    let r = app
                        .call(
                            method.clone(),
                            &format!("{path}?{query}"),
                            Some(&a.token),
                            body,
                        )
                        .await;
                    assert_eq!(r.status, 400, "{method} {path}?{param}={needle:?}: {r:?}");
                    r.assert_error(400, "bad_request");
                    assert_eq!(
                        r.body["error"]["details"]["parameter"],
                        param.as_str(),
                        "{method} {path}?{param}={needle:?}"
                    );
                }
                _ => panic!("injection: {method} {path} takes `{param}`; teach this test it"),
            }
            cases += 1;
        }
    }
    assert!(cases >= 100, "{cases} cases");

    // A parameter's name is data too, and so is a whole query string.
    let r = app
        .get(&format!("/api/jobs?{}=1", encode("' OR 1=1 --")), &a.token)
        .await;
    r.assert_error(400, "bad_request");
    let (status, _, found) = titles(&app, &a, "q=%27%20OR%201%3D1%20--&status=interested").await;
    assert_eq!((status, found.len()), (200, 0));

    // Stored text is data: every title, with its quotes and wildcards, reads back as sent,
    // and NUL, which PostgreSQL cannot store, is refused on both backends alike.
    let (_, _, all) = titles(&app, &a, "").await;
    assert_eq!(all, TITLES.iter().map(|t| t.to_string()).collect());
    for field in ["title", "company", "notes"] {
        let mut body = json!({"title": "T", "company": "C"});
        body[field] = json!("nul\u{0}byte");
        let r = app.post("/api/jobs", &a.token, body).await;
        r.assert_error(422, "validation_failed");
        assert_eq!(r.body["error"]["details"][0]["field"], field);
    }
    let r = app
        .post("/api/skills", &a.token, json!({"name": "\u{0}"}))
        .await;
    r.assert_error(422, "validation_failed");
    let artifact = app.get("/api/ai/artifacts", &a.token).await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .put(
            &format!("/api/ai/artifacts/{artifact}"),
            &a.token,
            json!({"content": "a\u{0}b"}),
        )
        .await;
    r.assert_error(422, "validation_failed");
    // Sign-up refuses a NUL, and login finds no account with one, never a 500.
    for (path, body) in [
        (
            "/api/auth/register",
            json!({"email": "n\u{0}@example.com", "password": "password123", "name": "N"}),
        ),
        (
            "/api/auth/register",
            json!({"email": "n@example.com", "password": "password123", "name": "N\u{0}"}),
        ),
        (
            "/api/auth/login",
            json!({"email": "b\u{0}@example.com", "password": "password123"}),
        ),
    ] {
        let r = app.call(Method::POST, path, None, Some(body.clone())).await;
        let (status, code) = match path {
            "/api/auth/login" => (401, "unauthorized"),
            _ => (422, "validation_failed"),
        };
        assert_eq!(r.status, status, "{body}: {}", r.body);
        r.assert_error(status, code);
    }

    assert_eq!(counts(&app, &[&a, &b]).await, before, "a table changed");
    let r = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": "b@example.com", "password": "password123"})),
        )
        .await;
    r.assert_status(200);
}
