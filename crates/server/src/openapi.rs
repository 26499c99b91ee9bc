//! The OpenAPI 3.1 document: paths come from the handlers' `#[utoipa::path]`
//! annotations, collected by the router; this adds the title and the bearer scheme, and
//! [`document`] completes the collected document with what every operation can answer.

use serde_json::{Map, Value, json};
use utoipa::Modify;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "FlowATS API",
        description = "Track a job search: profile, jobs and their pipeline. Errors use one \
                       envelope: `{\"error\": {\"code\", \"message\", \"details\"}}`."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Accounts and tokens"),
        (name = "profile", description = "Profile, skills, education, employment"),
        (name = "jobs", description = "Jobs and their status history"),
        (name = "tracker", description = "Contacts, interviews, tasks and follow-up rules, notes, CSV export and import"),
        (name = "ops", description = "Health")
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "admin",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The served document. Two things the annotations leave out, added here so that no
/// handler can forget them (`scripts/fuzz-api` checks every answer against the result):
///
/// - the answers the shared layers give: 401 from the token check, 413/408 when a body is
///   too large or too slow, 400/422 from the JSON body extractors, 400 from the query parsers, 503 (with `Retry-After`) when the
///   server sheds load, a request runs past `REQUEST_TIMEOUT_MS` or the database is out of
///   connections, and 500 (cause logged, never sent);
/// - utoipa renders a struct with a `#[serde(flatten)]`ed fields struct (`Job`, `Profile`,
///   `Item<…>`) as `allOf` of the fields schema, which says `additionalProperties: false`
///   (it is `deny_unknown_fields` for requests), and the rest: no object satisfies both.
///   Such an `allOf` is merged into the one object the server sends.
pub fn document(openapi: utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(&openapi).expect("OpenAPI serializes");
    let schemas = doc
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or_default();
    merge_all_of(&mut doc, &schemas);
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                if METHODS.contains(&method.as_str()) {
                    add_shared_answers(op);
                }
                if method == "post" {
                    add_idempotency_key(op);
                }
            }
        }
    }
    doc
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn error_answer(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    })
}

fn add_shared_answers(op: &mut Value) {
    let secured = |scheme: &str| {
        op.get("security")
            .and_then(Value::as_array)
            .is_some_and(|reqs| reqs.iter().any(|r| r.get(scheme).is_some()))
    };
    // An empty requirement makes the others optional (`/api/health`): no 401 then.
    let optional = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|reqs| {
            reqs.iter()
                .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
        });
    let bearer = secured("bearer") && !optional;
    let admin = secured("admin") && !optional;
    let has_body = op.get("requestBody").is_some();
    let has_query = op
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    let mut add = |status: &str, answer: Value| {
        responses.entry(status).or_insert(answer);
    };
    let bad_body = "the body is not a JSON object, or not sent as `Content-Type: application/json`";
    let bad_query = "a query parameter is malformed, out of range or unknown \
                     (`details.parameter` names it)";
    let bad_request = match (has_body, has_query) {
        (true, true) => Some(format!("`bad_request`: {bad_body}; or {bad_query}")),
        (true, false) => Some(format!("`bad_request`: {bad_body}")),
        (false, true) => Some(format!("`bad_request`: {bad_query}")),
        (false, false) => None,
    };
    if let Some(description) = bad_request {
        add("400", error_answer(&description));
    }
    if bearer {
        add(
            "401",
            error_answer("`unauthorized`: no bearer token, or an invalid or expired one"),
        );
    }
    if admin {
        add(
            "401",
            error_answer("`unauthorized`: the `ADMIN_TOKEN` bearer token is required"),
        );
        let mut limited = error_answer(
            "`rate_limited`: too many wrong admin tokens from this address \
             (`ADMIN_RATE_LIMIT`); retry after `Retry-After` seconds",
        );
        limited["headers"] = retry_after_header();
        add("429", limited);
    }
    if has_body {
        add(
            "413",
            error_answer(&format!(
                "`payload_too_large`: the body is larger than {} bytes",
                crate::config::BODY_LIMIT_BYTES
            )),
        );
        add(
            "408",
            error_answer("`body_timeout`: the body did not arrive within `BODY_READ_TIMEOUT_MS`"),
        );
        add(
            "422",
            error_answer(
                "`validation_failed`: a field is missing, of the wrong type, read-only or \
                 breaks a rule; `details` lists them",
            ),
        );
    }
    add(
        "500",
        error_answer("`internal`: an unexpected error (logged with the request id)"),
    );
    let mut busy = error_answer(
        "overloaded or a dependency down (`unavailable`, `timeout`, `db_pool_timeout`, \
         `db_unavailable`, `db_statement_timeout`, …): retry after `Retry-After` seconds",
    );
    busy["headers"] = retry_after_header();
    add("503", busy);
}

fn retry_after_header() -> Value {
    json!({"Retry-After": {
        "description": "seconds to wait before retrying",
        "required": true,
        "schema": {"type": "integer", "minimum": 0}
    }})
}

