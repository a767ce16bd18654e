//! `/calendar`: where a person gets the address of their calendar feed for each council they
//! work at, reads what it holds, and revokes it.
//!
//! The address carries a feed token, so it is shown once, in the answer to the form that made
//! it (never in an address of ours, a redirect or a log), and kept only as a digest. Revoking it
//! stops it at once.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Utc;
use chrono_tz::Europe::London;
use councilflow_api::graphql::feed_address;
use councilflow_governance::{CouncilId, PersonId, ReadScope};
use serde::Deserialize;
use serde_json::{json, Value};

use super::entries::entries;
use crate::auth::{signed_in, to_sign_in};
use crate::pages::{not_found, not_found_for, viewer, when};
use crate::render::{page, Page};
use crate::Web;

/// Upcoming entries shown for each council.
const UPCOMING: usize = 5;

#[derive(Deserialize)]
pub(crate) struct CalendarQuery {
    done: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct NewFeed {
    council: String,
}

/// What the page shows: each council the person works at, with what its calendar holds and
/// their feeds of it.
fn render(web: &Web, person: &PersonId, created: Option<Value>, notice: Option<&str>) -> Response {
    let state = web.service.read();
    let projections = &state.projections;
    let me = viewer(projections, person);
    let today = Utc::now().with_timezone(&London).date_naive();
    let feeds = web.service.tokens().calendar_feeds_of(person);
    let councils: Vec<Value> = me["councils"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let id = CouncilId::parse(c["id"].as_str()?).ok()?;
            let (name, all) = entries(projections, &id)?;
            let upcoming: Vec<Value> = all
                .iter()
                .filter(|e| e.date >= today)
                .take(UPCOMING)
                .map(|e| json!({ "date": e.date.format("%-d %B %Y").to_string(), "summary": e.summary, "plan": e.plan }))
                .collect();
            let mine: Vec<Value> = feeds
                .iter()
                .filter(|f| f.council == id)
                .map(|f| json!({ "id": f.id, "created": when(f.created_at) }))
                .collect();
            Some(json!({
                "id": id, "name": name, "count": all.len(), "upcoming": upcoming, "feeds": mine,
            }))
        })
        .collect();
    let mut p = Page::new("calendar.html", "Your calendar")
        .with("viewer", me)
        .with("councils", councils)
        .with("created", created);
    if let Some(notice) = notice {
        p = p.with("notice", notice);
    }
    page(p)
}

/// `GET /calendar`.
pub(crate) async fn show(
    State(web): State<Web>,
    Query(query): Query<CalendarQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(person) = signed_in(&web, &headers) else {
        return to_sign_in("/calendar");
    };
    let notice = match query.done.as_deref() {
        Some("revoked") => Some("Calendar feed revoked: its address no longer works"),
        _ => None,
    };
    render(&web, &person, None, notice)
}

/// `POST /calendar/feeds`: a new feed of one council's calendar, its address shown this once.
pub(crate) async fn create(
    State(web): State<Web>,
    headers: HeaderMap,
    Form(form): Form<NewFeed>,
) -> Response {
    let Some(person) = signed_in(&web, &headers) else {
        return to_sign_in("/calendar");
    };
    let council = {
        let state = web.service.read();
        let projections = &state.projections;
        let scope = ReadScope::of(projections.organisation(), &person);
        match CouncilId::parse(&form.council) {
            Ok(c) if projections.organisation().council(&c).is_some() && scope.council(&c) => c,
            _ => return not_found(viewer(projections, &person), "council of yours"),
        }
    };
    match web.service.tokens().issue_calendar_feed(&person, &council) {
        Ok((_, token)) => {
            let address = format!(
                "{}{}",
                web.settings.public_url.trim_end_matches('/'),
                feed_address(&council, &token)
            );
            let created = json!({ "council": council, "address": address });
            render(&web, &person, Some(created), None)
        }
        Err(e) => {
            tracing::error!(error = %e, "recording a calendar feed token");
            crate::render::internal_error()
        }
    }
}

/// `POST /calendar/feeds/{id}/revoke`: one of the person's own feeds, and no one else's.
pub(crate) async fn revoke(
    State(web): State<Web>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(person) = signed_in(&web, &headers) else {
        return to_sign_in("/calendar");
    };
    let tokens = web.service.tokens();
    if !tokens.calendar_feeds_of(&person).iter().any(|f| f.id == id) {
        return not_found_for(&web, &person, "calendar feed of yours");
    }
    match tokens.revoke_calendar_feed(&id) {
        Ok(()) => Redirect::to("/calendar?done=revoked").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "revoking a calendar feed token");
            crate::render::internal_error()
        }
    }
}
