//! API3, broken object property level authorization (mass assignment and excessive data
//! exposure): every write of `/api/openapi.json` refuses the fields a client may not set
//! (ids, owners, timestamps, versions, an artifact's job, kind and metadata, password
//! hashes, roles) with a 422 naming the field and stores nothing; and no response carries
//! a password hash, a secret or anything of another user's.

use super::{Holdings, operations, snapshot};
use crate::helpers::TestApp;
use axum::http::Method;
use serde_json::{Value, json};

crate::on_both_backends!(
    server_owned_fields_are_refused_on_every_write,
    responses_carry_no_secrets_and_nothing_of_another_user,
);

/// A body each write accepts; `None`: this test does not know the route.
fn valid_body(name: &str, job: &str) -> Option<Value> {
    Some(match name {
        "POST /api/auth/register" => {
            json!({"email": "new@example.com", "password": "password123", "name": "New"})
        }
        "POST /api/auth/login" => json!({"email": "a@example.com", "password": "password123"}),
        "PUT /api/profile" => json!({"full_name": "Mallory"}),
        "POST /api/jobs" | "PATCH /api/jobs/{id}" => json!({"title": "T", "company": "C"}),
        "POST /api/skills" | "PATCH /api/skills/{id}" => json!({"name": "Go"}),
        "POST /api/education" | "PATCH /api/education/{id}" => json!({"institution": "X"}),
        "POST /api/employment" | "PATCH /api/employment/{id}" => {
            json!({"company": "X", "title": "Y"})
        }
        "PUT /api/ai/artifacts/{id}" => json!({"content": "edited"}),
        "POST /api/ai/resume" | "POST /api/ai/cover-letter" => json!({"job_id": job}),
        _ => return None,
    })
}

/// Members no client may write, each with a value an attacker would send.
fn forbidden(other_user: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("id", json!(uuid::Uuid::now_v7())),
        ("user_id", json!(other_user)),
        ("created_at", json!("2000-01-01T00:00:00Z")),
        ("updated_at", json!("2000-01-01T00:00:00Z")),
        ("version", json!(999)),
        ("profile_version", json!(999)),
        ("job_id", json!(uuid::Uuid::now_v7())),
        ("kind", json!("cover_letter")),
        ("metadata", json!({"provider": "forged"})),
        ("fingerprint", json!("forged")),
        ("password_hash", json!("$argon2id$v=19$forged")),
        ("role", json!("admin")),
        ("is_admin", json!(true)),
        ("deleted_at", json!("2000-01-01T00:00:00Z")),
    ]
}

async fn server_owned_fields_are_refused_on_every_write(app: TestApp) {
    let a = app.register("a@example.com").await;
    let b = app.register("b@example.com").await;
    let mine = Holdings::create(&app, &a, "Alpha").await;
    Holdings::create(&app, &b, "Beta").await;
    let ops = operations(&app).await;
    let before = snapshot(&app, &ops, &a, &mine).await;
    let writes: Vec<_> = ops.iter().filter(|op| op.has_body()).collect();
    assert!(writes.len() >= 14, "{writes:?}");

    let mut cases = 0;
    for op in &writes {
        let name = op.name();
        let body = valid_body(&name, &mine.job)
            .unwrap_or_else(|| panic!("API3: no body for {name}; teach `valid_body` it"));
        let path = if op.path.contains('{') {
            mine.path(&op.path)
        } else {
            op.path.clone()
        };
        for (member, value) in forbidden(&b.id) {
            if body.get(member).is_some() {
                continue;
            }
            let mut sent = body.clone();
            sent[member] = value;
            let token = op.secured_by("bearer").then_some(a.token.as_str());
            let r = app.call(op.method.clone(), &path, token, Some(sent)).await;
            assert_eq!(r.status, 422, "{name} with `{member}`: {}", r.body);
            r.assert_error(422, "validation_failed");
            assert!(
                r.body["error"]["details"].to_string().contains(member),
                "{name}: the answer names `{member}`: {}",
                r.body
            );
            cases += 1;
        }
    }
    assert!(cases >= 180, "{cases} cases");

    app.state.cache.flush().await;
    assert_eq!(
        snapshot(&app, &ops, &a, &mine).await,
        before,
        "a refused write changed something"
    );
    let r = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            valid_body("POST /api/auth/login", ""),
        )
        .await;
    assert_eq!(r.assert_status(200)["user"]["id"], a.id.as_str());
    assert_eq!(
        app.get("/api/jobs", &b.token).await.body["pagination"]["totalItems"],
        1,
        "nothing was created for B"
    );
}

/// Every key and string in a JSON document, with its path.
fn walk<'a>(v: &'a Value, path: String, out: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                walk(child, format!("{path}.{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                walk(child, format!("{path}[{i}]"), out);
            }
        }
        _ => out.push((path, v)),
    }
}

async fn responses_carry_no_secrets_and_nothing_of_another_user(app: TestApp) {
    let login = async |email: &str| {
        app.call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": email, "password": "password123"})),
        )
        .await
    };
    let b = app.register("b@example.com").await;
    Holdings::create(&app, &b, "Beta").await;
    let a = app.register("a@example.com").await;
    let mine = Holdings::create(&app, &a, "Alpha").await;
    let ops = operations(&app).await;

    let mut answers: Vec<(String, Value)> = snapshot(&app, &ops, &a, &mine).await;
    answers.push(("login".into(), login("a@example.com").await.body));
    for (path, body) in [
        ("/api/jobs", json!({"title": "Dev", "company": "Acme"})),
        ("/api/skills", json!({"name": "Go"})),
    ] {
        answers.push((path.into(), app.post(path, &a.token, body).await.body));
    }
    let r = app
        .post(
            "/api/ai/cover-letter",
            &a.token,
            json!({"job_id": mine.job}),
        )
        .await;
    answers.push(("cover letter".into(), r.assert_status(201).clone()));

    let theirs = [b.id.as_str(), "b@example.com", "Beta", b.token.as_str()];
    let mut leaves = Vec::new();
    for (what, body) in &answers {
        walk(body, what.clone(), &mut leaves);
    }
    assert!(leaves.len() > 100, "{} values", leaves.len());
    for (path, value) in &leaves {
        let lower = path.to_lowercase();
        for word in ["password", "hash", "secret", "fingerprint", "salt"] {
            assert!(!lower.contains(word), "{path} is exposed");
        }
        let text = value.to_string();
        assert!(!text.contains("$argon2"), "{path} holds a password hash");
        for t in theirs {
            assert!(!text.contains(t), "{path} holds B's {t:?}: {text}");
        }
    }
    // The login answer's token is A's own, and the user it names is A.
    let me = &answers.iter().find(|(w, _)| w == "login").unwrap().1;
    assert_eq!(me["user"]["id"], a.id.as_str());
}
