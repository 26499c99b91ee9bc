use crate::helpers::TestApp;
use axum::http::Method;
use flowats_server::seed::{DEMO_EMAIL, DEMO_PASSWORD, seed_demo};
use serde_json::json;

crate::on_both_backends!(demo_seed_logs_in_and_is_harmless_twice);

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
