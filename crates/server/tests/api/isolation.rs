//! Object-level authorization: user B can neither read, change nor delete anything of
//! user A's, gets 404 (never 403, never 200) on every route with an id, and A's data is
//! byte-for-byte unchanged afterwards.

use crate::helpers::TestApp;
use serde_json::json;

crate::on_both_backends!(another_users_objects_are_404_and_untouched);

async fn another_users_objects_are_404_and_untouched(app: TestApp) {
    let a = app.register("a@example.com").await;
    let b = app.register("b@example.com").await;
    let job = app
        .create_job(&a, json!({"title": "Dev", "company": "Acme"}))
        .await;
    let mut objects = vec![format!("/api/jobs/{}", job["id"].as_str().unwrap())];
    for (path, body) in [
        ("/api/skills", json!({"name": "Rust"})),
        ("/api/education", json!({"institution": "MIT"})),
        (
            "/api/employment",
            json!({"company": "Acme", "title": "Dev"}),
        ),
    ] {
        let r = app.post(path, &a.token, body).await;
        objects.push(format!(
            "{path}/{}",
            r.assert_status(201)["id"].as_str().unwrap()
        ));
    }
    app.put("/api/profile", &a.token, json!({"full_name": "Ada"}))
        .await
        .assert_status(200);

    let before = snapshot(&app, &a.token, &objects).await;

    for path in &objects {
        app.get(path, &b.token).await.assert_error(404, "not_found");
        app.patch(
            path,
            &b.token,
            json!({"notes": "mine now", "name": "mine", "institution": "x", "title": "x"}),
        )
        .await
        .assert_error(404, "not_found");
        app.delete(path, &b.token)
            .await
            .assert_error(404, "not_found");
    }
    app.get(&format!("{}/events", objects[0]), &b.token)
        .await
        .assert_error(404, "not_found");
    for list in [
        "/api/jobs",
        "/api/skills",
        "/api/education",
        "/api/employment",
    ] {
        let r = app.get(list, &b.token).await;
        assert_eq!(r.assert_status(200)["data"], json!([]), "{list}");
    }
    let stats = app.get("/api/jobs/stats", &b.token).await;
    assert_eq!(stats.body["total"], 0);
    let profile = app.get("/api/profile", &b.token).await;
    assert!(profile.body["full_name"].is_null());
    // Malformed and unknown ids are 404 too.
    app.get("/api/jobs/not-a-uuid", &b.token)
        .await
        .assert_error(404, "not_found");
    app.get(&format!("/api/jobs/{}", uuid::Uuid::now_v7()), &b.token)
        .await
        .assert_error(404, "not_found");

    assert_eq!(
        snapshot(&app, &a.token, &objects).await,
        before,
        "A's data changed"
    );
}

/// Everything A can read about the objects, their profile, stats and the job's history.
async fn snapshot(app: &TestApp, token: &str, objects: &[String]) -> Vec<serde_json::Value> {
    let mut all = Vec::new();
    for path in objects
        .iter()
        .map(String::as_str)
        .chain(["/api/profile", "/api/jobs/stats"])
    {
        all.push(app.get(path, token).await.assert_status(200).clone());
    }
    all.push(app.get(&format!("{}/events", objects[0]), token).await.body);
    all
}
