//! `TestApp`: the router over a fresh database, and one helper per common call.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use flowats_db::testing::TestDb;
use flowats_server::app::AppState;
use flowats_server::config::Config;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// An HTTP client for tests that talk to a real listening server.
pub fn http() -> reqwest::Client {
    flowats_server::install_tls_provider();
    reqwest::Client::new()
}

pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";

pub fn config(database_url: &str) -> Config {
    let mut config = Config::from_lookup(|k| match k {
        "JWT_SECRET" => Some(SECRET.to_owned()),
        "LOG_FORMAT" => Some("json".to_owned()),
        // Tests sign up many users from one address; tests/api/abuse.rs turns them on.
        "AUTH_RATE_LIMIT_IP" | "AUTH_RATE_LIMIT_EMAIL" => Some("0".to_owned()),
        _ => None,
    })
    .expect("test config");
    config.database_url = database_url.to_owned();
    config
}

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub db: TestDb,
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    /// The body exactly as sent.
    pub raw: bytes::Bytes,
}

impl Resp {
    /// Asserts the error envelope with this status and code; returns the message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> String {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        assert_eq!(self.body["error"]["code"], code, "body: {}", self.body);
        self.body["error"]["message"]
            .as_str()
            .expect("message")
            .to_owned()
    }

    /// The `x-cache` header: `hit-l1`, `hit-l2`, `miss` or `bypass`.
    pub fn cache(&self) -> &str {
        self.headers
            .get("x-cache")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        &self.body
    }
}

pub struct User {
    pub token: String,
    pub id: String,
}

impl TestApp {
    pub async fn new(db: TestDb) -> TestApp {
        TestApp::with_config(db, |_| {}).await
    }

    /// An app whose configuration `configure` adjusts first.
    pub async fn with_config(db: TestDb, configure: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = config(&db.url);
        configure(&mut config);
        let state = AppState::new(config, db.db.clone()).expect("state");
        TestApp {
            router: flowats_server::router::router(state.clone()),
            state,
            db,
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Resp {
            status,
            headers,
            body,
            raw: bytes,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        };
        self.send(req.expect("request")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    pub async fn register(&self, email: &str) -> User {
        let r = self
            .call(
                Method::POST,
                "/api/auth/register",
                None,
                Some(json!({"email": email, "password": "password123", "name": "Tester"})),
            )
            .await;
        let body = r.assert_status(201);
        User {
            token: body["token"].as_str().expect("token").to_owned(),
            id: body["user"]["id"].as_str().expect("id").to_owned(),
        }
    }

    pub async fn create_job(&self, user: &User, body: Value) -> Value {
        self.post("/api/jobs", &user.token, body)
            .await
            .assert_status(201)
            .clone()
    }
}
