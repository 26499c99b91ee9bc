//! Response headers every answer carries: the browser security headers (no sniffing, no
//! framing, no referrer, a Content-Security-Policy — strict for data, the pages' own for
//! `/docs` and `/dashboard`), `Cache-Control: no-store` unless a route chose otherwise (the
//! API's answers are private), and CORS for the origins in `CORS_ORIGINS`.

use crate::config::CorsOrigins;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::Response;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// JSON and everything that is not a page: nothing may load, nothing may frame it.
const CSP_DATA: &str = "default-src 'none'; frame-ancestors 'none'";
/// The HTML pages (Swagger UI, the dashboard): their own scripts, styles and data: images;
/// an inline bootstrap script in Swagger UI's page.
const CSP_PAGE: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Adds the security headers a route did not set itself.
pub async fn secure(mut res: Response) -> Response {
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let csp = if html { CSP_PAGE } else { CSP_DATA };
    let h = res.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        (header::CONTENT_SECURITY_POLICY, csp),
        // Browsers heed it only over HTTPS, i.e. behind a TLS-terminating proxy.
        (
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ),
    ] {
        h.entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    }
    res
}

/// `None` when no origin is allowed: no CORS headers at all, so browsers keep the
/// same-origin rule.
pub fn cors_layer(origins: &CorsOrigins) -> Option<CorsLayer> {
    let allow = match origins {
        CorsOrigins::None => return None,
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        ),
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("x-request-id"),
            ])
            .expose_headers([
                HeaderName::from_static("x-request-id"),
                HeaderName::from_static("x-cache"),
                header::RETRY_AFTER,
            ])
            .max_age(Duration::from_secs(3600)),
    )
}
