//! Request extractors that answer in the error envelope: JSON bodies (400 malformed or
//! wrong content type, 413 too large, 422 invalid) and the authenticated user (401).

use crate::app::AppState;
use crate::auth::sessions;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use flowats_db::patch;
use flowats_db::validate::Validate;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use uuid::Uuid;

/// A validated JSON body: `Content-Type: application/json`, an object, no server-owned
/// fields, every rule of `T` satisfied.
pub struct Input<T>(pub T);

/// A JSON merge patch body (`application/json` or `application/merge-patch+json`).
pub struct PatchBody(pub Map<String, Value>);

async fn json_object(req: Request) -> Result<Map<String, Value>, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !(essence == "application/json" || essence.ends_with("+json")) {
        return Err(ApiError::bad_request(
            "expected a JSON body with Content-Type: application/json",
        ));
    }
    let bytes = Bytes::from_request(req, &()).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!(
                    "the request body is larger than {} bytes",
                    crate::config::BODY_LIMIT_BYTES
                ),
            )
        } else {
            ApiError::bad_request(format!("could not read the request body: {rejection}"))
        }
    })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request("the JSON body must be an object")),
        Err(e) => Err(ApiError::bad_request(format!("malformed JSON: {e}"))),
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Validate> FromRequest<S> for Input<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let map = json_object(req).await?;
        patch::reject_read_only(&map).map_err(ApiError::invalid)?;
        patch::parse(Value::Object(map))
            .map(Input)
            .map_err(ApiError::invalid)
    }
}

/// A JSON request that names existing records (`{"job_id": …}`): like [`Input`], but the
/// server-set field names are allowed, since here they refer to something rather than
/// write it.
pub struct Command<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Validate> FromRequest<S> for Command<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let map = json_object(req).await?;
        patch::parse(Value::Object(map))
            .map(Command)
            .map_err(ApiError::invalid)
    }
}

impl<S: Send + Sync> FromRequest<S> for PatchBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let map = json_object(req).await?;
        patch::reject_read_only(&map).map_err(ApiError::invalid)?;
        Ok(PatchBody(map))
    }
}

/// The user a valid bearer token names, whose session is live (see
/// [`crate::auth::sessions`]).
#[derive(Debug, Clone, Copy)]
pub struct AuthUser(pub Uuid);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (user, _) = sessions::authenticate(&parts.headers, state).await?;
        Ok(AuthUser(user))
    }
}

/// [`AuthUser`] with the session its token names: for the routes that end sessions.
#[derive(Debug, Clone, Copy)]
pub struct AuthSession {
    pub user: Uuid,
    pub sid: Uuid,
}

impl FromRequestParts<AppState> for AuthSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (user, sid) = sessions::authenticate(&parts.headers, state).await?;
        Ok(AuthSession { user, sid })
    }
}

/// A path id: a malformed one is a 404 like any other id that names nothing of yours.
pub struct PathId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::not_found())?;
        Uuid::parse_str(&raw)
            .map(PathId)
            .map_err(|_| ApiError::not_found())
    }
}

/// The operator: `Authorization: Bearer <ADMIN_TOKEN>`. Without `ADMIN_TOKEN` the admin
/// routes do not exist (404).
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(expected) = &state.config.admin_token else {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such route",
            ));
        };
        let given = sessions::bearer_token(&parts.headers).unwrap_or("");
        let correct = constant_time_eq(given.as_bytes(), expected.expose().as_bytes());
        // Wrong tokens are rate-limited per address (`ADMIN_RATE_LIMIT`).
        let Ok(crate::guard::ClientIp(ip)) =
            crate::guard::ClientIp::from_request_parts(parts, state).await;
        state.auth_limits.admin(ip, correct).await?;
        if correct {
            Ok(Admin)
        } else {
            Err(ApiError::unauthorized("admin token required"))
        }
    }
}

/// Compares without an early exit, so the time taken says nothing about the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0));
    }
    diff == 0
}
