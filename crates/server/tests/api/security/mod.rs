//! Security tests, mapped to the OWASP API Security Top 10 (2023). All of them go through
//! the real router; those marked "both" run on SQLite and on PostgreSQL.
//!
//! | OWASP item | where | what it shows |
//! |---|---|---|
//! | API1 object-level authorization | [`object_level`] (both) | every route of `/api/openapi.json` with an `{id}`, each of its methods, and every request that names a `job_id` in its body or query: another user's id is a 404 envelope, the owner's data is unchanged when read back past the cache; a route the test cannot exercise fails it |
//! | API2 broken authentication | [`authentication`] (both) | every bearer route of the document × every token defect (missing, malformed, wrong or other secret, expired, `alg: none`, HS512, tampered, unknown or deleted account, scheme and whitespace defects, token in the query or a cookie): 401 envelope. Brute force: `abuse.rs` (429 per address and per email) and `login_flood.rs` |
//! | API3 property-level authorization | [`properties`] (both) | every write of the document refuses server-owned and unknown fields (422 naming the field), stores nothing, and the stored ids, owners, timestamps and versions stay the server's; no response carries a password hash or another user's data |
//! | API4 unrestricted resource consumption | [`consumption`] (both) | every list of the document checks `limit`, `page` and `cursor` (400 naming the parameter); every body route answers 413 past the body limit (sized or streamed); oversized strings and numbers 422, a long `q` 400, deep JSON 400. The AI queue's 503: `ai.rs::full_queue_answers_503`. Rate and in-flight limits, slow headers: `abuse.rs` |
//! | API5 function-level authorization | [`function_level`] (both) | every `admin` route of the document and `/metrics`: 404 without `ADMIN_TOKEN`; with it, 401 for no, wrong, truncated or extended tokens and for a user's JWT; 2xx for the operator; the operator's token is no user token |
//! | API6 sensitive business flows | — | no flow to abuse beyond sign-up and login (`abuse.rs`, `login_flood.rs`) and AI generation (bounded queue, `ai.rs`) |
//! | API7 server-side request forgery | — | nothing to test: the server fetches no URL a user supplies. The only outbound HTTP is the `openai` provider, whose endpoint is `AI_API_URL` from the operator's configuration; a job's `url` is stored and returned, never fetched (`crates/server/src/ai/openai.rs`) |
//! | API8 security misconfiguration | — | security headers and CORS: `abuse.rs` (`every_answer_carries_the_security_headers`, `cors_answers_only_the_allowed_origins`); the error envelope and 500s that say nothing internal: `errors.rs`, `router.rs` unit tests |
//! | API9 improper inventory management | [`inventory`] (both) | every `/api` route the server declares is in the OpenAPI document, and every documented operation is served |
//! | API10 unsafe consumption of APIs | — | `openai.rs`: the upstream's failures, retries, timeouts and malformed answers |
//! | injection | [`injection`] (both) | quotes, `' OR 1=1 --`, `; DROP TABLE`, `%`, `_`, `\`, Unicode and NUL in `q`, every enum filter, sort, id and body: data, never SQL; exactly the matching rows; the tables intact |
//! | cache isolation | [`cache_isolation`] (both; Redis with a private `redis-server`) | one user's cached answer (lists, job, events, profile, stats, analytics, artifacts) is never served to another, in the in-process tier and through Redis across instances |

mod authentication;
mod cache_isolation;
mod consumption;
mod function_level;
mod injection;
mod inventory;
mod object_level;
mod properties;

use crate::helpers::TestApp;
use axum::http::Method;
use serde_json::Value;

/// One operation of the OpenAPI document.
#[derive(Debug, Clone)]
pub struct Operation {
    pub method: Method,
    /// The path template, as documented: `/api/jobs/{id}`.
    pub path: String,
    pub spec: Value,
}

