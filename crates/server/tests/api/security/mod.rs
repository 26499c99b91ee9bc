//! Security tests, mapped to the OWASP API Security Top 10 (2023). All of them go through
//! the real router; those marked "both" run on SQLite and on PostgreSQL.
//!
//! | OWASP item | where | what it shows |
//! |---|---|---|
//! | API1 object-level authorization | [`object_level`] (both) | every route of `/api/openapi.json` with an `{id}` (jobs and what hangs off them: events, analytics, contacts, interviews, tasks, notes; contacts and their notes; interviews, tasks, follow-up rules, notes, skills, education, employment, artifacts), each of its methods, and every request that names an id in its body or query (`job_id`, a job's `contacts[].contact_id`, `interviewer_ids`, and the import's contacts by email): another user's id is a 404 envelope (or, for an interviewer, the 422 an unknown contact gets), the owner's data is unchanged when read back past the cache; a route the test cannot exercise fails it |
//! | API2 broken authentication | [`authentication`] (both) | every bearer route of the document × every token defect (missing, malformed, wrong or other secret, expired, `alg: none`, HS512, tampered, unknown or deleted account, scheme and whitespace defects, token in the query or a cookie): 401 envelope; a deleted account leaves no row of its jobs, contacts, interviews, tasks, rules or notes. Brute force: `abuse.rs` (429 per address and per email) and `login_flood.rs` |
//! | API3 property-level authorization | [`properties`] (both) | every write of the document refuses server-owned and unknown fields (422 naming the field), also inside the objects of its arrays and, for the CSV import, as a column; a contact's `role` takes only its own values; stores nothing, and the stored ids, owners, timestamps and versions stay the server's; no response carries a password hash or another user's data |
//! | API4 unrestricted resource consumption | [`consumption`] (both) | every list of the document checks `limit`, `page` and `cursor` (400 naming the parameter); every body route answers 413 past the body limit (sized or streamed), the CSV import past its own 16 MiB; the import's rows and listed problems are bounded; oversized strings, numbers, tags, links and interviewers 422, a long `q` or `tag` and an out-of-range `stale_days` 400, deep JSON 400. The AI queue's 503: `ai.rs::full_queue_answers_503`. Rate and in-flight limits, slow headers: `abuse.rs` |
//! | API5 function-level authorization | [`function_level`] (both) | every `admin` route of the document and `/metrics`: 404 without `ADMIN_TOKEN`; with it, 401 for no, wrong, truncated or extended tokens and for a user's JWT; 2xx for the operator; the operator's token is no user token |
//! | API6 sensitive business flows | — | no flow to abuse beyond sign-up and login (`abuse.rs`, `login_flood.rs`) and AI generation (bounded queue, `ai.rs`) |
//! | API7 server-side request forgery | — | nothing to test: the server fetches no URL a user supplies. The only outbound HTTP is the `openai` provider, whose endpoint is `AI_API_URL` from the operator's configuration; a job's `url` is stored and returned, never fetched (`crates/server/src/ai/openai.rs`) |
//! | API8 security misconfiguration | — | security headers and CORS: `abuse.rs` (`every_answer_carries_the_security_headers`, `cors_answers_only_the_allowed_origins`); the error envelope and 500s that say nothing internal: `errors.rs`, `router.rs` unit tests |
//! | API9 improper inventory management | [`inventory`] (both) | every `/api` route the server declares is in the OpenAPI document, and every documented operation is served |
//! | API10 unsafe consumption of APIs | — | `openai.rs`: the upstream's failures, retries, timeouts and malformed answers |
//! | injection | [`injection`] (both) | quotes, `' OR 1=1 --`, `; DROP TABLE`, `%`, `_`, `\`, Unicode and NUL in every query parameter (`q` of jobs and contacts, `tag`, every enum, date, number and id filter, sort, `allow_duplicate`), bodies and imported files: data, never SQL; exactly the matching rows; NUL refused alike on both backends; the tables intact |
//! | cache isolation | [`cache_isolation`] (both; Redis with a private `redis-server`) | one user's cached answer (lists and their filters, job, events, profile, stats, analytics, artifacts, contacts, interviews, tasks, rules, notes, the export) is never served to another, in the in-process tier and through Redis across instances |

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

    /// Whether the operation requires this security scheme (`bearer`, `admin`): it names
    /// the scheme and offers no anonymous alternative (an empty requirement `{}`, as
    /// `/api/health` does, where the admin token only widens the answer).
    pub fn secured_by(&self, scheme: &str) -> bool {
        self.spec["security"].as_array().is_some_and(|s| {
            s.iter().any(|r| r.get(scheme).is_some())
                && !s
                    .iter()
                    .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
        })
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

/// One of everything a user can own, with ids: a job (tagged `rust`, with a status change,
/// so it has history), a skill, an education and an employment entry, a filled profile, a
/// resume for the job, and the job's analytics; and the tracker around the job: a contact
/// linked to the job as its recruiter, an interview on the job with the contact as
/// interviewer, a task on the job (due in two days), a follow-up rule, a note on the job
/// and a note on the contact.
pub struct Holdings {
    pub job: String,
    pub skill: String,
    pub education: String,
    pub employment: String,
    pub artifact: String,
    pub contact: String,
    pub interview: String,
    pub task: String,
    pub rule: String,
    /// The note on the job; `/api/notes/{id}` names it.
    pub note: String,
    pub contact_note: String,
}

/// `YYYY-MM-DD`, `days` after today (UTC), as the task lists count.
pub fn date_in(days: i64) -> String {
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(days)).to_string()
}

