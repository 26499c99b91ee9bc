//! API1, object-level authorization: user B can neither read, change nor delete anything of
//! user A's. The routes come from `/api/openapi.json`: every path with an `{id}`, each of its
//! methods, and every operation that names a `*_id` in its body or query, so a new route
//! cannot escape; one this file does not know how to exercise fails the test. Another
//! user's id gets exactly the answer an id that names nothing gets (404 for a path, an empty
//! list for a filter), never 200 or 403, and A's data, read back past the cache, is
//! unchanged. Malformed ids are 404 too.

use super::{Holdings, Operation, document, operations, resource, snapshot};
use crate::helpers::TestApp;
use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};

crate::on_both_backends!(
    every_id_route_answers_another_user_as_for_no_object,
    ids_in_bodies_and_queries_reveal_nothing,
);

/// The body each route with an id is sent: one its owner may send, naming the sender's
/// own objects (`own`) where it names any. `None`: this test does not know the route.
fn body_for(op: &Operation, own: &Holdings) -> Option<Option<Value>> {
    if op.method == Method::GET || op.method == Method::DELETE {
        return Some(None);
    }
    Some(Some(match op.name().as_str() {
        "PATCH /api/jobs/{id}" => json!({"notes": "mine now", "status": "rejected"}),
        "PATCH /api/skills/{id}" => json!({"name": "mine", "proficiency": 1}),
        "PATCH /api/education/{id}" => json!({"institution": "mine"}),
        "PATCH /api/employment/{id}" => json!({"title": "mine"}),
        "PUT /api/ai/artifacts/{id}" => json!({"content": "mine"}),
        "PATCH /api/contacts/{id}" => json!({"company": "mine", "role": "other"}),
        "PATCH /api/interviews/{id}" => {
            json!({"outcome": "passed", "interviewer_ids": [own.contact]})
        }
        "PATCH /api/tasks/{id}" => json!({"title": "mine", "done": true}),
        "PATCH /api/task-rules/{id}" => json!({"delay_days": 1, "enabled": false}),
        "PATCH /api/notes/{id}" => json!({"body": "mine"}),
        "PUT /api/jobs/{id}/contacts" => {
            json!({"contacts": [{"contact_id": own.contact, "role": "referrer"}]})
        }
        "POST /api/jobs/{id}/interviews" => json!({"kind": "onsite",
            "scheduled_at": "2027-02-01T09:00:00Z", "interviewer_ids": [own.contact]}),
        "POST /api/jobs/{id}/tasks" => json!({"title": "mine"}),
        "POST /api/jobs/{id}/notes" | "POST /api/contacts/{id}/notes" => json!({"body": "x"}),
        _ => return None,
    }))
}

async fn every_id_route_answers_another_user_as_for_no_object(app: TestApp) {
    let a = app.register("a@example.com").await;
    let b = app.register("b@example.com").await;
    let mine = Holdings::create(&app, &a, "Alpha").await;
    let theirs = Holdings::create(&app, &b, "Beta").await;
    let ops = operations(&app).await;
    let mut routes: Vec<&Operation> = ops.iter().filter(|op| op.path.contains('{')).collect();
    // Deletes last, so that every control below still has B's object to act on; and of
    // those, jobs and contacts last, since deleting one takes its interviews, tasks,
    // notes and links with it.
    routes.sort_by_key(|op| {
        let delete = op.method == Method::DELETE;
        let owner = delete && matches!(resource(&op.path), Some("jobs" | "contacts"));
        (delete, owner, op.name())
    });
    assert!(routes.len() >= 40, "{routes:?}");
    let before = snapshot(&app, &ops, &a, &mine).await;

    for op in &routes {
        let name = op.name();
        // B's request names B's own objects in its body: only the path is A's.
        let body = body_for(op, &theirs).unwrap_or_else(|| {
            panic!("API1: no request for {name}; teach `body_for` how to exercise it")
        });
        let send = async |path: String| {
            app.call(op.method.clone(), &path, Some(&b.token), body.clone())
                .await
        };
        let r = send(mine.path(&op.path)).await;
        assert_eq!(r.status, 404, "{name}: B reached A's object: {}", r.body);
        r.assert_error(404, "not_found");
        let nothing = send(op.path.replace("{id}", &uuid::Uuid::now_v7().to_string())).await;
        assert_eq!(r.body, nothing.body, "{name}: A's object is told apart");
        let malformed = send(op.path.replace("{id}", "1%20OR%201=1")).await;
        malformed.assert_error(404, "not_found");
        // Control: the same request on B's own object is served, so the 404 is the owner's.
        let own = send(theirs.path(&op.path)).await;
        assert!(own.status.is_success(), "{name} on B's own: {own:?}");
    }

    app.state.cache.flush().await;
    assert_eq!(
        snapshot(&app, &ops, &a, &mine).await,
        before,
        "A's data changed"
    );
}

