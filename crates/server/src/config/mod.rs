//! Configuration from the environment (SPEC §2), `.env` honoured, CLI flags on top.
//!
//! Every value is parsed here, once: a malformed one stops the start with a message that
//! names the variable and what it accepts.

use crate::cache::CacheConfig;
use crate::cache::local::Policy;
use flowats_db::store::{redact_url, scheme};
use flowats_db::{DbOptions, PoolMode};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

mod admin;
mod guard;
mod http;
mod idempotency;
mod redis_url;
pub use guard::{CorsOrigins, GuardConfig};
pub use http::{HealthFailOn, HttpConfig};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/flowats.db";
/// The policy the hit-rate benchmark found better (docs/PERFORMANCE.md).
pub const DEFAULT_CACHE_POLICY: Policy = Policy::Lru;
/// Requests larger than this are refused with 413.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// A value that must never reach a log or `flowats config`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub database_url: String,
    pub db: DbOptions,
    /// `None` with SQLite: a secret is generated once and kept beside the database.
    pub jwt_secret: Option<Secret>,
    pub jwt_ttl: Duration,
    pub log_format: LogFormat,
    pub request_timeout: Duration,
    pub shutdown_timeout: Duration,
    /// `MONITOR_INTERVAL_MS`: how often the resource figures are logged.
    pub monitor_interval: Duration,
    /// `SLOW_REQUEST_MS` / `CRITICAL_REQUEST_MS`: request durations that log a warning /
    /// an error, and the health document's request thresholds.
    pub slow_request: Duration,
    pub critical_request: Duration,
    /// `AI_PROVIDER` and, for `openai`, its endpoint.
    pub ai_provider: AiProvider,
    /// `AI_MAX_CONCURRENCY`, `AI_QUEUE_SIZE`, `AI_TIMEOUT_MS`.
    pub ai_concurrency: usize,
    pub ai_queue: usize,
    pub ai_timeout: Duration,
    /// `AUTH_HASH_CONCURRENCY`, `AUTH_HASH_QUEUE`, `AUTH_HASH_MAX_WAIT_MS`: password hashes
    /// running at once, waiting for a turn, and the longest wait before `auth_busy`.
    pub auth_hash_concurrency: usize,
    pub auth_hash_queue: usize,
    pub auth_hash_max_wait: Duration,
    pub cache: CacheConfig,
    /// Bearer token for `/api/admin/*`; `None` turns those routes off.
    pub admin_token: Option<Secret>,
    /// Abuse limits: rate limits, trusted proxies, in-flight limit, CORS, header timeout.
    pub guard: GuardConfig,
    /// The body-read timeout and the health route's 503 rule.
    pub http: HttpConfig,
    /// `IDEMPOTENCY_TTL_HOURS`: how long a POST's first answer is kept for its
    /// `Idempotency-Key`.
    pub idempotency_ttl: Duration,
}

/// Which engine writes AI documents.
#[derive(Debug, Clone, PartialEq)]
pub enum AiProvider {
    /// The built-in offline writer.
    Local,
    /// An OpenAI-compatible chat-completions endpoint.
    OpenAi(OpenAiConfig),
}

