//! The abuse limits' settings: who may sign in how often, which peers may name the client's
//! address, how much work may be in flight, which origins may call the API from a browser.

use super::{ConfigError, Vars, invalid};
use ipnet::IpNet;
use std::net::IpAddr;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct GuardConfig {
    /// `TRUSTED_PROXIES`: peers whose `X-Forwarded-For` names the client. Empty: none, the
    /// peer address is the client's.
    pub trusted_proxies: Vec<IpNet>,
    /// `AUTH_RATE_LIMIT_IP`: login and register attempts per minute from one client address
    /// (a burst of that many, refilled evenly); 0 turns the limit off.
    pub auth_per_ip: u32,
    /// `AUTH_RATE_LIMIT_EMAIL`: login and register attempts per minute for one email address.
    pub auth_per_email: u32,
    /// `ADMIN_RATE_LIMIT`: wrong admin-token attempts per minute from one client address;
    /// past it every admin attempt from there is 429 for a while. 0 turns the limit off.
    pub admin_per_ip: u32,
    /// `MAX_IN_FLIGHT`: requests handled at once; past it the server answers 503 `overloaded`
    /// at once. 0 turns the limit off. Health routes and `/metrics` are never shed.
    pub max_in_flight: usize,
    /// `HEADER_READ_TIMEOUT_MS`: a client that has not sent a request's headers within this
    /// time is disconnected (slow-header attacks).
    pub header_read_timeout: Duration,
    /// `CORS_ORIGINS`: origins allowed to call the API from a browser.
    pub cors_origins: CorsOrigins,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CorsOrigins {
    /// No cross-origin access (no CORS headers are sent).
    None,
    /// `*`: any origin (without credentials; the API's bearer tokens need none).
    Any,
    /// Exactly these origins (`scheme://host[:port]`).
    List(Vec<String>),
}

pub(super) fn parse<F: Fn(&str) -> Option<String>>(
    v: &Vars<F>,
) -> Result<GuardConfig, ConfigError> {
    let per_minute = "a whole number of attempts per minute from 0 (off) to 1000000";
    Ok(GuardConfig {
        trusted_proxies: trusted_proxies(v.raw("TRUSTED_PROXIES").as_deref())?,
        auth_per_ip: v.parse("AUTH_RATE_LIMIT_IP", 60, per_minute, |n| *n <= 1_000_000)?,
        auth_per_email: v.parse("AUTH_RATE_LIMIT_EMAIL", 10, per_minute, |n| *n <= 1_000_000)?,
        admin_per_ip: v.parse("ADMIN_RATE_LIMIT", 10, per_minute, |n| *n <= 1_000_000)?,
        max_in_flight: v.parse(
            "MAX_IN_FLIGHT",
            512,
            "a whole number of requests from 0 (off) to 1000000",
            |n| *n <= 1_000_000,
        )?,
        header_read_timeout: v.millis("HEADER_READ_TIMEOUT_MS", 10_000, 10)?,
        cors_origins: cors_origins(v.raw("CORS_ORIGINS").as_deref())?,
    })
}

fn trusted_proxies(raw: Option<&str>) -> Result<Vec<IpNet>, ConfigError> {
    let accepts = "a comma-separated list of IP addresses or CIDR ranges (10.0.0.0/8)";
    raw.unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| invalid("TRUSTED_PROXIES", accepts, s))
        })
        .collect()
}

fn cors_origins(raw: Option<&str>) -> Result<CorsOrigins, ConfigError> {
    let accepts = "`*` or a comma-separated list of origins (https://app.example.com)";
    let items: Vec<&str> = raw
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    match items.as_slice() {
        [] => Ok(CorsOrigins::None),
        ["*"] => Ok(CorsOrigins::Any),
        _ => items
            .iter()
            .map(|o| {
                let rest = o
                    .strip_prefix("https://")
                    .or_else(|| o.strip_prefix("http://"));
                match rest {
                    Some(host) if !host.is_empty() && !host.contains(['/', '*', ' ']) => {
                        Ok((*o).to_owned())
                    }
                    _ => Err(invalid("CORS_ORIGINS", accepts, o)),
                }
            })
            .collect::<Result<_, _>>()
            .map(CorsOrigins::List),
    }
}

