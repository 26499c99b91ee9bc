//! `POST /api/import/jobs`: the export's CSV back in. Every row is validated first; one
//! bad row and nothing is imported, with every problem listed by line.

use crate::app::AppState;
use crate::cache::Ns;
use crate::csv::import::Problems;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::AuthUser;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use flowats_db::tracker::{DuplicateOf, ImportOutcome, ImportSummary};
use utoipa::IntoParams;

/// Largest file accepted (the rest of the API takes 1 MiB bodies).
pub const IMPORT_LIMIT_BYTES: usize = 16 * 1024 * 1024;

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameter; parsed below
pub struct ImportParams {
    /// Import rows that duplicate one of your jobs or an earlier row (same normalized URL,
    /// or same company and title) instead of refusing them.
    allow_duplicate: Option<bool>,
}

/// `?allow_duplicate=true|false`, shared with `POST /api/jobs`; any other parameter is a
/// 400 naming it.
pub fn allow_duplicate(uri: &axum::http::Uri) -> ApiResult<bool> {
    let axum::extract::Query(params) =
        axum::extract::Query::<std::collections::HashMap<String, String>>::try_from_uri(uri)
            .map_err(|e| ApiError::bad_request(format!("malformed query string: {e}")))?;
    let mut allow = false;
    for (k, v) in &params {
        match (k.as_str(), v.as_str()) {
            ("allow_duplicate", "true") => allow = true,
            ("allow_duplicate", "false" | "") => {}
            ("allow_duplicate", _) => {
                return Err(ApiError::bad_request(format!(
                    "`allow_duplicate` must be true or false, got {v:?}"
                ))
                .with_details(serde_json::json!({"parameter": "allow_duplicate"})));
            }
            _ => {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter `{k}`; this endpoint accepts allow_duplicate"
                ))
                .with_details(serde_json::json!({"parameter": k})));
            }
        }
    }
    Ok(allow)
}

fn refused(problems: Problems) -> ApiError {
    let message = format!(
        "{} problem(s) in the file; nothing was imported (`details` lists up to {} with their lines)",
        problems.total,
        crate::csv::import::MAX_ERRORS
    );
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        message,
    )
    .with_details(serde_json::to_value(&problems.errors).unwrap_or_default())
}

/// Import jobs from the CSV that `GET /api/export/jobs.csv` writes (`title` and `company`
/// are the only required columns). The file is imported whole, in one transaction, or not
/// at all: a 422 lists each problem with its line and column. Contacts are found by email,
/// else by name, or created. Follow-up rules do not fire for imported history.
#[utoipa::path(post, path = "/api/import/jobs", tag = "tracker", security(("bearer" = [])),
    params(ImportParams),
    request_body(content = String, content_type = "text/csv",
        description = "the jobs CSV, at most 16 MiB and 100,000 rows"),
    responses((status = 201, body = ImportSummary),
        (status = 422, body = ErrorBody, description = "`validation_failed`: `details` is a list of `RowError`"),
        (status = 413, body = ErrorBody)))]
pub async fn jobs(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    request: Request,
) -> ApiResult<(StatusCode, Json<ImportSummary>)> {
    let allow = allow_duplicate(request.uri())?;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !matches!(essence, "text/csv" | "application/csv") {
        return Err(ApiError::bad_request(
            "expected a CSV body with Content-Type: text/csv",
        ));
    }
    let bytes = axum::body::to_bytes(request.into_body(), IMPORT_LIMIT_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the file is larger than {IMPORT_LIMIT_BYTES} bytes"),
            )
        })?;
    let rows = crate::csv::import::parse(&bytes).map_err(refused)?;
    let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
    let jobs = rows.into_iter().map(|r| r.job).collect();
    // Duplicates (of the user's jobs and of earlier rows) are checked inside the import's
    // transaction, under the user's lock.
    match state.db.tracker.import_jobs(user, jobs, !allow).await? {
        ImportOutcome::Imported(summary) => {
            state
                .cache
                .invalidate(user, Ns::invalidated_by_import())
                .await;
            Ok((StatusCode::CREATED, Json(summary)))
        }
        ImportOutcome::Duplicates(found) => {
            let mut problems = Problems::default();
            for (i, of) in found {
                let message = match of {
                    DuplicateOf::Job(d) => {
                        format!("duplicates your job {} ({})", d.existing_id, d.matched_on)
                    }
                    DuplicateOf::Earlier(j) => format!("duplicates line {} of the file", lines[j]),
                };
                problems.add(lines[i], "row", message);
            }
            Err(refused(problems))
        }
    }
}
