//! Live pages: a page says so when someone else's act has made it out of date.
//!
//! The plan page and a group's pages carry an empty polite live region, with the address of their
//! stream and the ledger position the page was rendered at. `assets/live.js` opens the stream
//! with `EventSource`; each act by someone else on what the page shows becomes one sentence in
//! the region ("Martin Ashby agreed revision 2 of the barriers section for Derbyshire Dales
//! District Council — refresh to see it"). Focus never moves and nothing else on the page changes;
//! without JavaScript the page is the same, and complete.
//!
//! - A stream reads the ledger's subscription from just after the page's position, or after
//!   `Last-Event-ID` (which the browser sends when it reconnects, after a restart say). Each
//!   event's id is its ledger position, so no act is missed between the page and its stream, or
//!   across a restart.
//! - Each event is judged once the projections have applied it, against the reader's roles as
//!   they are then (as the GraphQL subscriptions do): a reader is told only what they may read.
//!   A group's reader who may not open a member council's plan is told only that it changed, as
//!   the board shows its status.
//! - Streams end as soon as the server begins to stop, so a graceful shutdown never waits on them.
//! - One browser (one session) keeps at most [`STREAMS_PER_SESSION`] open; the next is refused
//!   with 429 and its page stays complete, without announcements. `live.js` closes a hidden tab's
//!   stream and reopens it from the last event when the tab is shown, so background tabs hold no
//!   connection (over HTTP/1.1 a browser keeps only six per site).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use councilflow_api::service::reads_event;
use councilflow_governance::{
    streams, CouncilId, GroupId, Organisation, PersonId, PlanId, Projections, ReadScope,
};
use councilflow_ledger::StoredEvent;
use futures_util::Stream;
use serde::Deserialize;
use sha2::Digest;

use crate::auth::signed_in;
use crate::pages::{council_name, person_name};
use crate::Web;

/// Streams one browser (one session) may have open at once.
const STREAMS_PER_SESSION: usize = 16;

/// The streams open per session (keyed by the session id's digest), so no one browser can hold
/// the server's memory in streams.
#[derive(Default)]
pub(crate) struct OpenStreams(Mutex<HashMap<String, usize>>);

/// One open stream, counted until it is dropped: the browser went away, or the server stops.
struct Held {
    streams: Arc<OpenStreams>,
    session: String,
}

impl OpenStreams {
    fn hold(self: &Arc<Self>, session: &str) -> Option<Held> {
        let session = hex::encode(sha2::Sha256::digest(session.as_bytes()));
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(session.clone()).or_default();
        if *count >= STREAMS_PER_SESSION {
            return None;
        }
        *count += 1;
        Some(Held {
            streams: self.clone(),
            session,
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut open = self.streams.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.session) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.session);
            }
        }
    }
}

/// What a stream is about.
#[derive(Clone)]
enum Topic {
    /// A plan's page: its own events and its groups' shared sections.
    Plan(PlanId),
    /// A group's board and shared-section pages: the group's sections and its members' plans.
    Group(GroupId),
}

/// Where a page's stream is, starting after `position`: for the page's template.
pub(crate) fn plan_stream(plan: &PlanId, position: u64) -> String {
    format!("/plans/{plan}/live?after={position}")
}

pub(crate) fn group_stream(group: &GroupId, position: u64) -> String {
    format!("/groups/{group}/live?after={position}")
}

#[derive(Deserialize)]
pub(crate) struct After {
    after: Option<u64>,
}

/// `GET /plans/{id}/live`: for those who may open the plan page.
pub(crate) async fn plan(
    State(web): State<Web>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(after): Query<After>,
) -> Response {
    open(
        web,
        &headers,
        after,
        PlanId::parse(&id).ok().map(Topic::Plan),
    )
}

/// `GET /groups/{id}/live`: for those who read the group's board.
pub(crate) async fn group(
    State(web): State<Web>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(after): Query<After>,
) -> Response {
    open(
        web,
        &headers,
        after,
        GroupId::parse(&id).ok().map(Topic::Group),
    )
}

/// A stream refused as its page is: 401 signed out, 404 for what the person may not read.
fn open(web: Web, headers: &HeaderMap, after: After, topic: Option<Topic>) -> Response {
    let Some(person) = signed_in(&web, headers) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let readable = topic.filter(|topic| {
        let state = web.service.read();
        topic.read_by(&state.projections, &person)
    });
    let Some(topic) = readable else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let held = web
        .cookie
        .read(headers)
        .and_then(|session| web.streams.hold(session));
    match held {
        Some(held) => stream(web, person, topic, headers, after, held),
        None => StatusCode::TOO_MANY_REQUESTS.into_response(),
    }
}

