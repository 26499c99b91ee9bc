//! API4, unrestricted resource consumption: every list of `/api/openapi.json` bounds its
//! paging (400 naming the parameter), every route with a body refuses one past the body
//! limit (413, also when streamed without a length; the CSV import past its own, larger
//! limit), the import bounds its rows and the problems it lists, strings past their field's
//! length and numbers, tags, links and interviewers past their range are 422, and a long
//! search or tag, an out-of-range `stale_days` or deeply nested JSON is refused without
//! harm. The AI queue's 503: `ai.rs::full_queue_answers_503`; request rates and the
//! in-flight limit: `abuse.rs`.

use super::{Holdings, operations};
use crate::helpers::TestApp;
use axum::body::Body;
use axum::http::{Request, header};
use serde_json::{Value, json};

crate::on_both_backends!(
    every_list_bounds_its_paging,
    every_body_route_refuses_a_body_past_the_limit,
    oversized_values_are_refused,
    the_import_bounds_its_rows_and_its_answer,
);

async fn every_list_bounds_its_paging(app: TestApp) {
    let a = app.register("a@example.com").await;
    let mine = Holdings::create(&app, &a, "Alpha").await;
    let ops = operations(&app).await;
    let lists: Vec<_> = ops
        .iter()
        .filter(|op| op.query_params().contains(&"limit".to_owned()))
        .collect();
    assert!(lists.len() >= 15, "{lists:?}");
    let mut cases = 0;
    for op in lists {
        let path = if op.path.contains('{') {
            mine.path(&op.path)
        } else {
            op.path.clone()
        };
        for (query, parameter) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=-1", "limit"),
            ("limit=99999999999999999999999", "limit"),
            ("limit=ten", "limit"),
            ("limit=1e2", "limit"),
            ("limit=", "limit"),
            ("page=0", "page"),
            ("page=-1", "page"),
            ("page=100001", "page"),
            ("page=99999999999999999999999", "page"),
            ("page=two", "page"),
            ("page=1.5", "page"),
            ("cursor=AAAA", "cursor"),
            ("cursor=%00abc", "cursor"),
            ("cursor=../../etc/passwd", "cursor"),
            ("page=2&cursor=", "cursor"),
            ("includeTotal=yes&cursor=", "includeTotal"),
        ] {
            let r = app.get(&format!("{path}?{query}"), &a.token).await;
            let message = r.assert_error(400, "bad_request");
            assert!(
                message.contains(parameter),
                "{} ?{query}: {message}",
                op.name()
            );
            assert_eq!(
                r.body["error"]["details"]["parameter"],
                parameter,
                "{} ?{query}",
                op.name()
            );
            cases += 1;
        }
        // The bounds themselves are served, and the deepest page is empty, not slow.
        for query in ["limit=1", "limit=100", "page=100000&limit=100"] {
            let r = app.get(&format!("{path}?{query}"), &a.token).await;
            r.assert_status(200);
        }
        let deepest = app
            .get(&format!("{path}?page=100000&limit=100"), &a.token)
            .await;
        assert_eq!(deepest.body["data"], json!([]), "{}", op.name());
    }
    assert!(cases >= 250, "{cases} cases");
}

async fn every_body_route_refuses_a_body_past_the_limit(app: TestApp) {
    let a = app.register("a@example.com").await;
    let mine = Holdings::create(&app, &a, "Alpha").await;
    let ops = operations(&app).await;
    let big = format!(r#"{{"notes":"{}"}}"#, "x".repeat(1_100_000));
    let mut routes = 0;
    for op in ops.iter().filter(|op| op.has_body()) {
        let path = if op.path.contains('{') {
            mine.path(&op.path)
        } else {
            op.path.clone()
        };
        if op.spec["requestBody"]["content"].get("text/csv").is_some() {
            refuses_a_file_past_its_limit(&app, &a.token, op).await;
            routes += 1;
            continue;
        }
        let request = |body: Body| {
            let mut req = Request::builder()
                .method(op.method.clone())
                .uri(path.as_str())
                .header(header::CONTENT_TYPE, "application/json");
            if op.secured_by("bearer") {
                req = req.header(header::AUTHORIZATION, format!("Bearer {}", a.token));
            }
            req.body(body).unwrap()
        };
        let r = app.send(request(Body::from(big.clone()))).await;
        r.assert_error(413, "payload_too_large");
        // Streamed in chunks, with no Content-Length to refuse it by.
        let chunks =
            (0..40).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b' '; 32 * 1024])));
        let r = app
            .send(request(Body::from_stream(futures_util::stream::iter(
                chunks,
            ))))
            .await;
        r.assert_error(413, "payload_too_large");
        routes += 1;
    }
    assert!(routes >= 28, "{routes} routes");
    let r = app.get("/api/jobs", &a.token).await;
    assert_eq!(r.body["pagination"]["totalItems"], 1, "nothing was stored");
}

