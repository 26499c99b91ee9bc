//! API3, broken object property level authorization (mass assignment and excessive data
//! exposure): every write of `/api/openapi.json` refuses the fields a client may not set
//! (ids, owners, timestamps, versions, an artifact's job, kind and metadata, a note's or
//! task's job, contact and rule, password hashes, roles; a contact's `role` only takes its
//! closed set) with a 422 naming the field and stores nothing, in the body, in the objects
//! of its arrays (a job's contact links) and, for the CSV import, as a column (422 naming
//! it on line 1); and no response carries a password hash, a secret or anything of another
//! user's.

use super::{Holdings, operations, snapshot};
use crate::helpers::TestApp;
use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};

crate::on_both_backends!(
    server_owned_fields_are_refused_on_every_write,
    responses_carry_no_secrets_and_nothing_of_another_user,
);

/// A body each write accepts; `None`: this test does not know the route. The CSV import's
/// body is its file, as a string: its columns are the members (`created_at` and
/// `updated_at` among them, which an import carries over from the export).
fn valid_body(name: &str, own: &Holdings) -> Option<Value> {
    Some(match name {
        "POST /api/auth/register" => {
            json!({"email": "new@example.com", "password": "password123", "name": "New"})
        }
        "POST /api/auth/login" => json!({"email": "a@example.com", "password": "password123"}),
        "POST /api/auth/password" => {
            json!({"current_password": "password123", "new_password": "password456"})
        }
        "PUT /api/profile" => json!({"full_name": "Mallory"}),
        "POST /api/jobs" | "PATCH /api/jobs/{id}" => json!({"title": "T", "company": "C"}),
        "POST /api/skills" | "PATCH /api/skills/{id}" => json!({"name": "Go"}),
        "POST /api/education" | "PATCH /api/education/{id}" => json!({"institution": "X"}),
        "POST /api/employment" | "PATCH /api/employment/{id}" => {
            json!({"company": "X", "title": "Y"})
        }
        "PUT /api/ai/artifacts/{id}" => json!({"content": "edited"}),
        "POST /api/ai/resume" | "POST /api/ai/cover-letter" => json!({"job_id": own.job}),
        "POST /api/contacts" | "PATCH /api/contacts/{id}" => json!({"name": "N"}),
        "PUT /api/jobs/{id}/contacts" => json!({"contacts": [{"contact_id": own.contact}]}),
        "POST /api/jobs/{id}/interviews" => {
            json!({"kind": "technical", "scheduled_at": "2027-01-10T10:00:00Z"})
        }
        "PATCH /api/interviews/{id}" => json!({"outcome": "passed"}),
        "POST /api/tasks" | "POST /api/jobs/{id}/tasks" | "PATCH /api/tasks/{id}" => {
            json!({"title": "T"})
        }
        "POST /api/task-rules" | "PATCH /api/task-rules/{id}" => {
            json!({"status": "offer", "delay_days": 3})
        }
        "POST /api/jobs/{id}/notes" | "POST /api/contacts/{id}/notes" | "PATCH /api/notes/{id}" => {
            json!({"body": "B"})
        }
        "POST /api/import/jobs" => json!(
            "title,company,created_at,updated_at\nT,C,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z\n"
        ),
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
        ("contact_id", json!(uuid::Uuid::now_v7())),
        ("rule_id", json!(uuid::Uuid::now_v7())),
        ("kind", json!("cover_letter")),
        ("metadata", json!({"provider": "forged"})),
        ("fingerprint", json!("forged")),
        ("password_hash", json!("$argon2id$v=19$forged")),
        ("role", json!("admin")),
        ("is_admin", json!(true)),
        ("deleted_at", json!("2000-01-01T00:00:00Z")),
    ]
}

/// A CSV cell holding `value` (a string as is, anything else as JSON), quoted.
fn csv_cell(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The CSV `file` with one more column, `member`, holding `value` on every row.
fn with_column(file: &str, member: &str, value: &Value) -> String {
    let mut lines = file.lines();
    let mut out = format!("{},{member}\n", lines.next().expect("a header"));
    for line in lines {
        out.push_str(&format!("{line},{}\n", csv_cell(value)));
    }
    out
}

async fn server_owned_fields_are_refused_on_every_write(app: TestApp) {
    let a = app.register("a@example.com").await;
    let b = app.register("b@example.com").await;
    let mine = Holdings::create(&app, &a, "Alpha").await;
    Holdings::create(&app, &b, "Beta").await;
    let ops = operations(&app).await;
    let before = snapshot(&app, &ops, &a, &mine).await;
    let writes: Vec<_> = ops.iter().filter(|op| op.has_body()).collect();
    assert!(writes.len() >= 28, "{writes:?}");

    let mut cases = 0;
    for op in &writes {
        let name = op.name();
        let body = valid_body(&name, &mine)
            .unwrap_or_else(|| panic!("API3: no body for {name}; teach `valid_body` it"));
        let path = if op.path.contains('{') {
            mine.path(&op.path)
        } else {
            op.path.clone()
        };
        let token = op.secured_by("bearer").then_some(a.token.as_str());
        if op.spec["requestBody"]["content"].get("text/csv").is_some() {
            // A file: each member is a column more, and the answer names the column on
            // the header's line.
            let file = body.as_str().expect("a CSV body");
            let header: Vec<&str> = file.lines().next().unwrap().split(',').collect();
            for (member, value) in forbidden(&b.id) {
                if header.contains(&member) {
                    continue;
                }
                let mut req = Request::builder()
                    .method(op.method.clone())
                    .uri(path.as_str())
                    .header(header::CONTENT_TYPE, "text/csv");
                if let Some(t) = token {
                    req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
                }
                let sent = with_column(file, member, &value);
                let r = app.send(req.body(Body::from(sent)).unwrap()).await;
                assert_eq!(r.status, 422, "{name} with a `{member}` column: {}", r.body);
                r.assert_error(422, "validation_failed");
                let details = &r.body["error"]["details"];
                assert_eq!(details[0]["field"], member, "{name}: {}", r.body);
                assert_eq!(details[0]["line"], 1, "{name}: {}", r.body);
                cases += 1;
                // Inside the contacts column's objects too: 422 on the row's line.
                let mut contact = json!({"name": "Mallory", "email": "m@example.com"});
                contact[member] = value.clone();
                let cell = serde_json::to_string(&json!([contact])).unwrap();
                let sent = format!(
                    "title,company,contacts\nT,C,\"{}\"\n",
                    cell.replace('"', "\"\"")
                );
                let mut req = Request::builder()
                    .method(op.method.clone())
                    .uri(path.as_str())
                    .header(header::CONTENT_TYPE, "text/csv");
                if let Some(t) = token {
                    req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
                }
                let r = app.send(req.body(Body::from(sent)).unwrap()).await;
                r.assert_error(422, "validation_failed");
                let details = &r.body["error"]["details"];
                assert_eq!(details[0]["field"], "contacts", "{name}: {}", r.body);
                assert_eq!(details[0]["line"], 2, "{name}: {}", r.body);
                assert!(
                    details.to_string().contains(member),
                    "{name}: a contact's `{member}` is named: {}",
                    r.body
                );
                cases += 1;
            }
            continue;
        }
        // Members of the objects in the body's arrays (a job's contact links) are refused
        // too.
        let mut places: Vec<Option<&str>> = vec![None];
        for (key, v) in body.as_object().expect("a JSON body") {
            if v.as_array()
                .is_some_and(|items| items.first().is_some_and(Value::is_object))
            {
                places.push(Some(key.as_str()));
            }
        }
        for place in places {
            let target = match place {
                None => &body,
                Some(key) => &body[key][0],
            };
            for (member, value) in forbidden(&b.id) {
                if target.get(member).is_some() {
                    continue;
                }
                let mut sent = body.clone();
                match place {
                    None => sent[member] = value,
                    Some(key) => sent[key][0][member] = value,
                }
                let r = app.call(op.method.clone(), &path, token, Some(sent)).await;
                let at = place.map_or(String::new(), |k| format!("{k}[0]."));
                assert_eq!(r.status, 422, "{name} with `{at}{member}`: {}", r.body);
                r.assert_error(422, "validation_failed");
                assert!(
                    r.body["error"]["details"].to_string().contains(member),
                    "{name}: the answer names `{at}{member}`: {}",
                    r.body
                );
                cases += 1;
            }
        }
    }
    assert!(cases >= 450, "{cases} cases");

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
            valid_body("POST /api/auth/login", &mine),
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
    let b_holds = Holdings::create(&app, &b, "Beta").await;
    let a = app.register("a@example.com").await;
    let mine = Holdings::create(&app, &a, "Alpha").await;
    let ops = operations(&app).await;

    let mut answers: Vec<(String, Value)> = snapshot(&app, &ops, &a, &mine).await;
    answers.push(("login".into(), login("a@example.com").await.body));
    for (path, body) in [
        ("/api/jobs", json!({"title": "Dev", "company": "Acme"})),
        ("/api/skills", json!({"name": "Go"})),
        (
            "/api/contacts",
            json!({"name": "Dana", "email": "dana@example.com"}),
        ),
        ("/api/tasks", json!({"title": "Call Dana"})),
    ] {
        answers.push((path.into(), app.post(path, &a.token, body).await.body));
    }
    let links = json!({"contacts": [{"contact_id": mine.contact, "role": "referrer"}]});
    let r = app
        .put(&format!("/api/jobs/{}/contacts", mine.job), &a.token, links)
        .await;
    answers.push(("job contacts".into(), r.assert_status(200).clone()));
    let r = app
        .post(
            "/api/ai/cover-letter",
            &a.token,
            json!({"job_id": mine.job}),
        )
        .await;
    answers.push(("cover letter".into(), r.assert_status(201).clone()));

    let mut theirs = vec![
        b.id.as_str(),
        "b@example.com",
        "Beta",
        "beta@recruiting.example",
        b.token.as_str(),
    ];
    theirs.extend(b_holds.ids());
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
        for t in &theirs {
            assert!(!text.contains(*t), "{path} holds B's {t:?}: {text}");
        }
    }
    // The login answer's token is A's own, and the user it names is A.
    let me = &answers.iter().find(|(w, _)| w == "login").unwrap().1;
    assert_eq!(me["user"]["id"], a.id.as_str());
}
