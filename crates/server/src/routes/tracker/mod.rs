//! The tracker beside jobs (issue 11): contacts, a job's contacts, interviews, tasks and
//! follow-up rules, notes. Every record list is paginated and cached like the others, and
//! a list under a job or contact answers 404 when that job or contact is not the user's.

pub mod contacts;
pub mod interviews;
pub mod links;
pub mod notes;
pub mod tasks;

use crate::app::AppState;
use crate::cache::{CacheKeys, Ns};
use crate::error::{ApiError, ApiResult};
use crate::pagination::{ListQuery, ListSource, page_of};
use crate::routes::{CachedJson, cached};
use flowats_db::models::{Page, Position};
use flowats_db::store::RecordStore;
pub use flowats_db::tracker::Parent;
use flowats_db::tracker::{Record, RecordFilter};
use serde::Serialize;
use std::sync::Arc;
use uuid::Uuid;

/// What a record list is: its store, cache namespace, and the parent it lists under.
pub struct RecordList<'a, F> {
    pub state: &'a AppState,
    pub user: Uuid,
    pub store: &'a Arc<dyn RecordStore<F>>,
    pub ns: Ns,
    pub kind: &'static str,
    pub filter: RecordFilter,
    /// Checked (404) before the list is read: the job or contact in the path.
    pub parent: Parent,
}

/// 404 unless the parent is the user's.
pub async fn check_parent(state: &AppState, user: Uuid, parent: Parent) -> ApiResult<()> {
    Ok(state.db.tracker.check_parent(user, parent).await?)
}

/// One page of records, newest first, from the cache when it has it.
pub async fn list_records<F>(list: RecordList<'_, F>, query: &ListQuery) -> ApiResult<CachedJson>
where
    F: Serialize + Send + Sync + 'static,
{
    let RecordList {
        state,
        user,
        store,
        ns,
        kind,
        filter,
        parent,
    } = list;
    let window = query.window(&state.cursors, 0)?;
    // Debug quotes and escapes the strings, so distinct filters never share a key.
    let key = CacheKeys::records(
        user,
        ns,
        kind,
        &format!("{filter:?}&{}", window.cache_part()),
    );
    cached(state, key, || async {
        check_parent(state, user, parent).await?;
        let source = ListSource {
            cursors: &state.cursors,
            sort: 0,
            start: Position::start_descending(),
            position: |r: &Record<F>| Position {
                key: r.created_at,
                id: r.id,
            },
            offset: async |p: Page| Ok(store.list(user, filter.clone(), p).await?),
            keyset: async |after: Position, limit: i64| {
                Ok(store.list_after(user, filter.clone(), after, limit).await?)
            },
            count: async || Ok(store.count(user, filter.clone()).await?),
            _rows: std::marker::PhantomData,
        };
        page_of(&window, source).await
    })
    .await
}

/// A closed-set filter parameter: `None` when absent, a 400 naming it when not one of
/// `allowed`.
pub fn one_of<T: Copy>(
    query: &ListQuery,
    name: &str,
    parse: impl Fn(&str) -> Option<T>,
    allowed: String,
) -> ApiResult<Option<T>> {
    match query.filter(name) {
        None => Ok(None),
        Some(v) => parse(v).map(Some).ok_or_else(|| {
            ApiError::bad_request(format!("`{name}` must be one of {allowed}, got {v:?}"))
                .with_details(serde_json::json!({"parameter": name}))
        }),
    }
}

/// Generates `get`, `update` and `delete` for one record type at `$path` (`…/{id}`).
macro_rules! record_item_routes {
    ($store:ident, $fields:ty, $kind:literal, $ns:expr, $invalidated:expr, $path:literal, $tag:literal) => {
        /// One of yours; 404 for anything else.
        #[utoipa::path(get, path = $path, tag = $tag, security(("bearer" = [])),
            params(("id" = uuid::Uuid, Path)),
            responses((status = 200, body = Record<$fields>),
                (status = 404, body = crate::error::ErrorBody)))]
        pub async fn get(
            axum::extract::State(state): axum::extract::State<crate::app::AppState>,
            crate::extract::AuthUser(user): crate::extract::AuthUser,
            crate::extract::PathId(id): crate::extract::PathId,
        ) -> crate::error::ApiResult<crate::routes::CachedJson> {
            let key = crate::cache::CacheKeys::record(user, $ns, $kind, id);
            crate::routes::cached(&state, key, || async {
                Ok(state.db.$store.get(user, id).await?)
            })
            .await
        }

        /// Change some fields (JSON merge patch: `null` clears a field).
        #[utoipa::path(patch, path = $path, tag = $tag, security(("bearer" = [])),
            params(("id" = uuid::Uuid, Path)),
            request_body(content = Object, description = "JSON merge patch: any subset of the fields; `null` clears one"),
            responses((status = 200, body = Record<$fields>),
                (status = 404, body = crate::error::ErrorBody),
                (status = 422, body = crate::error::ErrorBody)))]
        pub async fn update(
            axum::extract::State(state): axum::extract::State<crate::app::AppState>,
            crate::extract::AuthUser(user): crate::extract::AuthUser,
            crate::extract::PathId(id): crate::extract::PathId,
            crate::extract::PatchBody(patch): crate::extract::PatchBody,
        ) -> crate::error::ApiResult<axum::Json<flowats_db::tracker::Record<$fields>>> {
            let record = state.db.$store.update(user, id, patch).await?;
            state.cache.invalidate(user, $invalidated).await;
            Ok(axum::Json(record))
        }

        #[utoipa::path(delete, path = $path, tag = $tag, security(("bearer" = [])),
            params(("id" = uuid::Uuid, Path)),
            responses((status = 204, description = "deleted"),
                (status = 404, body = crate::error::ErrorBody)))]
        pub async fn delete(
            axum::extract::State(state): axum::extract::State<crate::app::AppState>,
            crate::extract::AuthUser(user): crate::extract::AuthUser,
            crate::extract::PathId(id): crate::extract::PathId,
        ) -> crate::error::ApiResult<axum::http::StatusCode> {
            state.db.$store.delete(user, id).await?;
            state.cache.invalidate(user, $invalidated).await;
            Ok(axum::http::StatusCode::NO_CONTENT)
        }
    };
}
pub(crate) use record_item_routes;

/// Creates a record and invalidates what it changes.
pub async fn create_record<F>(
    state: &AppState,
    user: Uuid,
    store: &Arc<dyn RecordStore<F>>,
    parent: Parent,
    fields: F,
    invalidated: &[Ns],
) -> ApiResult<(axum::http::StatusCode, axum::Json<Record<F>>)> {
    let record = store.create(user, parent, fields).await?;
    state.cache.invalidate(user, invalidated).await;
    Ok((axum::http::StatusCode::CREATED, axum::Json(record)))
}
