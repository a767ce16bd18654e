//! Events, pages of them, and what a mutation answers (the object it changed and its events).

use async_graphql::{Context, Json, Object, SimpleObject, ID};
use councilflow_governance::PersonId;
use councilflow_ledger as ledger;

use super::*;
use crate::graphql::scalars::Moment;

// ---- events and pages ----

pub struct EventObject(pub ledger::StoredEvent);

#[Object(name = "Event", serial)]
impl EventObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn cursor(&self) -> String {
        self.0.position.to_string()
    }
    async fn position(&self) -> i32 {
        int(self.0.position)
    }
    async fn stream(&self) -> &str {
        &self.0.stream
    }
    async fn version(&self) -> i32 {
        int(self.0.version)
    }
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    async fn at(&self) -> Moment {
        Moment(self.0.at)
    }
    async fn actor(&self, ctx: &Context<'_>) -> Option<PersonObject> {
        PersonId::parse(&self.0.actor)
            .ok()
            .and_then(|p| person(ctx, &p))
    }
    async fn payload(&self) -> Json<serde_json::Value> {
        Json(self.0.payload_json())
    }
    /// SHA-256 over the previous event's hash and this event's canonical bytes (hex).
    async fn hash(&self) -> String {
        self.0.hash.to_hex()
    }
    /// The previous event's hash (hex), to check the chain.
    async fn prev_hash(&self) -> String {
        self.0.prev_hash.to_hex()
    }
}

#[derive(SimpleObject)]
#[graphql(serial)]
pub struct PageInfo {
    pub(crate) has_next_page: bool,
    pub(crate) end_cursor: Option<String>,
}

#[derive(SimpleObject)]
#[graphql(serial)]
pub struct EventEdge {
    cursor: String,
    node: EventObject,
}

#[derive(SimpleObject)]
#[graphql(serial)]
pub struct EventConnection {
    edges: Vec<EventEdge>,
    page_info: PageInfo,
}

impl EventConnection {
    pub(crate) fn new(events: Vec<ledger::StoredEvent>, has_next_page: bool) -> EventConnection {
        let end = events.last().map(|e| e.position);
        EventConnection::page(events, has_next_page, end)
    }

    /// A page that ends at position `end`: its last event's, or a later one that was looked
    /// at and skipped.
    pub(crate) fn page(
        events: Vec<ledger::StoredEvent>,
        has_next_page: bool,
        end: Option<u64>,
    ) -> EventConnection {
        let end_cursor = end.map(|p| p.to_string());
        EventConnection {
            edges: events
                .into_iter()
                .map(|e| EventEdge {
                    cursor: e.position.to_string(),
                    node: EventObject(e),
                })
                .collect(),
            page_info: PageInfo {
                has_next_page,
                end_cursor,
            },
        }
    }
}

/// What a mutation on a plan returns.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct PlanPayload {
    pub plan: PlanObject,
    /// Events this mutation appended (empty when an idempotency key repeated an earlier call).
    pub events: Vec<EventObject>,
}

#[derive(SimpleObject)]
#[graphql(serial)]
pub struct SharedSectionPayload {
    pub shared_section: SharedSectionObject,
    pub events: Vec<EventObject>,
}
