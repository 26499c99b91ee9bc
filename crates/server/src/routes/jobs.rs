//! Jobs and their pipeline: CRUD, filters, status history, counts per status.

use crate::app::AppState;
use crate::cache::{CacheKeys, Ns};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AuthUser, Input, PatchBody, PathId};
use crate::pagination::{ListQuery, PageOf, PageParams};
use crate::routes::{CachedJson, cached};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use flowats_db::models::{Job, JobEvent, JobFields, JobFilter, JobStatus};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

const MAX_QUERY: usize = 200;

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameters; parsing is done by ListQuery
pub struct JobListParams {
    /// Only jobs in this status.
    status: Option<JobStatus>,
    /// Case-insensitive text in the title, company or notes.
    q: Option<String>,
}

fn job_filter(query: &ListQuery) -> ApiResult<JobFilter> {
    let status = match query.filter("status") {
        None => None,
        Some(s) => Some(JobStatus::parse(s).ok_or_else(|| {
            let allowed: Vec<_> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::bad_request(format!(
                "`status` must be one of {}, got {s:?}",
                allowed.join(", ")
            ))
            .with_details(serde_json::json!({"parameter": "status"}))
        })?),
    };
    let q = query.filter("q").map(str::trim).filter(|q| !q.is_empty());
    if q.is_some_and(|q| q.chars().count() > MAX_QUERY) {
        return Err(
            ApiError::bad_request(format!("`q` must be at most {MAX_QUERY} characters"))
                .with_details(serde_json::json!({"parameter": "q"})),
        );
    }
    Ok(JobFilter {
        status,
        q: q.map(str::to_owned),
    })
}

/// The user's jobs, newest first, optionally filtered.
#[utoipa::path(get, path = "/api/jobs", tag = "jobs", security(("bearer" = [])),
    params(PageParams, JobListParams),
    responses((status = 200, body = PageOf<Job>), (status = 400, body = ErrorBody)))]
pub async fn list_jobs(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    query: ListQuery,
) -> ApiResult<CachedJson> {
    let query = query.allow(&["status", "q"])?;
    let filter = job_filter(&query)?;
    let page = query.to_page();
    cached(
        &state,
        CacheKeys::jobs_list(user, &filter, page),
        || async {
            Ok(PageOf::new(
                &query,
                state.db.jobs.list_jobs(user, filter, page).await?,
            ))
        },
    )
    .await
}

/// Track a new job; its status history starts with this status.
#[utoipa::path(post, path = "/api/jobs", tag = "jobs", security(("bearer" = [])),
    request_body = JobFields,
    responses((status = 201, body = Job), (status = 422, body = ErrorBody)))]
pub async fn create_job(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Input(fields): Input<JobFields>,
) -> ApiResult<(StatusCode, Json<Job>)> {
    let job = state.db.jobs.create_job(user, fields).await?;
    state
        .cache
        .invalidate(user, Ns::invalidated_by_job_write())
        .await;
    Ok((StatusCode::CREATED, Json(job)))
}

#[utoipa::path(get, path = "/api/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Job), (status = 404, body = ErrorBody)))]
pub async fn get_job(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
) -> ApiResult<CachedJson> {
    cached(&state, CacheKeys::job(user, id), || async {
        Ok(state.db.jobs.get_job(user, id).await?)
    })
    .await
}

/// Change some fields (JSON merge patch: `null` clears a field). A new `status` is
/// recorded in the job's history in the same transaction.
#[utoipa::path(patch, path = "/api/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    request_body(content = Object, description = "JSON merge patch: any subset of the job's fields; `null` clears one"),
    responses((status = 200, body = Job), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_job(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    PatchBody(patch): PatchBody,
) -> ApiResult<Json<Job>> {
    let job = state.db.jobs.update_job(user, id, patch).await?;
    state
        .cache
        .invalidate(user, Ns::invalidated_by_job_write())
        .await;
    Ok(Json(job))
}

/// Delete the job and its history.
#[utoipa::path(delete, path = "/api/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204, description = "deleted"), (status = 404, body = ErrorBody)))]
pub async fn delete_job(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    state.db.jobs.delete_job(user, id).await?;
    state
        .cache
        .invalidate(user, Ns::invalidated_by_job_write())
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// The job's status history, newest first.
#[utoipa::path(get, path = "/api/jobs/{id}/events", tag = "jobs", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), PageParams),
    responses((status = 200, body = PageOf<JobEvent>), (status = 404, body = ErrorBody)))]
pub async fn list_events(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    query: ListQuery,
) -> ApiResult<CachedJson> {
    let query = query.allow(&[])?;
    let page = query.to_page();
    cached(&state, CacheKeys::job_events(user, id, page), || async {
        Ok(PageOf::new(
            &query,
            state.db.jobs.list_events(user, id, page).await?,
        ))
    })
    .await
}

#[derive(Serialize, ToSchema)]
pub struct JobStats {
    pub total: i64,
    /// Every status, with 0 for those that have no job.
    #[schema(value_type = BTreeMap<String, i64>)]
    pub by_status: BTreeMap<&'static str, i64>,
}

/// How many jobs are in each status.
#[utoipa::path(get, path = "/api/jobs/stats", tag = "jobs", security(("bearer" = [])),
    responses((status = 200, body = JobStats), (status = 401, body = ErrorBody)))]
pub async fn job_stats(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> ApiResult<CachedJson> {
    cached(&state, CacheKeys::job_stats(user), || async {
        let mut by_status: BTreeMap<&'static str, i64> =
            JobStatus::ALL.iter().map(|s| (s.as_str(), 0)).collect();
        for row in state.db.jobs.job_stats(user).await? {
            if let Some(status) = JobStatus::parse(&row.status) {
                by_status.insert(status.as_str(), row.count);
            }
        }
        Ok(JobStats {
            total: by_status.values().sum(),
            by_status,
        })
    })
    .await
}