impl Operation {
    /// `GET /api/jobs/{id}`: how tables of known routes name an operation.
    pub fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// Whether the operation names this security scheme (`bearer`, `admin`).
    pub fn secured_by(&self, scheme: &str) -> bool {
        self.spec["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get(scheme).is_some()))
    }

    pub fn has_body(&self) -> bool {
        self.spec.get("requestBody").is_some()
    }

    pub fn query_params(&self) -> Vec<String> {
        self.spec["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect()
    }
}

/// The OpenAPI document the server serves.
pub async fn document(app: &TestApp) -> Value {
    let r = app.call(Method::GET, "/api/openapi.json", None, None).await;
    r.assert_status(200).clone()
}

/// Every operation of the served document.
pub async fn operations(app: &TestApp) -> Vec<Operation> {
    let doc = document(app).await;
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, spec) in item.as_object().expect("path item") {
            let method = match method.as_str() {
                "get" => Method::GET,
                "post" => Method::POST,
                "put" => Method::PUT,
                "patch" => Method::PATCH,
                "delete" => Method::DELETE,
                _ => continue,
            };
            ops.push(Operation {
                method,
                path: path.clone(),
                spec: spec.clone(),
            });
        }
    }
    assert!(ops.len() > 20, "the document lists the API: {ops:?}");
    ops
}

/// One of everything a user can own, with ids: a job (with a status change, so it has
/// history), a skill, an education and an employment entry, a filled profile, a resume
/// for the job, and the job's analytics.
pub struct Holdings {
    pub job: String,
    pub skill: String,
    pub education: String,
    pub employment: String,
    pub artifact: String,
}

impl Holdings {
    pub async fn create(app: &TestApp, user: &crate::helpers::User, tag: &str) -> Holdings {
        let t = &user.token;
        let job = app
            .create_job(
                user,
                serde_json::json!({"title": format!("{tag} Rust Engineer"), "company": tag,
                    "description": "Rust, SQL and Kubernetes", "notes": format!("{tag} notes")}),
            )
            .await["id"]
            .as_str()
            .expect("job id")
            .to_owned();
        app.patch(
            &format!("/api/jobs/{job}"),
            t,
            serde_json::json!({"status": "applied"}),
        )
        .await
        .assert_status(200);
        let mut ids = Vec::new();
        for (path, body) in [
            (
                "/api/skills",
                serde_json::json!({"name": "Rust", "proficiency": 4}),
            ),
            (
                "/api/education",
                serde_json::json!({"institution": format!("{tag} U")}),
            ),
            (
                "/api/employment",
                serde_json::json!({"company": tag, "title": "Engineer"}),
            ),
        ] {
            let r = app.post(path, t, body).await;
            ids.push(r.assert_status(201)["id"].as_str().expect("id").to_owned());
        }
        app.put(
            "/api/profile",
            t,
            serde_json::json!({"full_name": format!("{tag} Person"), "headline": tag}),
        )
        .await
        .assert_status(200);
        let artifact = app
            .post("/api/ai/resume", t, serde_json::json!({"job_id": job}))
            .await
            .assert_status(201)["id"]
            .as_str()
            .expect("artifact id")
            .to_owned();
        app.get(&format!("/api/jobs/{job}/analytics"), t)
            .await
            .assert_status(200);
        let [skill, education, employment] = ids.try_into().expect("three items");
        Holdings {
            job,
            skill,
            education,
            employment,
            artifact,
        }
    }

    /// The id of this user's object that a templated path (`/api/jobs/{id}/events`)
    /// names; `None` for a path this fixture has nothing for.
    pub fn id_for(&self, template: &str) -> Option<&str> {
        let resource = template.strip_prefix("/api/")?.split("/{id}").next()?;
        Some(match resource {
            "jobs" => &self.job,
            "skills" => &self.skill,
            "education" => &self.education,
            "employment" => &self.employment,
            "ai/artifacts" => &self.artifact,
            _ => return None,
        })
    }

    /// The concrete path for a template, or a panic that names the route to teach.
    #[track_caller]
    pub fn path(&self, template: &str) -> String {
        let id = self.id_for(template).unwrap_or_else(|| {
            panic!("no fixture object for {template}: teach `Holdings::id_for` about it")
        });
        let path = template.replace("{id}", id);
        assert!(!path.contains('{'), "unknown path parameter in {template}");
        path
    }
}

/// Every document of the user's that the API reads: each bearer GET of the document, with
/// the user's ids where it takes one.
pub async fn snapshot(
    app: &TestApp,
    ops: &[Operation],
    user: &crate::helpers::User,
    holdings: &Holdings,
) -> Vec<(String, Value)> {
    let mut all = Vec::new();
    for op in ops {
        if op.method != Method::GET || !op.secured_by("bearer") {
            continue;
        }
        let path = if op.path.contains('{') {
            holdings.path(&op.path)
        } else {
            op.path.clone()
        };
        let r = app.get(&path, &user.token).await;
        all.push((path, r.assert_status(200).clone()));
    }
    assert!(all.len() >= 12, "{all:?}");
    all
}
