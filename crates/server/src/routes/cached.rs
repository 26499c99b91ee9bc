//! Cached JSON answers: handlers name a key and how to load the value; the bytes come
//! from the cache when it has them. A cached answer is the same bytes with the same
//! headers as an uncached one, plus `x-cache` (`hit-l1`, `hit-l2`, `miss`, `bypass`).

use crate::app::AppState;
use crate::cache::{CacheKey, Source};
use crate::error::ApiError;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;

pub struct CachedJson {
    pub bytes: Bytes,
    pub source: Source,
}

impl IntoResponse for CachedJson {
    fn into_response(self) -> Response {
        (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (
                    header::HeaderName::from_static("x-cache"),
                    HeaderValue::from_static(self.source.as_str()),
                ),
            ],
            self.bytes,
        )
            .into_response()
    }
}

/// The value of `key`, serialized once when loaded and served as stored bytes after that.
pub async fn cached<T, Fut>(
    state: &AppState,
    key: CacheKey,
    load: impl FnOnce() -> Fut,
) -> Result<CachedJson, ApiError>
where
    T: Serialize,
    Fut: Future<Output = Result<T, ApiError>>,
{
    cached_for(state, key, state.cache.default_ttl(), load).await
}

/// [`cached`] with its own time to live (AI artifacts: 7 days).
pub async fn cached_for<T, Fut>(
    state: &AppState,
    key: CacheKey,
    ttl: std::time::Duration,
    load: impl FnOnce() -> Fut,
) -> Result<CachedJson, ApiError>
where
    T: Serialize,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let (bytes, source) = state
        .cache
        .get_or_load(key, ttl, || async {
            let value = load().await?;
            serde_json::to_vec(&value)
                .map(Bytes::from)
                .map_err(ApiError::internal)
        })
        .await?;
    Ok(CachedJson { bytes, source })
}