impl AiProvider {
    pub fn name(&self) -> &'static str {
        match self {
            AiProvider::Local => "local",
            AiProvider::OpenAi(_) => "openai",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OpenAiConfig {
    /// `AI_API_URL`: the API base (`https://api.openai.com/v1`) or the full
    /// `…/chat/completions` address.
    pub url: String,
    /// `AI_API_KEY`: sent as a bearer token; local servers often need none.
    pub key: Option<Secret>,
    /// `AI_MODEL`.
    pub model: String,
    /// `AI_MAX_RETRIES`: further attempts after a 429, a 5xx or a failed connection.
    pub retries: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

pub(crate) fn invalid(var: &'static str, accepts: &str, got: &str) -> ConfigError {
    ConfigError {
        var,
        problem: format!("expected {accepts}, got {got:?}"),
    }
}

/// Reads variables through `get`, so tests can pass a map instead of the process
/// environment.
pub(crate) struct Vars<F: Fn(&str) -> Option<String>>(F);

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    pub(crate) fn raw(&self, var: &str) -> Option<String> {
        (self.0)(var).filter(|v| !v.trim().is_empty())
    }

    fn string(&self, var: &'static str, default: &str) -> String {
        self.raw(var).unwrap_or_else(|| default.to_owned())
    }

    pub(crate) fn parse<T: FromStr>(
        &self,
        var: &'static str,
        default: T,
        accepts: &str,
        ok: impl Fn(&T) -> bool,
    ) -> Result<T, ConfigError> {
        match self.raw(var) {
            None => Ok(default),
            Some(v) => match v.trim().parse::<T>() {
                Ok(t) if ok(&t) => Ok(t),
                _ => Err(invalid(var, accepts, &v)),
            },
        }
    }

    pub(crate) fn millis(
        &self,
        var: &'static str,
        default_ms: u64,
        min_ms: u64,
    ) -> Result<Duration, ConfigError> {
        let accepts = format!("a whole number of milliseconds, at least {min_ms}");
        self.parse(var, default_ms, &accepts, |v| *v >= min_ms)
            .map(Duration::from_millis)
    }
}

impl Config {
    /// The process environment, after loading `.env` if there is one, with `overrides`
    /// (command-line flags, by variable name) on top. Cross-checks (a secret for
    /// PostgreSQL, the pool size default) see the final values.
    pub fn from_env(overrides: &[(&str, Option<String>)]) -> Result<Config, ConfigError> {
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => {
                return Err(ConfigError {
                    var: ".env",
                    problem: format!("cannot be read: {e}"),
                });
            }
        }
        Config::from_lookup(|k| match overrides.iter().find(|(name, _)| *name == k) {
            Some((_, Some(v))) => Some(v.clone()),
            _ => std::env::var(k).ok(),
        })
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let v = Vars(get);
        let database_url = v.string("DATABASE_URL", DEFAULT_DATABASE_URL);
        let is_postgres = check_database_url(&database_url)?;
        let max_default = if is_postgres { 60 } else { 8 };
        let db = DbOptions {
            max_connections: v.parse(
                "DB_MAX_CONNECTIONS",
                max_default,
                "a whole number from 1 to 10000",
                |n| (1..=10_000).contains(n),
            )?,
            min_connections: v.parse(
                "DB_MIN_CONNECTIONS",
                0,
                "a whole number from 0 to 10000",
                |n| *n <= 10_000,
            )?,
            acquire_timeout: v.millis("DB_CONNECTION_TIMEOUT", 30_000, 1)?,
            idle_timeout: v.millis("DB_IDLE_TIMEOUT", 600_000, 1_000)?,
            statement_timeout: v.millis("DB_STATEMENT_TIMEOUT", 10_000, 1)?,
            slow_query: v.millis("DB_SLOW_QUERY_MS", 200, 1)?,
            pool_mode: match v.raw("DB_POOL_MODE").as_deref().map(str::trim) {
                None | Some("direct") => PoolMode::Direct,
                Some("pgbouncer") if is_postgres => PoolMode::PgBouncer,
                Some("pgbouncer") => {
                    return Err(ConfigError {
                        var: "DB_POOL_MODE",
                        problem: "\"pgbouncer\" needs a postgres://… DATABASE_URL".into(),
                    });
                }
                Some(other) => {
                    return Err(invalid(
                        "DB_POOL_MODE",
                        "\"direct\" or \"pgbouncer\"",
                        other,
                    ));
                }
            },
            pooler_url: postgres_url_var(&v, "DATABASE_POOLER_URL", is_postgres)?,
            read_url: postgres_url_var(&v, "DATABASE_READ_URL", is_postgres)?,
            read_max_lag: v.millis("DATABASE_READ_MAX_LAG_MS", 1_000, 0)?,
        };
        if db.min_connections > db.max_connections {
            return Err(ConfigError {
                var: "DB_MIN_CONNECTIONS",
                problem: format!(
                    "must not exceed DB_MAX_CONNECTIONS ({})",
                    db.max_connections
                ),
            });
        }
        let jwt_secret = match v.raw("JWT_SECRET") {
            Some(s) if s.len() >= 32 => Some(Secret::new(s)),
            Some(_) => {
                return Err(ConfigError {
                    var: "JWT_SECRET",
                    problem: "must be at least 32 bytes long".into(),
                });
            }
            None if is_postgres => {
                return Err(ConfigError {
                    var: "JWT_SECRET",
                    problem:
                        "is required with PostgreSQL (every instance must sign with the same key); \
                              generate one with `openssl rand -hex 32`"
                            .into(),
                });
            }
            None => None,
        };
        let log_format = match v.raw("LOG_FORMAT").as_deref().map(str::trim) {
            None => {
                use std::io::IsTerminal;
                if std::io::stderr().is_terminal() {
                    LogFormat::Pretty
                } else {
                    LogFormat::Json
                }
            }
            Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(invalid("LOG_FORMAT", "\"pretty\" or \"json\"", other)),
        };
        let redis_url = redis_url::url(&v)?;
        let cache = CacheConfig {
            enabled: v.parse("CACHE_ENABLED", true, "true or false", |_| true)?,
            max_bytes: v.parse(
                "CACHE_MAX_BYTES",
                104_857_600,
                "a whole number of bytes, at least 1024",
                |n| *n >= 1024,
            )?,
            max_keys: v.parse(
                "CACHE_MAX_KEYS",
                10_000,
                "a whole number from 1 to 100000000",
                |n| (1..=100_000_000).contains(n),
            )?,
            default_ttl: v.millis("CACHE_DEFAULT_TTL_MS", 300_000, 1)?,
            policy: match v.raw("CACHE_POLICY").as_deref().map(str::trim) {
                None => DEFAULT_CACHE_POLICY,
                Some("lru") => Policy::Lru,
                Some("tinylfu") => Policy::TinyLfu,
                Some(other) => {
                    return Err(invalid("CACHE_POLICY", "\"lru\" or \"tinylfu\"", other));
                }
            },
            cleanup_interval: v.millis("CACHE_CLEANUP_INTERVAL_MS", 300_000, 10)?,
            redis_ca_cert: redis_url::ca_cert(&v, redis_url.as_deref())?,
            redis_url,
            redis_timeout: v.millis("REDIS_TIMEOUT_MS", 250, 1)?,
        };
        let admin_token = admin::token(&v)?;
        let ai_provider = match v.raw("AI_PROVIDER").as_deref().map(str::trim) {
            None | Some("local") => AiProvider::Local,
            Some("openai") => {
                let required = |var: &'static str| {
                    v.raw(var).map(|s| s.trim().to_owned()).ok_or(ConfigError {
                        var,
                        problem: "required when AI_PROVIDER=openai".into(),
                    })
                };
                let url = required("AI_API_URL")?;
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(invalid("AI_API_URL", "an http:// or https:// URL", &url));
                }
                AiProvider::OpenAi(OpenAiConfig {
                    url,
                    key: v.raw("AI_API_KEY").map(|k| Secret::new(k.trim())),
                    model: required("AI_MODEL")?,
                    retries: v.parse("AI_MAX_RETRIES", 2, "a whole number from 0 to 10", |n| {
                        *n <= 10
                    })?,
                })
            }
            Some(other) => return Err(invalid("AI_PROVIDER", "\"local\" or \"openai\"", other)),
        };
        let ai_concurrency = v.parse(
            "AI_MAX_CONCURRENCY",
            4,
            "a whole number from 1 to 1024",
            |n| (1..=1024).contains(n),
        )?;
        let ai_queue = v.parse(
            "AI_QUEUE_SIZE",
            32,
            "a whole number from 0 to 100000",
            |n| *n <= 100_000,
        )?;
        let ai_timeout = v.millis("AI_TIMEOUT_MS", 30_000, 1)?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let auth_hash_concurrency = v.parse(
            "AUTH_HASH_CONCURRENCY",
            cores,
            "a whole number from 1 to 1024",
            |n| (1..=1024).contains(n),
        )?;
        // Two rounds of hashing: at ~20 ms a hash, the last in line starts within ~40 ms.
        let auth_hash_queue = v.parse(
            "AUTH_HASH_QUEUE",
            2 * auth_hash_concurrency,
            "a whole number from 0 to 100000",
            |n| *n <= 100_000,
        )?;
        let auth_hash_max_wait = v.millis("AUTH_HASH_MAX_WAIT_MS", 50, 1)?;
        let slow_request = v.millis("SLOW_REQUEST_MS", 1_000, 1)?;
        let critical_request = v.millis("CRITICAL_REQUEST_MS", 5_000, 1)?;
        if critical_request < slow_request {
            return Err(ConfigError {
                var: "CRITICAL_REQUEST_MS",
                problem: format!(
                    "must be at least SLOW_REQUEST_MS ({} ms)",
                    slow_request.as_millis()
                ),
            });
        }
        Ok(Config {
            guard: guard::parse(&v)?,
            http: http::parse(&v)?,
            idempotency_ttl: idempotency::parse(&v)?,
            cache,
            admin_token,
            host: v.string("HOST", "127.0.0.1"),
            port: v.parse("PORT", 8787, "a port number from 0 to 65535", |_| true)?,
            database_url,
            db,
            jwt_secret,
            jwt_ttl: Duration::from_secs(v.parse(
                "JWT_TTL_SECONDS",
                3600,
                "a whole number of seconds from 60 to 31536000",
                |s| (60..=31_536_000).contains(s),
            )?),
            log_format,
            request_timeout: v.millis("REQUEST_TIMEOUT_MS", 30_000, 100)?,
            shutdown_timeout: v.millis("SHUTDOWN_TIMEOUT_MS", 30_000, 0)?,
            monitor_interval: v.millis("MONITOR_INTERVAL_MS", 30_000, 1_000)?,
            slow_request,
            critical_request,
            ai_provider,
            ai_concurrency,
            ai_queue,
            ai_timeout,
            auth_hash_concurrency,
            auth_hash_queue,
            auth_hash_max_wait,
        })
    }

    pub fn is_sqlite(&self) -> bool {
        scheme(&self.database_url) == Some("sqlite")
    }

    /// The folder of the SQLite file, where the generated JWT secret is kept.
    pub fn data_dir(&self) -> Option<PathBuf> {
        if !self.is_sqlite() {
            return None;
        }
        let path = self
            .database_url
            .trim_start_matches("sqlite:")
            .trim_start_matches("//");
        let path = path.split('?').next().unwrap_or(path);
        let parent = PathBuf::from(path).parent()?.to_path_buf();
        Some(if parent.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            parent
        })
    }

    /// `KEY=value` lines of the effective configuration, secrets redacted.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let ms = |d: Duration| d.as_millis();
        let jwt = match &self.jwt_secret {
            Some(_) => "*** (set)".to_owned(),
            None => format!(
                "(generated, kept in {})",
                self.data_dir()
                    .unwrap_or_default()
                    .join(crate::auth::SECRET_FILE)
                    .display()
            ),
        };
        let unset = || "(unset)".to_owned();
        let openai = match &self.ai_provider {
            AiProvider::OpenAi(o) => Some(o),
            AiProvider::Local => None,
        };
        let lines = [
            ("HOST", self.host.clone()),
            ("PORT", self.port.to_string()),
            ("DATABASE_URL", redact_url(&self.database_url)),
            ("DB_MAX_CONNECTIONS", self.db.max_connections.to_string()),
            ("DB_MIN_CONNECTIONS", self.db.min_connections.to_string()),
            (
                "DB_CONNECTION_TIMEOUT",
                ms(self.db.acquire_timeout).to_string(),
            ),
            ("DB_IDLE_TIMEOUT", ms(self.db.idle_timeout).to_string()),
            (
                "DB_STATEMENT_TIMEOUT",
                ms(self.db.statement_timeout).to_string(),
            ),
            ("DB_SLOW_QUERY_MS", ms(self.db.slow_query).to_string()),
            ("DB_POOL_MODE", self.db.pool_mode.as_str().to_owned()),
            (
                "DATABASE_POOLER_URL",
                self.db
                    .pooler_url
                    .as_deref()
                    .map_or("(unset)".to_owned(), redact_url),
            ),
            (
                "DATABASE_READ_URL",
                self.db
                    .read_url
                    .as_deref()
                    .map_or("(unset)".to_owned(), redact_url),
            ),
            (
                "DATABASE_READ_MAX_LAG_MS",
                ms(self.db.read_max_lag).to_string(),
            ),
            ("JWT_SECRET", jwt),
            ("JWT_TTL_SECONDS", self.jwt_ttl.as_secs().to_string()),
            (
                "LOG_FORMAT",
                format!("{:?}", self.log_format).to_lowercase(),
            ),
            ("REQUEST_TIMEOUT_MS", ms(self.request_timeout).to_string()),
            ("SHUTDOWN_TIMEOUT_MS", ms(self.shutdown_timeout).to_string()),
            ("MONITOR_INTERVAL_MS", ms(self.monitor_interval).to_string()),
            ("SLOW_REQUEST_MS", ms(self.slow_request).to_string()),
            ("CRITICAL_REQUEST_MS", ms(self.critical_request).to_string()),
            ("AI_PROVIDER", self.ai_provider.name().to_owned()),
            ("AI_API_URL", openai.map_or(unset(), |o| redact_url(&o.url))),
            (
                "AI_API_KEY",
                openai.map_or(unset(), |o| match o.key {
                    Some(_) => "*** (set)".into(),
                    None => unset(),
                }),
            ),
            ("AI_MODEL", openai.map_or(unset(), |o| o.model.clone())),
            (
                "AI_MAX_RETRIES",
                openai.map_or(unset(), |o| o.retries.to_string()),
            ),
            ("AI_MAX_CONCURRENCY", self.ai_concurrency.to_string()),
            ("AI_QUEUE_SIZE", self.ai_queue.to_string()),
            ("AI_TIMEOUT_MS", ms(self.ai_timeout).to_string()),
            (
                "AUTH_HASH_CONCURRENCY",
                self.auth_hash_concurrency.to_string(),
            ),
            ("AUTH_HASH_QUEUE", self.auth_hash_queue.to_string()),
            (
                "AUTH_HASH_MAX_WAIT_MS",
                ms(self.auth_hash_max_wait).to_string(),
            ),
            ("CACHE_ENABLED", self.cache.enabled.to_string()),
            ("CACHE_MAX_BYTES", self.cache.max_bytes.to_string()),
            ("CACHE_MAX_KEYS", self.cache.max_keys.to_string()),
            (
                "CACHE_DEFAULT_TTL_MS",
                ms(self.cache.default_ttl).to_string(),
            ),
            ("CACHE_POLICY", self.cache.policy.name().to_owned()),
            (
                "CACHE_CLEANUP_INTERVAL_MS",
                ms(self.cache.cleanup_interval).to_string(),
            ),
            (
                "REDIS_URL",
                self.cache
                    .redis_url
                    .as_deref()
                    .map_or("(unset)".into(), redact_url),
            ),
            (
                "REDIS_CA_CERT",
                self.cache
                    .redis_ca_cert
                    .as_ref()
                    .map_or("(unset: the system's roots for rediss://)".into(), |p| {
                        p.display().to_string()
                    }),
            ),
            ("REDIS_TIMEOUT_MS", ms(self.cache.redis_timeout).to_string()),
            (
                "ADMIN_TOKEN",
                if self.admin_token.is_some() {
                    "*** (set)"
                } else {
                    "(unset: admin routes off)"
                }
                .to_owned(),
            ),
        ];
        for (k, v) in lines
            .into_iter()
            .chain(self.guard.render())
            .chain(self.http.render())
            .chain(idempotency::render(self.idempotency_ttl))
        {
            let _ = writeln!(out, "{k}={v}");
        }
        out
    }
}

