//! API1, object-level authorization: user B can neither read, change nor delete anything of
//! user A's. The routes come from `/api/openapi.json`: every path with an `{id}`, each of its
//! methods, and every operation that names a `*_id` in its body or query, so a new route
//! cannot escape; one this file does not know how to exercise fails the test. Another
//! user's id gets exactly the answer an id that names nothing gets (404 for a path, an empty
//! list for a filter), never 200 or 403, and A's data, read back past the cache, is
//! unchanged. Malformed ids are 404 too.

use super::{Holdings, Operation, document, operations, snapshot};
use crate::helpers::TestApp;
use axum::http::Method;
use serde_json::{Value, json};

crate::on_both_backends!(
    every_id_route_answers_another_user_as_for_no_object,
    ids_in_bodies_and_queries_reveal_nothing,
);

/// The body each route with an id is sent: one its owner may send. `None`: this test does
/// not know the route.
fn body_for(op: &Operation) -> Option<Option<Value>> {
    if op.method == Method::GET || op.method == Method::DELETE {
        return Some(None);
    }
    Some(Some(match op.name().as_str() {
        "PATCH /api/jobs/{id}" => json!({"notes": "mine now", "status": "rejected"}),
        "PATCH /api/skills/{id}" => json!({"name": "mine", "proficiency": 1}),
        "PATCH /api/education/{id}" => json!({"institution": "mine"}),
        "PATCH /api/employment/{id}" => json!({"title": "mine"}),
        "PUT /api/ai/artifacts/{id}" => json!({"content": "mine"}),
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
    // Deletes last, so that every control below still has B's object to act on.
    routes.sort_by_key(|op| (op.method == Method::DELETE, op.name()));
    assert!(routes.len() >= 17, "{routes:?}");
    let before = snapshot(&app, &ops, &a, &mine).await;

    for op in &routes {
        let name = op.name();
        let body = body_for(op).unwrap_or_else(|| {
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

/// Operations that name an object in their body or query, with the member that does.
fn referencing_operations(doc: &Value, ops: &[Operation]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for op in ops {
        for p in op.query_params() {
            if p.ends_with("_id") {
                found.push((op.name(), p));
            }
        }
        let schema = &op.spec["requestBody"]["content"]["application/json"]["schema"];
        let schema = match schema["$ref"].as_str() {
            Some(r) => doc["components"]["schemas"][r.rsplit('/').next().unwrap()].clone(),
            None => schema.clone(),
        };
        for p in schema["properties"].as_object().into_iter().flatten() {
            if p.0.ends_with("_id") {
                found.push((op.name(), p.0.clone()));
            }
        }
    }
    found
}

async fn ids_in_bodies_and_queries_reveal_nothing(app: TestApp) {
    let a = app.register("a@example.com").await;
    let b = app.register("b@example.com").await;
    let mine = Holdings::create(&app, &a, "Alpha").await;
    let theirs = Holdings::create(&app, &b, "Beta").await;
    let ops = operations(&app).await;
    let referencing = referencing_operations(&document(&app).await, &ops);
    assert!(referencing.len() >= 3, "{referencing:?}");
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
            _ => panic!("API1: {name} names `{member}`; teach this test to exercise it"),
        }
    }

    app.state.cache.flush().await;
    assert_eq!(
        snapshot(&app, &ops, &a, &mine).await,
        before,
        "A's data changed"
    );
}
