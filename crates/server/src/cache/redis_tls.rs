//! The Redis client for a `REDIS_URL`: `redis://` in the clear, `rediss://` over TLS
//! (rustls, as hosted Redis services require), trusting the system's roots or, with
//! `REDIS_CA_CERT`, that PEM file's certificates only.

use std::path::Path;

pub fn client(url: &str, ca_cert: Option<&Path>) -> Result<redis::Client, String> {
    let redacted = || flowats_db::store::redact_url(url);
    let tls = flowats_db::store::scheme(url) == Some("rediss");
    if tls {
        // rustls picks the process-wide provider (ring), as every other TLS client here.
        crate::install_tls_provider();
    }
    let client = match ca_cert {
        Some(path) if tls => {
            let pem = std::fs::read(path)
                .map_err(|e| format!("REDIS_CA_CERT: cannot read {}: {e}", path.display()))?;
            let certs = redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(pem),
            };
            redis::Client::build_with_tls(url, certs)
        }
        Some(_) => return Err("REDIS_CA_CERT: needs a rediss:// REDIS_URL".into()),
        None => redis::Client::open(url),
    };
    client.map_err(|e| format!("REDIS_URL {}: {e}", redacted()))
}
