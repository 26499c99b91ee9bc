//! The API's one error type and its envelope (SPEC §4):
//! `{"error": {"code": "…", "message": "…", "details": …}}`.
//!
//! An unexpected error answers 500 with a fixed message; its cause goes to the log, inside
//! the request's span, so it carries the request id.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use flowats_db::DbError;
use flowats_db::validate::ValidationErrors;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
    pub retry_after: Option<u64>,
    /// Logged, never sent.
    pub cause: Option<String>,
}

/// The error envelope.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorObject,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorObject {
    /// Stable, machine-readable: `bad_request`, `unauthorized`, `not_found`,
    /// `method_not_allowed`, `conflict`, `payload_too_large`, `validation_failed`,
    /// `unavailable`, `db_pool_timeout`, `db_statement_timeout`, `db_unavailable`,
    /// `db_disk_full`, `timeout`, `not_ready`, `ai_queue_full`, `auth_busy`, `rate_limited`,
    /// `overloaded`, `body_timeout` (408), `uri_too_long` (414), `headers_too_large` (431),
    /// `wrong_password`, `idempotency_in_progress`, `idempotency_key_reused`,
    /// `internal`.
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after: None,
            cause: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "not found")
    }

    pub fn invalid(errors: ValidationErrors) -> Self {
        let message = format!("invalid input: {errors}");
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        )
        .with_details(serde_json::to_value(errors).unwrap_or(Value::Null))
    }

    pub fn unavailable(message: impl Into<String>, retry_after: u64) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message);
        e.retry_after = Some(retry_after);
        e
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal server error",
        );
        e.cause = Some(cause.to_string());
        e
    }
}

/// For callers outside a request (seeding), where an `ApiError` travels as an `anyhow`.
impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)?;
        match &self.cause {
            Some(cause) => write!(f, ": {cause}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for ApiError {}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => ApiError::not_found(),
            DbError::Conflict(what) => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("{what} already exists"),
            ),
            DbError::Invalid(errors) => ApiError::invalid(errors),
            DbError::Duplicate(d) => ApiError::new(
                StatusCode::CONFLICT,
                "duplicate_job",
                format!(
                    "you already track this job ({}): send it again with ?allow_duplicate=true to keep both",
                    match d.matched_on {
                        "url" => "same URL",
                        _ => "same company and title",
                    }
                ),
            )
            .with_details(serde_json::json!(d)),
            DbError::Unavailable(sqlx::Error::PoolTimedOut) => {
                let mut e = ApiError::unavailable(
                    "no database connection came free within DB_CONNECTION_TIMEOUT, retry shortly",
                    1,
                );
                e.code = "db_pool_timeout";
                e.cause = Some("database pool timed out".into());
                e
            }
            DbError::Unavailable(cause) => {
                let mut e = ApiError::unavailable("the database is unavailable, retry shortly", 1);
                e.code = "db_unavailable";
                e.cause = Some(DbError::Unavailable(cause).chain());
                e
            }
            DbError::DiskFull(cause) => {
                let mut e = ApiError::unavailable(
                    "the database's disk is full: writes are refused until space is freed, retry later",
                    5,
                );
                e.code = "db_disk_full";
                e.cause = Some(DbError::DiskFull(cause).chain());
                e
            }
            DbError::StatementTimeout(cause) => {
                let mut e = ApiError::unavailable(
                    "the database query ran past DB_STATEMENT_TIMEOUT and was cancelled, retry shortly",
                    1,
                );
                e.code = "db_statement_timeout";
                e.cause = Some(DbError::StatementTimeout(cause).chain());
                e
            }
            other => ApiError::internal(other.chain()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            if self.status.is_server_error() && self.status != StatusCode::SERVICE_UNAVAILABLE {
                tracing::error!(status = self.status.as_u16(), cause = %cause, "request failed");
            } else {
                tracing::warn!(status = self.status.as_u16(), cause = %cause, "request refused");
            }
        }
        let body = ErrorBody {
            error: ErrorObject {
                code: self.code,
                message: self.message,
                details: self.details,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 9110 §11.6.1: a 401 says which scheme would authenticate.
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_errors_map_to_statuses() {
        let status = |e: DbError| ApiError::from(e).status;
        assert_eq!(status(DbError::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(status(DbError::Conflict("email")), StatusCode::CONFLICT);
        assert_eq!(
            status(DbError::Invalid(ValidationErrors::single("x", "bad"))),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            status(DbError::Unavailable(sqlx::Error::PoolTimedOut)),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            status(DbError::Other(sqlx::Error::Protocol("boom".into()))),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn internal_errors_say_nothing_internal_and_unavailable_says_when_to_retry() {
        let e = ApiError::from(DbError::Other(sqlx::Error::Protocol(
            "secret detail".into(),
        )));
        assert_eq!(e.message, "internal server error");
        let e = ApiError::from(DbError::Unavailable(sqlx::Error::PoolTimedOut));
        assert_eq!(e.code, "db_pool_timeout");
        let r = e.into_response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        let e = ApiError::from(DbError::Unavailable(sqlx::Error::PoolClosed));
        assert_eq!(
            (e.status, e.code),
            (StatusCode::SERVICE_UNAVAILABLE, "db_unavailable")
        );
    }
}
