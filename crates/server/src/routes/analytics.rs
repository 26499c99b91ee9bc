//! `GET /api/jobs/{id}/analytics`: the match between the user's profile and a job, computed
//! by the offline engine ([`crate::ai::analytics`]), stored in `job_analytics_cache` with the
//! `profile_version` it was computed for (and the job's `updated_at`), and cached; any
//! profile change or job write invalidates the cached copy, and a stored result for another
//! profile version or an older job is recomputed.

use crate::ai::analytics::{Analysis, analyze};
use crate::app::AppState;
use crate::cache::CacheKeys;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AuthUser, PathId};
use crate::routes::{CachedJson, cached};
use axum::extract::State;
use flowats_db::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobAnalytics {
    pub job_id: Uuid,
    /// The profile version this was computed for.
    pub profile_version: i64,
    #[schema(value_type = String, format = DateTime)]
    pub job_updated_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub computed_at: Timestamp,
    #[serde(flatten)]
    #[schema(inline)]
    pub analysis: serde_json::Value,
}

/// Match score 0–100 of the profile against the job, with the matched and missing skills
/// and the evidence for each.
#[utoipa::path(get, path = "/api/jobs/{id}/analytics", tag = "jobs", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = JobAnalytics), (status = 404, body = ErrorBody)))]
pub async fn job_analytics(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
) -> ApiResult<CachedJson> {
    cached(&state, CacheKeys::job_analytics(user, id), || async {
        let db = &state.db;
        let job = db.jobs.get_job(user, id).await?;
        let profile = db.profiles.get_profile(user).await?;
        if let Some(stored) = db
            .analytics
            .get_analytics(user, id, profile.version)
            .await?
            && let Ok(found) = serde_json::from_value::<JobAnalytics>(stored.result.0)
            && found.job_updated_at == job.updated_at
        {
            return Ok(found);
        }
        let skills = db.skills.list(user, crate::ai::PROFILE_ITEMS).await?.items;
        let employment = db
            .employment
            .list(user, crate::ai::PROFILE_ITEMS)
            .await?
            .items;
        let analysis: Analysis = analyze(&job, &skills, &employment);
        let result = JobAnalytics {
            job_id: id,
            profile_version: profile.version,
            job_updated_at: job.updated_at,
            computed_at: Timestamp::now(),
            analysis: serde_json::to_value(&analysis).map_err(crate::error::ApiError::internal)?,
        };
        let stored = serde_json::to_value(&result).map_err(crate::error::ApiError::internal)?;
        db.analytics
            .put_analytics(user, id, profile.version, analysis.score, stored)
            .await?;
        Ok(result)
    })
    .await
}
