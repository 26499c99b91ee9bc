//! API4, unrestricted resource consumption: every list of `/api/openapi.json` bounds its
//! paging (400 naming the parameter), every route with a body refuses one past the body
//! limit (413, also when streamed without a length), strings past their field's length and
//! numbers past their range are 422, and a long search or deeply nested JSON is refused
//! without harm. The AI queue's 503: `ai.rs::full_queue_answers_503`; request rates and the
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
);

async fn every_list_bounds_its_paging(app: TestApp) {
    let a = app.register("a@example.com").await;
    let mine = Holdings::create(&app, &a, "Alpha").await;
    let ops = operations(&app).await;
    let lists: Vec<_> = ops
        .iter()
        .filter(|op| op.query_params().contains(&"limit".to_owned()))
        .collect();
    assert!(lists.len() >= 6, "{lists:?}");
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
    assert!(cases >= 100, "{cases} cases");
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
    assert!(routes >= 14, "{routes} routes");
    let r = app.get("/api/jobs", &a.token).await;
    assert_eq!(r.body["pagination"]["totalItems"], 1, "nothing was stored");
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
    let cases: Vec<(&str, &str, Value, Value, &str)> = vec![
        (
            "POST",
            "/api/jobs",
            job(json!({"title": long(200)})),
            job(json!({"title": long(201)})),
            "title",
        ),
        (
            "POST",
            "/api/jobs",
            job(json!({"notes": long(20_000)})),
            job(json!({"notes": long(20_001)})),
            "notes",
        ),
        (
            "POST",
            "/api/jobs",
            job(json!({"description": long(20_000)})),
            job(json!({"description": long(20_001)})),
            "description",
        ),
        (
            "POST",
            "/api/jobs",
            job(json!({"salary_max": 100_000_000})),
            job(json!({"salary_max": 100_000_001})),
            "salary_max",
        ),
        (
            "POST",
            "/api/jobs",
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
    let r = app.get(&format!("/api/jobs?q={}", long(201)), t).await;
    assert!(r.assert_error(400, "bad_request").contains("`q`"));
    app.get(&format!("/api/jobs?q={}", long(200)), t)
        .await
        .assert_status(200);
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
