//! Injection (SQL and LIKE): quotes, `' OR 1=1 --`, `; DROP TABLE`, `%`, `_`, `\`, Unicode
//! and NUL sent in every query parameter of every operation of `/api/openapi.json` (lists,
//! stats, the AI routes' `regenerate`, `allow_duplicate` on job creation and the import),
//! in bodies, in imported files and in paths are data: a parameter with a fixed set of
//! values, a number, a date or an id answers 400 naming it; the text searches `q` (jobs,
//! contacts) answer 200 with exactly what contains the text literally (a `%` finds only
//! titles with a `%`), and `tag` with exactly the job with that tag; what is stored comes
//! back as sent, NUL is refused on both backends alike; and every table is intact
//! afterwards.

use super::operations;
use crate::helpers::{TestApp, User};
use axum::body::Body;
use axum::http::{Method, Request, header};
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

/// The tag of each title's job: exact matches only, so that `100%` finds `100%` and not
/// `100x`, and `%` or `_` find nothing.
const TAGS: &[&str] = &[
    "100%",
    "100x",
    "a_b",
    "axb",
    "'",
    "\\",
    "Ünïcödé",
    "😀",
    "' OR 1=1 --",
    "\" OR \"\"=\"",
    "$1",
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

/// The names of the user's contacts that `query` lists.
async fn contact_names(app: &TestApp, user: &User, query: &str) -> (u16, Value, BTreeSet<String>) {
    let r = app
        .get(&format!("/api/contacts?limit=100&{query}"), &user.token)
        .await;
    let found = r.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    (r.status.as_u16(), r.body, found)
}

/// The titles a substring search for `needle` must find: those that hold it, or all when
/// the company (`Acme`) does.
fn holding(needle: &str) -> BTreeSet<String> {
    let needle = needle.trim().to_lowercase();
    TITLES
        .iter()
        .filter(|t| t.to_lowercase().contains(&needle) || "acme".contains(&needle))
        .map(|t| t.to_string())
        .collect()
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
        let any = flowats_db::tracker::RecordFilter::default;
        all.push(db.contacts.count(id, any()).await.unwrap());
        all.push(db.interviews.count(id, any()).await.unwrap());
        all.push(db.tasks.count(id, any()).await.unwrap());
        all.push(db.task_rules.count(id, any()).await.unwrap());
        all.push(db.notes.count(id, any()).await.unwrap());
    }
    all
}

