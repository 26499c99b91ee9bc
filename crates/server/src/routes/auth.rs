//! Accounts: register, login, who am I, delete my account (logout and password change:
//! [`super::sessions`]).

use crate::app::AppState;
use crate::cache::Ns;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AuthUser, Input};
use crate::guard::ClientIp;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use flowats_db::models::User;
use flowats_db::validate::{Validate, ValidationErrors, is_email};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const MIN_PASSWORD: usize = 8;
/// Hashing cost grows with length; nobody needs more.
pub const MAX_PASSWORD: usize = 1024;
/// The longest email address (RFC 5321's path limit less the brackets).
pub const MAX_EMAIL: usize = 254;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// At least 8 characters.
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
}

impl Validate for RegisterRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if !is_email(&normalize_email(&self.email)) {
            errs.add("email", "must be an email address");
        }
        let len = self.password.chars().count();
        if len < MIN_PASSWORD {
            errs.add(
                "password",
                format!("must be at least {MIN_PASSWORD} characters"),
            );
        } else if len > MAX_PASSWORD {
            errs.add(
                "password",
                format!("must be at most {MAX_PASSWORD} characters"),
            );
        }
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            errs.add("name", "is required, at most 200 characters");
        }
        errs.into_result()
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// At most 254 characters (no address is longer; it is also a rate-limit key).
    #[schema(max_length = 254)]
    pub email: String,
    #[schema(max_length = 1024)]
    pub password: String,
}

impl Validate for LoginRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if self.email.chars().count() > MAX_EMAIL {
            errs.add("email", format!("must be at most {MAX_EMAIL} characters"));
        }
        if self.password.chars().count() > MAX_PASSWORD {
            errs.add("password", "is too long");
        }
        errs.into_result()
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuthResponse {
    /// A bearer token: send it as `Authorization: Bearer <token>`.
    pub token: String,
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
    pub user: User,
}

/// The 429 of the routes that take a password.
pub(crate) const LIMITED_DESCRIPTION: &str = "`rate_limited`: too many attempts from this client address \
    (`AUTH_RATE_LIMIT_IP` a minute) or for this email (`AUTH_RATE_LIMIT_EMAIL`); \
    `details.scope` says which";

/// The 503 of the routes that hash a password.
pub(crate) const BUSY_DESCRIPTION: &str = "`auth_busy`: more passwords are being checked than the \
    server hashes at once plus `AUTH_HASH_QUEUE`, or the wait ran past `AUTH_HASH_MAX_WAIT_MS`; \
    answered at once, without hashing";

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Starts a session of `user` and answers its token.
async fn respond(state: &AppState, user: User) -> ApiResult<AuthResponse> {
    let (token, expires_in) = crate::auth::sessions::start(state, user.id).await?;
    Ok(AuthResponse {
        token,
        token_type: "Bearer",
        expires_in,
        user,
    })
}

/// Create an account; answers with a token, as login does.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, body = AuthResponse),
        (status = 409, description = "email already registered", body = ErrorBody),
        (status = 422, description = "invalid email, short password, missing name", body = ErrorBody),
        (status = 429, description = LIMITED_DESCRIPTION, body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait before retrying"))),
        (status = 503, description = BUSY_DESCRIPTION, body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait before retrying")))
    ))]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Input(req): Input<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<AuthResponse>)> {
    state
        .auth_limits
        .check(ip, &normalize_email(&req.email))
        .await?;
    let hash = state.passwords.hash(req.password).await?;
    let user = state
        .db
        .users
        .create_user(
            normalize_email(&req.email),
            req.name.trim().to_owned(),
            hash,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(respond(&state, user).await?)))
}

/// Exchange email and password for a token. A wrong email and a wrong password get the
/// same answer, in the same time.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = AuthResponse),
        (status = 401, description = "wrong email or password", body = ErrorBody),
        (status = 429, description = LIMITED_DESCRIPTION, body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait before retrying"))),
        (status = 503, description = BUSY_DESCRIPTION, body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait before retrying")))
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Input(req): Input<LoginRequest>,
) -> ApiResult<Json<AuthResponse>> {
    let email = normalize_email(&req.email);
    state.auth_limits.check(ip, &email).await?;
    let creds = state.db.users.credentials(email).await?;
    let ok = match &creds {
        Some(c) => {
            state
                .passwords
                .verify(req.password, c.password_hash.clone())
                .await
        }
        None => state.passwords.verify_dummy(req.password).await,
    }?;
    match creds {
        Some(c) if ok => {
            let user = state.db.users.get_user(c.id).await?;
            Ok(Json(respond(&state, user).await?))
        }
        _ => Err(ApiError::unauthorized("wrong email or password")),
    }
}

/// The account the token belongs to.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, AuthUser(user): AuthUser) -> ApiResult<Json<User>> {
    Ok(Json(state.db.users.get_user(user).await?))
}

/// Delete the account and everything in it, at once and for good.
#[utoipa::path(delete, path = "/api/account", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "deleted"), (status = 401, body = ErrorBody)))]
pub async fn delete_account(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> ApiResult<StatusCode> {
    state.db.users.delete_user(user).await?;
    state.cache.invalidate(user, &Ns::ALL).await;
    Ok(StatusCode::NO_CONTENT)
}
