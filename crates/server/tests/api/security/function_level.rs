//! API5, broken function level authorization: the operator's functions (every operation of
//! `/api/openapi.json` secured by `admin`, and `/metrics`) do not exist without
//! `ADMIN_TOKEN` (404, whatever is sent), and with it answer 401 to anyone but the holder
//! of that exact token: no token, a wrong, truncated or extended one, another scheme, or a
//! user's valid JWT. The operator's token is no user token either.

use super::operations;
use crate::helpers::TestApp;
use axum::body::Body;
use axum::http::{Method, Request, header};
use flowats_server::config::Secret;

crate::on_both_backends!(operator_routes_refuse_everyone_but_the_operator);

const ADMIN: &str = "operator-token-operator-token-0123";

async fn operator_routes_refuse_everyone_but_the_operator(app: TestApp) {
    let user = app.register("a@example.com").await;
    let mut routes: Vec<(Method, String)> = operations(&app)
        .await
        .into_iter()
        .filter(|op| op.secured_by("admin"))
        .map(|op| (op.method, op.path))
        .collect();
    assert!(routes.len() >= 3, "{routes:?}");
    assert!(
        routes.iter().all(|(_, p)| p.starts_with("/api/admin/")),
        "{routes:?}"
    );
    routes.push((Method::GET, "/metrics".into()));
    let send = async |app: &TestApp, method: &Method, path: &str, auth: Option<String>| {
        let mut req = Request::builder().method(method.clone()).uri(path);
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        app.send(req.body(Body::empty()).unwrap()).await
    };
    let attempts = |user_token: &str| {
        [
            None,
            Some(format!("Bearer {user_token}")),
            Some(format!("Bearer {ADMIN}")),
            Some("Bearer ".to_owned()),
            Some(format!("Bearer {}", &ADMIN[..ADMIN.len() - 1])),
            Some(format!("Bearer {ADMIN}0")),
            Some(format!("Bearer {}", ADMIN.to_uppercase())),
            Some(format!("Basic {ADMIN}")),
            Some(ADMIN.to_owned()),
        ]
    };

    // Without ADMIN_TOKEN the routes do not exist, whatever is sent.
    for (method, path) in &routes {
        for auth in attempts(&user.token) {
            let r = send(&app, method, path, auth.clone()).await;
            assert_eq!(r.status, 404, "{method} {path} with {auth:?}: {}", r.body);
            r.assert_error(404, "not_found");
        }
    }

    let app = TestApp::with_config(flowats_db::testing::TestDb::share(&app.db), |c| {
        c.admin_token = Some(Secret::new(ADMIN));
    })
    .await;
    let user = app.register("b@example.com").await;
    for (method, path) in &routes {
        for auth in attempts(&user.token) {
            if auth.as_deref() == Some(&format!("Bearer {ADMIN}")) {
                continue;
            }
            let r = send(&app, method, path, auth.clone()).await;
            assert_eq!(r.status, 401, "{method} {path} with {auth:?}: {}", r.body);
            r.assert_error(401, "unauthorized");
        }
        let r = send(&app, method, path, Some(format!("Bearer {ADMIN}"))).await;
        assert!(
            r.status.is_success(),
            "{method} {path} as the operator: {r:?}"
        );
    }
    // The operator's token opens no user's data.
    for path in ["/api/auth/me", "/api/jobs", "/api/profile"] {
        app.call(Method::GET, path, Some(ADMIN), None)
            .await
            .assert_error(401, "unauthorized");
    }
}
