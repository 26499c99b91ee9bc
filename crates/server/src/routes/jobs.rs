//! Jobs and their pipeline: CRUD, filters, status history, counts per status.

use crate::app::AppState;
use crate::cache::{CacheKeys, Ns};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AuthUser, Input, PatchBody, PathId};
use crate::pagination::{ListQuery, ListSource, PageOf, PageParams, page_of};
use crate::routes::{CachedJson, cached};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use flowats_db::models::{Job, JobEvent, JobFields, JobFilter, JobSort, JobStatus, Page, Position};
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
    #[param(max_length = 200)]
    q: Option<String>,
    /// `newest` (default), `oldest`, or `updated` (recently updated first).
    #[param(inline)]
    sort: Option<JobSort>,
    /// Only jobs with this tag (case-insensitive).
    #[param(max_length = 50)]
    tag: Option<String>,
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
    if q.is_some_and(|q| q.contains('\0')) {
        return Err(ApiError::bad_request("`q` must not contain NUL characters")
            .with_details(serde_json::json!({"parameter": "q"})));
    }
    if q.is_some_and(|q| q.chars().count() > MAX_QUERY) {
        return Err(
            ApiError::bad_request(format!("`q` must be at most {MAX_QUERY} characters"))
                .with_details(serde_json::json!({"parameter": "q"})),
        );
    }
    let tag = query.filter("tag").map(|t| t.trim().to_lowercase());
    if tag.as_deref().is_some_and(|t| {
        t.is_empty() || t.contains('\0') || t.chars().count() > flowats_db::validate::MAX_TAG_LEN
    }) {
        return Err(ApiError::bad_request(format!(
            "`tag` must be 1 to {} characters, without NUL",
            flowats_db::validate::MAX_TAG_LEN
        ))
        .with_details(serde_json::json!({"parameter": "tag"})));
    }
    Ok(JobFilter {
        status,
        q: q.map(str::to_owned),
        tag,
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
    let query = query.allow(&["status", "q", "sort", "tag"])?;
    let filter = job_filter(&query)?;
    let sort = job_sort(&query)?;
    let window = query.window(&state.cursors, sort_tag(sort))?;
    let key = CacheKeys::jobs_list(user, &filter, sort, &window.cache_part());
    cached(&state, key, || async {
        let jobs = &state.db.jobs;
        let source = ListSource {
            cursors: &state.cursors,
            sort: sort_tag(sort),
            start: sort.start(),
            position: |job: &Job| sort.position(job),
            offset: async |p: Page| Ok(jobs.list_jobs(user, filter.clone(), sort, p).await?),
            keyset: async |after: Position, limit: i64| {
                Ok(jobs
                    .list_jobs_after(user, filter.clone(), sort, after, limit)
                    .await?)
            },
            count: async || Ok(jobs.count_jobs(user, filter.clone()).await?),
            _rows: std::marker::PhantomData,
        };
        page_of(&window, source).await
    })
    .await
}

/// A cursor records the order it was made for.
fn sort_tag(sort: JobSort) -> u8 {
    JobSort::ALL.iter().position(|s| *s == sort).unwrap_or(0) as u8
}

fn job_sort(query: &ListQuery) -> ApiResult<JobSort> {
    match query.filter("sort") {
        None => Ok(JobSort::Newest),
        Some(s) => JobSort::parse(s).ok_or_else(|| {
            let allowed: Vec<_> = JobSort::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::bad_request(format!(
                "`sort` must be one of {}, got {s:?}",
                allowed.join(", ")
            ))
            .with_details(serde_json::json!({"parameter": "sort"}))
        }),
    }
}

/// Track a new job; its status history starts with this status, and your follow-up rules
/// for it create their tasks. A job you already track (the same normalized URL, or the
/// same company and title) is a 409 `duplicate_job` whose `details.existing_id` names it,
/// unless `allow_duplicate=true`.
#[utoipa::path(post, path = "/api/jobs", tag = "jobs", security(("bearer" = [])),
    params(crate::routes::import::ImportParams),
    request_body = JobFields,
    responses((status = 201, body = Job), (status = 409, body = ErrorBody,
        description = "`duplicate_job`: `details` is a `Duplicate`"),
        (status = 422, body = ErrorBody)))]
