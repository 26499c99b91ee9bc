//! AI documents: `POST /api/ai/resume` and `/api/ai/cover-letter` generate a tailored
//! artifact for one of the user's jobs (`AI_PROVIDER`: the offline `local` writer or an
//! OpenAI-compatible endpoint), and
//! `/api/ai/artifacts` lists, reads, saves edited drafts of and deletes them.
//!
//! A request reuses the newest unedited artifact made from the same inputs (profile
//! version, job version, provider) in the last 7 days unless `?regenerate=true`; identical
//! requests in flight share one generation; generations run through the bounded queue
//! (`AI_MAX_CONCURRENCY`, `AI_QUEUE_SIZE`) within `AI_TIMEOUT_MS`.

use crate::ai::writer::{Context, Kind};
use crate::app::AppState;
use crate::cache::{CacheKeys, Ns};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AuthUser, Command, Input, PathId};
use crate::pagination::{ListQuery, ListSource, PageOf, PageParams, page_of};
use crate::routes::{CachedJson, cached_for};
use axum::Json;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use flowats_db::Timestamp;
use flowats_db::models::{Artifact, ArtifactFilter, NewArtifact, Page, Position};
use flowats_db::validate::{Validate, ValidationErrors};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// How long a generated artifact is reused, and cached.
pub const REUSE_FOR: Duration = Duration::from_secs(7 * 24 * 3600);
const MAX_CONTENT: usize = 200_000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    pub job_id: Uuid,
}

impl Validate for GenerateRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        Ok(())
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GenerateParams {
    /// `true`: make a new one even if an identical one exists (default `false`).
    #[serde(default)]
    regenerate: bool,
}

