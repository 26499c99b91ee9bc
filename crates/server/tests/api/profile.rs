use crate::helpers::TestApp;
use serde_json::json;

crate::on_both_backends!(
    profile_put_get_and_version,
    profile_items_crud_pagination_and_validation,
);

async fn profile_put_get_and_version(app: TestApp) {
    let u = app.register("a@example.com").await;
    let p = app.get("/api/profile", &u.token).await;
    assert_eq!(p.assert_status(200)["version"], 1);
    assert!(p.body["full_name"].is_null());

    let put = app
        .put(
            "/api/profile",
            &u.token,
            json!({"full_name": "Ada Lovelace", "headline": "Engineer", "website": "https://ada.dev"}),
        )
        .await;
    let body = put.assert_status(200);
    assert_eq!(
        (body["version"].as_i64(), body["full_name"].as_str()),
        (Some(2), Some("Ada Lovelace"))
    );
    assert_eq!(
        app.get("/api/profile", &u.token).await.body["headline"],
        "Engineer"
    );

    // PUT replaces: what is not sent is cleared.
    let put = app
        .put("/api/profile", &u.token, json!({"full_name": "Ada"}))
        .await;
    assert!(put.assert_status(200)["headline"].is_null());

    app.put("/api/profile", &u.token, json!({"website": "not a url"}))
        .await
        .assert_error(422, "validation_failed");
    let r = app
        .put("/api/profile", &u.token, json!({"version": 99}))
        .await;
    r.assert_error(422, "validation_failed");
    assert_eq!(r.body["error"]["details"][0]["field"], "version");
    assert_eq!(
        app.get("/api/profile", &u.token).await.body["version"],
        3,
        "failed writes bump nothing"
    );

    // Skills, education and employment changes bump the version too.
    let s = app
        .post(
            "/api/skills",
            &u.token,
            json!({"name": "Rust", "proficiency": 4}),
        )
        .await;
    let sid = s.assert_status(201)["id"].as_str().unwrap().to_owned();
    app.patch(
        &format!("/api/skills/{sid}"),
        &u.token,
        json!({"proficiency": 5}),
    )
    .await
    .assert_status(200);
    app.post("/api/education", &u.token, json!({"institution": "MIT"}))
        .await
        .assert_status(201);
    app.post(
        "/api/employment",
        &u.token,
        json!({"company": "Acme", "title": "Dev"}),
    )
    .await
    .assert_status(201);
    app.delete(&format!("/api/skills/{sid}"), &u.token)
        .await
        .assert_status(204);
    assert_eq!(app.get("/api/profile", &u.token).await.body["version"], 8);
}

async fn profile_items_crud_pagination_and_validation(app: TestApp) {
    let u = app.register("a@example.com").await;
    let t = &u.token;
    for (path, good, patch, bad) in [
        (
            "/api/skills",
            json!({"name": "Rust", "category": "language", "proficiency": 4}),
            json!({"category": null, "proficiency": 5}),
            json!({"name": "Rust", "proficiency": 7}),
        ),
        (
            "/api/education",
            json!({"institution": "MIT", "degree": "BSc", "start_date": "2015-09-01", "end_date": "2019-06-30", "gpa": 3.9}),
            json!({"degree": "MSc"}),
            json!({"institution": "MIT", "start_date": "2019-09-01", "end_date": "2015-06-30"}),
        ),
        (
            "/api/employment",
            json!({"company": "Acme", "title": "Dev", "start_date": "2020-01-01", "description": "APIs"}),
            json!({"title": "Senior Dev", "description": null}),
            json!({"company": "Acme"}),
        ),
    ] {
        let mut ids = Vec::new();
        for _ in 0..3 {
            let created = app.post(path, t, good.clone()).await;
            ids.push(
                created.assert_status(201)["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        let page = app.get(&format!("{path}?page=2&limit=2"), t).await;
        let body = page.assert_status(200);
        assert_eq!(body["pagination"]["totalItems"], 3, "{path}");
        assert_eq!(body["pagination"]["totalPages"], 2, "{path}");
        assert_eq!(body["pagination"]["hasPreviousPage"], true, "{path}");
        assert_eq!(
            body["data"][0]["id"],
            ids[0].as_str(),
            "{path}: newest first, so the oldest is last"
        );

        let one = format!("{path}/{}", ids[1]);
        let before = app.get(&one, t).await.assert_status(200).clone();
        let patched = app
            .patch(&one, t, patch.clone())
            .await
            .assert_status(200)
            .clone();
        for (k, v) in patch.as_object().unwrap() {
            assert_eq!(&patched[k], v, "{path}: {k}");
        }
        assert_eq!(patched["created_at"], before["created_at"], "{path}");

        app.post(path, t, bad.clone())
            .await
            .assert_error(422, "validation_failed");
        app.post(path, t, json!({"id": ids[0], "name": "x"}))
            .await
            .assert_error(422, "validation_failed");
        app.patch(&one, t, json!({"created_at": "2020-01-01T00:00:00Z"}))
            .await
            .assert_error(422, "validation_failed");
        assert_eq!(
            app.get(&one, t).await.body,
            patched,
            "{path}: refused writes change nothing"
        );

        app.delete(&one, t).await.assert_status(204);
        app.get(&one, t).await.assert_error(404, "not_found");
        app.delete(&one, t).await.assert_error(404, "not_found");
        app.get(&format!("{path}?limit=0"), t)
            .await
            .assert_error(400, "bad_request");
        app.get(&format!("{path}?sort=name"), t)
            .await
            .assert_error(400, "bad_request");
    }
}