pub async fn create_job(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    uri: axum::http::Uri,
    Input(fields): Input<JobFields>,
) -> ApiResult<(StatusCode, Json<Job>)> {
    let jobs = &state.db.jobs;
    let job = if crate::routes::import::allow_duplicate(&uri)? {
        jobs.create_job(user, fields).await?
    } else {
        jobs.create_unique_job(user, fields).await?
    };
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
    let window = query.window(&state.cursors, 0)?;
    let key = CacheKeys::job_events(user, id, &window.cache_part());
    cached(&state, key, || async {
        let jobs = &state.db.jobs;
        let source = ListSource {
            cursors: &state.cursors,
            sort: 0,
            start: Position::start_descending(),
            position: |e: &JobEvent| Position {
                key: e.created_at,
                id: e.id,
            },
            offset: async |p: Page| Ok(jobs.list_events(user, id, p).await?),
            keyset: async |after: Position, limit: i64| {
                Ok(jobs.list_events_after(user, id, after, limit).await?)
            },
            count: async || {
                Ok(jobs
                    .list_events(
                        user,
                        id,
                        Page {
                            limit: 1,
                            offset: 0,
                        },
                    )
                    .await?
                    .total)
            },
            _rows: std::marker::PhantomData,
        };
        page_of(&window, source).await
    })
    .await
}

/// Default of `stale_days`.
pub const STALE_DAYS: i64 = 14;
/// Stale jobs listed (the oldest first); `stale.count` has them all.
const STALE_LISTED: i64 = 100;

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameter; parsing is done by ListQuery
pub struct StatsParams {
    /// Open jobs whose status has not changed for this many days are stale (default 14).
    #[param(minimum = 1, maximum = 3650)]
    stale_days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Stale {
    pub days: i64,
    /// Open jobs (interested … offer) with no status change for `days` days.
    pub count: i64,
    /// The longest idle first, at most 100.
    pub jobs: Vec<flowats_db::tracker::StaleJob>,
}

#[derive(Serialize, ToSchema)]
pub struct JobStats {
    pub total: i64,
    /// Every status, with 0 for those that have no job.
    #[schema(value_type = BTreeMap<String, i64>)]
    pub by_status: BTreeMap<&'static str, i64>,
    /// Stages reached, conversions and median days per status, from the status history.
    pub funnel: crate::funnel::Funnel,
    /// How fast applications get an answer, per source.
    pub response_by_source: Vec<crate::funnel::SourceResponse>,
    pub stale: Stale,
}

/// How many jobs are in each status, the application funnel (time in each stage), the
/// response time by source, and the stale jobs. Counts and history are read from the
/// replica when one is configured (and the user has not just written).
#[utoipa::path(get, path = "/api/jobs/stats", tag = "jobs", security(("bearer" = [])),
    params(StatsParams),
    responses((status = 200, body = JobStats), (status = 401, body = ErrorBody)))]
