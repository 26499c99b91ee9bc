//! One rate limit ("so many attempts a minute per key"): shared by every instance through
//! Redis when `REDIS_URL` is set, else per process. Redis runs the GCRA as one atomic
//! Lua script with its own clock, so N instances together allow the budget once, not N
//! times. When Redis cannot answer within `REDIS_TIMEOUT_MS` (or its breaker is open) the
//! attempt is judged by this instance's own limit instead: limits fail open to per-process
//! limits, never to none, and never wait longer than the Redis deadline.

use super::gcra::Gcra;
use crate::cache::redis::RedisTier;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

/// KEYS[1]: the key. ARGV: period ms, burst, take (1 counts an allowed attempt).
/// Returns 0 when allowed, else the milliseconds to wait.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local period = tonumber(ARGV[1])
local window = period * tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local nxt = tat + period
if nxt > now + window then return nxt - window - now end
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', string.format('%.0f', nxt - now))
end
return 0
";

pub struct Budget {
    /// Names the limit in Redis keys (`flowats:limit:<scope>:…`).
    scope: &'static str,
    local: Gcra<String>,
    shared: Option<Arc<RedisTier>>,
    script: redis::Script,
    /// Whether the last call fell back to the local limit (logged once per change).
    degraded: AtomicBool,
}

impl Budget {
    /// `None` when `per_minute` is 0 (no limit).
    pub fn new(
        scope: &'static str,
        per_minute: u32,
        shared: Option<Arc<RedisTier>>,
    ) -> Option<Budget> {
        (per_minute > 0).then(|| Budget {
            scope,
            local: Gcra::per_minute(per_minute),
            shared,
            script: redis::Script::new(GCRA),
            degraded: AtomicBool::new(false),
        })
    }

    /// Counts one attempt for `key`; `Err(wait)` when over the budget.
    pub async fn take(&self, key: &str) -> Result<(), Duration> {
        self.check(key, true).await
    }

    /// Whether one more attempt would be allowed, without counting it.
    pub async fn peek(&self, key: &str) -> Result<(), Duration> {
        self.check(key, false).await
    }

    async fn check(&self, key: &str, take: bool) -> Result<(), Duration> {
        if let Some(redis) = &self.shared {
            let (period, burst) = self.local.shape();
            let hashed = format!("flowats:limit:{}:{}", self.scope, digest(key));
            match redis
                .script::<u64>(&self.script, &[&hashed], &[period, burst, u64::from(take)])
                .await
            {
                Ok(wait) => {
                    if self.degraded.swap(false, Relaxed) {
                        tracing::info!(scope = self.scope, "rate limit shared through Redis again");
                    }
                    return match wait {
                        0 => Ok(()),
                        ms => Err(Duration::from_millis(ms)),
                    };
                }
                Err(_) => {
                    if !self.degraded.swap(true, Relaxed) {
                        tracing::warn!(
                            scope = self.scope,
                            "Redis unreachable: rate limit enforced per instance"
                        );
                    }
                }
            }
        }
        self.local.check(&key.to_owned(), take)
    }

    /// Whether the shared limit answered last (`None` without Redis).
    pub fn shared_up(&self) -> Option<bool> {
        self.shared.as_ref().map(|r| r.is_up())
    }

    pub fn sweep(&self) {
        self.local.sweep();
    }

    pub fn tracked(&self) -> usize {
        self.local.tracked()
    }
}

/// Keys in Redis carry no address or email in the clear, and have a bounded size.
fn digest(key: &str) -> String {
    Sha256::digest(key.as_bytes())[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
