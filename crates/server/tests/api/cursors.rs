//! Cursor mode through the HTTP API: walks equal offset walks in every order, cursors are
//! refused when altered or made for another order, replaying another user's cursor
//! reveals nothing, and totals come only on request.

use crate::helpers::{TestApp, User};
use serde_json::{Value, json};

crate::on_both_backends!(
    cursor_walks_match_offset_walks_in_every_order,
    cursors_are_checked_and_reveal_nothing_across_users,
    every_list_speaks_cursor_mode,
);

async fn walk_cursor(app: &TestApp, u: &User, base: &str) -> Vec<Value> {
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut url = format!("{base}{sep}cursor=&limit=7");
    let mut ids = Vec::new();
    let mut first = true;
    loop {
        let r = app.get(&url, &u.token).await;
        let body = r.assert_status(200);
        assert_eq!(body["pagination"]["hasPreviousPage"], !first);
        assert!(body["pagination"].get("totalItems").is_none());
        assert!(body["pagination"].get("page").is_none());
        ids.extend(
            body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|j| j["id"].clone()),
        );
        match body["pagination"]["nextCursor"].as_str() {
            Some(next) => {
                assert_eq!(body["pagination"]["hasNextPage"], true);
                url = format!("{base}{sep}cursor={next}&limit=7");
            }
            None => {
                assert_eq!(body["pagination"]["hasNextPage"], false);
                return ids;
            }
        }
        first = false;
    }
}

async fn walk_offset(app: &TestApp, u: &User, base: &str) -> Vec<Value> {
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut ids = Vec::new();
    for page in 1.. {
        let r = app
            .get(&format!("{base}{sep}page={page}&limit=7"), &u.token)
            .await;
        let data = r.assert_status(200)["data"].as_array().unwrap().clone();
        if data.is_empty() {
            return ids;
        }
        ids.extend(data.iter().map(|j| j["id"].clone()));
    }
    unreachable!()
}

async fn cursor_walks_match_offset_walks_in_every_order(app: TestApp) {
    let u = app.register("a@example.com").await;
    let mut ids = Vec::new();
    for i in 0..40 {
        let status = if i % 3 == 0 { "applied" } else { "interested" };
        let job = app
            .create_job(
                &u,
                json!({"title": format!("J{i}"), "company": "Acme", "status": status}),
            )
            .await;
        ids.push(job["id"].clone());
    }
    for id in ids.iter().step_by(5) {
        let path = format!("/api/jobs/{}", id.as_str().unwrap());
        app.patch(&path, &u.token, json!({"notes": "touched"}))
            .await
            .assert_status(200);
    }
    for base in [
        "/api/jobs",
        "/api/jobs?sort=newest",
        "/api/jobs?sort=oldest",
        "/api/jobs?sort=updated",
        "/api/jobs?sort=oldest&status=applied",
        "/api/jobs?sort=updated&q=j1",
    ] {
        let by_cursor = walk_cursor(&app, &u, base).await;
        let by_offset = walk_offset(&app, &u, base).await;
        assert!(!by_cursor.is_empty(), "{base}");
        assert_eq!(by_cursor, by_offset, "{base}");
    }
    let oldest = walk_cursor(&app, &u, "/api/jobs?sort=oldest").await;
    assert_eq!(oldest, ids);
    let updated = walk_cursor(&app, &u, "/api/jobs?sort=updated").await;
    assert_eq!(updated[0], *ids.iter().step_by(5).next_back().unwrap());

    let r = app
        .get(
            "/api/jobs?cursor=&limit=5&includeTotal=true&status=applied",
            &u.token,
        )
        .await;
    assert_eq!(r.assert_status(200)["pagination"]["totalItems"], 14);
}

async fn cursors_are_checked_and_reveal_nothing_across_users(app: TestApp) {
    let a = app.register("a@example.com").await;
    let b = app.register("b@example.com").await;
    for i in 0..5 {
        app.create_job(&a, json!({"title": format!("A{i}"), "company": "Acme"}))
            .await;
        app.create_job(&b, json!({"title": format!("B{i}"), "company": "Globex"}))
            .await;
    }
    let first = app.get("/api/jobs?cursor=&limit=2", &a.token).await;
    let next = first.body["pagination"]["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();

    // Another order's cursor, an altered one, a truncated one: 400 naming `cursor`. The
    // altered character is a middle one: the last may carry only padding bits, and may
    // already be the replacement.
    let mut altered = next.clone().into_bytes();
    let mid = altered.len() / 2;
    altered[mid] = if altered[mid] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    for bad in [
        format!("/api/jobs?sort=oldest&cursor={next}"),
        format!("/api/jobs?cursor={altered}"),
        format!("/api/jobs?cursor={}", &next[..10]),
        "/api/jobs?cursor=%00%01".to_owned(),
    ] {
        let r = app.get(&bad, &a.token).await;
        let message = r.assert_error(400, "bad_request");
        assert!(message.contains("cursor"), "{bad}: {message}");
        assert_eq!(r.body["error"]["details"]["parameter"], "cursor");
    }

    // B replaying A's cursor sees only B's own jobs.
    let replay = app
        .get(&format!("/api/jobs?cursor={next}&limit=10"), &b.token)
        .await;
    let titles: Vec<&str> = replay.assert_status(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["title"].as_str().unwrap())
        .collect();
    assert!(titles.iter().all(|t| t.starts_with('B')), "{titles:?}");
}

async fn every_list_speaks_cursor_mode(app: TestApp) {
    let u = app.register("a@example.com").await;
    let job = app
        .create_job(&u, json!({"title": "Dev", "company": "Acme"}))
        .await;
    let path = format!("/api/jobs/{}", job["id"].as_str().unwrap());
    for status in ["applied", "screening", "interviewing", "offer"] {
        app.patch(&path, &u.token, json!({"status": status}))
            .await
            .assert_status(200);
    }
    for i in 0..9 {
        app.post("/api/skills", &u.token, json!({"name": format!("S{i}")}))
            .await
            .assert_status(201);
        app.post(
            "/api/education",
            &u.token,
            json!({"institution": format!("U{i}")}),
        )
        .await
        .assert_status(201);
        app.post(
            "/api/employment",
            &u.token,
            json!({"company": format!("C{i}"), "title": "Dev"}),
        )
        .await
        .assert_status(201);
    }
    for list in [
        format!("{path}/events"),
        "/api/skills".into(),
        "/api/education".into(),
        "/api/employment".into(),
    ] {
        let by_cursor = walk_cursor(&app, &u, &list).await;
        let by_offset = walk_offset(&app, &u, &list).await;
        assert!(by_cursor.len() >= 5, "{list}");
        assert_eq!(by_cursor, by_offset, "{list}");
        app.get(&format!("{list}?sort=oldest"), &u.token)
            .await
            .assert_error(400, "bad_request");
    }
}
