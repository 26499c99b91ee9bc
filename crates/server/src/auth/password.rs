//! Password hashing: Argon2id with the OWASP parameters (m=19 MiB, t=2, p=1, the crate's
//! defaults), run on the blocking pool behind a semaphore so a burst of logins can neither
//! stall the async workers nor allocate unbounded memory.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::sync::Arc;
use tokio::sync::{OnceCell, Semaphore};

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// Verified against when the email is unknown, so both failures cost the same time.
    dummy: Arc<OnceCell<String>>,
}

impl Default for Passwords {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Passwords {
            permits: Arc::new(Semaphore::new(cores)),
            dummy: Arc::new(OnceCell::new()),
        }
    }
}

impl Passwords {
    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await?;
        tokio::task::spawn_blocking(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
        })
        .await?
    }

    /// `Ok(true)` when `password` matches the PHC string `hash`.
    pub async fn verify(&self, password: String, hash: String) -> anyhow::Result<bool> {
        let _permit = self.permits.acquire().await?;
        tokio::task::spawn_blocking(move || {
            let parsed =
                PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("bad stored hash: {e}"))?;
            Ok(Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await?
    }

    /// Spends the time of a real verification and fails, for unknown emails.
    pub async fn verify_dummy(&self, password: String) -> anyhow::Result<bool> {
        let hash = self
            .dummy
            .get_or_try_init(|| self.hash("flowats-dummy-password".into()))
            .await?
            .clone();
        self.verify(password, hash).await.map(|_| false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let p = Passwords::default();
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
    }
}