impl GenerateParams {
    /// `regenerate` is `true` or `false` (empty or absent: `false`); anything else is a 400
    /// naming it, in the error envelope. Other parameters are ignored.
    fn parse(params: &HashMap<String, String>) -> ApiResult<Self> {
        let regenerate = match params.get("regenerate").map(String::as_str) {
            None | Some("" | "false") => false,
            Some("true") => true,
            Some(v) => {
                return Err(ApiError::bad_request(format!(
                    "`regenerate` must be true or false, got {v:?}"
                ))
                .with_details(json!({"parameter": "regenerate"})));
            }
        };
        Ok(GenerateParams { regenerate })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for GenerateParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        let Query(params) = Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
            .map_err(|e| ApiError::bad_request(format!("malformed query string: {e}")))?;
        GenerateParams::parse(&params)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtifactEdit {
    /// The edited Markdown.
    #[schema(min_length = 1, max_length = 200_000, pattern = r"\S")]
    pub content: String,
}

impl Validate for ArtifactEdit {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let n = self.content.chars().count();
        if self.content.trim().is_empty() || n > MAX_CONTENT {
            return Err(ValidationErrors::single(
                "content",
                format!("must be 1 to {MAX_CONTENT} characters"),
            ));
        }
        if self.content.contains('\0') {
            return Err(ValidationErrors::single(
                "content",
                flowats_db::validate::NUL_MESSAGE,
            ));
        }
        Ok(())
    }
}

/// A tailored resume for one of the user's jobs (201 new, 200 reused).
#[utoipa::path(post, path = "/api/ai/resume", tag = "ai", security(("bearer" = [])),
    params(GenerateParams), request_body = GenerateRequest,
    responses((status = 201, body = Artifact), (status = 200, body = Artifact),
              (status = 404, body = ErrorBody), (status = 502, body = ErrorBody),
              (status = 503, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    params: GenerateParams,
    Command(req): Command<GenerateRequest>,
) -> ApiResult<(StatusCode, Json<Artifact>)> {
    generate(&state, user, req.job_id, Kind::Resume, params.regenerate).await
}

/// A tailored cover letter for one of the user's jobs (201 new, 200 reused).
#[utoipa::path(post, path = "/api/ai/cover-letter", tag = "ai", security(("bearer" = [])),
    params(GenerateParams), request_body = GenerateRequest,
    responses((status = 201, body = Artifact), (status = 200, body = Artifact),
              (status = 404, body = ErrorBody), (status = 502, body = ErrorBody),
              (status = 503, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn cover_letter(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    params: GenerateParams,
    Command(req): Command<GenerateRequest>,
) -> ApiResult<(StatusCode, Json<Artifact>)> {
    generate(
        &state,
        user,
        req.job_id,
        Kind::CoverLetter,
        params.regenerate,
    )
    .await
}

async fn generate(
    state: &AppState,
    user: Uuid,
    job_id: Uuid,
    kind: Kind,
    regenerate: bool,
) -> ApiResult<(StatusCode, Json<Artifact>)> {
    let db = &state.db;
    let job = db.jobs.get_job(user, job_id).await?;
    let profile = db.profiles.get_profile(user).await?;
    // The engine's identity is part of it: another engine or model regenerates.
    let provider = state.ai.provider.id();
    let fingerprint = format!("p{}:j{}:{provider}", profile.version, job.updated_at);
    let since = Timestamp::from(time::OffsetDateTime::now_utc() - REUSE_FOR);
    let reusable = || {
        db.artifacts
            .reusable_artifact(user, job_id, kind.as_str(), fingerprint.clone(), since)
    };
    if !regenerate && let Some(found) = reusable().await? {
        return Ok((StatusCode::OK, Json(found)));
    }
    let key = format!(
        "{user}:{job_id}:{}:{fingerprint}:{regenerate}",
        kind.as_str()
    );
    let started = Timestamp::now();
    let artifact = state
        .ai
        .once(key, async {
            // A generation that finished while this request waited to join is reused.
            if !regenerate && let Some(found) = reusable().await? {
                return Ok(found);
            }
            let account = db.users.get_user(user).await?;
            let skills = db.skills.list(user, crate::ai::PROFILE_ITEMS).await?.items;
            let education = db
                .education
                .list(user, crate::ai::PROFILE_ITEMS)
                .await?
                .items;
            let employment = db
                .employment
                .list(user, crate::ai::PROFILE_ITEMS)
                .await?
                .items;
            let cx = Context {
                user: &account,
                profile: &profile.fields,
                job: &job,
                skills: &skills,
                education: &education,
                employment: &employment,
            };
            let work = state.ai.provider.write(kind, &cx);
            let doc = state
                .ai
                .queue
                .run(tokio::time::timeout(state.config.ai_timeout, work))
                .await?
                .map_err(|_| {
                    ApiError::new(
                        StatusCode::GATEWAY_TIMEOUT,
                        "ai_timeout",
                        "the AI generation took longer than AI_TIMEOUT_MS",
                    )
                })??;
            let artifact = db
                .artifacts
                .create_artifact(
                    user,
                    NewArtifact {
                        job_id,
                        kind: kind.as_str(),
                        content: doc.content,
                        metadata: json!({
                            "provider": provider,
                            "profile_version": profile.version,
                            "job_updated_at": job.updated_at,
                            "match_score": doc.score,
                            "why": doc.why,
                        }),
                        fingerprint: fingerprint.clone(),
                    },
                )
                .await?;
            state.cache.invalidate(user, &[Ns::Ai]).await;
            Ok(artifact)
        })
        .await?;
    // Made by this request (or by one it joined): 201; found already stored: 200.
    let status = if artifact.created_at >= started {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(artifact)))
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameters; parsing is done by ListQuery
pub struct ArtifactListParams {
    /// `resume` or `cover_letter`.
    #[param(inline)]
    kind: Option<ArtifactKind>,
    /// Only artifacts of this job.
    job_id: Option<Uuid>,
}

/// The kinds of artifact, for the `kind` filter's documentation.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // documents the values; parsing is done by artifact_filter
enum ArtifactKind {
    Resume,
    CoverLetter,
}

fn artifact_filter(query: &ListQuery) -> ApiResult<ArtifactFilter> {
    let kind = match query.filter("kind") {
        None => None,
        Some(k @ ("resume" | "cover_letter")) => Some(k.to_owned()),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`kind` must be one of resume, cover_letter, got {other:?}"
            ))
            .with_details(json!({"parameter": "kind"})));
        }
    };
    let job_id = match query.filter("job_id") {
        None => None,
        Some(s) => Some(Uuid::parse_str(s).map_err(|_| {
            ApiError::bad_request(format!("`job_id` must be a UUID, got {s:?}"))
                .with_details(json!({"parameter": "job_id"}))
        })?),
    };
    Ok(ArtifactFilter { kind, job_id })
}

