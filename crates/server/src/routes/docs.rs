//! `/api/openapi.json` and the browsable docs at `/docs`: Swagger UI, vendored into the
//! binary (see `assets/docs/VERSION`), so the page works offline and loads nothing from a
//! CDN.

use axum::Router;
use axum::http::header;
use axum::response::Redirect;
use axum::routing::get;
use std::sync::Arc;

const INDEX: &str = include_str!("../../assets/docs/index.html");
const BUNDLE: &[u8] = include_bytes!("../../assets/docs/swagger-ui-bundle.js");
const CSS: &[u8] = include_bytes!("../../assets/docs/swagger-ui.css");

pub fn routes<S: Clone + Send + Sync + 'static>(openapi: utoipa::openapi::OpenApi) -> Router<S> {
    let json: Arc<str> = serde_json::to_string_pretty(&crate::openapi::document(openapi))
        .expect("OpenAPI serializes")
        .into();
    let cached = |mime: &'static str, body: &'static [u8]| {
        move || async move {
            (
                [
                    (header::CONTENT_TYPE, mime),
                    (header::CACHE_CONTROL, "public, max-age=86400"),
                ],
                body,
            )
        }
    };
    Router::new()
        .route(
            "/api/openapi.json",
            get(move || {
                let json = json.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        json.to_string(),
                    )
                }
            }),
        )
        .route("/docs", get(|| async { axum::response::Html(INDEX) }))
        .route("/docs/", get(|| async { Redirect::permanent("/docs") }))
        .route(
            "/docs/swagger-ui-bundle.js",
            get(cached("text/javascript; charset=utf-8", BUNDLE)),
        )
        .route(
            "/docs/swagger-ui.css",
            get(cached("text/css; charset=utf-8", CSS)),
        )
}
