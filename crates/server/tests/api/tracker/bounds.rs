//! What one request may store, the same on both backends: dates in the years 1 to 9999
//! (PostgreSQL refuses what SQLite would keep, and used to answer 500), answered 422 with
//! the field named.

use super::{assert_invalid, id, import};
use crate::helpers::TestApp;
use serde_json::json;

crate::on_both_backends!(
    dates_outside_years_1_to_9999_are_422_naming_the_field,
    nested_collections_past_their_limit_are_422_naming_it,
);

const OUT_OF_RANGE: [&str; 3] = ["-9999-12-31", "0000-12-31", "-0001-01-01"];

async fn dates_outside_years_1_to_9999_are_422_naming_the_field(app: TestApp) {
    let u = app.register("a@example.com").await;
    let t = &u.token;
    let job = id(&app
        .create_job(&u, json!({"title": "Dev", "company": "Acme"}))
        .await);
    for date in OUT_OF_RANGE {
        let r = app
            .post(
                "/api/jobs",
                t,
                json!({"title": format!("Dev {date}"), "company": "Acme", "deadline": date}),
            )
            .await;
        assert_invalid(&r, "deadline");
        let r = app
            .patch(&format!("/api/jobs/{job}"), t, json!({"deadline": date}))
            .await;
        assert_invalid(&r, "deadline");
        let r = app
            .post(
                "/api/education",
                t,
                json!({"institution": "MIT", "start_date": date}),
            )
            .await;
        assert_invalid(&r, "start_date");
        let r = app
            .post(
                "/api/employment",
                t,
                json!({"company": "Acme", "title": "Dev", "end_date": date}),
            )
            .await;
        assert_invalid(&r, "end_date");
        let r = app
            .post("/api/tasks", t, json!({"title": "Call", "due_date": date}))
            .await;
        assert_invalid(&r, "due_date");
        let r = import(
            &app,
            &u,
            "",
            "text/csv",
            &format!("title,company,deadline\nImported {date},Acme,{date}\n"),
        )
        .await;
        r.assert_error(422, "validation_failed");
        let details = &r.body["error"]["details"];
        assert_eq!(details[0]["line"], 2, "{details}");
        assert_eq!(details[0]["field"], "deadline", "{details}");
    }
    // An interview's time, as UTC, is held to the same years.
    let r = app
        .post(
            &format!("/api/jobs/{job}/interviews"),
            t,
            json!({"kind": "technical", "scheduled_at": "0000-06-01T00:00:00Z"}),
        )
        .await;
    assert_invalid(&r, "scheduled_at");

    // The edges of the range are stored and read back as sent.
    for date in ["0001-01-01", "9999-12-31"] {
        let created = app
            .create_job(
                &u,
                json!({"title": format!("Edge {date}"), "company": "Acme", "deadline": date}),
            )
            .await;
        assert_eq!(created["deadline"], date);
        let r = app.get(&format!("/api/jobs/{}", id(&created)), t).await;
        assert_eq!(r.assert_status(200)["deadline"], date);
        let r = app
            .post("/api/tasks", t, json!({"title": "Call", "due_date": date}))
            .await;
        assert_eq!(r.assert_status(201)["due_date"], date);
    }
    // Nothing out of range was stored.
    let r = app.get("/api/jobs?limit=100", t).await;
    assert_eq!(r.assert_status(200)["data"].as_array().unwrap().len(), 3);
}

/// A CSV row's history (it used to take 450,000 entries), tags, a job's contacts and an
/// interview's interviewers: each past its limit is a 422 that names the limit.
async fn nested_collections_past_their_limit_are_422_naming_it(app: TestApp) {
    let u = app.register("a@example.com").await;
    let t = &u.token;
    let history = |n: usize| {
        (0..n)
            .map(|i| format!("applied@2020-01-01T00:{:02}:{:02}Z", i / 60, i % 60))
            .collect::<Vec<_>>()
            .join(";")
    };
    let file = format!(
        "title,company,status_history\nLong,Acme,{}\nFine,Acme,\n",
        history(101)
    );
    let r = import(&app, &u, "", "text/csv", &file).await;
    r.assert_error(422, "validation_failed");
    let details = &r.body["error"]["details"];
    assert_eq!(details.as_array().unwrap().len(), 1, "{details}");
    assert_eq!(details[0]["line"], 2, "{details}");
    assert_eq!(details[0]["field"], "status_history", "{details}");
    let message = details[0]["message"].as_str().unwrap();
    assert!(message.contains("at most 100"), "{message}");
    assert_eq!(super::total(&app.get("/api/jobs", t).await), 0);

    // 100 entries are within the limit.
    let file = format!("title,company,status_history\nLong,Acme,{}\n", history(100));
    let r = import(&app, &u, "", "text/csv", &file).await;
    assert_eq!(r.assert_status(201)["imported"], 1);

    let tags: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    let file = format!("title,company,tags\nTagged,Acme,{}\n", tags.join(";"));
    let r = import(&app, &u, "", "text/csv", &file).await;
    r.assert_error(422, "validation_failed");
    assert_eq!(r.body["error"]["details"][0]["field"], "tags", "{}", r.body);
    let r = app
        .post(
            "/api/jobs",
            t,
            json!({"title": "Tagged", "company": "Acme", "tags": tags}),
        )
        .await;
    assert_invalid(&r, "tags");

    let job = id(&app
        .create_job(&u, json!({"title": "Dev", "company": "Acme"}))
        .await);
    let ids: Vec<String> = (0..21).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let r = app
        .post(
            &format!("/api/jobs/{job}/interviews"),
            t,
            json!({"kind": "technical", "scheduled_at": "2026-07-01T09:00:00Z", "interviewer_ids": ids}),
        )
        .await;
    assert_invalid(&r, "interviewer_ids");
    let links: Vec<_> = (0..51)
        .map(|_| json!({"contact_id": uuid::Uuid::now_v7()}))
        .collect();
    let r = app
        .put(
            &format!("/api/jobs/{job}/contacts"),
            t,
            json!({"contacts": links}),
        )
        .await;
    assert_invalid(&r, "contacts");
}
