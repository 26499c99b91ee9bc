//! The HTTP layer's settings: how long a request body may take to arrive, and when
//! `/api/health` answers 503.

use super::{ConfigError, Vars, invalid};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    /// `BODY_READ_TIMEOUT_MS`: a request body that has not fully arrived within this time
    /// is cut off with 408 `body_timeout`. Bodies are read before the request takes an
    /// in-flight slot, so a stalled upload never holds one.
    pub body_read_timeout: Duration,
    /// `HEALTH_FAIL_ON`: when `/api/health` answers 503.
    pub health_fail_on: HealthFailOn,
}

/// When `/api/health` answers 503 rather than 200 (its body says the status either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthFailOn {
    /// Only when the instance cannot serve: the database is unreachable, or the server is
    /// shutting down. A busy CPU is a scaling signal, not an outage.
    Unavailable,
    /// Also whenever the status is `critical` (CPU, memory, heap, pool or latency past its
    /// critical threshold).
    Critical,
}

impl HealthFailOn {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthFailOn::Unavailable => "unavailable",
            HealthFailOn::Critical => "critical",
        }
    }
}

pub(super) fn parse<F: Fn(&str) -> Option<String>>(v: &Vars<F>) -> Result<HttpConfig, ConfigError> {
    let health_fail_on = match v.raw("HEALTH_FAIL_ON").as_deref().map(str::trim) {
        None | Some("unavailable") => HealthFailOn::Unavailable,
        Some("critical") => HealthFailOn::Critical,
        Some(other) => {
            return Err(invalid(
                "HEALTH_FAIL_ON",
                "`unavailable` or `critical`",
                other,
            ));
        }
    };
    Ok(HttpConfig {
        body_read_timeout: v.millis("BODY_READ_TIMEOUT_MS", 5_000, 10)?,
        health_fail_on,
    })
}

impl HttpConfig {
    pub(super) fn render(&self) -> [(&'static str, String); 2] {
        [
            (
                "BODY_READ_TIMEOUT_MS",
                self.body_read_timeout.as_millis().to_string(),
            ),
            ("HEALTH_FAIL_ON", self.health_fail_on.as_str().to_owned()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(pairs: &[(&str, &str)]) -> Result<HttpConfig, ConfigError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        parse(&Vars(move |k: &str| {
            pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        }))
    }

    #[test]
    fn defaults_and_values() {
        let c = parsed(&[]).unwrap();
        assert_eq!(c.body_read_timeout, Duration::from_secs(5));
        assert_eq!(c.health_fail_on, HealthFailOn::Unavailable);
        let c = parsed(&[
            ("BODY_READ_TIMEOUT_MS", "250"),
            ("HEALTH_FAIL_ON", "critical"),
        ])
        .unwrap();
        assert_eq!(c.body_read_timeout, Duration::from_millis(250));
        assert_eq!(c.health_fail_on, HealthFailOn::Critical);
        assert_eq!(
            parsed(&[("HEALTH_FAIL_ON", "sometimes")]).unwrap_err().var,
            "HEALTH_FAIL_ON"
        );
        assert!(parsed(&[("BODY_READ_TIMEOUT_MS", "0")]).is_err());
    }
}