/// `true` for PostgreSQL, `false` for SQLite; anything else is an error.
/// An optional PostgreSQL URL that only makes sense when `DATABASE_URL` is PostgreSQL too.
fn postgres_url_var<F: Fn(&str) -> Option<String>>(
    v: &Vars<F>,
    var: &'static str,
    is_postgres: bool,
) -> Result<Option<String>, ConfigError> {
    let Some(url) = v.raw(var) else {
        return Ok(None);
    };
    if !matches!(scheme(&url), Some("postgres" | "postgresql")) {
        return Err(invalid(var, "a postgres://… URL", &redact_url(&url)));
    }
    if !is_postgres {
        return Err(ConfigError {
            var,
            problem: "needs a postgres://… DATABASE_URL".into(),
        });
    }
    Ok(Some(url))
}

fn check_database_url(url: &str) -> Result<bool, ConfigError> {
    match scheme(url) {
        Some("sqlite") => Ok(false),
        Some("postgres" | "postgresql") => Ok(true),
        _ => Err(invalid(
            "DATABASE_URL",
            "a sqlite://… or postgres://… URL",
            &redact_url(url),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_configuration() {
        let c = config(&[]).unwrap();
        assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 8787));
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert!(c.jwt_secret.is_none());
        assert_eq!(c.data_dir(), Some(PathBuf::from("data")));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = config(&[("PORT", "eighty")]).unwrap_err();
        assert_eq!(e.var, "PORT");
        assert!(e.to_string().contains("eighty"), "{e}");
        assert_eq!(
            config(&[("DB_MAX_CONNECTIONS", "0")]).unwrap_err().var,
            "DB_MAX_CONNECTIONS"
        );
        assert_eq!(
            config(&[("DB_CONNECTION_TIMEOUT", "-5")]).unwrap_err().var,
            "DB_CONNECTION_TIMEOUT"
        );
        assert_eq!(
            config(&[("LOG_FORMAT", "xml")]).unwrap_err().var,
            "LOG_FORMAT"
        );
        assert_eq!(
            config(&[("JWT_SECRET", "short")]).unwrap_err().var,
            "JWT_SECRET"
        );
        for (var, bad) in [
            ("AUTH_HASH_CONCURRENCY", "0"),
            ("AUTH_HASH_QUEUE", "many"),
            ("AUTH_HASH_MAX_WAIT_MS", "0"),
            ("REDIS_URL", "http://127.0.0.1:6379"),
        ] {
            assert_eq!(config(&[(var, bad)]).unwrap_err().var, var);
        }
    }

    #[test]
    fn the_hashing_queue_defaults_to_two_rounds_of_the_concurrency() {
        let c = config(&[("AUTH_HASH_CONCURRENCY", "3")]).unwrap();
        assert_eq!((c.auth_hash_concurrency, c.auth_hash_queue), (3, 6));
        assert_eq!(c.auth_hash_max_wait, Duration::from_millis(50));
        let c = config(&[("AUTH_HASH_QUEUE", "0"), ("AUTH_HASH_MAX_WAIT_MS", "250")]).unwrap();
        assert_eq!(c.auth_hash_queue, 0);
        let shown = c.render();
        assert!(shown.contains("AUTH_HASH_QUEUE=0\n"), "{shown}");
        assert!(shown.contains("AUTH_HASH_MAX_WAIT_MS=250\n"), "{shown}");
    }

    #[test]
    fn unknown_schemes_are_refused_and_postgres_needs_a_secret() {
        let e = config(&[("DATABASE_URL", "mysql://root:pw@localhost/db")]).unwrap_err();
        assert_eq!(e.var, "DATABASE_URL");
        assert!(!e.to_string().contains("pw@"), "password leaked: {e}");
        let e = config(&[("DATABASE_URL", "postgres://localhost/db")]).unwrap_err();
        assert_eq!(e.var, "JWT_SECRET");
        let secret = "x".repeat(32);
        let c = config(&[
            ("DATABASE_URL", "postgres://u:pw@localhost/db"),
            ("JWT_SECRET", &secret),
        ])
        .unwrap();
        assert_eq!(c.db.max_connections, 60);
        let shown = c.render();
        assert!(
            shown.contains("DATABASE_URL=postgres://u:***@localhost/db"),
            "{shown}"
        );
        assert!(shown.contains("JWT_SECRET=*** (set)"));
        assert!(!shown.contains(&secret));
    }

    #[test]
    fn openai_needs_an_endpoint_and_a_model_and_hides_the_key() {
        let e = config(&[("AI_PROVIDER", "openai")]).unwrap_err();
        assert_eq!(e.var, "AI_API_URL");
        let e = config(&[("AI_PROVIDER", "openai"), ("AI_API_URL", "ftp://x")]).unwrap_err();
        assert_eq!(e.var, "AI_API_URL");
        let e = config(&[("AI_PROVIDER", "openai"), ("AI_API_URL", "http://x/v1")]).unwrap_err();
        assert_eq!(e.var, "AI_MODEL");
        let base = [
            ("AI_PROVIDER", "openai"),
            ("AI_API_URL", "https://api.example.com/v1"),
            ("AI_MODEL", "gpt-test"),
            ("AI_API_KEY", "sk-very-secret"),
        ];
        let e = config(&[&base[..], &[("AI_MAX_RETRIES", "11")]].concat()).unwrap_err();
        assert_eq!(e.var, "AI_MAX_RETRIES");
        let c = config(&base).unwrap();
        let AiProvider::OpenAi(o) = &c.ai_provider else {
            panic!("{:?}", c.ai_provider)
        };
        assert_eq!((o.model.as_str(), o.retries), ("gpt-test", 2));
        assert_eq!(o.key.as_ref().map(Secret::expose), Some("sk-very-secret"));
        let shown = c.render();
        assert!(shown.contains("AI_PROVIDER=openai"), "{shown}");
        assert!(shown.contains("AI_API_KEY=*** (set)"), "{shown}");
        assert!(!shown.contains("sk-very-secret"), "{shown}");
        assert_eq!(config(&[]).unwrap().ai_provider, AiProvider::Local);
    }
}
