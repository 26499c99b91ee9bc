//! `GET /api/export/jobs.csv`: all of the user's jobs, streamed in keyset batches so that
//! memory stays flat whatever the number of jobs (`scripts/bench-export` measures it).

use crate::app::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::AuthUser;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use flowats_db::models::{JobSort, Position};
use flowats_db::tracker::ExportedJob;
use uuid::Uuid;

/// Jobs per batch: one round of four queries, a few hundred kilobytes of CSV.
const BATCH: i64 = 500;

struct Walk {
    state: AppState,
    user: Uuid,
    after: Position,
    /// The first batch, read before the answer started (so its errors are a proper 503).
    first: Option<Vec<ExportedJob>>,
    done: bool,
}

impl Walk {
    async fn next(mut self) -> Option<(Result<Bytes, std::io::Error>, Walk)> {
        if self.done {
            return None;
        }
        let batch = match self.first.take() {
            Some(b) => b,
            None => match self
                .state
                .db
                .tracker
                .export_page(self.user, self.after, BATCH)
                .await
            {
                Ok(b) => b,
                Err(e) => {
                    // The status line is sent: all that can be done is to cut the body
                    // short, which the client sees as a failed download.
                    tracing::error!(error = %e.chain(), "export failed mid-stream");
                    self.done = true;
                    return Some((Err(std::io::Error::other("export failed")), self));
                }
            },
        };
        if batch.len() < BATCH as usize {
            self.done = true;
        }
        if let Some(last) = batch.last() {
            self.after = JobSort::Oldest.position(&last.job);
        }
        if batch.is_empty() {
            return None;
        }
        Some((Ok(Bytes::from(crate::csv::export::rows(&batch))), self))
    }
}

/// Every job of yours as CSV, oldest first, with its status history, tags and contacts:
/// the format `POST /api/import/jobs` reads.
#[utoipa::path(get, path = "/api/export/jobs.csv", tag = "tracker", security(("bearer" = [])),
    responses((status = 200, description = "the jobs CSV (header line, then one row per job)",
        content_type = "text/csv", body = String),
        (status = 401, body = ErrorBody)))]
pub async fn jobs_csv(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> ApiResult<Response> {
    let after = JobSort::Oldest.start();
    let first = state.db.tracker.export_page(user, after, BATCH).await?;
    let walk = Walk {
        state,
        user,
        after,
        first: Some(first),
        done: false,
    };
    let header =
        futures_util::stream::once(async { Ok(Bytes::from(crate::csv::export::header())) });
    let rows = futures_util::stream::unfold(walk, Walk::next);
    let body = Body::from_stream(futures_util::StreamExt::chain(header, rows));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"flowats-jobs.csv\""),
            ),
        ],
        body,
    )
        .into_response())
}
