//! Queries. Every root field needs a signed-in viewer (any valid token reads).

use async_graphql::{Context, Object, Result, ID};
use councilflow_governance::{
    CouncilId, GroupId, PersonId, PlanAccess, PlanId, Role, Scope, SectionId,
};

use super::objects::{
    self, council, group, page_size, parse_cursor, plan_connection, CouncilObject, EventConnection,
    GroupObject, PersonObject, PlanConnection, PlanObject, SharedSectionObject, WorkflowObject,
};
use super::scalars::Moment;
use super::{bad_input, forbidden, read_scope, service, service_error, viewer};
use crate::service::{reads_event, ServiceError};

pub struct QueryRoot;

/// Most ledger positions one page of the event feed looks through for events the viewer reads:
/// a viewer who reads little of a busy ledger gets short (even empty) pages that say where to
/// carry on, never one request that scans the whole log.
const FEED_SCAN: usize = 5_000;

pub(crate) fn parse_id<T>(
    what: &str,
    id: &str,
    parse: impl Fn(&str) -> std::result::Result<T, councilflow_governance::IdError>,
) -> Result<T> {
    parse(id).map_err(|e| bad_input(format!("{what} {id:?}: {e}")))
}

/// An optional id argument, parsed when present.
pub(crate) fn parse_opt_id<T>(
    what: &str,
    id: Option<ID>,
    parse: impl Fn(&str) -> std::result::Result<T, councilflow_governance::IdError>,
) -> Result<Option<T>> {
    id.map(|id| parse_id(what, &id, parse)).transpose()
}

#[Object(name = "Query", serial)]
impl QueryRoot {
    /// The signed-in person.
    async fn me(&self, ctx: &Context<'_>) -> Result<PersonObject> {
        let me = viewer(ctx)?;
        // Test builds only: a resolver that panics, to show it is caught on every transport.
        fail::fail_point!("resolve-me");
        objects::person(ctx, &me).ok_or_else(|| {
            service_error(ServiceError::Unauthenticated(format!(
                "{me} is not a known person"
            )))
        })
    }

    /// Every council in the organisation.
    async fn councils(&self, ctx: &Context<'_>) -> Result<Vec<CouncilObject>> {
        viewer(ctx)?;
        let state = service(ctx).read();
        Ok(state
            .projections
            .organisation()
            .councils
            .values()
            .cloned()
            .map(CouncilObject::of)
            .collect())
    }

    /// A council by id.
    async fn council(&self, ctx: &Context<'_>, id: ID) -> Result<Option<CouncilObject>> {
        viewer(ctx)?;
        let id = parse_id("council", &id, CouncilId::parse)?;
        Ok(council(ctx, &id))
    }

    /// Every group of councils (chief executives' groups, joint arrangements).
    async fn groups(&self, ctx: &Context<'_>) -> Result<Vec<GroupObject>> {
        viewer(ctx)?;
        let state = service(ctx).read();
        Ok(state
            .projections
            .organisation()
            .groups
            .values()
            .cloned()
            .map(GroupObject)
            .collect())
    }

    /// A group by id.
    async fn group(&self, ctx: &Context<'_>, id: ID) -> Result<Option<GroupObject>> {
        viewer(ctx)?;
        let id = parse_id("group", &id, GroupId::parse)?;
        Ok(group(ctx, &id))
    }

    /// Every loaded workflow definition.
    async fn workflows(&self, ctx: &Context<'_>) -> Result<Vec<WorkflowObject>> {
        viewer(ctx)?;
        let state = service(ctx).read();
        let workflows = state.projections.workflows();
        Ok(workflows
            .iter()
            .filter_map(|w| workflows.shared(&w.id))
            .map(WorkflowObject)
            .collect())
    }

    /// People holding roles, optionally only those at one council or group, or holding one role:
    /// of those the viewer reads (people holding roles where the viewer does).
    async fn people(
        &self,
        ctx: &Context<'_>,
        council: Option<ID>,
        group: Option<ID>,
        role: Option<String>,
    ) -> Result<Vec<PersonObject>> {
        let scope = read_scope(ctx)?;
        let council = parse_opt_id("council", council, CouncilId::parse)?;
        let group = parse_opt_id("group", group, GroupId::parse)?;
        let role = role
            .map(|r| Role::parse(&r).map_err(|e| bad_input(format!("role {r:?}: {e}"))))
            .transpose()?;
        let state = service(ctx).read();
        Ok(state
            .projections
            .organisation()
            .people
            .values()
            .filter(|p| scope.person(p))
            .filter(|p| {
                p.roles.iter().any(|a| {
                    role.is_none_or(|r| a.role == r)
                        && council
                            .as_ref()
                            .is_none_or(|c| a.scope == Scope::Council(c.clone()))
                        && group
                            .as_ref()
                            .is_none_or(|g| a.scope == Scope::Group(g.clone()))
                })
            })
            .cloned()
            .map(PersonObject::of)
            .collect())
    }

