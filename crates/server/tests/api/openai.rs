//! The `openai` AI provider against a small local server that speaks the chat-completions
//! protocol: the one fake in the suite, standing in for a paid service out of reach. Each
//! test scripts its answers and reads back what the server was sent.

use crate::ai::{fixture, identical_resumes};
use crate::helpers::TestApp;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use flowats_server::config::{AiProvider, OpenAiConfig, Secret};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One scripted answer.
#[derive(Clone)]
enum Reply {
    Text(&'static str),
    /// The text, after a pause.
    Slow(Duration, &'static str),
    Status(u16, Option<u64>),
    Garbage,
}

#[derive(Clone, Default)]
struct Fake {
    script: Arc<Mutex<VecDeque<Reply>>>,
    /// (Authorization header, body) of every request.
    seen: Arc<Mutex<Vec<(String, Value)>>>,
}

const TEXT: &str = "# Ada Lovelace\n\nRust and PostgreSQL engineer, polished by the model.";

async fn completions(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    fake.seen.lock().unwrap().push((auth, body));
    let reply = fake
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Reply::Text(TEXT));
    let completion = |text: &str| {
        Json(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "model": "test-model",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
        }))
        .into_response()
    };
    match reply {
        Reply::Text(text) => completion(text),
        Reply::Slow(pause, text) => {
            tokio::time::sleep(pause).await;
            completion(text)
        }
        Reply::Status(status, retry_after) => {
            let mut r = (
                StatusCode::from_u16(status).unwrap(),
                Json(json!({"error": {"message": "scripted failure", "type": "test"}})),
            )
                .into_response();
            if let Some(secs) = retry_after {
                r.headers_mut().insert("retry-after", secs.into());
            }
            r
        }
        Reply::Garbage => "<html>proxy error</html>".into_response(),
    }
}

impl Fake {
    async fn start(script: Vec<Reply>) -> (Fake, String) {
        let fake = Fake::default();
        fake.script.lock().unwrap().extend(script);
        let router = axum::Router::new()
            .route("/v1/chat/completions", axum::routing::post(completions))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        (fake, url)
    }

    fn requests(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

async fn app_with(url: &str, retries: u32, timeout: Duration) -> TestApp {
    let db = flowats_db::testing::sqlite().await;
    TestApp::with_config(db, |c| {
        c.ai_provider = AiProvider::OpenAi(OpenAiConfig {
            url: url.to_owned(),
            key: Some(Secret::new("sk-test-key")),
            model: "test-model".to_owned(),
            retries,
        });
        c.ai_timeout = timeout;
    })
    .await
}

#[tokio::test]
async fn writes_through_the_routes_from_the_profile_and_reuses_the_result() {
    let (fake, url) = Fake::start(vec![]).await;
    let app = app_with(&url, 2, Duration::from_secs(10)).await;
    let (user, job) = fixture(&app).await;
    let r = app
        .post("/api/ai/resume", &user.token, json!({"job_id": job}))
        .await;
    let a = r.assert_status(201).clone();
    assert_eq!(a["content"], TEXT);
    assert_eq!(a["metadata"]["provider"], "openai/test-model");
    // The reasons are the profile-grounded draft's.
    let why = a["metadata"]["why"].as_array().unwrap();
    assert!(why.iter().any(|c| c["what"] == "Rust"), "{why:?}");
    let seen = fake.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let (auth, body) = &seen[0];
    assert_eq!(auth, "Bearer sk-test-key");
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["messages"][0]["role"], "system");
    let prompt = body["messages"][1]["content"].as_str().unwrap();
    for expected in [
        "Title: Senior Rust Engineer",
        "Company: Acme",
        "Kubernetes",
        "# Ada Lovelace",
        "TU Berlin",
    ] {
        assert!(prompt.contains(expected), "{expected:?} not in {prompt}");
    }
    // Reused: no second call to the paid service.
    let again = app
        .post("/api/ai/resume", &user.token, json!({"job_id": job}))
        .await;
    assert_eq!(again.assert_status(200)["id"], a["id"]);
    assert_eq!(fake.requests(), 1);
}

#[tokio::test]
async fn retries_429_and_5xx_honouring_retry_after() {
    let (fake, url) = Fake::start(vec![
        Reply::Status(429, Some(1)),
        Reply::Status(502, None),
        Reply::Text(TEXT),
    ])
    .await;
    let app = app_with(&url, 2, Duration::from_secs(10)).await;
    let (user, job) = fixture(&app).await;
    let started = Instant::now();
    let r = app
        .post("/api/ai/cover-letter", &user.token, json!({"job_id": job}))
        .await;
    assert_eq!(r.assert_status(201)["content"], TEXT);
    assert_eq!(fake.requests(), 3);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was not waited for: {:?}",
        started.elapsed()
    );
}