/// The CSV import (the one route whose body is a file) has a limit of its own,
/// `IMPORT_LIMIT_BYTES`: a file past the JSON body limit but within its own is read (here
/// refused for its header, 422, not 413); one byte past its own is a 413, sized or streamed.
async fn refuses_a_file_past_its_limit(app: &TestApp, token: &str, op: &super::Operation) {
    let limit = flowats_server::routes::import::IMPORT_LIMIT_BYTES;
    assert!(limit > flowats_server::config::BODY_LIMIT_BYTES);
    let request = |body: Body, length: Option<usize>| {
        let mut req = Request::builder()
            .method(op.method.clone())
            .uri(op.path.as_str())
            .header(header::CONTENT_TYPE, "text/csv")
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        if let Some(n) = length {
            req = req.header(header::CONTENT_LENGTH, n);
        }
        req.body(body).unwrap()
    };
    let file = |header: &str, size: usize| {
        let mut file = format!("{header}\n").into_bytes();
        while file.len() < size {
            file.extend_from_slice(b"Engineer,Acme\n");
        }
        file.truncate(size);
        file
    };

    let within = file(
        "title,company,unknown",
        flowats_server::config::BODY_LIMIT_BYTES * 2,
    );
    let r = app
        .send(request(Body::from(within.clone()), Some(within.len())))
        .await;
    r.assert_error(422, "validation_failed");
    assert_eq!(
        r.body["error"]["details"][0]["field"], "unknown",
        "{}",
        r.body
    );

    let past = file("title,company", limit + 1);
    let r = app.send(request(Body::from(past), Some(limit + 1))).await;
    let message = r.assert_error(413, "payload_too_large");
    assert!(message.contains(&limit.to_string()), "{message}");
    // Streamed in chunks, with no Content-Length to refuse it by.
    let chunk = bytes::Bytes::from(file("title,company", 256 * 1024));
    let chunks = (0..=limit / chunk.len()).map(move |_| Ok::<_, std::io::Error>(chunk.clone()));
    let r = app
        .send(request(
            Body::from_stream(futures_util::stream::iter(chunks)),
            None,
        ))
        .await;
    r.assert_error(413, "payload_too_large");
}

/// Past its size, an import is bounded in rows, and its 422 in the problems it lists.
async fn the_import_bounds_its_rows_and_its_answer(app: TestApp) {
    let a = app.register("a@example.com").await;
    let import = async |file: String| {
        let req = Request::post("/api/import/jobs")
            .header(header::AUTHORIZATION, format!("Bearer {}", a.token))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(file))
            .unwrap();
        app.send(req).await
    };
    let max = flowats_server::csv::import::MAX_ROWS;
    let rows = |n: usize, row: &str| format!("title,company,salary_min\n{}", row.repeat(n));

    let r = import(rows(max + 1, "Engineer,Acme,\n")).await;
    r.assert_error(422, "validation_failed");
    let details = &r.body["error"]["details"];
    assert_eq!(details.as_array().map(Vec::len), Some(1), "{details}");
    assert_eq!(details[0]["field"], "row");
    assert_eq!(details[0]["line"], max + 2, "the header is line 1");
    assert!(
        details[0]["message"]
            .as_str()
            .unwrap()
            .contains(&max.to_string())
    );

    let listed = flowats_server::csv::import::MAX_ERRORS;
    let r = import(rows(listed * 5, "Engineer,Acme,ten\n")).await;
    let message = r.assert_error(422, "validation_failed");
    let details = r.body["error"]["details"].as_array().unwrap();
    assert_eq!(details.len(), listed, "the answer lists at most {listed}");
    assert_eq!(details[listed - 1]["line"], listed + 1);
    assert!(
        message.starts_with(&format!("{} problem", listed * 5)),
        "{message}"
    );

    let r = app.get("/api/jobs", &a.token).await;
    assert_eq!(
        r.body["pagination"]["totalItems"], 0,
        "nothing was imported"
    );
}