/// The `Idempotency-Key` header every `POST` that needs a bearer token takes, and the
/// answers it adds (see `crate::idempotency`).
fn add_idempotency_key(op: &mut Value) {
    let bearer = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|reqs| reqs.iter().any(|r| r.get("bearer").is_some()));
    let Some(map) = op.as_object_mut().filter(|_| bearer) else {
        return;
    };
    let parameters = map.entry("parameters").or_insert_with(|| json!([]));
    if let Some(list) = parameters.as_array_mut() {
        list.push(json!({
            "name": "Idempotency-Key",
            "in": "header",
            "required": false,
            "description": "1 to 255 printable ASCII characters. A retry with the same key \
                (same user, method, path and body) within IDEMPOTENCY_TTL_HOURS gets the first \
                2xx answer again, with `Idempotent-Replayed: true`, instead of creating again.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255}
        }));
    }
    if let Some(responses) = map.get_mut("responses").and_then(Value::as_object_mut) {
        let mut running = error_answer(
            "`idempotency_in_progress`: a request with this Idempotency-Key is still running",
        );
        running["headers"] = json!({"Retry-After": {
            "description": "seconds to wait before retrying",
            "required": true,
            "schema": {"type": "integer", "minimum": 0}
        }});
        responses.entry("409").or_insert(running);
        responses.entry("400").or_insert_with(|| {
            error_answer(
                "`bad_request`: the Idempotency-Key is not 1 to 255 printable ASCII characters",
            )
        });
        let reused = "`idempotency_key_reused`: this Idempotency-Key was used for another request";
        match responses.get_mut("422") {
            Some(r) => {
                let d = r["description"].as_str().unwrap_or("").to_owned();
                r["description"] = json!(format!("{d}; or {reused}"));
            }
            None => {
                responses.insert("422".into(), error_answer(reused));
            }
        }
    }
}

/// Replaces each `allOf` whose parts are all objects (or references to objects) with one
/// object that has all their properties; it stays closed (`additionalProperties: false`)
/// unless a part accepts anything (`{}`).
fn merge_all_of(node: &mut Value, schemas: &Value) {
    match node {
        Value::Object(map) => {
            if let Some(merged) = map
                .get("allOf")
                .and_then(|parts| merged_object(parts, schemas))
            {
                map.remove("allOf");
                for (k, v) in merged {
                    map.insert(k, v);
                }
            }
            for v in map.values_mut() {
                merge_all_of(v, schemas);
            }
        }
        Value::Array(items) => {
            for v in items {
                merge_all_of(v, schemas);
            }
        }
        _ => {}
    }
}

fn merged_object(parts: &Value, schemas: &Value) -> Option<Map<String, Value>> {
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    let mut open = false;
    for part in parts.as_array()? {
        let part = match part.get("$ref").and_then(Value::as_str) {
            Some(r) => schemas.get(r.strip_prefix("#/components/schemas/")?)?,
            None => part,
        };
        let obj = part.as_object()?;
        if obj.is_empty() {
            open = true;
            continue;
        }
        if obj.get("type")? != "object" || obj.contains_key("allOf") {
            return None;
        }
        if obj.get("additionalProperties").is_some_and(|a| a != false) {
            open = true;
        }
        for (k, v) in obj.get("properties").and_then(Value::as_object)? {
            properties.insert(k.clone(), v.clone());
        }
        for r in obj
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !required.contains(r) {
                required.push(r.clone());
            }
        }
    }
    let mut merged = Map::new();
    merged.insert("type".into(), json!("object"));
    merged.insert("required".into(), Value::Array(required));
    merged.insert("properties".into(), Value::Object(properties));
    if !open {
        merged.insert("additionalProperties".into(), json!(false));
    }
    Some(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        document(crate::router::api_routes().split_for_parts().1)
    }

    #[test]
    fn flattened_rows_are_one_object_with_every_field() {
        let d = doc();
        let job = &d["components"]["schemas"]["Job"];
        assert!(job.get("allOf").is_none(), "{job}");
        assert_eq!(job["additionalProperties"], false);
        for field in [
            "id",
            "title",
            "company",
            "status",
            "created_at",
            "updated_at",
        ] {
            assert!(job["properties"].get(field).is_some(), "Job.{field}");
        }
        let required = job["required"].as_array().unwrap();
        assert!(required.contains(&json!("title")) && required.contains(&json!("id")));
        // The request schema stays closed on its own.
        assert_eq!(
            d["components"]["schemas"]["JobFields"]["additionalProperties"],
            false
        );
        // A part that accepts anything keeps the merged object open.
        let analytics = &d["components"]["schemas"]["JobAnalytics"];
        assert!(
            analytics.get("allOf").is_none() && analytics.get("additionalProperties").is_none()
        );
        let text = d.to_string();
        assert!(!text.contains("\"allOf\""), "an allOf is left");
    }

    #[test]
    fn every_operation_documents_the_shared_answers() {
        let d = doc();
        let op = |path: &str, method: &str| d["paths"][path][method]["responses"].clone();
        let codes = |r: &Value| r.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        let jobs_post = op("/api/jobs", "post");
        for code in ["201", "400", "401", "413", "422", "500", "503"] {
            assert!(
                jobs_post.get(code).is_some(),
                "POST /api/jobs {code}: {:?}",
                codes(&jobs_post)
            );
        }
        assert!(jobs_post["503"]["headers"].get("Retry-After").is_some());
        let jobs_get = op("/api/jobs", "get");
        assert!(jobs_get.get("401").is_some() && jobs_get.get("400").is_some());
        assert!(jobs_get.get("413").is_none(), "no body, no 413");
        let login = op("/api/auth/login", "post");
        assert!(login.get("400").is_some() && login.get("422").is_some());
        // An annotation's own answer wins over the shared one.
        let health = op("/api/health", "get");
        assert!(
            health["503"]["description"]
                .as_str()
                .unwrap()
                .starts_with("cannot serve")
        );
        assert!(
            health.get("401").is_none(),
            "the admin token is optional there"
        );
        let live = op("/api/health/live", "get");
        assert!(live.get("401").is_none() && live.get("400").is_none());
    }
}
