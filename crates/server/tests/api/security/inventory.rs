//! API9, improper inventory management: the OpenAPI document is the inventory. Every route
//! under `/api` that the server's source declares outside the documented router (a
//! `.route("/api/…")`) is in `/api/openapi.json` or named here as undocumented on purpose,
//! and every documented operation is served (no fallback 404 or 405). Routes added through
//! `api_routes()` are in the document by construction.

use super::{document, operations};
use crate::helpers::TestApp;
use flowats_server::config::Secret;
use std::path::Path;

crate::on_both_backends!(every_api_route_is_in_the_document_and_served);

/// Served under `/api` but not an operation of the API: the document itself.
const UNDOCUMENTED: &[&str] = &["/api/openapi.json"];

/// The first string literal after each `.route(` in the Rust files below `dir`.
fn declared_routes(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            declared_routes(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for (at, _) in text.match_indices(".route(") {
                let rest = &text[at..];
                if let Some(start) = rest.find('"') {
                    let literal = &rest[start + 1..];
                    let end = literal.find('"').unwrap();
                    out.push((path.display().to_string(), literal[..end].to_owned()));
                }
            }
        }
    }
}

async fn every_api_route_is_in_the_document_and_served(app: TestApp) {
    let doc = document(&app).await;
    let documented = doc["paths"].as_object().unwrap();
    let mut declared = Vec::new();
    declared_routes(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut declared,
    );
    assert!(
        declared.iter().any(|(_, r)| r == "/api/openapi.json"),
        "the scan finds routes: {declared:?}"
    );
    for (file, route) in &declared {
        if route.starts_with("/api") && !UNDOCUMENTED.contains(&route.as_str()) {
            assert!(
                documented.contains_key(route),
                "{file} serves {route}, which /api/openapi.json does not list"
            );
        }
    }

    let app = TestApp::with_config(flowats_db::testing::TestDb::share(&app.db), |c| {
        c.admin_token = Some(Secret::new("operator-token-operator-token-0123"));
    })
    .await;
    let ops = operations(&app).await;
    for op in &ops {
        let path = op.path.replace("{id}", &uuid::Uuid::now_v7().to_string());
        let r = app.call(op.method.clone(), &path, None, None).await;
        assert_ne!(r.status, 405, "{} is documented but not served", op.name());
        assert_ne!(
            r.body["error"]["message"],
            "no such route",
            "{} is documented but not served",
            op.name()
        );
    }
}
