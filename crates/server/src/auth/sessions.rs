//! Sessions that can end. Every token names a session (`sid`), a row in `sessions`;
//! logout deletes that row, a password change deletes every other row of the account, and
//! account deletion deletes them all. A token is accepted only while its row exists.
//!
//! The check stays off the database on the hot path: "this session is live" is cached
//! under the user's `user` namespace ([`CacheKeys::session`]), and ending a session bumps
//! that namespace's generation, which every instance sees through Redis at once (see
//! `cache`). Without the cache (or while Redis is unreachable) each request asks the
//! database, which is the source of truth.

use crate::app::AppState;
use crate::cache::{CacheKeys, Ns};
use crate::error::{ApiError, ApiResult};
use axum::http::{HeaderMap, header};
use bytes::Bytes;
use flowats_db::Timestamp;
use time::OffsetDateTime;
use uuid::Uuid;

/// The token of an `Authorization: Bearer <token>` header. The scheme is matched without
/// regard to case (RFC 9110 §11.1); one space separates it from the token.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Starts a session of `user` and answers its token and lifetime in seconds.
pub async fn start(state: &AppState, user: Uuid) -> ApiResult<(String, u64)> {
    let sid = Uuid::now_v7();
    let (token, exp) = state.tokens.issue(user, sid).map_err(ApiError::internal)?;
    let expires_at = OffsetDateTime::from_unix_timestamp(i64::try_from(exp).unwrap_or(i64::MAX))
        .map_err(ApiError::internal)?;
    state
        .db
        .sessions
        .create_session(user, sid, Timestamp::from(expires_at))
        .await?;
    Ok((token, state.tokens.ttl().as_secs()))
}

/// The user and session of the request's bearer token, if the token is valid and its
/// session live.
pub async fn authenticate(headers: &HeaderMap, state: &AppState) -> ApiResult<(Uuid, Uuid)> {
    if headers.get(header::AUTHORIZATION).is_none() {
        return Err(ApiError::unauthorized("missing bearer token"));
    }
    let token = bearer_token(headers)
        .ok_or_else(|| ApiError::unauthorized("expected `Authorization: Bearer <token>`"))?;
    let (user, sid) = state.tokens.verify(token).map_err(|e| {
        tracing::debug!(error = %e, "token refused");
        ApiError::unauthorized("invalid or expired token")
    })?;
    // Only "live" is cached; ending a session (or deleting the account, which ends them
    // all) invalidates it.
    state
        .cache
        .get_or_load(
            CacheKeys::session(user, sid),
            state.cache.default_ttl(),
            || async {
                if state.db.sessions.session_live(user, sid).await? {
                    Ok(Bytes::from_static(b"1"))
                } else {
                    Err(ApiError::unauthorized("invalid or expired token"))
                }
            },
        )
        .await?;
    Ok((user, sid))
}

/// After sessions of `user` ended: no instance may answer from a cached "live".
pub async fn ended(state: &AppState, user: Uuid) {
    state.cache.invalidate(user, &[Ns::User]).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn the_scheme_is_matched_in_any_case() {
        for ok in ["Bearer t", "bearer t", "BEARER t", "bEaReR  t "] {
            assert_eq!(bearer_token(&headers(ok)), Some("t"), "{ok}");
        }
        for bad in ["Bearer", "Bearer ", "Bearer\tt", "Basic t", "Bearert", "t"] {
            assert_eq!(bearer_token(&headers(bad)), None, "{bad}");
        }
    }
}