impl Holdings {
    pub async fn create(app: &TestApp, user: &crate::helpers::User, tag: &str) -> Holdings {
        let t = &user.token;
        let job = app
            .create_job(
                user,
                serde_json::json!({"title": format!("{tag} Rust Engineer"), "company": tag,
                    "description": "Rust, SQL and Kubernetes", "notes": format!("{tag} notes"),
                    "tags": ["rust", tag]}),
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

        let created = async |path: String, body: Value| {
            app.post(&path, t, body).await.assert_status(201)["id"]
                .as_str()
                .unwrap_or_else(|| panic!("an id from {path}"))
                .to_owned()
        };
        let lower = tag.to_lowercase();
        let contact = created(
            "/api/contacts".into(),
            serde_json::json!({"name": format!("{tag} Recruiter"), "company": tag,
                "email": format!("{lower}@recruiting.example"), "role": "recruiter"}),
        )
        .await;
        let links = app
            .put(
                &format!("/api/jobs/{job}/contacts"),
                t,
                serde_json::json!({"contacts": [{"contact_id": contact, "role": "recruiter"}]}),
            )
            .await;
        assert_eq!(
            links.assert_status(200)["data"][0]["contact_id"],
            contact.as_str()
        );
        let interview = created(
            format!("/api/jobs/{job}/interviews"),
            serde_json::json!({"kind": "technical", "scheduled_at": "2027-01-10T10:00:00Z",
                "interviewer_ids": [contact], "preparation_notes": format!("{tag} prep")}),
        )
        .await;
        let task = created(
            format!("/api/jobs/{job}/tasks"),
            serde_json::json!({"title": format!("{tag} follow-up"), "due_date": date_in(2)}),
        )
        .await;
        let rule = created(
            "/api/task-rules".into(),
            serde_json::json!({"status": "offer", "delay_days": 3}),
        )
        .await;
        let note = created(
            format!("/api/jobs/{job}/notes"),
            serde_json::json!({"body": format!("{tag} job note")}),
        )
        .await;
        let contact_note = created(
            format!("/api/contacts/{contact}/notes"),
            serde_json::json!({"body": format!("{tag} contact note")}),
        )
        .await;
        Holdings {
            job,
            skill,
            education,
            employment,
            artifact,
            contact,
            interview,
            task,
            rule,
            note,
            contact_note,
        }
    }

    /// Every id of the user's objects, for checks that none of them shows elsewhere.
    pub fn ids(&self) -> [&str; 11] {
        [
            &self.job,
            &self.skill,
            &self.education,
            &self.employment,
            &self.artifact,
            &self.contact,
            &self.interview,
            &self.task,
            &self.rule,
            &self.note,
            &self.contact_note,
        ]
    }

    /// The id of this user's object that a templated path (`/api/jobs/{id}/events`)
    /// names; `None` for a path this fixture has nothing for. The resource before `{id}`
    /// picks it: `/api/jobs/{id}/notes` takes the job, `/api/contacts/{id}/notes` the
    /// contact.
    pub fn id_for(&self, template: &str) -> Option<&str> {
        Some(match resource(template)? {
            "jobs" => &self.job,
            "skills" => &self.skill,
            "education" => &self.education,
            "employment" => &self.employment,
            "ai/artifacts" => &self.artifact,
            "contacts" => &self.contact,
            "interviews" => &self.interview,
            "tasks" => &self.task,
            "task-rules" => &self.rule,
            "notes" => &self.note,
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

/// The resource a templated path's `{id}` belongs to: `jobs` for `/api/jobs/{id}/notes`.
pub fn resource(template: &str) -> Option<&str> {
    let rest = template.strip_prefix("/api/")?;
    rest.contains("/{id}")
        .then(|| rest.split("/{id}").next())
        .flatten()
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
    assert!(all.len() >= 30, "{all:?}");
    all
}