struct Case {
    script: Vec<Reply>,
    status: u16,
    code: &'static str,
    retry_after: Option<&'static str>,
    requests: usize,
}

fn case(
    script: Vec<Reply>,
    status: u16,
    code: &'static str,
    retry_after: Option<&'static str>,
    requests: usize,
) -> Case {
    Case {
        script,
        status,
        code,
        retry_after,
        requests,
    }
}

#[tokio::test]
async fn upstream_failures_are_answered_502_503_504_and_store_nothing() {
    // One retry each; (script, status, code, Retry-After, requests made).
    let cases = [
        case(
            vec![Reply::Status(500, None); 2],
            502,
            "ai_upstream_error",
            None,
            2,
        ),
        case(
            vec![Reply::Status(429, None); 2],
            503,
            "ai_rate_limited",
            Some("5"),
            2,
        ),
        case(
            vec![Reply::Status(401, None)],
            502,
            "ai_upstream_rejected",
            None,
            1,
        ),
        case(vec![Reply::Garbage], 502, "ai_bad_response", None, 1),
        // A wait past the budget is not made: answered at once with the upstream's hint.
        case(
            vec![Reply::Status(503, Some(60))],
            503,
            "ai_unavailable",
            Some("60"),
            1,
        ),
        case(
            vec![Reply::Slow(Duration::from_secs(30), TEXT)],
            504,
            "ai_timeout",
            None,
            1,
        ),
    ];
    for Case {
        script,
        status,
        code,
        retry_after,
        requests,
    } in cases
    {
        let (fake, url) = Fake::start(script).await;
        let app = app_with(&url, 1, Duration::from_millis(1500)).await;
        let (user, job) = fixture(&app).await;
        let started = Instant::now();
        let r = app
            .post("/api/ai/resume", &user.token, json!({"job_id": job}))
            .await;
        r.assert_error(status, code);
        assert_eq!(
            r.headers.get("retry-after").map(|v| v.to_str().unwrap()),
            retry_after,
            "{code}"
        );
        assert_eq!(fake.requests(), requests, "{code}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{code}: {:?}",
            started.elapsed()
        );
        assert!(
            !r.raw.windows(4).any(|w| w == b"sk-t"),
            "the key leaked: {}",
            r.body
        );
        let list = app.get("/api/ai/artifacts", &user.token).await;
        assert_eq!(
            list.assert_status(200)["pagination"]["totalItems"],
            0,
            "{code}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_endpoint_is_503_with_retry_after() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", closed.local_addr().unwrap());
    drop(closed);
    let app = app_with(&url, 1, Duration::from_secs(5)).await;
    let (user, job) = fixture(&app).await;
    let r = app
        .post("/api/ai/resume", &user.token, json!({"job_id": job}))
        .await;
    r.assert_error(503, "ai_unavailable");
    assert_eq!(r.headers["retry-after"], "5");
}

#[tokio::test]
async fn twenty_identical_requests_make_one_upstream_call() {
    let (fake, url) = Fake::start(vec![Reply::Slow(Duration::from_millis(300), TEXT)]).await;
    let app = Arc::new(app_with(&url, 0, Duration::from_secs(10)).await);
    let (user, job) = fixture(&app).await;
    let ids = identical_resumes(&app, &user, &job, 20).await;
    assert_eq!(ids.len(), 1);
    assert_eq!(fake.requests(), 1);
}
