//! Contacts: recruiters, hiring managers, interviewers, referrers, references.

use super::{Parent, RecordList, create_record, list_records, one_of, record_item_routes};
use crate::app::AppState;
use crate::cache::Ns;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AuthUser, Input};
use crate::pagination::{ListQuery, PageOf, PageParams};
use crate::routes::CachedJson;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use flowats_db::tracker::Record;
use flowats_db::tracker::{Contact, ContactFields, ContactRole, RecordFilter};
use utoipa::IntoParams;

const MAX_QUERY: usize = 200;

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameters; parsing is done by ListQuery
pub struct ContactListParams {
    /// Only contacts with this role.
    #[param(inline)]
    role: Option<ContactRole>,
    /// Case-insensitive text in the name, company or email.
    #[param(max_length = 200)]
    q: Option<String>,
}

/// A search text parameter: trimmed, at most 200 characters, no NUL.
pub fn text_param(query: &ListQuery, name: &str) -> ApiResult<Option<String>> {
    let q = query.filter(name).map(str::trim).filter(|q| !q.is_empty());
    if let Some(q) = q
        && (q.contains('\0') || q.chars().count() > MAX_QUERY)
    {
        return Err(ApiError::bad_request(format!(
            "`{name}` must be at most {MAX_QUERY} characters, without NUL"
        ))
        .with_details(serde_json::json!({"parameter": name})));
    }
    Ok(q.map(str::to_owned))
}

/// Your contacts, newest first.
#[utoipa::path(get, path = "/api/contacts", tag = "tracker", security(("bearer" = [])),
    params(PageParams, ContactListParams),
    responses((status = 200, body = PageOf<Record<ContactFields>>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    query: ListQuery,
) -> ApiResult<CachedJson> {
    let query = query.allow(&["role", "q"])?;
    let role = one_of(&query, "role", ContactRole::parse, ContactRole::names())?;
    let filter = RecordFilter {
        text: text_param(&query, "q")?,
        kind: role.map(|r| r.as_str().to_owned()),
        ..RecordFilter::default()
    };
    let list = RecordList {
        state: &state,
        user,
        store: &state.db.contacts,
        ns: Ns::Contacts,
        kind: "contacts",
        filter,
        parent: Parent::None,
    };
    list_records(list, &query).await
}

/// Add a contact.
#[utoipa::path(post, path = "/api/contacts", tag = "tracker", security(("bearer" = [])),
    request_body = ContactFields,
    responses((status = 201, body = Record<ContactFields>), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Input(fields): Input<ContactFields>,
) -> ApiResult<(StatusCode, Json<Contact>)> {
    let store = &state.db.contacts;
    let parent = Parent::None;
    create_record(
        &state,
        user,
        store,
        parent,
        fields,
        Ns::invalidated_by_contact_write(),
    )
    .await
}

record_item_routes!(
    contacts,
    ContactFields,
    "contacts",
    Ns::Contacts,
    Ns::invalidated_by_contact_write(),
    "/api/contacts/{id}",
    "tracker"
);
