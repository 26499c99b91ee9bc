//! The health document, its IETF draft form, and `/metrics` (parsed as Prometheus text).

use crate::helpers::TestApp;
use axum::body::Body;
use axum::http::{Method, Request, header};
use flowats_server::config::Secret;
use serde_json::Value;
use std::collections::HashMap;

crate::on_both_backends!(
    health_document_has_the_seed_shape,
    health_draft_form_on_request,
    metrics_parse_and_count_requests_by_route,
    dashboard_page_and_its_data_are_behind_the_admin_token,
);

const ADMIN: &str = "admin-token-for-tests-0123456789";

fn is_percent(v: &Value) -> bool {
    let s = v.as_str().unwrap_or_default();
    s.strip_suffix('%')
        .and_then(|n| n.split_once('.'))
        .is_some_and(|(i, f)| i.parse::<u32>().is_ok() && f.len() == 2 && f.parse::<u32>().is_ok())
}

fn is_bytes(v: &Value) -> bool {
    let s = v.as_str().unwrap_or_default();
    s.split_once(' ').is_some_and(|(n, unit)| {
        n.split_once('.').is_some_and(|(_, f)| f.len() == 2)
            && n.parse::<f64>().is_ok()
            && ["B", "KB", "MB", "GB", "TB"].contains(&unit)
    })
}

/// With the database up the answer is 200 whatever the status; it can only be critical
/// because of the machine itself (CPU, memory, heap past their limits on this shared machine).
fn assert_machine_only(body: &Value, status: &str, code: u16) {
    match (status, code) {
        ("healthy" | "degraded", 200) => {}
        ("critical", 200) => {
            for a in body["alerts"].as_array().unwrap() {
                if a["level"] == "critical" {
                    assert!(
                        ["cpu", "memory", "heap"].contains(&a["metric"].as_str().unwrap()),
                        "critical for another reason: {body}"
                    );
                }
            }
        }
        _ => panic!("status {status} with HTTP {code}: {body}"),
    }
}

/// The full document, behind the admin token (tests/api/health_views.rs: the summary).
async fn admin_app(app: &TestApp) -> TestApp {
    TestApp::with_config(testing_share(app), |c| {
        c.admin_token = Some(Secret::new(ADMIN.to_owned()));
    })
    .await
}

async fn health_document_has_the_seed_shape(app: TestApp) {
    let app = admin_app(&app).await;
    let r = app
        .call(Method::GET, "/api/health", Some(ADMIN), None)
        .await;
    let body = &r.body;
    let status = body["status"].as_str().unwrap();
    assert_machine_only(body, status, r.status.as_u16());
    let ts = body["timestamp"].as_str().unwrap();
    assert!(
        time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339).is_ok()
            && ts.ends_with('Z')
            && !ts.contains('.'),
        "timestamp {ts}"
    );
    assert!(body["uptime"].is_u64());
    let m = &body["metrics"];
    assert!(is_percent(&m["cpu"]["usage"]), "{}", m["cpu"]);
    let load = m["cpu"]["loadAverage"].as_array().unwrap();
    assert_eq!(load.len(), 3);
    assert!(
        load.iter()
            .all(|l| l.as_str().unwrap().parse::<f64>().is_ok())
    );
    assert!(is_bytes(&m["memory"]["used"]), "{}", m["memory"]);
    assert!(is_bytes(&m["memory"]["total"]));
    assert_ne!(m["memory"]["total"], "0.00 B", "memory is sampled at start");
    assert!(is_percent(&m["memory"]["percentage"]));
    assert!(is_bytes(&m["process"]["rss"]), "{}", m["process"]);
    assert_eq!(m["ai"]["queue"]["maxConcurrency"], 4, "{}", m["ai"]);
    // The test binary does not install the counting allocator: no heap figure, not a 0.
    assert!(m["process"]["heapUsed"].is_null());
    let pools = m["database"]["pools"].as_array().unwrap();
    assert!(!pools.is_empty());
    assert!(
        pools
            .iter()
            .all(|p| p["status"].is_string() && p["utilization"].is_number())
    );
    assert!(
        m["cache"]["hitRate"].is_number() || m["cache"]["hit_rate"].is_number(),
        "{}",
        m["cache"]
    );
    assert!(body["alerts"].is_array());
    // Every alert names its metric, level, value and threshold.
    for a in body["alerts"].as_array().unwrap() {
        for field in ["metric", "level", "value", "threshold", "message"] {
            assert!(a[field].is_string(), "{a}");
        }
    }
    assert_eq!(
        status == "healthy",
        body["alerts"].as_array().unwrap().is_empty()
    );
}