async fn oversized_values_are_refused(app: TestApp) {
    let a = app.register("a@example.com").await;
    let mine = Holdings::create(&app, &a, "Alpha").await;
    let t = &a.token;
    let long = |n: usize| "x".repeat(n);
    let job = |extra: Value| {
        let mut body = json!({"title": "T", "company": "C"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    // (route, body just within the limit, body just past it, the field named)
    let job_path = format!("/api/jobs/{}", mine.job);
    let artifact_path = format!("/api/ai/artifacts/{}", mine.artifact);
    // Each body within the limit is a job of its own, not a duplicate of the last.
    let jobs = "/api/jobs?allow_duplicate=true";
    let notes_path = format!("/api/jobs/{}/notes", mine.job);
    let interviews_path = format!("/api/jobs/{}/interviews", mine.job);
    let links_path = format!("/api/jobs/{}/contacts", mine.job);
    let interview = |extra: Value| {
        let mut body = json!({"kind": "technical", "scheduled_at": "2027-01-10T10:00:00Z"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let rule = |extra: Value| {
        let mut body = json!({"status": "offer", "delay_days": 1});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    // Enough contacts for the most links and interviewers there may be.
    let mut contacts = vec![mine.contact.clone()];
    while contacts.len() < flowats_db::tracker::MAX_JOB_CONTACTS {
        let n = contacts.len();
        let r = app
            .post("/api/contacts", t, json!({"name": format!("Contact {n}")}))
            .await;
        contacts.push(r.assert_status(201)["id"].as_str().unwrap().to_owned());
    }
    let links = |n: usize| {
        let mut ids = contacts.clone();
        ids.resize_with(n, || uuid::Uuid::now_v7().to_string());
        json!({"contacts": ids.iter().map(|id| json!({"contact_id": id})).collect::<Vec<_>>()})
    };
    let interviewers = |n: usize| {
        let mut ids = contacts.clone();
        ids.resize_with(n, || uuid::Uuid::now_v7().to_string());
        interview(json!({"interviewer_ids": ids}))
    };
    let max_interviewers = flowats_db::tracker::MAX_INTERVIEWERS;
    let max_links = flowats_db::tracker::MAX_JOB_CONTACTS;
    let cases: Vec<(&str, &str, Value, Value, &str)> = vec![
        (
            "POST",
            jobs,
            job(json!({"title": long(200)})),
            job(json!({"title": long(201)})),
            "title",
        ),
        (
            "POST",
            jobs,
            job(json!({"notes": long(20_000)})),
            job(json!({"notes": long(20_001)})),
            "notes",
        ),
        (
            "POST",
            jobs,
            job(json!({"description": long(20_000)})),
            job(json!({"description": long(20_001)})),
            "description",
        ),
        (
            "POST",
            jobs,
            job(json!({"salary_max": 100_000_000})),
            job(json!({"salary_max": 100_000_001})),
            "salary_max",
        ),
        (
            "POST",
            jobs,
            job(json!({"salary_min": 0})),
            job(json!({"salary_min": 1e30})),
            "salary_min",
        ),
        (
            "PATCH",
            &job_path,
            json!({"company": long(200)}),
            json!({"company": long(201)}),
            "company",
        ),
        (
            "POST",
            "/api/skills",
            json!({"name": long(100)}),
            json!({"name": long(101)}),
            "name",
        ),
        (
            "POST",
            "/api/skills",
            json!({"name": "a", "proficiency": 5}),
            json!({"name": "a", "proficiency": i64::MAX}),
            "proficiency",
        ),
        (
            "POST",
            "/api/education",
            json!({"institution": long(200)}),
            json!({"institution": long(201)}),
            "institution",
        ),
        (
            "POST",
            "/api/employment",
            json!({"company": "c", "title": "t", "description": long(20_000)}),
            json!({"company": "c", "title": "t", "description": long(20_001)}),
            "description",
        ),
        (
            "PUT",
            "/api/profile",
            json!({"summary": long(20_000)}),
            json!({"summary": long(20_001)}),
            "summary",
        ),
        (
            "PUT",
            "/api/profile",
            json!({"phone": long(50)}),
            json!({"phone": long(51)}),
            "phone",
        ),
        (
            "PUT",
            &artifact_path,
            json!({"content": long(200_000)}),
            json!({"content": long(200_001)}),
            "content",
        ),
        (
            "POST",
            jobs,
            job(json!({"tags": [long(50)]})),
            job(json!({"tags": [long(51)]})),
            "tags[0]",
        ),
        (
            "POST",
            jobs,
            job(json!({"tags": (0..20).map(|i| format!("t{i}")).collect::<Vec<_>>()})),
            job(json!({"tags": (0..21).map(|i| format!("t{i}")).collect::<Vec<_>>()})),
            "tags",
        ),
        (
            "POST",
            "/api/contacts",
            json!({"name": long(200)}),
            json!({"name": long(201)}),
            "name",
        ),
        (
            "POST",
            "/api/contacts",
            json!({"name": "n", "notes": long(20_000)}),
            json!({"name": "n", "notes": long(20_001)}),
            "notes",
        ),
        (
            "POST",
            "/api/contacts",
            json!({"name": "n", "phone": long(50)}),
            json!({"name": "n", "phone": long(51)}),
            "phone",
        ),
        (
            "PUT",
            &links_path,
            links(max_links),
            links(max_links + 1),
            "contacts",
        ),
        (
            "POST",
            &interviews_path,
            interview(json!({"preparation_notes": long(20_000)})),
            interview(json!({"preparation_notes": long(20_001)})),
            "preparation_notes",
        ),
        (
            "POST",
            &interviews_path,
            interview(json!({"duration_minutes": 1440})),
            interview(json!({"duration_minutes": 1441})),
            "duration_minutes",
        ),
        (
            "POST",
            &interviews_path,
            interviewers(max_interviewers),
            interviewers(max_interviewers + 1),
            "interviewer_ids",
        ),
        (
            "POST",
            "/api/tasks",
            json!({"title": long(200)}),
            json!({"title": long(201)}),
            "title",
        ),
        (
            "POST",
            "/api/tasks",
            json!({"title": "t", "notes": long(20_000)}),
            json!({"title": "t", "notes": long(20_001)}),
            "notes",
        ),
        (
            "POST",
            "/api/task-rules",
            rule(json!({"delay_days": 365})),
            rule(json!({"delay_days": 366})),
            "delay_days",
        ),
        (
            "POST",
            "/api/task-rules",
            rule(json!({"title": long(200)})),
            rule(json!({"title": long(201)})),
            "title",
        ),
        (
            "POST",
            &notes_path,
            json!({"body": long(20_000)}),
            json!({"body": long(20_001)}),
            "body",
        ),
    ];
    for (method, path, within, past, field) in cases {
        let method: axum::http::Method = method.parse().unwrap();
        let r = app.call(method.clone(), path, Some(t), Some(past)).await;
        r.assert_error(422, "validation_failed");
        assert_eq!(r.body["error"]["details"][0]["field"], field, "{path}");
        let ok = app.call(method, path, Some(t), Some(within)).await;
        assert!(
            ok.status.is_success(),
            "{path} {field} at the limit: {ok:?}"
        );
    }
    // A search is bounded too, and deeply nested JSON is refused before anything reads it.
    for list in ["/api/jobs", "/api/contacts"] {
        let r = app.get(&format!("{list}?q={}", long(201)), t).await;
        assert!(r.assert_error(400, "bad_request").contains("`q`"), "{list}");
        app.get(&format!("{list}?q={}", long(200)), t)
            .await
            .assert_status(200);
    }
    let r = app.get(&format!("/api/jobs?tag={}", long(51)), t).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"]["details"]["parameter"], "tag");
    app.get(&format!("/api/jobs?tag={}", long(50)), t)
        .await
        .assert_status(200);
    // How far back the stats look for stale jobs is bounded too.
    for days in ["0", "3651", "-1", "99999999999999999999", "ten", "1.5"] {
        let r = app
            .get(&format!("/api/jobs/stats?stale_days={days}"), t)
            .await;
        r.assert_error(400, "bad_request");
        assert_eq!(
            r.body["error"]["details"]["parameter"], "stale_days",
            "{days}"
        );
    }
    for days in ["1", "3650"] {
        let r = app
            .get(&format!("/api/jobs/stats?stale_days={days}"), t)
            .await;
        assert_eq!(
            r.assert_status(200)["stale"]["days"],
            days.parse::<i64>().unwrap()
        );
    }
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let req = Request::post("/api/jobs")
        .header(header::AUTHORIZATION, format!("Bearer {t}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(format!(
            r#"{{"title": {deep}, "company": "C"}}"#
        )))
        .unwrap();
    app.send(req).await.assert_error(400, "bad_request");
}