    /// The plan now, or as it stood at `asOf` (replayed from its history).
    async fn plan(
        &self,
        ctx: &Context<'_>,
        id: ID,
        as_of: Option<Moment>,
    ) -> Result<Option<PlanObject>> {
        let scope = read_scope(ctx)?;
        let id = parse_id("plan", &id, PlanId::parse)?;
        let service = service(ctx);
        let Some(Moment(as_of)) = as_of else {
            let state = service.read();
            return Ok(PlanObject::now(&state.projections, &id, &scope));
        };
        // Earlier states hold drafts: only the plan's councils read them.
        match service
            .read()
            .projections
            .plan(&id)
            .and_then(|p| scope.plan(p))
        {
            None => return Ok(None),
            Some(PlanAccess::Published) => {
                return Err(forbidden(format!(
                    "the earlier states of {id} are read only by its councils; the published \
                     plan is public"
                )))
            }
            Some(PlanAccess::Full) => {}
        }
        // Read before taking the projections' lock, which is never held across ledger reads.
        let Some(plan) = service.plan_as_of(&id, as_of).map_err(service_error)? else {
            return Ok(None);
        };
        let state = service.read();
        PlanObject::of(&state.projections, &plan, Some(as_of), PlanAccess::Full)
            .map(Some)
            .ok_or_else(|| service_error(ServiceError::Internal))
    }

    /// Plans in the order they started, optionally one council's; paged by `first` and `after`.
    #[graphql(complexity = "super::page_complexity(first, 50, child_complexity)")]
    async fn plans(
        &self,
        ctx: &Context<'_>,
        council: Option<ID>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> Result<PlanConnection> {
        viewer(ctx)?;
        let council = parse_opt_id("council", council, CouncilId::parse)?;
        plan_connection(ctx, council.as_ref(), first, after)
    }

    /// A group's shared section, by group and section id; read by the group's people and the
    /// member councils' (null for others, as for no such section).
    async fn shared_section(
        &self,
        ctx: &Context<'_>,
        group: ID,
        section: ID,
    ) -> Result<Option<SharedSectionObject>> {
        let scope = read_scope(ctx)?;
        let group = parse_id("group", &group, GroupId::parse)?;
        let section = parse_id("section", &section, SectionId::parse)?;
        let state = service(ctx).read();
        if !scope.shared_sections(state.projections.organisation(), &group) {
            return Ok(None);
        }
        Ok(state
            .projections
            .shared_section(&group, &section)
            .cloned()
            .map(SharedSectionObject))
    }

    /// A person by id, if the viewer reads them (themselves, or someone holding a role where
    /// the viewer does); null otherwise, as for no such person.
    async fn person(&self, ctx: &Context<'_>, id: ID) -> Result<Option<PersonObject>> {
        let scope = read_scope(ctx)?;
        let id = parse_id("person", &id, PersonId::parse)?;
        Ok(objects::person(ctx, &id).filter(|p| p.readable(ctx, &scope)))
    }

    /// The viewer's calendar feeds in force (their addresses are shown once, when created).
    async fn calendar_feeds(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<super::calendar_feeds::CalendarFeedObject>> {
        super::calendar_feeds::calendar_feeds(ctx)
    }

    /// Committed events in commit order, for integrators; `after` is an event cursor. Only
    /// the events the viewer reads are shown: positions they may not read are skipped, so a
    /// page may hold fewer than `first` events (even none) while `hasNextPage` is true; carry
    /// on from `endCursor`, which is a ledger position like every cursor.
    #[graphql(complexity = "super::page_complexity(first, 100, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        #[graphql(default = 100)] first: Option<i32>,
    ) -> Result<EventConnection> {
        let scope = read_scope(ctx)?;
        let first = page_size(first, 100)?;
        let after = parse_cursor(after.as_deref())?;
        let service = service(ctx);
        let ledger = service.ledger();
        let read = |from: u64, n: usize| {
            ledger
                .read_all(from, n)
                .map_err(|e| service_error(e.into()))
        };
        if scope.reads_everything() {
            // One more than asked tells whether another page follows.
            let mut events = read(after + 1, first + 1)?.events;
            let has_next = events.len() > first;
            events.truncate(first);
            return Ok(EventConnection::new(events, has_next));
        }
        let mut kept = Vec::new();
        let (mut from, mut scanned, mut last_scanned) = (after + 1, 0, None);
        let has_next = loop {
            let page = read(
                from,
                (first + 1)
                    .max(100)
                    .min(FEED_SCAN.saturating_sub(scanned).max(1)),
            )?;
            {
                let state = service.read();
                for event in &page.events {
                    scanned += 1;
                    last_scanned = Some(event.position);
                    if reads_event(&state.projections, &scope, event) {
                        kept.push(event.clone());
                        if kept.len() > first {
                            break;
                        }
                    }
                }
            }
            if kept.len() > first {
                kept.truncate(first);
                last_scanned = kept.last().map(|e| e.position);
                break true;
            }
            match page.next {
                None => break false,
                Some(_) if scanned >= FEED_SCAN => break true,
                Some(next) => from = next,
            }
        };
        Ok(EventConnection::page(kept, has_next, last_scanned))
    }
}
