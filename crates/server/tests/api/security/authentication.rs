//! API2, broken authentication: every operation of `/api/openapi.json` that needs a bearer
//! token refuses every defective one with the 401 envelope, before it looks at the id or
//! the body; a deleted account's token finds nothing, and the account's rows (jobs and
//! everything tracked around them) are gone. Brute force and credential stuffing: `abuse.rs`
//! and `login_flood.rs`; login answers: `auth.rs`.

use super::operations;
use crate::helpers::{SECRET, TestApp};
use axum::body::Body;
use axum::http::{Request, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

crate::on_both_backends!(every_bearer_route_refuses_every_token_defect);

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn sign(claims: Value, alg: Algorithm, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// The `Authorization` headers (`None`: no header) that must not authenticate, named.
fn defective_headers(user: &str, deleted: &str) -> Vec<(&'static str, Option<String>)> {
    let now = jsonwebtoken::get_current_timestamp();
    let sid = uuid::Uuid::now_v7().to_string();
    let claims = |sub: &str| json!({"sub": sub, "sid": sid, "iat": now, "exp": now + 600});
    let valid = sign(claims(user), Algorithm::HS256, SECRET);
    let parts: Vec<&str> = valid.split('.').collect();
    let unsigned = |header: Value| format!("{}.{}.", b64(&header), parts[1]);
    let tokens = [
        (
            "expired",
            sign(
                json!({"sub": user, "iat": now - 7200, "exp": now - 3600}),
                Algorithm::HS256,
                SECRET,
            ),
        ),
        (
            "signed with another secret",
            sign(
                claims(user),
                Algorithm::HS256,
                "another-secret-another-secret-000000",
            ),
        ),
        (
            "signed with HS512",
            sign(claims(user), Algorithm::HS512, SECRET),
        ),
        (
            "without exp",
            sign(json!({"sub": user, "iat": now}), Algorithm::HS256, SECRET),
        ),
        (
            "exp as text",
            sign(
                json!({"sub": user, "iat": now, "exp": "never"}),
                Algorithm::HS256,
                SECRET,
            ),
        ),
        (
            "without sub",
            sign(
                json!({"iat": now, "exp": now + 600}),
                Algorithm::HS256,
                SECRET,
            ),
        ),
        (
            "sub not a user id",
            sign(claims("admin"), Algorithm::HS256, SECRET),
        ),
        (
            "sub of no account",
            sign(
                claims(&uuid::Uuid::now_v7().to_string()),
                Algorithm::HS256,
                SECRET,
            ),
        ),
        ("of a deleted account", deleted.to_owned()),
        (
            "of a session that never existed",
            sign(claims(user), Algorithm::HS256, SECRET),
        ),
        ("alg none", unsigned(json!({"alg": "none", "typ": "JWT"}))),
        ("alg None", unsigned(json!({"alg": "None", "typ": "JWT"}))),
        (
            "HS256 without signature",
            unsigned(json!({"alg": "HS256", "typ": "JWT"})),
        ),
        (
            "RS256 header on an HMAC signature",
            format!(
                "{}.{}.{}",
                b64(&json!({"alg": "RS256", "typ": "JWT"})),
                parts[1],
                parts[2]
            ),
        ),
        (
            "tampered payload",
            format!(
                "{}.{}.{}",
                parts[0],
                b64(&claims(&uuid::Uuid::now_v7().to_string())),
                parts[2]
            ),
        ),
        ("two segments", format!("{}.{}", parts[0], parts[1])),
        ("malformed", "not.a.jwt".to_owned()),
        ("garbage", "abc".to_owned()),
        ("trailing garbage", format!("{valid}x")),
        ("two tokens", format!("{valid} {valid}")),
    ];
    let mut all: Vec<(&str, Option<String>)> = tokens
        .into_iter()
        .map(|(what, t)| (what, Some(format!("Bearer {t}"))))
        .collect();
    all.extend([
        ("no header", None),
        ("empty header", Some(String::new())),
        ("scheme only", Some("Bearer".to_owned())),
        ("scheme and blanks", Some("Bearer    ".to_owned())),
        ("no space after the scheme", Some(format!("Bearer{valid}"))),
        ("tab after the scheme", Some(format!("Bearer\t{valid}"))),
        ("no scheme", Some(valid.clone())),
        ("Basic scheme", Some(format!("Basic {valid}"))),
        ("Token scheme", Some(format!("Token {valid}"))),
    ]);
    all
}

async fn every_bearer_route_refuses_every_token_defect(app: TestApp) {
    let user = app.register("a@example.com").await;
    let gone = app.register("gone@example.com").await;
    super::Holdings::create(&app, &gone, "Gone").await;
    app.delete("/api/account", &gone.token)
        .await
        .assert_status(204);
    // The account took everything of its own with it: nothing is left for a token to open.
    let id = uuid::Uuid::parse_str(&gone.id).unwrap();
    let db = &app.db.db;
    let any = flowats_db::tracker::RecordFilter::default;
    let left = [
        db.jobs.count_jobs(id, Default::default()).await.unwrap(),
        db.skills.count(id).await.unwrap(),
        db.contacts.count(id, any()).await.unwrap(),
        db.interviews.count(id, any()).await.unwrap(),
        db.tasks.count(id, any()).await.unwrap(),
        db.task_rules.count(id, any()).await.unwrap(),
        db.notes.count(id, any()).await.unwrap(),
    ];
    assert_eq!(left, [0; 7], "rows of the deleted account are left");
    let defects = defective_headers(&user.id, &gone.token);
    let valid = user.token.clone();

    // Controls: the user's token works, with either casing of the scheme and loose blanks.
    for good in [
        format!("Bearer {valid}"),
        format!("bearer {valid}"),
        format!("Bearer   {valid}  "),
    ] {
        let req = Request::get("/api/auth/me").header(header::AUTHORIZATION, good.as_str());
        let r = app.send(req.body(Body::empty()).unwrap()).await;
        assert_eq!(r.assert_status(200)["id"], user.id.as_str(), "{good:?}");
    }

    let ops = operations(&app).await;
    let bearer: Vec<_> = ops.iter().filter(|op| op.secured_by("bearer")).collect();
    assert!(bearer.len() >= 20, "{bearer:?}");
    let mut cases = 0;
    for op in bearer {
        let path = op.path.replace("{id}", &uuid::Uuid::now_v7().to_string());
        let request = |authorization: Option<&str>, query: &str, cookie: Option<&str>| {
            let mut req = Request::builder()
                .method(op.method.clone())
                .uri(format!("{path}{query}"));
            if let Some(a) = authorization {
                req = req.header(header::AUTHORIZATION, a);
            }
            if let Some(c) = cookie {
                req = req.header(header::COOKIE, c);
            }
            if op.has_body() {
                req = req.header(header::CONTENT_TYPE, "application/json");
                return req.body(Body::from("{}")).unwrap();
            }
            req.body(Body::empty()).unwrap()
        };
        let mut sent: Vec<(String, Request<Body>)> = defects
            .iter()
            .map(|(what, h)| (what.to_string(), request(h.as_deref(), "", None)))
            .collect();
        sent.push((
            "token in the query".into(),
            request(None, &format!("?access_token={valid}"), None),
        ));
        sent.push((
            "token in a cookie".into(),
            request(None, "", Some(&format!("token={valid}"))),
        ));
        for (what, req) in sent {
            let r = app.send(req).await;
            assert_eq!(
                r.status,
                401,
                "{} with a token {what}: {}",
                op.name(),
                r.body
            );
            r.assert_error(401, "unauthorized");
            cases += 1;
        }
    }
    assert!(cases > 500, "{cases} cases");
}
