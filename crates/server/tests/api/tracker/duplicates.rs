//! Jobs gain `source` and `tags`, and `POST /api/jobs` refuses a job the user already
//! tracks (same normalized URL, or same company and title) unless `allow_duplicate=true`.

use super::{assert_bad_param, assert_invalid, id, keys_of, total, walk_cursor, walk_offset};
use crate::helpers::TestApp;
use serde_json::json;

crate::on_both_backends!(
    duplicate_jobs_are_refused_with_the_existing_id,
    tags_and_source_are_normalized_validated_and_filtered,
);

async fn duplicate_jobs_are_refused_with_the_existing_id(app: TestApp) {
    let a = app.register("a@example.com").await;
    let b = app.register("b@example.com").await;
    let t = &a.token;
    let original = app
        .create_job(
            &a,
            json!({"title": "Rust Engineer", "company": "Acme Corp",
                   "url": "https://www.acme.example/jobs/42?b=2&a=1"}),
        )
        .await;
    let jobs = || async { total(&app.get("/api/jobs", t).await) };

    // The same posting by URL, whatever the title says.
    for (n, url) in [
        "https://www.acme.example/jobs/42?b=2&a=1",
        "http://acme.example/jobs/42?a=1&b=2",
        "https://WWW.ACME.EXAMPLE/jobs/42/?utm_source=newsletter&a=1&b=2#apply",
        "https://acme.example/jobs/42?b=2&utm_medium=mail&a=1&utm_campaign=x",
        "https://Acme.Example/jobs/42/?a=1&b=2",
    ]
    .into_iter()
    .enumerate()
    {
        let r = app
            .post(
                "/api/jobs",
                t,
                json!({"title": format!("Other title {n}"), "company": "Other", "url": url}),
            )
            .await;
        r.assert_error(409, "duplicate_job");
        assert_eq!(
            r.body["error"]["details"],
            json!({"existing_id": id(&original), "matched_on": "url"}),
            "{url}"
        );
    }
    // By company and title, with or without a URL of its own.
    for body in [
        json!({"title": "rust engineer", "company": "ACME CORP"}),
        json!({"title": "  Rust   Engineer ", "company": "Acme  Corp"}),
        json!({"title": "Rust Engineer", "company": "Acme Corp",
               "url": "https://acme.example/jobs/99"}),
    ] {
        let r = app.post("/api/jobs", t, body.clone()).await;
        r.assert_error(409, "duplicate_job");
        assert_eq!(
            r.body["error"]["details"],
            json!({"existing_id": id(&original), "matched_on": "company_and_title"}),
            "{body}"
        );
    }
    assert_eq!(jobs().await, 1, "a refused duplicate creates nothing");
    assert_eq!(
        total(
            &app.get(&format!("/api/jobs/{}/events", id(&original)), t)
                .await
        ),
        1
    );

    // Not the same posting: another path, another parameter value, another title.
    for body in [
        json!({"title": "Rust Engineer II", "company": "Acme Corp"}),
        json!({"title": "A", "company": "B", "url": "https://acme.example/jobs/43?a=1&b=2"}),
        json!({"title": "C", "company": "D", "url": "https://acme.example/jobs/42?a=1&b=3"}),
        json!({"title": "E", "company": "F", "url": "https://acme.example/jobs/42"}),
    ] {
        app.post("/api/jobs", t, body).await.assert_status(201);
    }
    assert_eq!(jobs().await, 5);

    // allow_duplicate=true keeps both; the oldest is the one named afterwards.
    let same = json!({"title": "Rust Engineer", "company": "Acme Corp",
                      "url": "https://acme.example/jobs/42?a=1&b=2"});
    let r = app
        .post("/api/jobs?allow_duplicate=true", t, same.clone())
        .await;
    let copy = r.assert_status(201).clone();
    assert_ne!(copy["id"], original["id"]);
    let r = app
        .post("/api/jobs?allow_duplicate=false", t, same.clone())
        .await;
    r.assert_error(409, "duplicate_job");
    assert_eq!(r.body["error"]["details"]["existing_id"], original["id"]);
    assert_bad_param(
        &app.post("/api/jobs?allow_duplicate=yes", t, same.clone())
            .await,
        "allow_duplicate",
    );
    assert_bad_param(
        &app.post("/api/jobs?force=true", t, same.clone()).await,
        "force",
    );
    assert_eq!(jobs().await, 6);

    // Another user's identical job is not a duplicate.
    let r = app.post("/api/jobs", &b.token, same.clone()).await;
    r.assert_status(201);

    // A changed job is found by its new keys, and no more by its old ones.
    let moved = app
        .create_job(
            &a,
            json!({"title": "Go Engineer", "company": "Globex",
                   "url": "https://globex.example/careers/1"}),
        )
        .await;
    app.patch(
        &format!("/api/jobs/{}", id(&moved)),
        t,
        json!({"url": "https://globex.example/careers/2", "title": "Go Lead"}),
    )
    .await
    .assert_status(200);
    let r = app
        .post(
            "/api/jobs",
            t,
            json!({"title": "x", "company": "y", "url": "https://globex.example/careers/2/"}),
        )
        .await;
    r.assert_error(409, "duplicate_job");
    assert_eq!(r.body["error"]["details"]["existing_id"], moved["id"]);
    let r = app
        .post(
            "/api/jobs",
            t,
            json!({"title": "go lead", "company": "globex"}),
        )
        .await;
    r.assert_error(409, "duplicate_job");
    assert_eq!(
        r.body["error"]["details"],
        json!({"existing_id": id(&moved), "matched_on": "company_and_title"})
    );
    for body in [
        json!({"title": "x", "company": "y", "url": "https://globex.example/careers/1"}),
        json!({"title": "Go Engineer", "company": "Globex"}),
    ] {
        app.post("/api/jobs", t, body).await.assert_status(201);
    }

    // A deleted job is no duplicate of anything.
    for job in [&original, &copy] {
        app.delete(&format!("/api/jobs/{}", id(job)), t)
            .await
            .assert_status(204);
    }
    app.post("/api/jobs", t, same).await.assert_status(201);

    // A job written before migration 0004 has no keys (the migration adds the columns
    // empty); `migrate` computes them with the server's own normalization, so such a job is
    // found by its URL like any other.
    let old = app
        .create_job(
            &a,
            json!({"title": "Legacy", "company": "Oldco", "url": "https://oldco.example/jobs/7"}),
        )
        .await;
    forget_keys(&app, &id(&old)).await;
    app.state
        .db
        .ops
        .migrate()
        .await
        .expect("migrate fills the missing keys");
    let r = app
        .post(
            "/api/jobs",
            t,
            json!({"title": "Other", "company": "Else", "url": "https://oldco.example/jobs/7"}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), &r.body["error"]["details"]),
        (409, &json!({"existing_id": id(&old), "matched_on": "url"})),
        "a job from before the migration is found by its URL: {}",
        r.body
    );
}