/// Operations that name an object in their body or query, with the member that does:
/// `job_id`, `interviewer_ids`, or `contacts[].contact_id` for one inside an array.
fn referencing_operations(doc: &Value, ops: &[Operation]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for op in ops {
        for p in op.query_params() {
            if p.ends_with("_id") || p.ends_with("_ids") {
                found.push((op.name(), p));
            }
        }
        let schema = &op.spec["requestBody"]["content"]["application/json"]["schema"];
        let mut members = Vec::new();
        referencing_members(doc, schema, "", 0, &mut members);
        found.extend(members.into_iter().map(|m| (op.name(), m)));
    }
    found
}

/// The members of a schema (through `$ref`s, arrays and `oneOf`s) whose names say they
/// hold ids.
fn referencing_members(
    doc: &Value,
    schema: &Value,
    prefix: &str,
    depth: u8,
    out: &mut Vec<String>,
) {
    assert!(depth < 10, "schema nested too deep at {prefix}");
    let schema = match schema["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
        None => schema,
    };
    for (name, member) in schema["properties"].as_object().into_iter().flatten() {
        let path = format!("{prefix}{name}");
        if name.ends_with("_id") || name.ends_with("_ids") {
            out.push(path.clone());
        }
        referencing_members(doc, member, &format!("{path}."), depth + 1, out);
    }
    if schema.get("items").is_some() {
        let prefix = format!("{}[].", prefix.trim_end_matches('.'));
        referencing_members(doc, &schema["items"], &prefix, depth + 1, out);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for variant in schema[key].as_array().into_iter().flatten() {
            referencing_members(doc, variant, prefix, depth + 1, out);
        }
    }
}

