//! Interviews on a job: kind, time, duration, format, interviewers (contacts), preparation
//! notes, outcome.

use super::{Parent, RecordList, create_record, list_records, one_of, record_item_routes};
use crate::app::AppState;
use crate::cache::Ns;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AuthUser, Input, PathId};
use crate::pagination::{ListQuery, PageOf, PageParams};
use crate::routes::CachedJson;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use flowats_db::tracker::Record;
use flowats_db::tracker::{Interview, InterviewFields, InterviewKind, RecordFilter};
use utoipa::IntoParams;

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameters; parsing is done by ListQuery
pub struct InterviewListParams {
    /// Only interviews of this kind.
    #[param(inline)]
    kind: Option<InterviewKind>,
}

fn list_of<'a>(
    state: &'a AppState,
    user: uuid::Uuid,
    query: &ListQuery,
    job: Option<uuid::Uuid>,
) -> ApiResult<RecordList<'a, InterviewFields>> {
    let kind = one_of(query, "kind", InterviewKind::parse, InterviewKind::names())?;
    Ok(RecordList {
        state,
        user,
        store: &state.db.interviews,
        ns: Ns::Jobs,
        kind: "interviews",
        filter: RecordFilter {
            parent: job,
            kind: kind.map(|k| k.as_str().to_owned()),
            ..RecordFilter::default()
        },
        parent: job.map_or(Parent::None, Parent::Job),
    })
}

/// All your interviews, newest first.
#[utoipa::path(get, path = "/api/interviews", tag = "tracker", security(("bearer" = [])),
    params(PageParams, InterviewListParams),
    responses((status = 200, body = PageOf<Record<InterviewFields>>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    query: ListQuery,
) -> ApiResult<CachedJson> {
    let query = query.allow(&["kind"])?;
    list_records(list_of(&state, user, &query, None)?, &query).await
}

/// The job's interviews, newest first.
#[utoipa::path(get, path = "/api/jobs/{id}/interviews", tag = "tracker", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), PageParams, InterviewListParams),
    responses((status = 200, body = PageOf<Record<InterviewFields>>), (status = 404, body = ErrorBody)))]
pub async fn list_for_job(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    query: ListQuery,
) -> ApiResult<CachedJson> {
    let query = query.allow(&["kind"])?;
    list_records(list_of(&state, user, &query, Some(id))?, &query).await
}

/// Schedule an interview for the job. Every interviewer must be one of your contacts.
#[utoipa::path(post, path = "/api/jobs/{id}/interviews", tag = "tracker", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    request_body = InterviewFields,
    responses((status = 201, body = Record<InterviewFields>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_for_job(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    Input(fields): Input<InterviewFields>,
) -> ApiResult<(StatusCode, Json<Interview>)> {
    let parent = Parent::Job(id);
    let invalidated = Ns::invalidated_by_job_detail_write();
    create_record(
        &state,
        user,
        &state.db.interviews,
        parent,
        fields,
        invalidated,
    )
    .await
}

record_item_routes!(
    interviews,
    InterviewFields,
    "interviews",
    Ns::Jobs,
    Ns::invalidated_by_job_detail_write(),
    "/api/interviews/{id}",
    "tracker"
);
