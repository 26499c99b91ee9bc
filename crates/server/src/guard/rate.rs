//! Sign-in rate limits: login and register attempts per client address
//! (`AUTH_RATE_LIMIT_IP`) and per email address (`AUTH_RATE_LIMIT_EMAIL`), and wrong
//! admin-token attempts per address (`ADMIN_RATE_LIMIT`), each a GCRA [`Budget`] with a
//! burst of the per-minute count. Past a limit the answer is 429 `rate_limited` with
//! `Retry-After`, before any database lookup or password hash.
//!
//! With `REDIS_URL` the limits hold for the whole deployment (one budget shared by every
//! instance); without it, or while Redis cannot answer, each instance keeps its own.

use super::budget::Budget;
use crate::cache::redis::RedisTier;
use crate::config::Config;
use crate::error::ApiError;
use axum::http::StatusCode;
use serde_json::json;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub struct AuthLimits {
    per_ip: Option<Budget>,
    per_email: Option<Budget>,
    admin: Option<Budget>,
    refused: AtomicU64,
}

impl AuthLimits {
    /// Per-process limits; 0 turns a limit off.
    pub fn new(per_ip: u32, per_email: u32, admin: u32) -> AuthLimits {
        AuthLimits::with_shared(per_ip, per_email, admin, None)
    }

    /// The configured limits, shared through their own connection to `REDIS_URL` when set
    /// (its own breaker, so a limit's call never hides a Redis recovery from the cache).
    pub fn start(config: &Config) -> Result<AuthLimits, String> {
        let g = &config.guard;
        let shared = match &config.cache.redis_url {
            Some(url) => {
                let tier = Arc::new(RedisTier::new(
                    url,
                    config.cache.redis_ca_cert.as_deref(),
                    config.cache.redis_timeout,
                )?);
                tokio::spawn(crate::cache::redis::connect_forever(Arc::downgrade(&tier)));
                Some(tier)
            }
            None => None,
        };
        Ok(AuthLimits::with_shared(
            g.auth_per_ip,
            g.auth_per_email,
            g.admin_per_ip,
            shared,
        ))
    }

    fn with_shared(
        per_ip: u32,
        per_email: u32,
        admin: u32,
        shared: Option<Arc<RedisTier>>,
    ) -> AuthLimits {
        AuthLimits {
            per_ip: Budget::new("ip", per_ip, shared.clone()),
            per_email: Budget::new("email", per_email, shared.clone()),
            admin: Budget::new("admin", admin, shared),
            refused: AtomicU64::new(0),
        }
    }

    /// Counts one attempt for `ip` (when known) and for `email` (normalized); `Err` is the
    /// 429 to answer.
    pub async fn check(&self, ip: Option<IpAddr>, email: &str) -> Result<(), ApiError> {
        if let (Some(lim), Some(ip)) = (&self.per_ip, ip)
            && let Err(wait) = lim.take(&ip.to_string()).await
        {
            return Err(self.refuse(
                "address",
                "too many sign-in attempts for this address",
                wait,
            ));
        }
        if let Some(lim) = &self.per_email
            && let Err(wait) = lim.take(email).await
        {
            return Err(self.refuse("email", "too many sign-in attempts for this email", wait));
        }
        Ok(())
    }

    /// An admin-token attempt from `ip` whose token was `correct` or not. Once an address
    /// has spent its budget of wrong tokens every attempt is 429, the right token too, so
    /// that a guesser cannot tell a hit from a miss; only wrong tokens spend the budget.
    pub async fn admin(&self, ip: Option<IpAddr>, correct: bool) -> Result<(), ApiError> {
        let (Some(lim), Some(ip)) = (&self.admin, ip) else {
            return Ok(());
        };
        let key = ip.to_string();
        let spent = if correct {
            lim.peek(&key).await
        } else {
            lim.take(&key).await
        };
        spent.map_err(|wait| {
            self.refuse(
                "admin",
                "too many wrong admin tokens from this address",
                wait,
            )
        })
    }

