//! Ending sessions: logout, and a password change that ends every other session of the
//! account (see [`crate::auth::sessions`]).

use super::auth::{BUSY_DESCRIPTION, LIMITED_DESCRIPTION, MAX_PASSWORD, MIN_PASSWORD};
use crate::app::AppState;
use crate::auth::sessions;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AuthSession, Input};
use crate::guard::ClientIp;
use axum::extract::State;
use axum::http::StatusCode;
use flowats_db::validate::{Validate, ValidationErrors};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(max_length = 1024)]
    pub current_password: String,
    /// At least 8 characters.
    #[schema(min_length = 8, max_length = 1024)]
    pub new_password: String,
}

impl Validate for PasswordChange {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if self.current_password.chars().count() > MAX_PASSWORD {
            errs.add("current_password", "is too long");
        }
        let len = self.new_password.chars().count();
        if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&len) {
            errs.add(
                "new_password",
                format!("must be {MIN_PASSWORD} to {MAX_PASSWORD} characters"),
            );
        }
        errs.into_result()
    }
}

/// End this token's session: the token is refused from now on, on every instance.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "the session ended"), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, session: AuthSession) -> ApiResult<StatusCode> {
    state
        .db
        .sessions
        .end_session(session.user, session.sid)
        .await?;
    sessions::ended(&state, session.user).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Change the password. The current one is checked as login checks it (same hashing, same
/// rate limits); every other session of the account ends, this one goes on.
#[utoipa::path(post, path = "/api/auth/password", tag = "auth", security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 204, description = "changed; the account's other sessions ended"),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`wrong_password`: the current password is wrong", body = ErrorBody),
        (status = 422, description = "a new password shorter than 8 characters", body = ErrorBody),
        (status = 429, description = LIMITED_DESCRIPTION, body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait before retrying"))),
        (status = 503, description = BUSY_DESCRIPTION, body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait before retrying")))
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: AuthSession,
    Input(req): Input<PasswordChange>,
) -> ApiResult<StatusCode> {
    let email = state.db.users.get_user(session.user).await?.email;
    state.auth_limits.check(ip, &email).await?;
    let hash = state
        .db
        .users
        .credentials(email)
        .await?
        .ok_or_else(|| ApiError::unauthorized("invalid or expired token"))?
        .password_hash;
    if !state.passwords.verify(req.current_password, hash).await? {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_password",
            "the current password is wrong",
        ));
    }
    let hash = state.passwords.hash(req.new_password).await?;
    let ended = state
        .db
        .sessions
        .change_password(session.user, session.sid, hash)
        .await?;
    sessions::ended(&state, session.user).await;
    tracing::info!(ended, "password changed; other sessions ended");
    Ok(StatusCode::NO_CONTENT)
}