/// Makes one job look as if it was written before migration 0004: no duplicate keys.
async fn forget_keys(app: &TestApp, job: &str) {
    use sqlx::Connection;
    let job = uuid::Uuid::parse_str(job).unwrap();
    let sql = "UPDATE jobs SET dedup_url = NULL, dedup_name = NULL WHERE id = $1";
    if app.db.url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(&app.db.url).await.unwrap();
        sqlx::query(sql).bind(job).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
        sqlx::query(sql).bind(job).execute(&mut c).await.unwrap();
    }
}

async fn tags_and_source_are_normalized_validated_and_filtered(app: TestApp) {
    let u = app.register("a@example.com").await;
    let t = &u.token;
    let job = app
        .create_job(
            &u,
            json!({"title": "Dev", "company": "Acme", "source": "LinkedIn",
                   "tags": [" Remote", "rust", "RUST", "backend ", "Über"]}),
        )
        .await;
    assert_eq!(job["tags"], json!(["backend", "remote", "rust", "über"]));
    assert_eq!(job["source"], "LinkedIn");
    let path = format!("/api/jobs/{}", id(&job));
    assert_eq!(app.get(&path, t).await.body, job);
    let plain = app
        .create_job(&u, json!({"title": "Ops", "company": "Globex"}))
        .await;
    assert_eq!(plain["tags"], json!([]));
    assert!(plain["source"].is_null());

    let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    let twenty: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
    for (tags, field) in [
        (json!(many), "tags"),
        (json!(["x".repeat(51)]), "tags[0]"),
        (json!(["ok", "a;b"]), "tags[1]"),
        (json!(["a,b"]), "tags[0]"),
        (json!(["ok", "  "]), "tags[1]"),
        (json!(["tab\there"]), "tags[0]"),
        (json!("remote"), "tags"),
        (json!([1]), "tags[0]"),
    ] {
        let r = app
            .post(
                "/api/jobs",
                t,
                json!({"title": "T", "company": "C", "tags": tags}),
            )
            .await;
        assert_invalid(&r, field);
        assert_invalid(&app.patch(&path, t, json!({"tags": tags})).await, field);
    }
    assert_invalid(
        &app.post(
            "/api/jobs",
            t,
            json!({"title": "T", "company": "C", "source": "s".repeat(101)}),
        )
        .await,
        "source",
    );
    assert_eq!(total(&app.get("/api/jobs", t).await), 2);
    assert_eq!(app.get(&path, t).await.body["tags"], job["tags"]);
    let r = app
        .post(
            "/api/jobs",
            t,
            json!({"title": "Twenty", "company": "C", "tags": twenty, "source": "s".repeat(100)}),
        )
        .await;
    assert_eq!(r.assert_status(201)["tags"].as_array().unwrap().len(), 20);
    let twenty_id = id(&r.body);

    // The filter: case-insensitive, trimmed, one tag.
    for query in [
        "tag=remote",
        "tag=REMOTE",
        "tag=%20Remote%20",
        "tag=%C3%BCber",
    ] {
        let r = app.get(&format!("/api/jobs?{query}"), t).await;
        assert_eq!(keys_of(&r, "id"), [id(&job)], "{query}");
    }
    assert_eq!(total(&app.get("/api/jobs?tag=t7", t).await), 1);
    assert_eq!(
        total(&app.get("/api/jobs?tag=t", t).await),
        0,
        "whole tags only"
    );
    assert_eq!(total(&app.get("/api/jobs?tag=nothing", t).await), 0);
    assert_eq!(
        total(&app.get("/api/jobs?tag=", t).await),
        3,
        "empty: no filter"
    );
    let r = app
        .get("/api/jobs?tag=rust&status=interested&q=acm", t)
        .await;
    assert_eq!(total(&r), 1);
    assert_eq!(
        total(&app.get("/api/jobs?tag=rust&status=applied", t).await),
        0
    );
    let long = "x".repeat(51);
    assert_bad_param(&app.get(&format!("/api/jobs?tag={long}"), t).await, "tag");
    assert_bad_param(&app.get("/api/jobs?tag=%20%20", t).await, "tag");
    assert_bad_param(&app.get("/api/jobs?tag=a%00", t).await, "tag");

    // PATCH replaces the set; other fields leave it alone; null clears it.
    let r = app.patch(&path, t, json!({"tags": ["Go", "go "]})).await;
    assert_eq!(r.assert_status(200)["tags"], json!(["go"]));
    assert_eq!(app.get(&path, t).await.body["tags"], json!(["go"]));
    assert_eq!(total(&app.get("/api/jobs?tag=rust", t).await), 0);
    assert_eq!(total(&app.get("/api/jobs?tag=go", t).await), 1);
    let r = app
        .patch(&path, t, json!({"status": "applied", "source": "Referral"}))
        .await;
    assert_eq!(r.assert_status(200)["tags"], json!(["go"]));
    assert_eq!(r.body["source"], "Referral");
    let r = app
        .patch(&path, t, json!({"tags": null, "source": null}))
        .await;
    assert_eq!(r.assert_status(200)["tags"], json!([]));
    assert!(r.body["source"].is_null());
    assert_eq!(total(&app.get("/api/jobs?tag=go", t).await), 0);

    // Lists carry the tags, in both modes, and the tag filter pages.
    for i in 0..9 {
        app.create_job(
            &u,
            json!({"title": format!("Tagged {i}"), "company": "Initech", "tags": ["batch", format!("n{i}")]}),
        )
        .await;
    }
    let r = app.get("/api/jobs?limit=100", t).await;
    for row in r.body["data"].as_array().unwrap() {
        let tags = row["tags"].as_array().expect("every job lists its tags");
        if row["title"].as_str().unwrap().starts_with("Tagged") {
            assert_eq!(tags.len(), 2, "{row}");
            assert_eq!(tags[0], "batch");
        }
        if row["id"] == twenty_id.as_str() {
            assert_eq!(tags.len(), 20);
        }
    }
    let r = app.get("/api/jobs?cursor=&limit=100&tag=batch", t).await;
    for row in r.assert_status(200)["data"].as_array().unwrap() {
        assert_eq!(row["tags"][0], "batch", "{row}");
    }
    let by_offset = walk_offset(&app, &u, "/api/jobs?tag=batch", "id", 4).await;
    let by_cursor = walk_cursor(&app, &u, "/api/jobs?tag=batch", "id", 4).await;
    assert_eq!(by_offset.len(), 9);
    assert_eq!(by_cursor, by_offset);

    // Tags are answered in the order they are stored and listed (byte order, whatever the
    // database's collation). Passes on a C-collated database (the test default); on a
    // PostgreSQL database with a linguistic collation (e.g. ICU en-US) it fails: `TAGS_OF_JOB`
    // and `load_tags` sort with `ORDER BY tag` (database collation) while POST and PATCH
    // answer `normalize_tags`' byte order.
    let r = app
        .post(
            "/api/jobs",
            t,
            json!({"title": "Order", "company": "C",
                   "tags": ["zebra", "über", "newark", "new york", "ab", "a-c"]}),
        )
        .await;
    let posted = r.assert_status(201)["tags"].clone();
    assert_eq!(
        posted,
        json!(["a-c", "ab", "new york", "newark", "zebra", "über"])
    );
    let r = app.get(&format!("/api/jobs/{}", id(&r.body)), t).await;
    assert_eq!(r.body["tags"], posted, "GET answers the tags as POST did");

    // Another user's tags are their own.
    let other = app.register("b@example.com").await;
    assert_eq!(
        total(&app.get("/api/jobs?tag=batch", &other.token).await),
        0
    );
}
