//! `GET /api/jobs/{id}/analytics`: known answers for a fixture profile and job, storage per
//! profile version, recomputation on profile and job changes, caching, isolation.

use crate::helpers::{TestApp, User};
use serde_json::{Value, json};
use uuid::Uuid;

crate::on_both_backends!(
    analytics_known_answer_stored_and_cached,
    analytics_follow_profile_and_job_changes,
    analytics_of_another_users_job_is_404,
    stats_funnel_from_status_changes,
);

async fn fixture(app: &TestApp) -> (User, String) {
    let user = app.register("a@example.com").await;
    for (name, level) in [("Rust", 5), ("Postgres", 4), ("Redis", 3)] {
        app.post(
            "/api/skills",
            &user.token,
            json!({"name": name, "proficiency": level}),
        )
        .await
        .assert_status(201);
    }
    app.post(
        "/api/employment",
        &user.token,
        json!({"company": "Initech", "title": "Backend Engineer",
               "description": "Built services with Docker and gRPC."}),
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

fn skills(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|m| m["skill"].as_str().unwrap())
        .collect()
}

async fn analytics_known_answer_stored_and_cached(app: TestApp) {
    let (user, job) = fixture(&app).await;
    let path = format!("/api/jobs/{job}/analytics");
    let r = app.get(&path, &user.token).await;
    assert_eq!(r.cache(), "miss");
    let body = r.assert_status(200).clone();
    // Rust: in the title (×2) and mentioned twice (1.25) = 2.5; PostgreSQL, Docker,
    // Kubernetes 1 each; GraphQL optional, 0.5. Matched 2.5 + 1 + 1 of 6 = 75.
    assert_eq!(body["score"], 75, "{body}");
    assert_eq!(skills(&body["matched"]), ["Rust", "PostgreSQL", "Docker"]);
    assert_eq!(skills(&body["missing"]), ["Kubernetes", "GraphQL"]);
    let m = &body["matched"].as_array().unwrap();
    assert_eq!(m[0]["weight"], 2.5);
    assert_eq!(m[0]["profile_evidence"], "skill: Rust, proficiency 5/5");
    assert_eq!(m[1]["profile_evidence"], "skill: Postgres, proficiency 4/5");
    assert!(
        m[2]["profile_evidence"]
            .as_str()
            .unwrap()
            .starts_with("experience: Backend Engineer at Initech"),
        "{}",
        m[2]
    );
    assert_eq!(
        body["missing"][0]["job_evidence"],
        "You will deploy on Kubernetes."
    );
    assert_eq!(body["missing"][1]["weight"], 0.5);
    assert_eq!(
        body["profile_version"], 5,
        "registration, three skills, one employment"
    );

    // Stored with its profile version…
    let stored = app
        .state
        .db
        .analytics
        .get_analytics(
            Uuid::parse_str(&user.id).unwrap(),
            Uuid::parse_str(&job).unwrap(),
            5,
        )
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(stored.score, 75);
    // …and served from the cache next time, the same bytes.
    let again = app.get(&path, &user.token).await;
    assert_eq!(again.cache(), "hit-l1");
    assert_eq!(again.raw, r.raw);
}

async fn analytics_follow_profile_and_job_changes(app: TestApp) {
    let (user, job) = fixture(&app).await;
    let path = format!("/api/jobs/{job}/analytics");
    let first = app.get(&path, &user.token).await.assert_status(200).clone();

    // A new skill bumps the profile version: recomputed, Kubernetes now matched.
    app.post("/api/skills", &user.token, json!({"name": "K8s"}))
        .await
        .assert_status(201);
    let r = app.get(&path, &user.token).await;
    assert_eq!(r.cache(), "miss");
    let body = r.assert_status(200);
    assert_eq!(
        body["profile_version"],
        first["profile_version"].as_i64().unwrap() + 1
    );
    assert_eq!(skills(&body["missing"]), ["GraphQL"]);
    assert_eq!(body["score"], 92, "5.5 of 6");

    // Editing the job's description recomputes too.
    app.patch(
        &format!("/api/jobs/{job}"),
        &user.token,
        json!({"description": "Terraform and AWS, daily."}),
    )
    .await
    .assert_status(200);
    let body = app.get(&path, &user.token).await.assert_status(200).clone();
    assert_eq!(skills(&body["matched"]), ["Rust"], "{body}");
    assert_eq!(skills(&body["missing"]), ["Terraform", "AWS"]);

    // With the cache flushed, the stored row (same profile version, same job) answers, and
    // gives the same analysis.
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("computed_at");
        v
    };
    app.state.cache.flush().await;
    let recomputed = app.get(&path, &user.token).await.assert_status(200).clone();
    assert_eq!(strip(recomputed), strip(body));
}

async fn analytics_of_another_users_job_is_404(app: TestApp) {
    let (_, job) = fixture(&app).await;
    let other = app.register("b@example.com").await;
    app.get(&format!("/api/jobs/{job}/analytics"), &other.token)
        .await
        .assert_error(404, "not_found");
    app.get(
        "/api/jobs/00000000-0000-0000-0000-000000000000/analytics",
        &other.token,
    )
    .await
    .assert_error(404, "not_found");
}

async fn stats_funnel_from_status_changes(app: TestApp) {
    let user = app.register("a@example.com").await;
    let paths: [&[&str]; 4] = [
        &["applied", "screening", "interviewing", "offer", "accepted"],
        &["applied", "rejected"],
        &["applied", "interviewing", "withdrawn"],
        &[],
    ];
    for (i, steps) in paths.iter().enumerate() {
        let job = app
            .create_job(
                &user,
                json!({"title": format!("Job {i}"), "company": "Acme"}),
            )
            .await;
        let id = job["id"].as_str().unwrap();
        for status in *steps {
            app.patch(
                &format!("/api/jobs/{id}"),
                &user.token,
                json!({"status": status}),
            )
            .await
            .assert_status(200);
        }
    }
    let body = app
        .get("/api/jobs/stats", &user.token)
        .await
        .assert_status(200)
        .clone();
    let f = &body["funnel"];
    let stages: Vec<(String, u64, Value)> = f["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["stage"].as_str().unwrap().to_owned(),
                s["reached"].as_u64().unwrap(),
                s["conversion"].clone(),
            )
        })
        .collect();
    let want = [
        ("interested", 4, Value::Null),
        ("applied", 3, json!(75.0)),
        ("screening", 2, json!(66.67)),
        ("interviewing", 2, json!(100.0)),
        ("offer", 1, json!(50.0)),
        ("accepted", 1, json!(100.0)),
    ];
    assert_eq!(stages.len(), want.len());
    for ((stage, reached, conversion), (ws, wr, wc)) in stages.iter().zip(want) {
        assert_eq!((stage.as_str(), *reached, conversion), (ws, wr, &wc), "{f}");
    }
    assert_eq!(f["exits"], json!({"rejected": 1, "withdrawn": 1}));
    // Every job left `interested` (all within this test, so within a day).
    assert_eq!(f["median_days_in_status"]["interested"], 0.0);
    assert_eq!(f["median_days_in_status"]["accepted"], Value::Null);
    assert_eq!(body["by_status"]["interested"], 1);
    assert_eq!(body["total"], 4);
}
