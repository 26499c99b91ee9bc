//! The real server on port 0, over TCP: the same `Application` that `flowats serve` runs.

use crate::helpers::config;
use flowats_server::app::Application;
use serde_json::{Value, json};
use std::time::Duration;

flowats_db::backend_tests!(
    full_flow_over_tcp_and_graceful_shutdown,
    openapi_and_docs_over_tcp
);

async fn start(
    db: &flowats_db::testing::TestDb,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let mut config = config(&db.url);
    config.port = 0;
    config.shutdown_timeout = Duration::from_secs(5);
    let app = Application::build(config).await.expect("build");
    let base = format!("http://{}", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    (base, stop, handle)
}

async fn full_flow_over_tcp_and_graceful_shutdown(db: flowats_db::testing::TestDb) {
    let (base, stop, handle) = start(&db).await;
    let http = crate::helpers::http();
    let r = http
        .post(format!("{base}/api/auth/register"))
        .json(&json!({"email": "tcp@example.com", "password": "password123", "name": "T"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r: Value = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": "tcp@example.com", "password": "password123"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = r["token"].as_str().unwrap().to_owned();
    let job: Value = http
        .post(format!("{base}/api/jobs"))
        .bearer_auth(&token)
        .json(&json!({"title": "Dev", "company": "Acme"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = job["id"].as_str().unwrap();
    let list: Value = http
        .get(format!("{base}/api/jobs"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"][0]["id"], id);
    let r = http
        .patch(format!("{base}/api/jobs/{id}"))
        .bearer_auth(&token)
        .json(&json!({"status": "applied"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let events: Value = http
        .get(format!("{base}/api/jobs/{id}/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(events["pagination"]["totalItems"], 2);
    assert_eq!(events["data"][0]["to_status"], "applied");

    stop.send(()).unwrap();
    let result = tokio::time::timeout(Duration::from_secs(10), handle).await;
    assert!(
        matches!(result, Ok(Ok(Ok(())))),
        "server did not stop cleanly: {result:?}"
    );
    assert!(
        http.get(format!("{base}/api/health/live"))
            .send()
            .await
            .is_err(),
        "still accepting connections after shutdown"
    );
}

async fn openapi_and_docs_over_tcp(db: flowats_db::testing::TestDb) {
    let (base, stop, handle) = start(&db).await;
    let http = crate::helpers::http();
    let doc: Value = http
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/auth/register", &["post"][..]),
        ("/api/auth/login", &["post"]),
        ("/api/auth/me", &["get"]),
        ("/api/account", &["delete"]),
        ("/api/profile", &["get", "put"]),
        ("/api/skills", &["get", "post"]),
        ("/api/skills/{id}", &["get", "patch", "delete"]),
        ("/api/education", &["get", "post"]),
        ("/api/education/{id}", &["get", "patch", "delete"]),
        ("/api/employment", &["get", "post"]),
        ("/api/employment/{id}", &["get", "patch", "delete"]),
        ("/api/jobs", &["get", "post"]),
        ("/api/jobs/{id}", &["get", "patch", "delete"]),
        ("/api/jobs/{id}/events", &["get"]),
        ("/api/jobs/stats", &["get"]),
        ("/api/health/live", &["get"]),
        ("/api/health/ready", &["get"]),
    ] {
        for m in methods {
            assert!(
                paths.get(path).and_then(|p| p.get(*m)).is_some(),
                "{m} {path} missing"
            );
        }
    }
    let page = http
        .get(format!("{base}/docs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("/docs/swagger-ui-bundle.js") && page.contains("/api/openapi.json"));
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "the docs page must not load from elsewhere"
    );
    for asset in ["/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"] {
        let r = http.get(format!("{base}{asset}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{asset}");
        assert!(r.bytes().await.unwrap().len() > 10_000, "{asset}");
    }
    stop.send(()).unwrap();
    handle.await.unwrap().unwrap();
}