impl Topic {
    /// Whether `person` may open the page this stream is about.
    fn read_by(&self, projections: &Projections, person: &PersonId) -> bool {
        let org = projections.organisation();
        let scope = ReadScope::of(org, person);
        match self {
            Topic::Plan(plan) => projections
                .plan(plan)
                .is_some_and(|p| scope.plan(p).is_some()),
            Topic::Group(group) => {
                org.groups.contains_key(group) && scope.shared_sections(org, group)
            }
        }
    }
}

fn stream(
    web: Web,
    person: PersonId,
    topic: Topic,
    headers: &HeaderMap,
    after: After,
    held: Held,
) -> Response {
    // A reconnecting browser says where it got to; a first connection starts after the page.
    let resumed = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let from = match resumed.or(after.after) {
        Some(position) => position + 1,
        None => web.service.ledger().head().position + 1,
    };
    let subscription = web.service.ledger().subscribe(from);
    let events = announcements(web, person, topic, subscription, held);
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
        .into_response()
}

/// The sentences for `person`, as the events commit, until the ledger closes or the server
/// begins to stop. The stream is counted against its session for as long as it lives.
fn announcements(
    web: Web,
    person: PersonId,
    topic: Topic,
    subscription: councilflow_ledger::Subscription,
    held: Held,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let stopping = web.stopping.clone();
    futures_util::stream::unfold(
        (web, person, topic, subscription, stopping, held),
        |(web, person, topic, mut subscription, mut stopping, held)| async move {
            loop {
                let event = tokio::select! {
                    event = subscription.next() => event.ok()?,
                    _ = stopping.wait_for(|stop| *stop) => return None,
                };
                web.service.wait_for(event.position).await;
                let sentence = {
                    let state = web.service.read();
                    announce(&state.projections, &person, &topic, &event)
                };
                if let Some(sentence) = sentence {
                    let message = Event::default()
                        .id(event.position.to_string())
                        .data(sentence);
                    let state = (web, person, topic, subscription, stopping, held);
                    return Some((Ok(message), state));
                }
            }
        },
    )
}

/// The sentence `person` reads about `event` on a page about `topic`, if any.
fn announce(
    projections: &Projections,
    person: &PersonId,
    topic: &Topic,
    event: &StoredEvent,
) -> Option<String> {
    // Their own acts are answered by the page they acted on.
    if event.actor == person.as_str() {
        return None;
    }
    let org = projections.organisation();
    let plan_of_event = streams::plan_of(&event.stream).and_then(|p| projections.plan(&p));
    let group_of_event = streams::group_of(&event.stream);
    let about = match topic {
        Topic::Plan(plan) => {
            event.stream == streams::plan(plan)
                || group_of_event.as_ref().is_some_and(|g| {
                    projections
                        .plan(plan)
                        .is_some_and(|p| owned_in_group(org, g, &p.councils))
                })
        }
        Topic::Group(group) => {
            group_of_event.as_ref() == Some(group)
                || plan_of_event.is_some_and(|p| owned_in_group(org, group, &p.councils))
        }
    };
    if !about {
        return None;
    }
    let scope = ReadScope::of(org, person);
    if reads_event(projections, &scope, event) {
        let who = PersonId::parse(&event.actor)
            .map(|p| person_name(projections, &p))
            .unwrap_or_else(|_| event.actor.clone());
        let what = match group_of_event {
            Some(_) => shared_words(projections, event),
            None => crate::history::describe(&event.kind, &event.payload_json()),
        };
        return Some(format!("{who} {what} — refresh to see it"));
    }
    // The board shows every member plan's status, so its reader hears that one changed.
    match (topic, plan_of_event) {
        (Topic::Group(_), Some(plan)) => {
            let councils: Vec<String> = plan
                .councils
                .iter()
                .map(|c| council_name(projections, c))
                .collect();
            Some(format!(
                "The plan of {} has changed — refresh to see it",
                councils.join(" and ")
            ))
        }
        _ => None,
    }
}

/// Whether any of a plan's owning `councils` is a member of `group`.
fn owned_in_group(org: &Organisation, group: &GroupId, councils: &[CouncilId]) -> bool {
    org.group(group)
        .is_some_and(|g| councils.iter().any(|c| g.members.contains(c)))
}

/// A shared section's event in words.
fn shared_words(projections: &Projections, event: &StoredEvent) -> String {
    let payload = event.payload_json();
    let section = payload["section"].as_str().unwrap_or_default();
    let revision = payload["revision"].as_u64().unwrap_or_default();
    match event.kind.as_str() {
        "SharedSectionProposed" if revision == 1 => {
            format!("proposed the {section} section's first text")
        }
        "SharedSectionProposed" => format!("proposed revision {revision} of the {section} section"),
        "SharedSectionAgreed" => {
            let council = payload["council"]
                .as_str()
                .and_then(|c| CouncilId::parse(c).ok())
                .map(|c| council_name(projections, &c))
                .unwrap_or_default();
            format!("agreed revision {revision} of the {section} section for {council}")
        }
        other => other.to_owned(),
    }
}
