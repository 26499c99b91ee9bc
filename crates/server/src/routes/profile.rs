//! The user's profile: one per account, created empty at registration.

use crate::app::AppState;
use crate::cache::{CacheKeys, Ns};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AuthUser, Input};
use crate::routes::{CachedJson, cached};
use axum::Json;
use axum::extract::State;
use flowats_db::models::{Profile, ProfileFields};

/// The profile, with its `version` (bumped by every change to it or its skills,
/// education and employment).
#[utoipa::path(get, path = "/api/profile", tag = "profile", security(("bearer" = [])),
    responses((status = 200, body = Profile), (status = 401, body = ErrorBody)))]
pub async fn get_profile(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> ApiResult<CachedJson> {
    cached(&state, CacheKeys::profile(user), || async {
        Ok(state.db.profiles.get_profile(user).await?)
    })
    .await
}

/// Replace the profile's fields (an absent field is cleared).
#[utoipa::path(put, path = "/api/profile", tag = "profile", security(("bearer" = [])),
    request_body = ProfileFields,
    responses((status = 200, body = Profile), (status = 422, body = ErrorBody)))]
pub async fn put_profile(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Input(fields): Input<ProfileFields>,
) -> ApiResult<Json<Profile>> {
    let profile = state.db.profiles.put_profile(user, fields).await?;
    state
        .cache
        .invalidate(user, Ns::invalidated_by_profile_change())
        .await;
    Ok(Json(profile))
}
