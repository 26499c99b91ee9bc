//! Notes on a job or a contact.

use super::{Parent, RecordList, create_record, list_records, record_item_routes};
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
use flowats_db::tracker::{Note, NoteFields, RecordFilter};

fn list_of(state: &AppState, user: uuid::Uuid, parent: Parent) -> RecordList<'_, NoteFields> {
    RecordList {
        state,
        user,
        store: &state.db.notes,
        // Listed with what they belong to.
        ns: match parent {
            Parent::Contact(_) => Ns::Contacts,
            _ => Ns::Jobs,
        },
        kind: "notes",
        filter: RecordFilter {
            parent: parent.job_id().or(parent.contact_id()),
            ..RecordFilter::default()
        },
        parent,
    }
}

/// The job's notes, newest first.
#[utoipa::path(get, path = "/api/jobs/{id}/notes", tag = "tracker", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), PageParams),
    responses((status = 200, body = PageOf<Record<NoteFields>>), (status = 404, body = ErrorBody)))]
pub async fn list_for_job(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    query: ListQuery,
) -> ApiResult<CachedJson> {
    let query = query.allow(&[])?;
    list_records(list_of(&state, user, Parent::Job(id)), &query).await
}

/// Add a note to the job.
#[utoipa::path(post, path = "/api/jobs/{id}/notes", tag = "tracker", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    request_body = NoteFields,
    responses((status = 201, body = Record<NoteFields>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_for_job(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    Input(fields): Input<NoteFields>,
) -> ApiResult<(StatusCode, Json<Note>)> {
    let parent = Parent::Job(id);
    create_record(
        &state,
        user,
        &state.db.notes,
        parent,
        fields,
        Ns::invalidated_by_note_write(),
    )
    .await
}

/// The contact's notes, newest first.
#[utoipa::path(get, path = "/api/contacts/{id}/notes", tag = "tracker", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), PageParams),
    responses((status = 200, body = PageOf<Record<NoteFields>>), (status = 404, body = ErrorBody)))]
pub async fn list_for_contact(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    query: ListQuery,
) -> ApiResult<CachedJson> {
    let query = query.allow(&[])?;
    list_records(list_of(&state, user, Parent::Contact(id)), &query).await
}

/// Add a note to the contact.
#[utoipa::path(post, path = "/api/contacts/{id}/notes", tag = "tracker", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    request_body = NoteFields,
    responses((status = 201, body = Record<NoteFields>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_for_contact(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    Input(fields): Input<NoteFields>,
) -> ApiResult<(StatusCode, Json<Note>)> {
    let parent = Parent::Contact(id);
    create_record(
        &state,
        user,
        &state.db.notes,
        parent,
        fields,
        Ns::invalidated_by_note_write(),
    )
    .await
}

record_item_routes!(
    notes,
    NoteFields,
    "notes",
    Ns::Jobs,
    Ns::invalidated_by_note_write(),
    "/api/notes/{id}",
    "tracker"
);