pub async fn job_stats(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> ApiResult<CachedJson> {
    if let Some(k) = query.keys().find(|k| *k != "stale_days") {
        return Err(ApiError::bad_request(format!(
            "unknown query parameter `{k}`; this endpoint accepts stale_days"
        ))
        .with_details(serde_json::json!({"parameter": k})));
    }
    let stale_days = match query
        .get("stale_days")
        .map(String::as_str)
        .filter(|v| !v.is_empty())
    {
        None => STALE_DAYS,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (1..=3650).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "`stale_days` must be a whole number from 1 to 3650, got {v:?}"
                ))
                .with_details(serde_json::json!({"parameter": "stale_days"})));
            }
        },
    };
    cached(&state, CacheKeys::job_stats(user, stale_days), || async {
        let mut by_status: BTreeMap<&'static str, i64> =
            JobStatus::ALL.iter().map(|s| (s.as_str(), 0)).collect();
        for row in state.db.jobs.job_stats(user).await? {
            if let Some(status) = JobStatus::parse(&row.status) {
                by_status.insert(status.as_str(), row.count);
            }
        }
        let history = state.db.jobs.event_history(user).await?;
        let before = flowats_db::Timestamp::from(
            time::OffsetDateTime::now_utc() - time::Duration::days(stale_days),
        );
        let (jobs, count) = state
            .db
            .tracker
            .stale_jobs(user, before, STALE_LISTED)
            .await?;
        Ok(JobStats {
            total: by_status.values().sum(),
            by_status,
            funnel: crate::funnel::funnel(&history),
            response_by_source: crate::funnel::response_by_source(&history),
            stale: Stale {
                days: stale_days,
                count,
                jobs,
            },
        })
    })
    .await
}

/// Property tests: any `status`, `q` and `sort` a client sends is a filter and an order the
/// list knows, or a 400 naming the parameter; never a panic.
#[cfg(test)]
mod properties {
    use super::*;
    use crate::pagination::properties::{assert_names_one_of, pairs, value};
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::sample::select(&JobStatus::ALL[..]).prop_map(|s| s.as_str().to_owned()),
            proptest::sample::select(&JobSort::ALL[..]).prop_map(|s| s.as_str().to_owned()),
            Just("APPLIED".to_owned()),
            " {0,3}".prop_map(|s| s + "applied"),
            ".{0,20}",
            ".{190,210}",
            value(),
        ]
    }

    const NAMES: &[&str] = &["limit", "status", "q", "sort"];

    fn query() -> impl Strategy<Value = HashMap<String, String>> {
        (
            pairs(NAMES),
            proptest::collection::hash_map(
                proptest::sample::select(&["status", "q", "sort"][..]).prop_map(str::to_owned),
                text(),
                0..3,
            ),
        )
            .prop_map(|(mut a, b)| {
                a.extend(b);
                a
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn any_filter_is_known_or_a_400_naming_it(sent in query()) {
            let parsed = ListQuery::parse(sent.clone())
                .and_then(|q| q.allow(&["status", "q", "sort"]))
                .and_then(|q| Ok((job_filter(&q)?, job_sort(&q)?)));
            let given = |k: &str| sent.get(k).map(String::as_str).filter(|v| !v.is_empty());
            match parsed {
                Ok((filter, sort)) => {
                    prop_assert_eq!(filter.status, given("status").map(|s| JobStatus::parse(s).unwrap()));
                    prop_assert_eq!(sort, given("sort").map_or(JobSort::Newest, |s| JobSort::parse(s).unwrap()));
                    if let Some(q) = &filter.q {
                        prop_assert!(!q.is_empty() && q.chars().count() <= MAX_QUERY);
                        prop_assert_eq!(q.as_str(), q.trim());
                    }
                }
                Err(e) => assert_names_one_of(&e, &sent)?,
            }
        }

        #[test]
        fn status_and_sort_parse_exactly_the_documented_names(s in text()) {
            let status: HashMap<String, String> = [("status".to_owned(), s.clone())].into();
            let r = job_filter(&ListQuery::parse(status.clone()).unwrap());
            let known = s.is_empty() || JobStatus::ALL.iter().any(|v| v.as_str() == s);
            prop_assert_eq!(r.is_ok(), known, "status {:?}", s);
            if let Err(e) = r {
                assert_names_one_of(&e, &status)?;
            }
            let sort: HashMap<String, String> = [("sort".to_owned(), s.clone())].into();
            let r = job_sort(&ListQuery::parse(sort.clone()).unwrap());
            let known = s.is_empty() || JobSort::ALL.iter().any(|v| v.as_str() == s);
            prop_assert_eq!(r.is_ok(), known, "sort {:?}", s);
            if let Err(e) = r {
                assert_names_one_of(&e, &sort)?;
            }
        }
    }
}
