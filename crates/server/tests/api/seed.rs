use crate::helpers::TestApp;
use axum::http::Method;
use flowats_server::seed::{BulkPlan, DEMO_EMAIL, DEMO_PASSWORD, seed_bulk, seed_demo};
use serde_json::json;

crate::on_both_backends!(
    demo_seed_logs_in_and_is_harmless_twice,
    bulk_seed_tops_up_and_is_harmless_twice,
);

async fn demo_seed_logs_in_and_is_harmless_twice(app: TestApp) {
    assert!(
        seed_demo(&app.state).await.unwrap(),
        "first run creates the account"
    );
    assert!(!seed_demo(&app.state).await.unwrap(), "second run finds it");
    let login = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": DEMO_EMAIL, "password": DEMO_PASSWORD})),
        )
        .await;
    let token = login.assert_status(200)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let jobs = app.get("/api/jobs", &token).await;
    assert_eq!(
        jobs.assert_status(200)["pagination"]["totalItems"],
        5,
        "jobs not duplicated"
    );
    let skills = app.get("/api/skills", &token).await;
    assert_eq!(skills.body["pagination"]["totalItems"], 5);
    let profile = app.get("/api/profile", &token).await;
    assert_eq!(profile.body["full_name"], "Demo User");
}

async fn bulk_seed_tops_up_and_is_harmless_twice(app: TestApp) {
    let plan = BulkPlan {
        users: 3,
        jobs_per_user: 40,
        heavy_jobs: Some(700),
    };
    assert_eq!(seed_bulk(&app.state, plan).await.unwrap(), 3 * 40 + 700);
    assert_eq!(
        seed_bulk(&app.state, plan).await.unwrap(),
        0,
        "a rerun adds nothing"
    );
    let more = BulkPlan {
        users: 4,
        jobs_per_user: 50,
        heavy_jobs: None,
    };
    assert_eq!(
        seed_bulk(&app.state, more).await.unwrap(),
        3 * 10 + 50,
        "tops up"
    );

    for (email, jobs) in [
        ("user1@example.com", 50),
        ("user4@example.com", 50),
        ("heavy@example.com", 700),
    ] {
        let login = app
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({"email": email, "password": "password"})),
            )
            .await;
        let token = login.assert_status(200)["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let list = app.get("/api/jobs?limit=100", &token).await;
        assert_eq!(
            list.assert_status(200)["pagination"]["totalItems"],
            jobs,
            "{email}"
        );
        let first = &list.body["data"][0];
        let events = app
            .get(
                &format!("/api/jobs/{}/events", first["id"].as_str().unwrap()),
                &token,
            )
            .await;
        assert_eq!(
            events.body["data"][0]["to_status"], first["status"],
            "seeded jobs have their history"
        );
        assert_eq!(app.get("/api/profile", &token).await.status, 200);
    }
}
