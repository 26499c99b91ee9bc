//! `REDIS_URL` and `REDIS_CA_CERT`: the shared Redis, in the clear on a private network or
//! over TLS (`rediss://`, as managed Redis services require).

use super::{ConfigError, Vars, invalid};
use flowats_db::store::{redact_url, scheme};
use std::path::PathBuf;

pub(super) fn url<F: Fn(&str) -> Option<String>>(
    v: &Vars<F>,
) -> Result<Option<String>, ConfigError> {
    match v.raw("REDIS_URL") {
        None => Ok(None),
        Some(url) if matches!(scheme(&url), Some("redis" | "rediss")) => Ok(Some(url)),
        Some(url) => Err(invalid(
            "REDIS_URL",
            "a redis://… or rediss://… (TLS) URL",
            &redact_url(&url),
        )),
    }
}

/// A PEM file of the certificates a `rediss://` server must chain to; unset, the system's
/// roots. Checked at start: it must be readable, and only makes sense with TLS.
pub(super) fn ca_cert<F: Fn(&str) -> Option<String>>(
    v: &Vars<F>,
    url: Option<&str>,
) -> Result<Option<PathBuf>, ConfigError> {
    let Some(path) = v.raw("REDIS_CA_CERT").map(PathBuf::from) else {
        return Ok(None);
    };
    if url.and_then(scheme) != Some("rediss") {
        return Err(ConfigError {
            var: "REDIS_CA_CERT",
            problem: "needs a rediss://… REDIS_URL".into(),
        });
    }
    if let Err(e) = std::fs::metadata(&path).and_then(|_| std::fs::File::open(&path)) {
        return Err(ConfigError {
            var: "REDIS_CA_CERT",
            problem: format!("cannot read {}: {e}", path.display()),
        });
    }
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, crate::config::ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn rediss_is_accepted_and_a_ca_file_must_exist_and_go_with_tls() {
        let c = config(&[("REDIS_URL", "rediss://default:pw@x.upstash.io:6379")]).unwrap();
        assert_eq!(
            c.cache.redis_url.as_deref(),
            Some("rediss://default:pw@x.upstash.io:6379")
        );
        let shown = c.render();
        assert!(
            shown.contains("REDIS_URL=rediss://default:***@x.upstash.io:6379\n"),
            "{shown}"
        );
        assert!(shown.contains("REDIS_CA_CERT=(unset"), "{shown}");

        let e = config(&[("REDIS_URL", "http://x:6379")]).unwrap_err();
        assert_eq!(e.var, "REDIS_URL");
        let e = config(&[
            ("REDIS_URL", "rediss://x:6379"),
            ("REDIS_CA_CERT", "/nonexistent/ca.pem"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "REDIS_CA_CERT");
        assert!(e.problem.contains("/nonexistent/ca.pem"), "{e}");

        let ca = tempfile::NamedTempFile::new().unwrap();
        let path = ca.path().to_str().unwrap();
        let e = config(&[("REDIS_URL", "redis://x:6379"), ("REDIS_CA_CERT", path)]).unwrap_err();
        assert_eq!(e.var, "REDIS_CA_CERT");
        let c = config(&[("REDIS_URL", "rediss://x:6379"), ("REDIS_CA_CERT", path)]).unwrap();
        assert_eq!(c.cache.redis_ca_cert.as_deref(), Some(ca.path()));
        assert!(c.render().contains(&format!("REDIS_CA_CERT={path}\n")));
    }
}
