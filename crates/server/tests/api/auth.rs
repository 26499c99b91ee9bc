//! Registration, login and account deletion. Token defects on every route:
//! `security/authentication.rs`.

use crate::helpers::TestApp;
use axum::http::Method;
use serde_json::json;

crate::on_both_backends!(
    register_login_me,
    registration_is_validated_and_emails_are_unique,
    wrong_email_and_wrong_password_get_the_same_answer,
    deleting_the_account_removes_everything,
);

async fn register_login_me(app: TestApp) {
    let r = app
        .call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(
                json!({"email": "  Ada@Example.COM ", "password": "password123", "name": " Ada "}),
            ),
        )
        .await;
    let body = r.assert_status(201);
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert_eq!(body["user"]["name"], "Ada");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["user"].get("password_hash").is_none());

    let login = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": "ADA@example.com", "password": "password123"})),
        )
        .await;
    let token = login.assert_status(200)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = app.get("/api/auth/me", &token).await;
    assert_eq!(me.assert_status(200)["email"], "ada@example.com");
    assert_eq!(me.body["id"], body["user"]["id"]);
}

async fn registration_is_validated_and_emails_are_unique(app: TestApp) {
    let register = |body| app.call(Method::POST, "/api/auth/register", None, Some(body));
    let r =
        register(json!({"email": "not-an-email", "password": "password123", "name": "A"})).await;
    r.assert_error(422, "validation_failed");
    assert_eq!(r.body["error"]["details"][0]["field"], "email");
    let r = register(json!({"email": "a@example.com", "password": "short", "name": "A"})).await;
    r.assert_error(422, "validation_failed");
    assert_eq!(r.body["error"]["details"][0]["field"], "password");
    let r = register(json!({"email": "a@example.com", "password": "password123"})).await;
    r.assert_error(422, "validation_failed");
    assert_eq!(r.body["error"]["details"][0]["field"], "name");
    let r = register(
        json!({"email": "a@example.com", "password": "password123", "name": "A", "id": "x"}),
    )
    .await;
    r.assert_error(422, "validation_failed");

    app.register("a@example.com").await;
    let r =
        register(json!({"email": " A@EXAMPLE.com", "password": "password123", "name": "B"})).await;
    r.assert_error(409, "conflict");
}

async fn wrong_email_and_wrong_password_get_the_same_answer(app: TestApp) {
    app.register("a@example.com").await;
    let login = |email: &str, password: &str| {
        app.call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
    };
    let wrong_password = login("a@example.com", "password999").await;
    let wrong_email = login("b@example.com", "password123").await;
    wrong_password.assert_error(401, "unauthorized");
    wrong_email.assert_error(401, "unauthorized");
    assert_eq!(wrong_password.body, wrong_email.body);
}

async fn deleting_the_account_removes_everything(app: TestApp) {
    let user = app.register("a@example.com").await;
    let other = app.register("b@example.com").await;
    let job = app
        .create_job(&user, json!({"title": "Dev", "company": "Acme"}))
        .await;
    app.post("/api/skills", &user.token, json!({"name": "Rust"}))
        .await
        .assert_status(201);
    app.create_job(&other, json!({"title": "Ops", "company": "Globex"}))
        .await;

    app.delete("/api/account", &user.token)
        .await
        .assert_status(204);
    app.get("/api/auth/me", &user.token)
        .await
        .assert_error(401, "unauthorized");
    app.get(
        &format!("/api/jobs/{}", job["id"].as_str().unwrap()),
        &user.token,
    )
    .await
    .assert_error(401, "unauthorized");
    let login = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": "a@example.com", "password": "password123"})),
        )
        .await;
    login.assert_error(401, "unauthorized");

    // Nothing of theirs is left in the database; the other account is untouched.
    let id = uuid::Uuid::parse_str(&user.id).unwrap();
    let page = flowats_db::models::Page {
        limit: 10,
        offset: 0,
    };
    assert_eq!(
        app.db
            .jobs
            .list_jobs(
                id,
                Default::default(),
                flowats_db::models::JobSort::Newest,
                page
            )
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(app.db.skills.list(id, page).await.unwrap().total, 0);
    assert!(app.db.profiles.get_profile(id).await.is_err());
    let theirs = app.get("/api/jobs", &other.token).await;
    assert_eq!(theirs.assert_status(200)["pagination"]["totalItems"], 1);

    // The address is free again.
    app.register("a@example.com").await;
}