impl GuardConfig {
    /// `KEY=value` lines for `flowats config`.
    pub(super) fn render(&self) -> Vec<(&'static str, String)> {
        let list = |items: Vec<String>| {
            if items.is_empty() {
                "(unset)".to_owned()
            } else {
                items.join(",")
            }
        };
        vec![
            (
                "TRUSTED_PROXIES",
                list(self.trusted_proxies.iter().map(|n| n.to_string()).collect()),
            ),
            ("AUTH_RATE_LIMIT_IP", self.auth_per_ip.to_string()),
            ("AUTH_RATE_LIMIT_EMAIL", self.auth_per_email.to_string()),
            ("ADMIN_RATE_LIMIT", self.admin_per_ip.to_string()),
            ("MAX_IN_FLIGHT", self.max_in_flight.to_string()),
            (
                "HEADER_READ_TIMEOUT_MS",
                self.header_read_timeout.as_millis().to_string(),
            ),
            (
                "CORS_ORIGINS",
                match &self.cors_origins {
                    CorsOrigins::None => "(unset: no cross-origin access)".to_owned(),
                    CorsOrigins::Any => "*".to_owned(),
                    CorsOrigins::List(l) => l.join(","),
                },
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn with(vars: &[(&str, &str)]) -> Result<GuardConfig, ConfigError> {
        Config::from_lookup(|k| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_owned())
        })
        .map(|c| c.guard)
    }

    #[test]
    fn defaults_limit_sign_ins_and_trust_no_proxy() {
        let g = with(&[]).unwrap();
        assert_eq!((g.auth_per_ip, g.auth_per_email), (60, 10));
        assert_eq!(g.admin_per_ip, 10);
        assert_eq!(g.max_in_flight, 512);
        assert!(g.trusted_proxies.is_empty());
        assert_eq!(g.cors_origins, CorsOrigins::None);
    }

    #[test]
    fn proxies_take_addresses_and_ranges_and_name_a_bad_entry() {
        let g = with(&[("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1,::1")]).unwrap();
        assert_eq!(g.trusted_proxies.len(), 3);
        assert!(g.trusted_proxies[1].contains(&"127.0.0.1".parse::<IpAddr>().unwrap()));
        let e = with(&[("TRUSTED_PROXIES", "10.0.0.0/8,proxy.local")]).unwrap_err();
        assert_eq!(e.var, "TRUSTED_PROXIES");
        assert!(e.problem.contains("proxy.local"), "{}", e.problem);
    }

    #[test]
    fn cors_origins_are_star_or_a_list_of_origins() {
        assert_eq!(
            with(&[("CORS_ORIGINS", "*")]).unwrap().cors_origins,
            CorsOrigins::Any
        );
        assert_eq!(
            with(&[("CORS_ORIGINS", "https://a.example, http://localhost:5173")])
                .unwrap()
                .cors_origins,
            CorsOrigins::List(vec![
                "https://a.example".into(),
                "http://localhost:5173".into()
            ])
        );
        for bad in ["a.example", "https://a.example/path", "*,https://a.example"] {
            let e = with(&[("CORS_ORIGINS", bad)]).unwrap_err();
            assert_eq!(e.var, "CORS_ORIGINS", "{bad}");
        }
    }

    #[test]
    fn limits_reject_what_is_not_a_count() {
        for (var, bad) in [
            ("AUTH_RATE_LIMIT_IP", "-1"),
            ("AUTH_RATE_LIMIT_EMAIL", "ten"),
            ("ADMIN_RATE_LIMIT", "-3"),
            ("MAX_IN_FLIGHT", "2000000"),
            ("HEADER_READ_TIMEOUT_MS", "5"),
        ] {
            assert_eq!(with(&[(var, bad)]).unwrap_err().var, var);
        }
    }
}
