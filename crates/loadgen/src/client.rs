//! The one HTTP client of a run, and a request as the recorder sees it: sent, read to the
//! end, timed from a given start, and sorted into success, shed, bad status or failure.

use crate::stats::{Kind, Name, Recorder};
use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, Url};
use std::error::Error as _;
use std::time::{Duration, Instant};

/// The fixed URLs of the API routes the flows use.
pub struct Urls {
    pub login: Url,
    pub list: Url,
    pub jobs: Url,
    /// `POST /api/jobs?allow_duplicate=true`: the flows post the same job body again and
    /// again (as the seed's scenario does), which duplicate detection would refuse.
    pub create: Url,
    pub profile: Url,
    pub stats: Url,
    pub health: Url,
}

impl Urls {
    pub fn new(base: &str) -> anyhow::Result<Urls> {
        let mut base: Url = base
            .parse()
            .map_err(|e| anyhow::anyhow!("--target-url {base:?}: {e}"))?;
        if base.scheme() != "http" {
            anyhow::bail!(
                "--target-url {base}: only plain http:// is supported (no TLS in the generator)"
            );
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let at = |p: &str| base.join(p).expect("a relative path joins");
        Ok(Urls {
            login: at("api/auth/login"),
            list: at("api/jobs?page=1&limit=20"),
            jobs: at("api/jobs"),
            create: at("api/jobs?allow_duplicate=true"),
            profile: at("api/profile"),
            stats: at("api/jobs/stats"),
            health: at("api/health"),
        })
    }

    /// `/api/jobs?status=…&page=1&limit=20`
    pub fn filter(&self, status: &str) -> Url {
        let mut url = self.jobs.clone();
        url.set_query(Some(&format!("status={status}&page=1&limit=20")));
        url
    }

    /// `/api/jobs/{id}`
    pub fn job(&self, id: &str) -> Url {
        let mut url = self.jobs.clone();
        url.path_segments_mut().expect("http URL").push(id);
        url
    }
}

pub struct Http {
    client: reqwest::Client,
    pub urls: Urls,
}

const JSON: HeaderValue = HeaderValue::from_static("application/json");

impl Http {
    /// One client for the whole run: keeps every connection it opened for reuse.
    pub fn new(base: &str, timeout: Duration, http2: bool) -> anyhow::Result<Http> {
        // Plain http only, but see Cargo.toml: reqwest may be built with rustls here.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_max_idle_per_host(usize::MAX)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .user_agent(concat!("flowats-loadtest/", env!("CARGO_PKG_VERSION")));
        if http2 {
            builder = builder.http2_prior_knowledge();
        }
        Ok(Http {
            client: builder.build()?,
            urls: Urls::new(base)?,
        })
    }

    pub fn get(&self, url: Url, token: Option<&str>) -> RequestBuilder {
        let req = self.client.request(Method::GET, url);
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// A request with a JSON body already serialised.
    pub fn with_body(
        &self,
        method: Method,
        url: Url,
        token: Option<&str>,
        body: Bytes,
    ) -> RequestBuilder {
        let req = self
            .client
            .request(method, url)
            .header(CONTENT_TYPE, JSON)
            .body(body);
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// Sends `req` and reads the whole answer. Records it under `name` with the latency
    /// since `start`, and returns the body when the status is `expect`. Everything else is
    /// recorded and gives `None`: 503/429 with Retry-After as shed, another status as an
    /// error by status, no answer as an error by kind.
    pub async fn send(
        &self,
        rec: &Recorder,
        phase: usize,
        name: Name,
        req: RequestBuilder,
        expect: u16,
        start: Instant,
    ) -> Option<Bytes> {
        let res = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                rec.failed(phase, name, classify(&e), true);
                return None;
            }
        };
        let status = res.status().as_u16();
        let retry_after = res.headers().contains_key(RETRY_AFTER);
        let body = match res.bytes().await {
            Ok(b) => b,
            Err(e) => {
                rec.failed(phase, name, classify(&e), true);
                return None;
            }
        };
        let latency = Instant::now().saturating_duration_since(start);
        if status == expect {
            rec.ok(phase, name, latency);
            Some(body)
        } else if matches!(status, 503 | 429) && retry_after {
            rec.shed(phase, name, latency);
            None
        } else {
            rec.bad_status(phase, name, status);
            None
        }
    }
}

/// Which kind of failure a client error is.
pub fn classify(e: &reqwest::Error) -> Kind {
    if e.is_timeout() {
        return Kind::Timeout;
    }
    if e.is_connect() {
        return Kind::Connect;
    }
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            match io.kind() {
                TimedOut => return Kind::Timeout,
                ConnectionRefused => return Kind::Connect,
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => {
                    return Kind::Reset;
                }
                _ => {}
            }
        }
        // hyper's "connection closed before message completed" and the like.
        let text = s.to_string();
        if text.contains("closed") || text.contains("reset") || text.contains("incomplete") {
            return Kind::Reset;
        }
        source = s.source();
    }
    Kind::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_a_base_path_and_escape_ids() {
        let u = Urls::new("http://127.0.0.1:8787").unwrap();
        assert_eq!(
            u.list.as_str(),
            "http://127.0.0.1:8787/api/jobs?page=1&limit=20"
        );
        assert_eq!(u.job("abc").as_str(), "http://127.0.0.1:8787/api/jobs/abc");
        assert_eq!(
            u.filter("applied").as_str(),
            "http://127.0.0.1:8787/api/jobs?status=applied&page=1&limit=20"
        );
        let u = Urls::new("http://h:1/prefix").unwrap();
        assert_eq!(u.health.as_str(), "http://h:1/prefix/api/health");
        assert!(Urls::new("https://h").is_err());
        assert!(Urls::new("not a url").is_err());
    }
}
