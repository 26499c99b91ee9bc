//! Sign-in rate limits: login and register attempts per client address
//! (`AUTH_RATE_LIMIT_IP`) and per email address (`AUTH_RATE_LIMIT_EMAIL`), each a GCRA
//! limiter (governor) with a burst of the per-minute count. Past a limit the answer is 429
//! `rate_limited` with `Retry-After`, before any database lookup or password hash.
//!
//! The limits live in each instance's memory: behind a balancer spreading one client over N
//! instances the effective limit is up to N times the setting.

use crate::error::ApiError;
use axum::http::StatusCode;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::json;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct AuthLimits {
    per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_email: Option<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
    refused: AtomicU64,
}

fn limiter<K: Clone + std::hash::Hash + Eq>(per_minute: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

impl AuthLimits {
    /// 0 turns a limit off.
    pub fn new(per_ip: u32, per_email: u32) -> AuthLimits {
        AuthLimits {
            per_ip: limiter(per_ip),
            per_email: limiter(per_email),
            clock: DefaultClock::default(),
            refused: AtomicU64::new(0),
        }
    }

    /// Counts one attempt for `ip` (when known) and for `email` (normalized); `Err` is the
    /// 429 to answer.
    pub fn check(&self, ip: Option<IpAddr>, email: &str) -> Result<(), ApiError> {
        if let (Some(lim), Some(ip)) = (&self.per_ip, ip)
            && let Err(wait) = lim.check_key(&ip)
        {
            return Err(self.refuse("address", wait.wait_time_from(self.clock.now())));
        }
        if let Some(lim) = &self.per_email
            && let Err(wait) = lim.check_key(&email.to_owned())
        {
            return Err(self.refuse("email", wait.wait_time_from(self.clock.now())));
        }
        Ok(())
    }

    fn refuse(&self, scope: &str, wait: std::time::Duration) -> ApiError {
        self.refused.fetch_add(1, Ordering::Relaxed);
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many sign-in attempts for this {scope}; retry in {secs} s"),
        )
        .with_details(json!({ "scope": scope }));
        e.retry_after = Some(secs.max(1));
        e
    }

    /// Attempts refused since start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Forgets keys whose limit has fully refilled, so that a flood of addresses or emails
    /// does not grow the tables for good. Called every minute by the server.
    pub fn sweep(&self) {
        if let Some(l) = &self.per_ip {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.per_email {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }

    /// Keys currently tracked (addresses, emails).
    pub fn tracked(&self) -> (usize, usize) {
        (
            self.per_ip.as_ref().map_or(0, |l| l.len()),
            self.per_email.as_ref().map_or(0, |l| l.len()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_burst_then_a_429_with_retry_after() {
        let limits = AuthLimits::new(3, 0);
        let ip = Some("192.0.2.1".parse().unwrap());
        for i in 0..3 {
            assert!(limits.check(ip, &format!("u{i}@x.test")).is_ok());
        }
        let e = limits.check(ip, "u9@x.test").unwrap_err();
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.code, "rate_limited");
        // 3 a minute: the next slot opens within 20 s.
        assert!(
            (1..=20).contains(&e.retry_after.unwrap()),
            "{:?}",
            e.retry_after
        );
        // Another address is not affected; nor is an unknown one.
        assert!(
            limits
                .check(Some("192.0.2.2".parse().unwrap()), "a@x.test")
                .is_ok()
        );
        assert!(limits.check(None, "b@x.test").is_ok());
        assert_eq!(limits.refused(), 1);
    }

    #[test]
    fn an_email_is_limited_across_addresses() {
        let limits = AuthLimits::new(0, 2);
        for i in 0..2 {
            let ip = Some(IpAddr::from([198, 51, 100, i]));
            assert!(limits.check(ip, "victim@x.test").is_ok());
        }
        let e = limits
            .check(Some(IpAddr::from([198, 51, 100, 9])), "victim@x.test")
            .unwrap_err();
        assert_eq!(e.details.unwrap()["scope"], "email");
        assert!(limits.check(None, "other@x.test").is_ok());
    }

    #[test]
    fn zero_turns_both_off() {
        let limits = AuthLimits::new(0, 0);
        for _ in 0..1000 {
            assert!(
                limits
                    .check(Some("192.0.2.1".parse().unwrap()), "a@x.test")
                    .is_ok()
            );
        }
        assert_eq!(limits.tracked(), (0, 0));
    }
}
