//! Queries. Every root field needs a signed-in viewer (any valid token reads).

use async_graphql::{Context, Object, Result, ID};
use councilflow_governance::{CouncilId, GroupId, PersonId, PlanId, Role, Scope, SectionId};

use super::objects::{
    self, council, group, page_size, parse_cursor, plan_connection, CouncilObject, EventConnection,
    GroupObject, PersonObject, PlanConnection, PlanObject, SharedSectionObject, WorkflowObject,
};
use super::scalars::Moment;
use super::{bad_input, service, service_error, viewer};
use crate::service::ServiceError;

pub struct QueryRoot;

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

    /// People holding roles, optionally only those at one council or group, or holding one role.
    async fn people(
        &self,
        ctx: &Context<'_>,
        council: Option<ID>,
        group: Option<ID>,
        role: Option<String>,
    ) -> Result<Vec<PersonObject>> {
        viewer(ctx)?;
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
        viewer(ctx)?;
        let id = parse_id("plan", &id, PlanId::parse)?;
        let service = service(ctx);
        let Some(Moment(as_of)) = as_of else {
            let state = service.read();
            let projections = &state.projections;
            return Ok(PlanObject::now(projections, &id));
        };
        // Read before taking the projections' lock, which is never held across ledger reads.
        let Some(plan) = service.plan_as_of(&id, as_of).map_err(service_error)? else {
            return Ok(None);
        };
        let state = service.read();
        PlanObject::of(&state.projections, &plan, Some(as_of))
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

    /// A group's shared section, by group and section id.
    async fn shared_section(
        &self,
        ctx: &Context<'_>,
        group: ID,
        section: ID,
    ) -> Result<Option<SharedSectionObject>> {
        viewer(ctx)?;
        let group = parse_id("group", &group, GroupId::parse)?;
        let section = parse_id("section", &section, SectionId::parse)?;
        let state = service(ctx).read();
        Ok(state
            .projections
            .shared_section(&group, &section)
            .cloned()
            .map(SharedSectionObject))
    }

    /// A person by id.
    async fn person(&self, ctx: &Context<'_>, id: ID) -> Result<Option<PersonObject>> {
        viewer(ctx)?;
        let id = parse_id("person", &id, PersonId::parse)?;
        Ok(objects::person(ctx, &id))
    }

    /// Every committed event in commit order, for integrators; `after` is an event cursor.
    #[graphql(complexity = "super::page_complexity(first, 100, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        #[graphql(default = 100)] first: Option<i32>,
    ) -> Result<EventConnection> {
        viewer(ctx)?;
        let first = page_size(first, 100)?;
        let after = parse_cursor(after.as_deref())?;
        let ledger = service(ctx).ledger();
        // One more than asked tells whether another page follows.
        let page = ledger
            .read_all(after + 1, first + 1)
            .map_err(|e| service_error(e.into()))?;
        let mut events = page.events;
        let has_next = events.len() > first;
        events.truncate(first);
        Ok(EventConnection::new(events, has_next))
    }
}
