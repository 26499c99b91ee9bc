//! AI documents with the offline `local` provider: known answers, determinism, reuse and
//! regeneration rules, one generation for identical concurrent requests, the queue's 503,
//! artifact listing, editing and isolation.

use crate::helpers::{TestApp, User};
use serde_json::{Value, json};
use std::sync::Arc;

crate::on_both_backends!(
    resume_known_answer_and_determinism,
    cover_letter_names_the_role_the_evidence_and_the_gaps,
    reuse_regenerate_and_edits,
    twenty_identical_requests_make_one_artifact,
    full_queue_answers_503,
    artifacts_list_filters_and_isolation,
);

pub async fn fixture(app: &TestApp) -> (User, String) {
    let user = app.register("a@example.com").await;
    app.put(
        "/api/profile",
        &user.token,
        json!({"full_name": "Ada Lovelace", "headline": "Backend engineer", "location": "Berlin"}),
    )
    .await
    .assert_status(200);
    for (name, level) in [("Rust", 5), ("Postgres", 4), ("Redis", 3), ("Figma", 1)] {
        app.post(
            "/api/skills",
            &user.token,
            json!({"name": name, "proficiency": level}),
        )
        .await
        .assert_status(201);
    }
    for (company, title, start, description) in [
        (
            "Globex",
            "Frontend Developer",
            "2017-01-01",
            "Built dashboards in React.",
        ),
        (
            "Initech",
            "Backend Engineer",
            "2020-03-01",
            "Built services with Docker and gRPC. Ran PostgreSQL.",
        ),
    ] {
        app.post(
            "/api/employment",
            &user.token,
            json!({"company": company, "title": title, "start_date": start, "description": description}),
        )
        .await
        .assert_status(201);
    }
    app.post(
        "/api/education",
        &user.token,
        json!({"institution": "TU Berlin", "degree": "MSc", "field_of_study": "Computer Science"}),
    )
    .await
    .assert_status(201);
    let job = app
        .create_job(
            &user,
            json!({"title": "Senior Rust Engineer", "company": "Acme",
                   "description": "We build our platform in Rust and PostgreSQL. You will deploy on Kubernetes.\n\
                                   Experience with Docker required. Nice to have: GraphQL."}),
        )
        .await;
    (user, job["id"].as_str().unwrap().to_owned())
}

fn why<'a>(artifact: &'a Value, action: &str) -> Vec<&'a str> {
    artifact["metadata"]["why"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == action)
        .map(|c| c["what"].as_str().unwrap())
        .collect()
}

async fn resume_known_answer_and_determinism(app: TestApp) {
    let (user, job) = fixture(&app).await;
    let r = app
        .post("/api/ai/resume", &user.token, json!({"job_id": job}))
        .await;
    let a = r.assert_status(201).clone();
    assert_eq!(a["kind"], "resume");
    assert_eq!(a["job_id"], job.as_str());
    let md = a["content"].as_str().unwrap();
    assert!(md.starts_with("# Ada Lovelace\n"), "{md}");
    assert!(
        md.contains("Applying for **Senior Rust Engineer** at **Acme**"),
        "{md}"
    );
    // What the job asks for leads, heaviest first; the rest follows.
    assert!(
        md.contains("**For this role:** Rust, PostgreSQL, Docker\n"),
        "{md}"
    );
    assert!(md.contains("**Also:** Redis, Figma\n"), "{md}");
    // The experience that shows the requirements comes first, though it is not the oldest.
    let initech = md.find("### Backend Engineer — Initech").expect("Initech");
    let globex = md.find("### Frontend Developer — Globex").expect("Globex");
    assert!(initech < globex, "{md}");
    assert!(md.contains("- MSc in Computer Science, TU Berlin"), "{md}");
    // Why: what moved up, and the gaps it does not claim.
    assert_eq!(why(&a, "moved up")[..3], ["Rust", "PostgreSQL", "Docker"]);
    assert_eq!(why(&a, "not claimed"), ["Kubernetes", "GraphQL"]);
    assert!(
        !md.contains("Kubernetes"),
        "a gap is not claimed in the resume"
    );
    assert_eq!(a["metadata"]["match_score"], 75);

    // Same inputs, same bytes: a forced regeneration writes the identical document.
    let again = app
        .post(
            "/api/ai/resume?regenerate=true",
            &user.token,
            json!({"job_id": job}),
        )
        .await;
    let b = again.assert_status(201);
    assert_ne!(b["id"], a["id"]);
    assert_eq!(b["content"], a["content"]);
    assert_eq!(b["metadata"]["why"], a["metadata"]["why"]);
}

