//! The server's own pages outside GraphQL: `/healthz`, a plan's document (the link in reminders)
//! and a council's calendar feed, with the headers every response carries.
//!
//! No credential is ever taken from an address: an address ends up in browser history, proxy
//! logs and `Referer` headers. A page reads the bearer token from the `Authorization` header
//! only; a calendar app, which cannot send headers, gets a calendar feed token instead, which
//! reads that one calendar and nothing else (`councilflow feed-token`, or `createCalendarFeed`).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use councilflow_api::graphql::Viewer;
use councilflow_api::Service;
use councilflow_governance::{CouncilId, PlanId, ReadScope};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::cli::Format;

pub fn router(service: Service) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/plans/{id}", get(plan_page))
        .route("/calendar/{file}", get(council_calendar))
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

#[derive(serde::Deserialize)]
struct PageQuery {
    /// A bearer token put in the address: always refused, never used.
    token: Option<String>,
    /// A calendar feed token (calendar feeds only).
    feed: Option<String>,
}

/// A refusal before the page: its status and message.
type Refusal = (StatusCode, String);

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, format!("{}\n", message.into())).into_response()
}

/// A bearer token in an address is refused outright, so no one comes to rely on it.
fn token_in_address() -> Response {
    refuse(
        StatusCode::BAD_REQUEST,
        "a sign-in token is never put in an address (it would stay in browser history and proxy \
         logs): send it as `Authorization: Bearer <token>`; for a calendar app, use a calendar \
         feed address (`councilflow feed-token`, or the createCalendarFeed mutation)",
    )
}

/// What the viewer signed in by the `Authorization` header reads; otherwise the refusal.
fn page_viewer(service: &Service, headers: &HeaderMap) -> Result<ReadScope, Refusal> {
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match Viewer::from_header(service, header) {
        Viewer::Person(person) => Ok(ReadScope::of(
            service.read().projections.organisation(),
            &person,
        )),
        Viewer::Anonymous => Err((
            StatusCode::UNAUTHORIZED,
            "sign in: send `Authorization: Bearer <token>` (get a token with `councilflow token \
             --person <your id>`)"
                .to_owned(),
        )),
        Viewer::Rejected(why) => Err((StatusCode::UNAUTHORIZED, why)),
    }
}

/// `GET /plans/{id}`: the plan's document with its record of approvals (the link in reminders);
/// `GET /plans/{id}.json`: the plan's projection as JSON.
async fn plan_page(
    State(service): State<Service>,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    if query.token.is_some() {
        return token_in_address();
    }
    let scope = match page_viewer(&service, &headers) {
        Ok(scope) => scope,
        Err((status, message)) => return refuse(status, message),
    };
    // `/plans/<id>.json` is the same projection as JSON: the plain-HTTP baseline the GraphQL
    // benchmark compares against, and a simple read for scripts.
    let (id, json) = match id.strip_suffix(".json") {
        Some(id) => (id.to_owned(), true),
        None => (id, false),
    };
    let Ok(id) = PlanId::parse(&id) else {
        return refuse(StatusCode::BAD_REQUEST, format!("{id:?} is not a plan id"));
    };
    let read = service.read();
    // A plan the viewer may not read does not exist for them.
    let readable = read
        .projections
        .plan(&id)
        .is_some_and(|p| scope.plan(p).is_some());
    match read.projections.plan_view(&id).filter(|_| readable) {
        Some(view) if json => axum::Json(view).into_response(),
        Some(view) => Html(crate::document::render(
            &read.projections,
            &view,
            Format::Html,
        ))
        .into_response(),
        None => refuse(StatusCode::NOT_FOUND, format!("there is no plan {id}")),
    }
}

/// `GET /calendar/{council}.ics?feed=<feed token>` (or with `Authorization: Bearer`): the
/// council's plan deadlines and committee dates, for those who hold a role there.
async fn council_calendar(
    State(service): State<Service>,
    Path(file): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    if query.token.is_some() {
        return token_in_address();
    }
    let Some(Ok(council)) = file.strip_suffix(".ics").map(CouncilId::parse) else {
        return refuse(StatusCode::NOT_FOUND, "ask for /calendar/<council-id>.ics");
    };
    let scope = match &query.feed {
        Some(token) => match service.tokens().calendar_feed(token) {
            // A feed opens its own council's calendar, and nothing else.
            Some(feed) if feed.council == council => {
                ReadScope::of(service.read().projections.organisation(), &feed.person)
            }
            Some(_) => {
                return refuse(
                    StatusCode::FORBIDDEN,
                    format!("this feed token is for another council's calendar, not {council}'s"),
                )
            }
            None => {
                return refuse(
                    StatusCode::UNAUTHORIZED,
                    "this calendar feed token is not valid or was revoked",
                )
            }
        },
        None => match page_viewer(&service, &headers) {
            Ok(scope) => scope,
            Err((status, message)) => return refuse(status, message),
        },
    };
    // The calendar holds the council's internal deadlines: its people read it (a feed, only
    // while its person still holds a role there).
    if !scope.council(&council) {
        return refuse(
            StatusCode::FORBIDDEN,
            format!("the calendar of {council} is read by those who hold a role there"),
        );
    }
    match crate::calendar::council_calendar(&service.read().projections, &council) {
        Some(text) => (
            [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
            text,
        )
            .into_response(),
        None => refuse(
            StatusCode::NOT_FOUND,
            format!("there is no council {council}"),
        ),
    }
}
