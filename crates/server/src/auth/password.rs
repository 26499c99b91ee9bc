//! Password hashing: Argon2id with the OWASP parameters (m=19 MiB, t=2, p=1, the crate's
//! defaults), on the blocking pool behind a [`Limiter`]: at most `AUTH_HASH_CONCURRENCY`
//! hashes at once, at most `AUTH_HASH_QUEUE` waiting, none waiting past
//! `AUTH_HASH_MAX_WAIT_MS`. Past that the request is answered 503 `auth_busy` at once, so a
//! login flood can neither stall the async workers, nor allocate unbounded memory, nor
//! queue without bound.

use crate::error::{ApiError, ApiResult};
use crate::limit::{LimitStatus, Limiter, Refusal};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::sync::Arc;
use std::time::Duration;

pub const BUSY: Refusal = Refusal {
    code: "auth_busy",
    message: "too many sign-ins are being checked right now; retry shortly",
    retry_after: 1,
};

/// Verified against when the email is unknown, so both failures cost the same time and
/// pass through the same limit. The parameters are those of [`Argon2::default`] (a test
/// checks); the password is nobody's.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$+R0WPbotMSVD4TDB4VLQcQ$\
    5QoU5XkF9DkiKgKb/mTlCRGagqZ0FA242ru0Hyyx4M8";

#[derive(Clone)]
pub struct Passwords {
    limiter: Arc<Limiter>,
}

impl Passwords {
    pub fn new(concurrency: usize, max_waiting: usize, max_wait: Duration) -> Passwords {
        Passwords {
            limiter: Arc::new(Limiter::new(concurrency, max_waiting, Some(max_wait), BUSY)),
        }
    }

    pub async fn hash(&self, password: String) -> ApiResult<String> {
        self.blocking(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| ApiError::internal(format!("hashing failed: {e}")))
        })
        .await
    }

    /// `Ok(true)` when `password` matches the PHC string `hash`.
    pub async fn verify(&self, password: String, hash: String) -> ApiResult<bool> {
        self.blocking(move || {
            let parsed = PasswordHash::new(&hash)
                .map_err(|e| ApiError::internal(format!("bad stored hash: {e}")))?;
            Ok(Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await
    }

    /// Spends the time of a real verification, under the same limit, and fails: for
    /// unknown emails.
    pub async fn verify_dummy(&self, password: String) -> ApiResult<bool> {
        self.verify(password, DUMMY_HASH.to_owned())
            .await
            .map(|_| false)
    }

    /// The hashing queue: running, waiting, refused since start.
    pub fn status(&self) -> LimitStatus {
        self.limiter.status()
    }

    /// The limiter itself, for tests that hold a turn.
    pub fn limiter(&self) -> &Limiter {
        &self.limiter
    }

    /// Runs `work` on the blocking pool once admitted. The turn travels with the work, so
    /// a cancelled request (client gone, `REQUEST_TIMEOUT_MS`) frees it only when the hash
    /// really ends.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let turn = self.limiter.admit().await?;
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            work()
        })
        .await
        .map_err(ApiError::internal)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passwords() -> Passwords {
        Passwords::new(2, 4, Duration::from_secs(60))
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let p = passwords();
        let hash = p.hash("correct horse".into()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            p.verify("correct horse".into(), hash.clone())
                .await
                .unwrap()
        );
        assert!(!p.verify("wrong horse".into(), hash).await.unwrap());
        assert!(!p.verify_dummy("anything".into()).await.unwrap());
        assert_eq!(p.status().running, 0);
    }

    #[tokio::test]
    async fn the_dummy_hash_costs_what_a_real_one_does() {
        let real = passwords().hash("x".repeat(8)).await.unwrap();
        let params = |h: &str| h.rsplitn(3, '$').nth(2).unwrap().to_owned();
        assert_eq!(params(DUMMY_HASH), params(&real));
        let salt_and_hash = |h: &str| h.rsplitn(3, '$').take(2).map(str::len).sum::<usize>();
        assert_eq!(salt_and_hash(DUMMY_HASH), salt_and_hash(&real));
    }

    #[tokio::test]
    async fn a_full_queue_answers_auth_busy() {
        let p = Passwords::new(1, 0, Duration::from_secs(60));
        let held = p.limiter().admit().await.unwrap();
        let e = p.verify_dummy("x".into()).await.unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.code, e.retry_after),
            (503, "auth_busy", Some(1))
        );
        drop(held);
        assert!(!p.verify_dummy("x".into()).await.unwrap());
    }
}
