//! The server's own routes outside GraphQL and the web application: `/healthz` and a council's
//! calendar feed, with the headers every response carries. (`/plans/{id}`, the link in
//! reminders, is the web application's: the plan page, or the document for a bearer token.)
//!
//! No credential is ever taken from an address: an address ends up in browser history, proxy
//! logs and `Referer` headers. A page reads the bearer token from the `Authorization` header
//! only; a calendar app, which cannot send headers, gets a calendar feed token instead, which
//! reads that one calendar and nothing else (`councilflow feed-token`, or `createCalendarFeed`).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use councilflow_api::graphql::Viewer;
use councilflow_api::Service;
use councilflow_governance::{CouncilId, ReadScope};
use tower_http::set_header::SetResponseHeaderLayer;

pub fn router(service: Service) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
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

/// `GET /calendar/{council}.ics?feed=<feed token>` (or with `Authorization: Bearer`): the
/// council's plan deadlines and committee dates, for those who hold a role there.
async fn council_calendar(
    State(service): State<Service>,
    Path(file): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    if query.token.is_some() {
        return councilflow_web::token_in_address();
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