/// The user's artifacts, newest first.
#[utoipa::path(get, path = "/api/ai/artifacts", tag = "ai", security(("bearer" = [])),
    params(PageParams, ArtifactListParams),
    responses((status = 200, body = PageOf<Artifact>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    query: ListQuery,
) -> ApiResult<CachedJson> {
    let query = query.allow(&["kind", "job_id"])?;
    let filter = artifact_filter(&query)?;
    let window = query.window(&state.cursors, 0)?;
    let key = CacheKeys::artifacts(user, &filter, &window.cache_part());
    cached_for(&state, key, REUSE_FOR, || async {
        let store = &state.db.artifacts;
        let source = ListSource {
            cursors: &state.cursors,
            sort: 0,
            start: Position::start_descending(),
            position: Artifact::position,
            offset: async |p: Page| Ok(store.list_artifacts(user, filter.clone(), p).await?),
            keyset: async |after: Position, limit: i64| {
                Ok(store
                    .list_artifacts_after(user, filter.clone(), after, limit)
                    .await?)
            },
            count: async || Ok(store.count_artifacts(user, filter.clone()).await?),
            _rows: std::marker::PhantomData,
        };
        page_of(&window, source).await
    })
    .await
}

#[utoipa::path(get, path = "/api/ai/artifacts/{id}", tag = "ai", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Artifact), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
) -> ApiResult<CachedJson> {
    cached_for(&state, CacheKeys::artifact(user, id), REUSE_FOR, || async {
        Ok(state.db.artifacts.get_artifact(user, id).await?)
    })
    .await
}

/// Save the user's edited draft.
#[utoipa::path(put, path = "/api/ai/artifacts/{id}", tag = "ai", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ArtifactEdit,
    responses((status = 200, body = Artifact), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    Input(edit): Input<ArtifactEdit>,
) -> ApiResult<Json<Artifact>> {
    let artifact = state
        .db
        .artifacts
        .update_artifact(user, id, edit.content)
        .await?;
    state.cache.invalidate(user, &[Ns::Ai]).await;
    Ok(Json(artifact))
}

#[utoipa::path(delete, path = "/api/ai/artifacts/{id}", tag = "ai", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "deleted"), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    state.db.artifacts.delete_artifact(user, id).await?;
    state.cache.invalidate(user, &[Ns::Ai]).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Property tests: any `kind`, `job_id` and `regenerate` a client sends is a filter or a
/// flag, or a 400 naming the parameter; never a panic.
#[cfg(test)]
mod properties {
    use super::*;
    use crate::pagination::properties::{assert_names_one_of, pairs};
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("resume".to_owned()),
            Just("cover_letter".to_owned()),
            Just("cover-letter".to_owned()),
            Just("true".to_owned()),
            Just("false".to_owned()),
            Just(String::new()),
            any::<[u8; 16]>().prop_map(|b| Uuid::from_bytes(b).to_string()),
            any::<[u8; 16]>().prop_map(|b| Uuid::from_bytes(b).simple().to_string()),
            "[0-9a-fA-F-]{30,40}",
            ".{0,40}",
        ]
    }

    const NAMES: &[&str] = &["limit", "kind", "job_id"];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn any_artifact_filter_is_known_or_a_400_naming_it(
            mut sent in pairs(NAMES),
            kind in proptest::option::of(text()),
            job_id in proptest::option::of(text()),
        ) {
            sent.extend(kind.map(|k| ("kind".to_owned(), k)));
            sent.extend(job_id.map(|j| ("job_id".to_owned(), j)));
            let parsed = ListQuery::parse(sent.clone())
                .and_then(|q| q.allow(&["kind", "job_id"]))
                .and_then(|q| artifact_filter(&q));
            let given = |k: &str| sent.get(k).map(String::as_str).filter(|v| !v.is_empty());
            match parsed {
                Ok(filter) => {
                    prop_assert_eq!(filter.kind.as_deref(), given("kind"));
                    prop_assert!(matches!(filter.kind.as_deref(), None | Some("resume" | "cover_letter")));
                    prop_assert_eq!(filter.job_id, given("job_id").map(|j| Uuid::parse_str(j).unwrap()));
                }
                Err(e) => assert_names_one_of(&e, &sent)?,
            }
        }

        #[test]
        fn regenerate_is_true_false_or_a_400_naming_it(v in text(), other in ".{0,10}") {
            let sent: HashMap<String, String> =
                [("regenerate".to_owned(), v.clone()), ("other".to_owned(), other)].into();
            match GenerateParams::parse(&sent) {
                Ok(p) => {
                    prop_assert!(matches!(v.as_str(), "" | "true" | "false"));
                    prop_assert_eq!(p.regenerate, v == "true");
                }
                Err(e) => {
                    prop_assert!(!matches!(v.as_str(), "" | "true" | "false"));
                    let details = e.details.unwrap();
                    prop_assert_eq!(details["parameter"].as_str(), Some("regenerate"));
                }
            }
        }
    }
}
