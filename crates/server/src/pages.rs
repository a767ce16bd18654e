//! The server's own route outside GraphQL and the web application, `/healthz`, and the headers
//! every response carries. (`/plans/{id}`, the link in reminders, and a council's calendar feed
//! `/calendar/{council}.ics` are the web application's.)

use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::Router;
use councilflow_api::Service;
use tower_http::set_header::SetResponseHeaderLayer;

pub fn router(service: Service) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .with_state(service)
}

/// Headers on every response: nothing private is kept by a browser or a proxy
/// (`Cache-Control: no-store`, unless the route says otherwise: only GraphiQL's public, versioned
/// assets do), and no page's address leaks to the sites it links to
/// (`Referrer-Policy: no-referrer`).
pub fn with_private_headers(router: Router) -> Router {
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}