/// The contact ids of a job's contact list.
async fn linked(app: &TestApp, token: &str, job: &str) -> Vec<String> {
    let r = app.get(&format!("/api/jobs/{job}/contacts"), token).await;
    r.assert_status(200)["data"]
        .as_array()
        .expect("links")
        .iter()
        .map(|l| l["contact_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn ids_in_bodies_and_queries_reveal_nothing(app: TestApp) {
    let a = app.register("a@example.com").await;
    let b = app.register("b@example.com").await;
    let mine = Holdings::create(&app, &a, "Alpha").await;
    let theirs = Holdings::create(&app, &b, "Beta").await;
    let ops = operations(&app).await;
    let referencing = referencing_operations(&document(&app).await, &ops);
    assert!(referencing.len() >= 5, "{referencing:?}");
    let before = snapshot(&app, &ops, &a, &mine).await;
    let random = uuid::Uuid::now_v7().to_string();

    for (name, member) in &referencing {
        match (name.as_str(), member.as_str()) {
            ("POST /api/ai/resume" | "POST /api/ai/cover-letter", "job_id") => {
                let path = name.split(' ').nth(1).unwrap();
                let send = async |job: &str| app.post(path, &b.token, json!({"job_id": job})).await;
                let r = send(&mine.job).await;
                r.assert_error(404, "not_found");
                assert_eq!(r.body, send(&random).await.body, "{name}");
                let own = send(&theirs.job).await;
                assert!(own.status.is_success(), "{name} for B's job: {own:?}");
            }
            ("GET /api/ai/artifacts", "job_id") => {
                let list = async |job: &str| {
                    app.get(&format!("/api/ai/artifacts?job_id={job}"), &b.token)
                        .await
                };
                let r = list(&mine.job).await;
                assert_eq!(r.assert_status(200)["data"], json!([]), "{name}");
                assert_eq!(r.body, list(&random).await.body, "{name}");
                let own = list(&theirs.job).await;
                assert_eq!(own.body["pagination"]["totalItems"], 1, "{name}: {own:?}");
            }
            // B links A's contact to B's own job, beside B's own contact.
            ("PUT /api/jobs/{id}/contacts", "contacts[].contact_id") => {
                let path = format!("/api/jobs/{}/contacts", theirs.job);
                let send = async |other: &str| {
                    let links = json!({"contacts": [
                        {"contact_id": theirs.contact, "role": "recruiter"},
                        {"contact_id": other, "role": "referrer"}]});
                    app.put(&path, &b.token, links).await
                };
                let r = send(&mine.contact).await;
                r.assert_error(404, "not_found");
                assert_eq!(r.body, send(&random).await.body, "{name}");
                assert_eq!(
                    linked(&app, &b.token, &theirs.job).await,
                    [theirs.contact.as_str()],
                    "{name}: a refused link changed B's links"
                );
                let own = app
                    .put(
                        &path,
                        &b.token,
                        json!({"contacts": [{"contact_id": theirs.contact, "role": "recruiter"}]}),
                    )
                    .await;
                assert!(own.status.is_success(), "{name} with B's contact: {own:?}");
            }
            // B names A's contact as an interviewer, on create and in a merge patch (whose
            // documented body is a bare object, so it is found through the create).
            ("POST /api/jobs/{id}/interviews", "interviewer_ids") => {
                let create = format!("/api/jobs/{}/interviews", theirs.job);
                let patch = format!("/api/interviews/{}", theirs.interview);
                let interviewers = |other: &str| json!([theirs.contact, other]);
                let send = async |method: Method, other: &str| {
                    let body = match method {
                        Method::POST => json!({"kind": "onsite",
                            "scheduled_at": "2027-02-01T09:00:00Z",
                            "interviewer_ids": interviewers(other)}),
                        _ => json!({"interviewer_ids": interviewers(other)}),
                    };
                    let path = if method == Method::POST {
                        &create
                    } else {
                        &patch
                    };
                    app.call(method, path, Some(&b.token), Some(body)).await
                };
                for method in [Method::POST, Method::PATCH] {
                    let r = send(method.clone(), &mine.contact).await;
                    r.assert_error(422, "validation_failed");
                    assert_eq!(
                        r.body["error"]["details"][0]["field"], "interviewer_ids",
                        "{method} {name}"
                    );
                    assert_eq!(
                        r.body,
                        send(method.clone(), &random).await.body,
                        "{method} {name}"
                    );
                }
                let stored = app.get(&patch, &b.token).await;
                assert_eq!(
                    stored.assert_status(200)["interviewer_ids"],
                    json!([theirs.contact]),
                    "a refused patch changed B's interview"
                );
                let own = app
                    .post(
                        &create,
                        &b.token,
                        json!({"kind": "onsite", "scheduled_at": "2027-02-01T09:00:00Z",
                            "interviewer_ids": [theirs.contact]}),
                    )
                    .await;
                own.assert_status(201);
            }
            _ => panic!("API1: {name} names `{member}`; teach this test to exercise it"),
        }
    }

    // The import names contacts by email (the body is CSV, so no schema shows it): A's
    // contact's email finds nothing of A's for B, exactly as an unknown email does, and
    // B's job is linked to a new contact of B's own.
    let import = async |title: &str, email: &str| {
        let contacts = json!([{"name": "Alpha Recruiter", "email": email}]).to_string();
        let csv = format!(
            "title,company,contacts\n{title},Beta,\"{}\"\n",
            contacts.replace('"', "\"\"")
        );
        let req = Request::post("/api/import/jobs")
            .header(header::AUTHORIZATION, format!("Bearer {}", b.token))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(csv))
            .unwrap();
        app.send(req).await
    };
    let r = import("Imported with A's email", "alpha@recruiting.example").await;
    let unknown = import(
        "Imported with an unknown email",
        "nobody@recruiting.example",
    )
    .await;
    assert_eq!(r.assert_status(201), unknown.assert_status(201));
    assert_eq!(r.body["contacts_created"], 1, "{}", r.body);
    let jobs = app
        .get("/api/jobs?q=Imported%20with%20A", &b.token)
        .await
        .assert_status(200)["data"]
        .clone();
    let job = jobs[0]["id"].as_str().expect("the imported job");
    let links = linked(&app, &b.token, job).await;
    assert_eq!(links.len(), 1);
    assert_ne!(links[0], mine.contact, "B's job was linked to A's contact");
    app.get(&format!("/api/contacts/{}", links[0]), &b.token)
        .await
        .assert_status(200);

    app.state.cache.flush().await;
    assert_eq!(
        snapshot(&app, &ops, &a, &mine).await,
        before,
        "A's data changed"
    );
}