    fn refuse(&self, scope: &str, what: &str, wait: Duration) -> ApiError {
        self.refused.fetch_add(1, Ordering::Relaxed);
        let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("{what}; retry in {secs} s"),
        )
        .with_details(json!({ "scope": scope }));
        e.retry_after = Some(secs);
        e
    }

    /// Attempts refused since start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Whether the shared limits answered last: `None` without Redis, `Some(false)` while
    /// they fall back to this instance's own.
    pub fn shared_up(&self) -> Option<bool> {
        self.budgets().find_map(Budget::shared_up)
    }

    fn budgets(&self) -> impl Iterator<Item = &Budget> {
        [&self.per_ip, &self.per_email, &self.admin]
            .into_iter()
            .flatten()
    }

    /// Forgets keys whose limit has fully refilled, so that a flood of addresses or emails
    /// does not grow the tables for good. Called every minute by the server.
    pub fn sweep(&self) {
        self.budgets().for_each(Budget::sweep);
    }

    /// Keys currently tracked in process (addresses, emails).
    pub fn tracked(&self) -> (usize, usize) {
        (
            self.per_ip.as_ref().map_or(0, Budget::tracked),
            self.per_email.as_ref().map_or(0, Budget::tracked),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_address_gets_its_burst_then_a_429_with_retry_after() {
        let limits = AuthLimits::new(3, 0, 0);
        let ip = Some("192.0.2.1".parse().unwrap());
        for i in 0..3 {
            assert!(limits.check(ip, &format!("u{i}@x.test")).await.is_ok());
        }
        let e = limits.check(ip, "u9@x.test").await.unwrap_err();
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.code, "rate_limited");
        // 3 a minute: the next slot opens within 20 s.
        assert!(
            (1..=20).contains(&e.retry_after.unwrap()),
            "{:?}",
            e.retry_after
        );
        // Another address is not affected; nor is an unknown one.
        let other = Some("192.0.2.2".parse().unwrap());
        assert!(limits.check(other, "a@x.test").await.is_ok());
        assert!(limits.check(None, "b@x.test").await.is_ok());
        assert_eq!(limits.refused(), 1);
    }

    #[tokio::test]
    async fn an_email_is_limited_across_addresses() {
        let limits = AuthLimits::new(0, 2, 0);
        for i in 0..2 {
            let ip = Some(IpAddr::from([198, 51, 100, i]));
            assert!(limits.check(ip, "victim@x.test").await.is_ok());
        }
        let ip = Some(IpAddr::from([198, 51, 100, 9]));
        let e = limits.check(ip, "victim@x.test").await.unwrap_err();
        assert_eq!(e.details.unwrap()["scope"], "email");
        assert!(limits.check(None, "other@x.test").await.is_ok());
    }

    #[tokio::test]
    async fn wrong_admin_tokens_spend_the_budget_then_even_the_right_one_waits() {
        let limits = AuthLimits::new(0, 0, 2);
        let ip = Some(IpAddr::from([203, 0, 113, 7]));
        // The right token spends nothing.
        for _ in 0..5 {
            assert!(limits.admin(ip, true).await.is_ok());
        }
        assert!(limits.admin(ip, false).await.is_ok());
        assert!(limits.admin(ip, false).await.is_ok());
        let e = limits.admin(ip, false).await.unwrap_err();
        assert_eq!(
            (e.code, e.details.unwrap()["scope"].clone()),
            ("rate_limited", json!("admin"))
        );
        assert!(
            limits.admin(ip, true).await.is_err(),
            "a hit must look like a miss"
        );
        assert!(
            limits
                .admin(Some(IpAddr::from([203, 0, 113, 8])), true)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn zero_turns_them_off() {
        let limits = AuthLimits::new(0, 0, 0);
        let ip = Some("192.0.2.1".parse().unwrap());
        for _ in 0..1000 {
            assert!(limits.check(ip, "a@x.test").await.is_ok());
            assert!(limits.admin(ip, false).await.is_ok());
        }
        assert_eq!(limits.tracked(), (0, 0));
        assert_eq!(limits.shared_up(), None);
    }
}
