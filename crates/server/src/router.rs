//! Every route in one place, and the layers around them.

use crate::app::AppState;
use crate::error::ApiError;
use crate::guard;
use crate::routes::tracker::{contacts, interviews, links, notes, tasks};
use crate::routes::{
    admin, ai, analytics, auth, dashboard, docs, education, employment, export, health, import,
    jobs, metrics, profile, sessions, skills,
};
use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const REQUEST_ID: HeaderName = guard::request_id::HEADER;

pub fn router(state: AppState) -> Router {
    let (api, openapi) = api_routes().split_for_parts();
    let timeout = state.config.request_timeout;
    let api = api.route_layer(middleware::from_fn_with_state(
        state.clone(),
        crate::idempotency::layer,
    ));
    let routes = api
        .merge(docs::routes(openapi))
        .route("/metrics", axum::routing::get(metrics::prometheus))
        .merge(dashboard::routes());
    with_middleware(routes, timeout, Some(state.clone())).with_state(state)
}

/// The fallbacks and layers every route gets: request id (taken from the request when
/// short and printable, else generated) on the span and the response, a log line per request, the security headers,
/// CORS, the request metrics, the body read whole (413 past the limit, 408 when it stalls)
/// and load shedding (metrics and shedding when `monitor` is given),
/// panics turned into a 500 envelope, the request deadline and the body limit.
fn with_middleware<S: Clone + Send + Sync + 'static>(
    routes: Router<S>,
    timeout: Duration,
    monitor: Option<AppState>,
) -> Router<S> {
    let cors = monitor
        .as_ref()
        .and_then(|s| guard::headers::cors_layer(&s.config.guard.cors_origins));
    let body_timeout = monitor
        .as_ref()
        .map_or(Duration::from_secs(5), |s| s.config.http.body_read_timeout);
    routes
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not accept that method",
            )
        })
        .layer(
            ServiceBuilder::new()
                .layer(middleware::map_request(guard::request_id::sanitize))
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|req: &Request| {
                            let route = req
                                .extensions()
                                .get::<MatchedPath>()
                                .map_or("<unmatched>", |p| p.as_str());
                            let id = req
                                .headers()
                                .get(REQUEST_ID)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("");
                            let span = tracing::info_span!("request", method = %req.method(), route, request_id = id, peer = tracing::field::Empty);
                            // The TCP peer (a proxy's address behind one): what an operator
                            // needs to fill TRUSTED_PROXIES.
                            if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
                                span.record("peer", tracing::field::display(peer.ip()));
                            }
                            span
                        })
                        .on_response(DefaultOnResponse::new().level(Level::INFO))
                        // 5xx answers are logged where they are made, with their cause
                        // (warn for 503s, error for 500s); not again as "response failed".
                        .on_failure(()),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(middleware::map_response(guard::headers::secure))
                .option_layer(cors)
                .layer(middleware::from_fn_with_state(
                    monitor.clone(),
                    crate::monitor::middleware::track,
                ))
                // The body arrives before the request counts against the in-flight limit.
                .layer(middleware::from_fn_with_state(
                    body_timeout,
                    guard::body::buffer,
                ))
                .layer(middleware::from_fn_with_state(monitor, guard::shed::limit))
                .layer(CatchPanicLayer::custom(|_| {
                    ApiError::internal("handler panicked").into_response()
                }))
                .layer(middleware::from_fn_with_state(timeout, request_timeout))
                .layer(DefaultBodyLimit::max(crate::config::BODY_LIMIT_BYTES)),
        )
}

/// The documented API: every route here appears in `/api/openapi.json`.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::ApiDoc::openapi())
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::me))
        .routes(routes!(sessions::logout))
        .routes(routes!(sessions::change_password))
        .routes(routes!(auth::delete_account))
        .routes(routes!(profile::get_profile, profile::put_profile))
        .routes(routes!(skills::list, skills::create))
        .routes(routes!(skills::get, skills::update, skills::delete))
        .routes(routes!(education::list, education::create))
        .routes(routes!(
            education::get,
            education::update,
            education::delete
        ))
        .routes(routes!(employment::list, employment::create))
        .routes(routes!(
            employment::get,
            employment::update,
            employment::delete
        ))
        .routes(routes!(jobs::list_jobs, jobs::create_job))
        .routes(routes!(jobs::job_stats))
        .routes(routes!(jobs::get_job, jobs::update_job, jobs::delete_job))
        .routes(routes!(jobs::list_events))
        .routes(routes!(contacts::list, contacts::create))
        .routes(routes!(contacts::get, contacts::update, contacts::delete))
        .routes(routes!(links::list, links::put))
        .routes(routes!(interviews::list))
        .routes(routes!(
            interviews::list_for_job,
            interviews::create_for_job
        ))
        .routes(routes!(
            interviews::get,
            interviews::update,
            interviews::delete
        ))
        .routes(routes!(tasks::list, tasks::create))
        .routes(routes!(tasks::list_for_job, tasks::create_for_job))
        .routes(routes!(tasks::get, tasks::update, tasks::delete))
        .routes(routes!(tasks::rules::list, tasks::rules::create))
        .routes(routes!(
            tasks::rules::get,
            tasks::rules::update,
            tasks::rules::delete
        ))
        .routes(routes!(notes::list_for_job, notes::create_for_job))
        .routes(routes!(notes::list_for_contact, notes::create_for_contact))
        .routes(routes!(notes::get, notes::update, notes::delete))
        .routes(routes!(export::jobs_csv))
        .routes(routes!(import::jobs))
        .routes(routes!(analytics::job_analytics))
        .routes(routes!(ai::resume))
        .routes(routes!(ai::cover_letter))
        .routes(routes!(ai::list))
        .routes(routes!(ai::get, ai::put, ai::delete))
        .routes(routes!(health::health))
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
        .routes(routes!(admin::cache_stats))
        .routes(routes!(admin::cache_flush))
        .routes(routes!(dashboard::recent))
}

/// No request runs longer than `REQUEST_TIMEOUT_MS`: past it the client gets a 503.
async fn request_timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            let mut e = ApiError::unavailable("the request took too long and was cancelled", 1);
            e.code = "timeout";
            e.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    async fn panics() -> &'static str {
        panic!("boom: secret detail")
    }

    async fn call(path: &str) -> (StatusCode, serde_json::Value, bool) {
        let app = with_middleware(
            Router::new()
                .route(
                    "/slow",
                    get(|| async {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        "late"
                    }),
                )
                .route("/panic", get(panics)),
            Duration::from_millis(50),
            None,
        );
        let res = app
            .oneshot(axum::http::Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let has_id = res.headers().contains_key(REQUEST_ID);
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap(), has_id)
    }

    #[tokio::test]
    async fn a_slow_request_is_cut_off_with_a_503() {
        let started = std::time::Instant::now();
        let (status, body, has_id) = call("/slow").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["error"]["code"], "timeout");
        assert!(has_id);
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn a_panic_is_a_500_that_says_nothing_internal() {
        let (status, body, has_id) = call("/panic").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["code"], "internal");
        assert!(!body.to_string().contains("secret detail"));
        assert!(has_id);
    }
}
