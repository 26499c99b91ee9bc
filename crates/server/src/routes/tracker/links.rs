//! A job's contacts: who is the recruiter, the hiring manager, the referrer for this job.

use crate::app::AppState;
use crate::cache::{CacheKeys, Ns};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AuthUser, Command, PathId};
use crate::pagination::{ListQuery, ListSource, PageOf, PageParams, page_of};
use crate::routes::{CachedJson, cached};
use axum::Json;
use axum::extract::State;
use flowats_db::models::{Page, Position};
use flowats_db::tracker::{JobContact, JobContactsInput};
use serde::Serialize;
use utoipa::ToSchema;

/// The job's contacts, most recently linked first.
#[utoipa::path(get, path = "/api/jobs/{id}/contacts", tag = "tracker", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), PageParams),
    responses((status = 200, body = PageOf<JobContact>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    query: ListQuery,
) -> ApiResult<CachedJson> {
    let query = query.allow(&[])?;
    let window = query.window(&state.cursors, 0)?;
    let key = CacheKeys::job_contacts(user, id, &window.cache_part());
    cached(&state, key, || async {
        let tracker = &state.db.tracker;
        let source = ListSource {
            cursors: &state.cursors,
            sort: 0,
            start: Position::start_descending(),
            position: |l: &JobContact| Position {
                key: l.created_at,
                id: l.contact_id,
            },
            offset: async |p: Page| Ok(tracker.job_contacts(user, id, p).await?),
            keyset: async |after: Position, limit: i64| {
                Ok(tracker.job_contacts_after(user, id, after, limit).await?)
            },
            count: async || {
                let one = Page {
                    limit: 1,
                    offset: 0,
                };
                Ok(tracker.job_contacts(user, id, one).await?.total)
            },
            _rows: std::marker::PhantomData,
        };
        page_of(&window, source).await
    })
    .await
}

#[derive(Serialize, ToSchema)]
pub struct JobContacts {
    /// Every contact of the job now, most recently linked first.
    pub data: Vec<JobContact>,
}

/// Replace the job's contacts (at most 50), each with its role for this job. Links that
/// stay keep their time; a contact that is not yours is a 404 and nothing changes.
#[utoipa::path(put, path = "/api/jobs/{id}/contacts", tag = "tracker", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    request_body = JobContactsInput,
    responses((status = 200, body = JobContacts), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    Command(input): Command<JobContactsInput>,
) -> ApiResult<Json<JobContacts>> {
    let data = state
        .db
        .tracker
        .set_job_contacts(user, id, input.contacts)
        .await?;
    state
        .cache
        .invalidate(user, Ns::invalidated_by_job_detail_write())
        .await;
    Ok(Json(JobContacts { data }))
}