async fn cover_letter_names_the_role_the_evidence_and_the_gaps(app: TestApp) {
    let (user, job) = fixture(&app).await;
    let r = app
        .post("/api/ai/cover-letter", &user.token, json!({"job_id": job}))
        .await;
    let a = r.assert_status(201);
    let md = a["content"].as_str().unwrap();
    assert!(md.starts_with("Dear Acme hiring team,"), "{md}");
    assert!(
        md.contains("the **Senior Rust Engineer** role at **Acme**"),
        "{md}"
    );
    assert!(
        md.contains("- **Docker**: as Backend Engineer at Initech"),
        "{md}"
    );
    assert!(
        md.contains("Most relevant is my time as Backend Engineer at Initech"),
        "{md}"
    );
    assert!(
        md.contains("I have not worked with Kubernetes, GraphQL yet"),
        "{md}"
    );
    assert!(md.contains("MSc at TU Berlin"), "{md}");
    assert!(md.trim_end().ends_with("Ada Lovelace"), "{md}");
}

async fn reuse_regenerate_and_edits(app: TestApp) {
    let (user, job) = fixture(&app).await;
    let body = json!({"job_id": job});
    let first = app.post("/api/ai/resume", &user.token, body.clone()).await;
    let id = first.assert_status(201)["id"].clone();
    // Identical request: the stored artifact, 200.
    let again = app.post("/api/ai/resume", &user.token, body.clone()).await;
    assert_eq!(again.assert_status(200)["id"], id);
    // Another kind is another artifact.
    app.post("/api/ai/cover-letter", &user.token, body.clone())
        .await
        .assert_status(201);
    // The profile changed: a new one.
    app.post("/api/skills", &user.token, json!({"name": "Kubernetes"}))
        .await
        .assert_status(201);
    let changed = app.post("/api/ai/resume", &user.token, body.clone()).await;
    let new_id = changed.assert_status(201)["id"].clone();
    assert_ne!(new_id, id);
    assert!(
        changed.body["content"]
            .as_str()
            .unwrap()
            .contains("Kubernetes")
    );
    // The job changed: a new one.
    app.patch(
        &format!("/api/jobs/{job}"),
        &user.token,
        json!({"notes": "referral"}),
    )
    .await
    .assert_status(200);
    let after_job = app.post("/api/ai/resume", &user.token, body.clone()).await;
    let job_id_new = after_job.assert_status(201)["id"].clone();
    // An edited draft is the user's, not the generator's: not reused.
    let path = format!("/api/ai/artifacts/{}", job_id_new.as_str().unwrap());
    let edited = app
        .put(&path, &user.token, json!({"content": "# Mine"}))
        .await;
    assert_eq!(edited.assert_status(200)["content"], "# Mine");
    assert_eq!(
        app.get(&path, &user.token).await.assert_status(200)["content"],
        "# Mine"
    );
    let fresh = app.post("/api/ai/resume", &user.token, body).await;
    assert_ne!(fresh.assert_status(201)["id"], job_id_new);
    // An empty edit is refused.
    app.put(&path, &user.token, json!({"content": "  "}))
        .await
        .assert_error(422, "validation_failed");
}

/// Sends `n` identical resume requests at once; the artifact ids they were answered with.
pub async fn identical_resumes(
    app: &Arc<TestApp>,
    user: &User,
    job: &str,
    n: usize,
) -> std::collections::BTreeSet<String> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (app, token, job) = (app.clone(), user.token.clone(), job.to_owned());
        tasks.spawn(async move {
            app.post("/api/ai/resume", &token, json!({"job_id": job}))
                .await
        });
    }
    let mut ids = std::collections::BTreeSet::new();
    while let Some(r) = tasks.join_next().await {
        let r = r.unwrap();
        assert!([200, 201].contains(&r.status.as_u16()), "{}", r.body);
        ids.insert(r.body["id"].as_str().unwrap().to_owned());
    }
    ids
}

