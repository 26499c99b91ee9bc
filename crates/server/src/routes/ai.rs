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