async fn injection_strings_are_data_everywhere(app: TestApp) {
    let a = app.register("a@example.com").await;
    let b = app.register("b@example.com").await;
    for user in [&a, &b] {
        for (title, tag) in TITLES.iter().zip(TAGS) {
            let job = app
                .create_job(
                    user,
                    json!({"title": title, "company": "Acme", "tags": [tag]}),
                )
                .await;
            assert_eq!(job["title"], *title, "stored as sent");
            assert_eq!(job["tags"], json!([tag.to_lowercase()]), "stored as sent");
            let r = app
                .post(
                    "/api/contacts",
                    &user.token,
                    json!({"name": title, "company": "Acme"}),
                )
                .await;
            assert_eq!(r.assert_status(201)["name"], *title, "stored as sent");
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
                    let want = holding(needle);
                    assert_eq!(found, want, "q={needle:?}");
                    assert_eq!(body["pagination"]["totalItems"], want.len(), "q={needle:?}");
                }
                ("GET", "/api/contacts", "q") => {
                    let (status, body, found) = contact_names(&app, &a, &query).await;
                    if needle.contains('\u{0}') {
                        assert_eq!(status, 400, "contacts q={needle:?}: {body}");
                        assert_eq!(body["error"]["details"]["parameter"], "q");
                        continue;
                    }
                    assert_eq!(status, 200, "contacts q={needle:?}: {body}");
                    let want = holding(needle);
                    assert_eq!(found, want, "contacts q={needle:?}");
                    assert_eq!(body["pagination"]["totalItems"], want.len(), "q={needle:?}");
                }
                // A tag is compared whole: no wildcard, only the job with exactly that tag.
                ("GET", "/api/jobs", "tag") => {
                    let (status, body, found) = titles(&app, &a, &query).await;
                    if needle.contains('\u{0}') {
                        assert_eq!(status, 400, "tag={needle:?}: {body}");
                        assert_eq!(body["error"]["details"]["parameter"], "tag");
                        continue;
                    }
                    assert_eq!(status, 200, "tag={needle:?}: {body}");
                    let tag = needle.trim().to_lowercase();
                    let want: BTreeSet<String> = TITLES
                        .iter()
                        .zip(TAGS)
                        .filter(|(_, t)| t.to_lowercase() == tag)
                        .map(|(title, _)| title.to_string())
                        .collect();
                    assert_eq!(found, want, "tag={needle:?}");
                    assert_eq!(
                        body["pagination"]["totalItems"],
                        want.len(),
                        "tag={needle:?}"
                    );
                }
                // Parameters with a fixed set of values, a number, a date or an id.
                (
                    "GET",
                    _,
                    "status" | "sort" | "kind" | "job_id" | "role" | "due" | "done" | "priority"
                    | "today" | "stale_days",
                )
                | ("POST", "/api/ai/resume" | "/api/ai/cover-letter", "regenerate")
                | ("POST", "/api/jobs" | "/api/import/jobs", "allow_duplicate") => {
                    let uri = format!("{}?{query}", path.replace("{id}", &job));
                    let req = Request::builder()
                        .method(method.clone())
                        .uri(uri)
                        .header(header::AUTHORIZATION, format!("Bearer {}", a.token));
                    let (content_type, body) = match path.as_str() {
                        "/api/ai/resume" | "/api/ai/cover-letter" => {
                            ("application/json", json!({"job_id": job}).to_string())
                        }
                        "/api/jobs" if method == Method::POST => (
                            "application/json",
                            json!({"title": "Injected", "company": "Acme"}).to_string(),
                        ),
                        "/api/import/jobs" => ("text/csv", "title,company\nInjected,Acme\n".into()),
                        _ => ("", String::new()),
                    };
                    let req = match content_type {
                        "" => req.body(Body::empty()),
                        t => req.header(header::CONTENT_TYPE, t).body(Body::from(body)),
                    };
                    let r = app.send(req.unwrap()).await;
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
    assert!(cases >= 500, "{cases} cases");

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
    let (_, _, all) = contact_names(&app, &a, "").await;
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
    let nul = "nul\u{0}byte";
    let on_job = |what: &str| format!("/api/jobs/{job}/{what}");
    for (path, body, field) in [
        (
            "/api/jobs".to_owned(),
            json!({"title": "T", "company": "C", "tags": [nul]}),
            "tags[0]",
        ),
        ("/api/contacts".into(), json!({"name": nul}), "name"),
        (
            "/api/contacts".into(),
            json!({"name": "n", "email": "a\u{0}@example.com"}),
            "email",
        ),
        (on_job("notes"), json!({"body": nul}), "body"),
        (on_job("tasks"), json!({"title": nul}), "title"),
        (
            on_job("interviews"),
            json!({"kind": "panel", "scheduled_at": "2027-01-10T10:00:00Z", "location": nul}),
            "location",
        ),
        (
            "/api/task-rules".into(),
            json!({"status": "offer", "delay_days": 1, "title": nul}),
            "title",
        ),
    ] {
        let r = app.post(&path, &a.token, body).await;
        assert_eq!(r.status, 422, "{path} {field}: {}", r.body);
        r.assert_error(422, "validation_failed");
        assert_eq!(r.body["error"]["details"][0]["field"], field, "{path}");
    }
    // And in an imported file: a cell, and a contact's name inside the JSON of one.
    for (file, field) in [
        ("title,company\nnul\u{0}byte,Acme\n", "title"),
        (
            "title,company,contacts\nT,Acme,\"[{\"\"name\"\": \"\"a\\u0000b\"\"}]\"\n",
            "contacts[0].name",
        ),
    ] {
        let req = Request::post("/api/import/jobs")
            .header(header::AUTHORIZATION, format!("Bearer {}", a.token))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(file))
            .unwrap();
        let r = app.send(req).await;
        assert_eq!(r.status, 422, "import {file:?}: {}", r.body);
        r.assert_error(422, "validation_failed");
        assert_eq!(r.body["error"]["details"][0]["field"], field, "{file:?}");
        assert_eq!(r.body["error"]["details"][0]["line"], 2, "{file:?}");
    }
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