async fn twenty_identical_requests_make_one_artifact(app: TestApp) {
    let (user, job) = fixture(&app).await;
    let app = Arc::new(app);
    let ids = identical_resumes(&app, &user, &job, 20).await;
    assert_eq!(ids.len(), 1, "one generation for all: {ids:?}");
    let list = app.get("/api/ai/artifacts", &user.token).await;
    assert_eq!(list.assert_status(200)["pagination"]["totalItems"], 1);
}

async fn full_queue_answers_503(app: TestApp) {
    let (user, job) = fixture(&app).await;
    let app = TestApp::with_config(flowats_db::testing::TestDb::share(&app.db), |c| {
        c.ai_concurrency = 1;
        c.ai_queue = 0;
    })
    .await;
    // Hold the only generation slot with work that waits for us.
    let (release, held) = tokio::sync::oneshot::channel::<()>();
    let state = app.state.clone();
    let holder = tokio::spawn(async move { state.ai.queue.run(async { held.await.ok() }).await });
    while app.state.ai.queue.status().running < 1 {
        tokio::task::yield_now().await;
    }
    let r = app
        .post("/api/ai/resume", &user.token, json!({"job_id": job}))
        .await;
    r.assert_error(503, "ai_queue_full");
    assert_eq!(r.headers["retry-after"], "2");
    // Nothing was stored, and once the slot is free the same request succeeds.
    release.send(()).unwrap();
    holder.await.unwrap().unwrap();
    let list = app.get("/api/ai/artifacts", &user.token).await;
    assert_eq!(list.assert_status(200)["pagination"]["totalItems"], 0);
    app.post("/api/ai/resume", &user.token, json!({"job_id": job}))
        .await
        .assert_status(201);
}

async fn artifacts_list_filters_and_isolation(app: TestApp) {
    let (user, job) = fixture(&app).await;
    let other_job = app
        .create_job(&user, json!({"title": "Go Developer", "company": "Globex"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (kind, j) in [
        ("resume", &job),
        ("cover-letter", &job),
        ("resume", &other_job),
    ] {
        app.post(
            &format!("/api/ai/{kind}"),
            &user.token,
            json!({"job_id": j}),
        )
        .await
        .assert_status(201);
    }
    let total = |r: crate::helpers::Resp| r.assert_status(200)["pagination"]["totalItems"].clone();
    assert_eq!(total(app.get("/api/ai/artifacts", &user.token).await), 3);
    assert_eq!(
        total(app.get("/api/ai/artifacts?kind=resume", &user.token).await),
        2
    );
    assert_eq!(
        total(
            app.get(&format!("/api/ai/artifacts?job_id={job}"), &user.token)
                .await
        ),
        2
    );
    // Cursor mode walks them newest first.
    let page = app
        .get("/api/ai/artifacts?cursor=&limit=2", &user.token)
        .await;
    let body = page.assert_status(200).clone();
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    let next = body["pagination"]["nextCursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/api/ai/artifacts?cursor={next}&limit=2"),
            &user.token,
        )
        .await;
    assert_eq!(rest.assert_status(200)["data"].as_array().unwrap().len(), 1);
    app.get("/api/ai/artifacts?kind=poem", &user.token)
        .await
        .assert_error(400, "bad_request");
    app.get("/api/ai/artifacts?job_id=nope", &user.token)
        .await
        .assert_error(400, "bad_request");

    // Another user: neither the job nor the artifacts exist for them.
    let b = app.register("b@example.com").await;
    app.post("/api/ai/resume", &b.token, json!({"job_id": job}))
        .await
        .assert_error(404, "not_found");
    let id = body["data"][0]["id"].as_str().unwrap();
    let path = format!("/api/ai/artifacts/{id}");
    app.get(&path, &b.token)
        .await
        .assert_error(404, "not_found");
    app.put(&path, &b.token, json!({"content": "x"}))
        .await
        .assert_error(404, "not_found");
    app.delete(&path, &b.token)
        .await
        .assert_error(404, "not_found");
    assert_eq!(total(app.get("/api/ai/artifacts", &b.token).await), 0);
    // The owner deletes it.
    app.delete(&path, &user.token).await.assert_status(204);
    app.get(&path, &user.token)
        .await
        .assert_error(404, "not_found");
}