async fn health_draft_form_on_request(app: TestApp) {
    let app = admin_app(&app).await;
    let req = Request::get("/api/health")
        .header(header::ACCEPT, "application/health+json")
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
        .body(Body::empty())
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/health+json");
    let body = &r.body;
    let draft = body["status"].as_str().unwrap();
    // `fail` when this shared machine's CPU or memory is past its critical limit, but the
    // database is up: 200 all the same.
    assert_eq!(r.status.as_u16(), 200, "{body}");
    assert!(["pass", "warn", "fail"].contains(&draft), "{body}");
    let checks = body["checks"].as_object().unwrap();
    for key in [
        "cpu:utilization",
        "memory:utilization",
        "database:connections",
        "uptime",
    ] {
        assert!(checks[key][0]["observedValue"].is_number(), "{key}: {body}");
    }
}

type Exposition = openmetrics_parser::MetricsExposition<
    openmetrics_parser::OpenMetricsType,
    openmetrics_parser::OpenMetricsValue,
>;

/// `(labels, value)` of every sample of a family; histograms give their count.
fn samples(scrape: &Exposition, family: &str) -> Vec<(HashMap<String, String>, f64)> {
    use openmetrics_parser::OpenMetricsValue as V;
    let Some(f) = scrape.families.get(family) else {
        return Vec::new();
    };
    f.iter_samples()
        .map(|s| {
            let set = s.get_labelset().expect("labels");
            let labels = f
                .get_label_names()
                .iter()
                .map(|n| {
                    (
                        n.clone(),
                        set.get_label_value(n).unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            let value = match &s.value {
                V::Counter(c) => c.value.as_f64(),
                V::Gauge(g) | V::Unknown(g) => g.as_f64(),
                V::Histogram(h) => h.count.unwrap_or(0) as f64,
                _ => f64::NAN,
            };
            (labels, value)
        })
        .collect()
}

async fn metrics_parse_and_count_requests_by_route(app: TestApp) {
    // Off without ADMIN_TOKEN.
    app.call(Method::GET, "/metrics", None, None)
        .await
        .assert_error(404, "not_found");
    let app = TestApp::with_config(testing_share(&app), |c| {
        c.admin_token = Some(Secret::new(ADMIN.to_owned()));
    })
    .await;
    app.call(Method::GET, "/metrics", Some("wrong"), None)
        .await
        .assert_error(401, "unauthorized");

    let user = app.register("a@example.com").await;
    let job = app
        .create_job(
            &user,
            serde_json::json!({"title": "Engineer", "company": "Acme"}),
        )
        .await;
    for _ in 0..3 {
        app.get("/api/jobs", &user.token).await.assert_status(200);
    }
    let id = job["id"].as_str().unwrap();
    app.get(&format!("/api/jobs/{id}"), &user.token)
        .await
        .assert_status(200);
    app.get(
        "/api/jobs/00000000-0000-0000-0000-000000000000",
        &user.token,
    )
    .await
    .assert_status(404);
    app.call(Method::GET, "/api/jobs", None, None)
        .await
        .assert_status(401);
    app.call(Method::GET, "/no/such/route", None, None)
        .await
        .assert_status(404);

    let r = app.call(Method::GET, "/metrics", Some(ADMIN), None).await;
    assert_eq!(r.status, 200);
    let text = String::from_utf8(r.raw.to_vec()).unwrap();
    let scrape = openmetrics_parser::openmetrics::parse_openmetrics(&text)
        .unwrap_or_else(|e| panic!("not OpenMetrics text: {e:?}\n{text}"));
    let requests = samples(&scrape, "flowats_http_requests");
    let count = |route: &str, method: &str, status: &str| -> f64 {
        requests
            .iter()
            .filter(|(l, _)| l["route"] == route && l["method"] == method && l["status"] == status)
            .map(|(_, v)| v)
            .sum()
    };
    assert_eq!(count("/api/jobs", "GET", "2xx"), 3.0, "{requests:?}");
    assert_eq!(count("/api/jobs", "GET", "4xx"), 1.0);
    assert_eq!(count("/api/jobs", "POST", "2xx"), 1.0);
    assert_eq!(
        count("/api/jobs/{id}", "GET", "2xx"),
        1.0,
        "the route template, not the path"
    );
    assert_eq!(count("/api/jobs/{id}", "GET", "4xx"), 1.0);
    assert_eq!(count("/api/auth/register", "POST", "2xx"), 1.0);
    assert_eq!(count("/metrics", "GET", "4xx"), 1.0, "the refused scrape");
    assert!(
        requests.iter().all(|(l, _)| !l["route"].contains("0000")),
        "no raw path leaks into the labels"
    );
    // The duration histogram saw the same requests.
    let counts = samples(&scrape, "flowats_http_request_duration_seconds");
    let jobs_get: f64 = counts
        .iter()
        .filter(|(l, _)| l["route"] == "/api/jobs" && l["method"] == "GET")
        .map(|(_, v)| v)
        .sum();
    assert_eq!(jobs_get, 4.0);
    // Pool and process figures are there.
    assert!(!samples(&scrape, "flowats_db_pool_connections").is_empty());
    assert!(!samples(&scrape, "flowats_process_resident_memory_bytes").is_empty());
    assert_eq!(samples(&scrape, "flowats_ai_generations_running")[0].1, 0.0);
    assert!(
        samples(&scrape, "flowats_db_pool_acquires")
            .iter()
            .any(|(_, v)| *v > 0.0)
    );
    // Every metric the Grafana dashboard in ops/grafana queries exists.
    let grafana = include_str!("../../../../ops/grafana/flowats.json");
    let mut names: Vec<&str> = grafana
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("flowats_"))
        .collect();
    names.sort();
    names.dedup();
    assert!(names.len() > 8, "{names:?}");
    for name in names {
        let family = ["_bucket", "_total", "_count", "_sum"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(name);
        assert!(
            scrape.families.contains_key(family),
            "ops/grafana/flowats.json queries {name}, which /metrics does not have"
        );
    }
}

fn testing_share(app: &TestApp) -> flowats_db::testing::TestDb {
    flowats_db::testing::TestDb::share(&app.db)
}

async fn dashboard_page_and_its_data_are_behind_the_admin_token(app: TestApp) {
    app.call(Method::GET, "/dashboard", None, None)
        .await
        .assert_error(404, "not_found");
    let app = TestApp::with_config(testing_share(&app), |c| {
        c.admin_token = Some(Secret::new(ADMIN.to_owned()));
    })
    .await;
    // The page and its assets are static (no figures in them) and served from the binary.
    let page = app.call(Method::GET, "/dashboard", None, None).await;
    assert_eq!(page.status, 200);
    let html = String::from_utf8(page.raw.to_vec()).unwrap();
    assert!(html.contains("/dashboard/uPlot.iife.min.js") && !html.contains("http"));
    for asset in [
        "/dashboard/dashboard.js",
        "/dashboard/uPlot.iife.min.js",
        "/dashboard/uPlot.min.css",
    ] {
        let r = app.call(Method::GET, asset, None, None).await;
        assert_eq!(r.status, 200, "{asset}");
        assert!(r.raw.len() > 500, "{asset}");
    }
    // The figures need the token.
    app.call(Method::GET, "/api/admin/metrics/recent", None, None)
        .await
        .assert_error(401, "unauthorized");
    let sample = app.state.monitor.sampler.latest();
    flowats_server::monitor::snapshot(&app.state, &sample);
    let user = app.register("a@example.com").await;
    for _ in 0..4 {
        app.get("/api/jobs", &user.token).await.assert_status(200);
    }
    flowats_server::monitor::snapshot(&app.state, &sample);
    let r = app
        .call(Method::GET, "/api/admin/metrics/recent", Some(ADMIN), None)
        .await;
    let body = r.assert_status(200);
    let snaps = body["snapshots"].as_array().unwrap();
    assert_eq!(snaps.len(), 2);
    let delta = |k: &str| snaps[1][k].as_u64().unwrap() - snaps[0][k].as_u64().unwrap();
    assert_eq!(
        delta("requests"),
        5,
        "register and four lists between the snapshots"
    );
    assert_eq!(
        snaps[1]["latencyBuckets"].as_array().unwrap().len(),
        body["latencyBucketsMs"].as_array().unwrap().len() + 1
    );
    assert!(["healthy", "degraded", "critical"].contains(&body["status"].as_str().unwrap()));
}
