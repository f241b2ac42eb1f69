//! The HTTP service: routes, authentication, limits, metrics, reload and shutdown.

mod dashboard;
mod metrics;
mod report_page;
mod routes;
mod state;
mod svg;

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

pub use report_page::report_html;
pub use routes::{ListResponse, OPENAPI};
pub use state::{resolve_artifacts, ServeConfig, Service};

use crate::error::{Result, ServerError};

/// The service's routes, with its limits, token check and metrics.
pub fn router(service: Service) -> Router {
    let writes = Router::new()
        .route("/v1/events", post(routes::post_events))
        .route(
            "/v1/items/{id}",
            axum::routing::put(routes::put_item).delete(routes::delete_item),
        )
        .route("/v1/admin/reload", post(routes::reload))
        .route_layer(middleware::from_fn_with_state(service.clone(), authorize));
    let reads = Router::new()
        .route(
            "/v1/users/{user}/recommendations",
            get(routes::user_recommendations),
        )
        .route(
            "/v1/recommendations",
            post(routes::anonymous_recommendations),
        )
        .route("/v1/items/{id}/similar", get(routes::similar))
        .route("/healthz", get(routes::healthz))
        .route("/readyz", get(routes::readyz))
        .route("/metrics", get(routes::metrics))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/v1/openapi.json", get(routes::openapi));
    // GET of an item shares its path with the write routes; merged below.
    let item_reads = Router::new().route("/v1/items/{id}", get(routes::get_item));
    reads
        .merge(writes.merge(item_reads))
        .route_layer(middleware::from_fn_with_state(service.clone(), observe))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(service.inner.config.max_body_bytes))
        .with_state(service)
}

/// Write and admin routes need `Authorization: Bearer <token>` when a token is configured.
async fn authorize(State(service): State<Service>, request: Request, next: Next) -> Response {
    let Some(token) = service.inner.config.token.as_deref() else {
        return next.run(request).await;
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        None => {
            let mut r = ServerError::Api {
                status: StatusCode::UNAUTHORIZED,
                code: "unauthorized",
                message: "this route needs Authorization: Bearer <token>".into(),
            }
            .into_response();
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            r
        }
        Some(t) if constant_time_eq(t.as_bytes(), token.as_bytes()) => next.run(request).await,
        Some(_) => ServerError::Api {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message: "the bearer token is wrong".into(),
        }
        .into_response(),
    }
}

/// Compares without stopping at the first difference, so timing does not leak the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Times each request out and records it in the metrics by route.
async fn observe(State(service): State<Service>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().to_string();
    let start = Instant::now();
    let timeout = service.inner.config.request_timeout;
    let response = match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(r) => r,
        Err(_) => ServerError::Api {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "timeout",
            message: format!("the request took longer than {} ms", timeout.as_millis()),
        }
        .into_response(),
    };
    service.inner.metrics.request(
        &route,
        &method,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}

/// Serves on `listener` until `shutdown` resolves; SIGHUP reloads the artifacts (on Unix).
/// Catalogue changes made through other replicas are picked up every
/// [`ServeConfig::sync_every`].
pub async fn serve(
    service: Service,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let sync = service.clone();
    let every = service.inner.config.sync_every;
    let syncer = tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            // A failed sync is retried at the next tick; /readyz shows a store outage.
            let _ = sync.sync_items().await;
        }
    });
    #[cfg(unix)]
    let hup = {
        let s = service.clone();
        tokio::spawn(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let Ok(mut hup) = signal(SignalKind::hangup()) else {
                return;
            };
            while hup.recv().await.is_some() {
                // Failures leave the old model serving; the reload route reports them.
                let _ = s.reload(None).await;
            }
        })
    };
    let app = router(service).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| ServerError::Internal(format!("the HTTP server stopped: {e}")));
    syncer.abort();
    #[cfg(unix)]
    hup.abort();
    result
}
