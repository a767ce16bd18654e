//! `GET /calendar/{council}.ics`: a council's calendar for calendar apps.
//!
//! A calendar app cannot send headers, so it subscribes with a feed token in the address
//! (`?feed=cfcal_...`): it reads that one council's calendar, as its person, while they hold a
//! role there, and signs in to nothing. Scripts may send `Authorization: Bearer` instead. A
//! bearer token in the address (`?token=`) is refused and never used.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use councilflow_governance::{CouncilId, ReadScope};
use serde::Deserialize;

use super::entries::{entries, ics};
use crate::integrators::bearer_person;
use crate::Web;

#[derive(Deserialize)]
pub(crate) struct FeedQuery {
    /// A bearer token put in the address: always refused, never used.
    token: Option<String>,
    feed: Option<String>,
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, format!("{}\n", message.into())).into_response()
}

pub(crate) async fn council_calendar(
    State(web): State<Web>,
    Path(file): Path<String>,
    Query(query): Query<FeedQuery>,
    headers: HeaderMap,
) -> Response {
    if query.token.is_some() {
        return crate::token_in_address();
    }
    let Some(Ok(council)) = file.strip_suffix(".ics").map(CouncilId::parse) else {
        return refuse(StatusCode::NOT_FOUND, "ask for /calendar/<council-id>.ics");
    };
    let person = match &query.feed {
        Some(token) => match web.service.tokens().calendar_feed(token) {
            // A feed opens its own council's calendar, and nothing else.
            Some(feed) if feed.council == council => feed.person,
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
        None => match bearer_person(&web, &headers) {
            Ok(person) => person,
            Err(refusal) => return *refusal,
        },
    };
    let state = web.service.read();
    let projections = &state.projections;
    // The calendar holds the council's internal deadlines: its people read it (a feed, only
    // while its person still holds a role there).
    if !ReadScope::of(projections.organisation(), &person).council(&council) {
        return refuse(
            StatusCode::FORBIDDEN,
            format!("the calendar of {council} is read by those who hold a role there"),
        );
    }
    match entries(projections, &council) {
        Some((name, entries)) => (
            [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
            ics(&name, &entries, &web.settings.public_url),
        )
            .into_response(),
        None => refuse(
            StatusCode::NOT_FOUND,
            format!("there is no council {council}"),
        ),
    }
}
