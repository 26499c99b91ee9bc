//! How long the first answer of an idempotent request is kept (`IDEMPOTENCY_TTL_HOURS`).

use super::{ConfigError, Vars};
use std::time::Duration;

pub(super) fn parse<F: Fn(&str) -> Option<String>>(v: &Vars<F>) -> Result<Duration, ConfigError> {
    let hours: u64 = v.parse(
        "IDEMPOTENCY_TTL_HOURS",
        24,
        "a whole number of hours from 24 to 8760",
        |h| (24..=8760).contains(h),
    )?;
    Ok(Duration::from_secs(hours * 3600))
}

/// `KEY=value` lines for `flowats config`.
pub(super) fn render(ttl: Duration) -> Vec<(&'static str, String)> {
    vec![("IDEMPOTENCY_TTL_HOURS", (ttl.as_secs() / 3600).to_string())]
}
