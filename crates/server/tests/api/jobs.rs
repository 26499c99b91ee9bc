use crate::helpers::TestApp;
use futures_util::future::join_all;
use serde_json::json;

crate::on_both_backends!(
    job_lifecycle_with_status_history,
    job_input_is_validated_and_refused_writes_change_nothing,
    job_list_filters_and_pagination,
    text_search_folds_unicode_case,
    list_parameters_are_checked,
    concurrent_writes_all_succeed,
);

async fn job_lifecycle_with_status_history(app: TestApp) {
    let u = app.register("a@example.com").await;
    let t = &u.token;
    let job = app
        .create_job(
            &u,
            json!({"title": "Rust Engineer", "company": "Acme", "url": "https://acme.example/jobs/1",
                   "salary_min": 100000, "salary_max": 150000, "deadline": "2027-01-31"}),
        )
        .await;
    assert_eq!(job["status"], "interested");
    assert_eq!(job["deadline"], "2027-01-31");
    let id = job["id"].as_str().unwrap();
    let path = format!("/api/jobs/{id}");

    let list = app.get("/api/jobs", t).await;
    assert_eq!(list.assert_status(200)["data"][0]["id"], id);

    for status in ["applied", "interviewing"] {
        let r = app.patch(&path, t, json!({"status": status})).await;
        assert_eq!(r.assert_status(200)["status"], status);
    }
    let r = app
        .patch(&path, t, json!({"notes": "great team", "salary_min": null}))
        .await;
    let body = r.assert_status(200);
    assert_eq!(
        (body["notes"].as_str(), body["salary_min"].is_null()),
        (Some("great team"), true)
    );
    assert_eq!(body["title"], "Rust Engineer");

    let events = app.get(&format!("{path}/events"), t).await;
    let body = events.assert_status(200);
    let steps: Vec<(serde_json::Value, serde_json::Value)> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["from_status"].clone(), e["to_status"].clone()))
        .collect();
    assert_eq!(
        steps,
        [
            (json!("applied"), json!("interviewing")),
            (json!("interested"), json!("applied")),
            (json!(null), json!("interested")),
        ]
    );

    let stats = app.get("/api/jobs/stats", t).await;
    let body = stats.assert_status(200);
    assert_eq!(
        (
            body["total"].as_i64(),
            body["by_status"]["interviewing"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(body["by_status"]["offer"], 0);

    app.delete(&path, t).await.assert_status(204);
    app.get(&path, t).await.assert_error(404, "not_found");
    app.get(&format!("{path}/events"), t)
        .await
        .assert_error(404, "not_found");
    app.patch(&path, t, json!({"status": "offer"}))
        .await
        .assert_error(404, "not_found");
}

async fn job_input_is_validated_and_refused_writes_change_nothing(app: TestApp) {
    let u = app.register("a@example.com").await;
    let t = &u.token;
    for (body, field) in [
        (json!({"title": "Dev"}), "company"),
        (json!({"title": "", "company": "Acme"}), "title"),
        (
            json!({"title": "Dev", "company": "Acme", "status": "hired"}),
            "status",
        ),
        (
            json!({"title": "Dev", "company": "Acme", "salary_min": 10, "salary_max": 5}),
            "salary_max",
        ),
        (
            json!({"title": "Dev", "company": "Acme", "url": "javascript:alert(1)"}),
            "url",
        ),
        (
            json!({"title": "Dev", "company": "Acme", "deadline": "31/01/2027"}),
            "deadline",
        ),
        (
            json!({"title": "x".repeat(201), "company": "Acme"}),
            "title",
        ),
        (
            json!({"title": "Dev", "company": "Acme", "user_id": u.id}),
            "user_id",
        ),
        (
            json!({"title": "Dev", "company": "Acme", "created_at": "2020-01-01T00:00:00Z"}),
            "created_at",
        ),
    ] {
        let r = app.post("/api/jobs", t, body.clone()).await;
        r.assert_error(422, "validation_failed");
        let fields: Vec<&str> = r.body["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["field"].as_str().unwrap())
            .collect();
        assert!(
            fields.contains(&field),
            "{body}: expected {field} in {fields:?}"
        );
    }
    assert_eq!(
        app.get("/api/jobs", t).await.body["pagination"]["totalItems"],
        0
    );

    let job = app
        .create_job(
            &u,
            json!({"title": "Dev", "company": "Acme", "salary_min": 100}),
        )
        .await;
    let path = format!("/api/jobs/{}", job["id"].as_str().unwrap());
    for patch in [
        json!({"salary_max": 50}),
        json!({"status": "hired"}),
        json!({"company": null}),
        json!({"id": "0190b8a0-0000-7000-8000-000000000000"}),
        json!({"version": 2}),
        json!({"colour": "red"}),
    ] {
        app.patch(&path, t, patch)
            .await
            .assert_error(422, "validation_failed");
    }
    assert_eq!(
        app.get(&path, t).await.body,
        job,
        "refused patches change nothing"
    );
    assert_eq!(
        app.get(&format!("{path}/events"), t).await.body["pagination"]["totalItems"],
        1
    );
}

async fn job_list_filters_and_pagination(app: TestApp) {
    let u = app.register("a@example.com").await;
    let t = &u.token;
    for i in 0..25 {
        let status = if i % 5 == 0 { "applied" } else { "interested" };
        let company = if i % 2 == 0 { "Acme" } else { "Globex" };
        app.create_job(
            &u,
            json!({"title": format!("Engineer {i}"), "company": company, "status": status}),
        )
        .await;
    }
    let r = app.get("/api/jobs?page=2&limit=10", t).await;
    let body = r.assert_status(200);
    assert_eq!(body["data"].as_array().unwrap().len(), 10);
    assert_eq!(body["data"][0]["title"], "Engineer 14", "newest first");
    let mut pagination = body["pagination"].clone();
    let next = pagination
        .as_object_mut()
        .unwrap()
        .remove("nextCursor")
        .unwrap();
    assert!(
        next.is_string(),
        "offset pages also offer the cursor of their last row"
    );
    assert_eq!(
        pagination,
        json!({"page": 2, "limit": 10, "totalItems": 25, "totalPages": 3,
               "hasNextPage": true, "hasPreviousPage": true})
    );
    let last = app.get("/api/jobs?page=3&limit=10", t).await;
    assert_eq!(last.body["data"].as_array().unwrap().len(), 5);
    assert_eq!(last.body["pagination"]["hasNextPage"], false);
    let beyond = app.get("/api/jobs?page=9&limit=10", t).await;
    assert_eq!(beyond.assert_status(200)["data"], json!([]));

    let applied = app.get("/api/jobs?status=applied", t).await;
    assert_eq!(applied.body["pagination"]["totalItems"], 5);
    let q = app.get("/api/jobs?q=GLOBEX", t).await;
    assert_eq!(q.body["pagination"]["totalItems"], 12);
    let both = app.get("/api/jobs?status=applied&q=acme&limit=2", t).await;
    assert_eq!(both.body["pagination"]["totalItems"], 3);
    assert_eq!(both.body["pagination"]["totalPages"], 2);
}

/// `q` matches whatever the case of non-ASCII letters, the same on both backends (SQLite's
/// own `lower()` folds only ASCII).
async fn text_search_folds_unicode_case(app: TestApp) {
    let u = app.register("a@example.com").await;
    let t = &u.token;
    app.create_job(
        &u,
        json!({"title": "Ingénieur logiciel", "company": "Ωmega"}),
    )
    .await;
    app.create_job(&u, json!({"title": "Engineer", "company": "Acme"}))
        .await;
    for q in ["INGÉNIEUR", "ingénieur", "%CF%89mega", "%CE%A9MEGA"] {
        let r = app.get(&format!("/api/jobs?q={q}"), t).await;
        let body = r.assert_status(200);
        assert_eq!(body["pagination"]["totalItems"], 1, "q={q}");
        assert_eq!(body["data"][0]["title"], "Ingénieur logiciel", "q={q}");
    }
    let none = app.get("/api/jobs?q=%C3%A9mega", t).await;
    assert_eq!(none.assert_status(200)["pagination"]["totalItems"], 0);
}

/// The job list's own parameters; paging bounds on every list: `security/consumption.rs`.
async fn list_parameters_are_checked(app: TestApp) {
    let u = app.register("a@example.com").await;
    for (query, parameter) in [
        ("status=hired", "status"),
        ("sort=salary", "sort"),
        ("includeTotal=true", "includeTotal"),
    ] {
        let r = app.get(&format!("/api/jobs?{query}"), &u.token).await;
        let message = r.assert_error(400, "bad_request");
        assert!(message.contains(parameter), "{query}: {message}");
    }
}

/// Concurrent writes queue for the database (SQLite's single writer, PostgreSQL row locks)
/// instead of failing with "database is locked" or losing an update.
async fn concurrent_writes_all_succeed(app: TestApp) {
    let u = app.register("a@example.com").await;
    let creates = (0..20).map(|i| {
        app.post(
            "/api/jobs",
            &u.token,
            json!({"title": format!("J{i}"), "company": "Acme"}),
        )
    });
    let created = join_all(creates).await;
    assert!(created.iter().all(|r| r.status == 201), "{created:?}");
    let id = created[0].body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/jobs/{id}");
    let statuses = ["applied", "screening", "interviewing", "offer", "rejected"];
    let patches = statuses
        .iter()
        .map(|s| app.patch(&path, &u.token, json!({"status": s})));
    let patched = join_all(patches).await;
    assert!(patched.iter().all(|r| r.status == 200), "{patched:?}");
    let events = app.get(&format!("{path}/events"), &u.token).await;
    let body = events.assert_status(200);
    assert_eq!(
        body["pagination"]["totalItems"], 6,
        "one event per change plus creation"
    );
    // The history is a chain: each event starts where the previous one ended.
    let data = body["data"].as_array().unwrap();
    for pair in data.windows(2) {
        assert_eq!(pair[0]["from_status"], pair[1]["to_status"], "{data:?}");
    }
    assert_eq!(
        app.get("/api/jobs", &u.token).await.body["pagination"]["totalItems"],
        20
    );
}
