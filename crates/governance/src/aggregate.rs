//! The write side's one shape, after cqrs-es: an aggregate *decides* what a command records, or
//! why not, from its current state, and *applies* what it recorded, one event at a time. Each
//! aggregate has an event enum of its own, and its `apply` matches every variant, so nothing is
//! ignored by a wildcard; its events can only go to its own stream, since the stream comes from
//! the aggregate, not from the event.
//!
//! | aggregate | id | stream | command | event |
//! | --- | --- | --- | --- | --- |
//! | [`Plan`] | [`PlanId`] | `plan-<id>` | [`PlanCommand`] | [`PlanEvent`] |
//! | [`SharedSection`] | ([`GroupId`], [`SectionId`]) | `shared-<group>.<section>` | [`SharedSectionCommand`] | [`SharedSectionEvent`] |
//! | [`Organisation`] | `()` | `org` | the organisation the seeds describe | [`OrgEvent`] |
//!
//! The service runs every command through one generic path: find the state in the projections,
//! `decide`, append the events to `stream(id)` at the version decided on, wait for the
//! projections. Everything here is pure: no I/O, and the time is an argument.

use chrono::{DateTime, Utc};

use crate::context::Context;
use crate::error::GovernanceError;
use crate::event::{streams, DomainEvent};
use crate::ids::{GroupId, PersonId, PlanId, SectionId};
use crate::organisation::{sync_events, OrgEvent, Organisation};
use crate::plan::{self, Plan, PlanCommand, PlanEvent};
use crate::projection::Projections;
use crate::shared_section::{self, SharedSection, SharedSectionCommand, SharedSectionEvent};

/// An aggregate: a consistency boundary with a stream of its own.
pub trait Aggregate: Sized {
    /// Which one.
    type Id;
    /// What is asked of it.
    type Command;
    /// What it records; the ledger stores it wrapped in a [`DomainEvent`].
    type Event: Into<DomainEvent>;

    /// The ledger stream its events go to.
    fn stream(id: &Self::Id) -> String;

    /// Its current state in the projections (`None`: it does not exist yet).
    fn find<'p>(projections: &'p Projections, id: &Self::Id) -> Option<&'p Self>;

    /// The events `command` records, or why it is refused (nothing is recorded then).
    fn decide(
        ctx: &Context<'_>,
        state: Option<&Self>,
        command: &Self::Command,
        actor: &PersonId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, GovernanceError>;

    /// The state after one of its events.
    fn apply(state: Option<Self>, event: &Self::Event) -> Option<Self>;
}

impl Aggregate for Plan {
    type Id = PlanId;
    type Command = PlanCommand;
    type Event = PlanEvent;

    fn stream(id: &PlanId) -> String {
        streams::plan(id)
    }

    fn find<'p>(projections: &'p Projections, id: &PlanId) -> Option<&'p Plan> {
        projections.plan(id)
    }

    fn decide(
        ctx: &Context<'_>,
        state: Option<&Plan>,
        command: &PlanCommand,
        actor: &PersonId,
        now: DateTime<Utc>,
    ) -> Result<Vec<PlanEvent>, GovernanceError> {
        plan::decide(ctx, state, command, actor, now)
    }

    fn apply(state: Option<Plan>, event: &PlanEvent) -> Option<Plan> {
        Plan::apply(state, event)
    }
}

impl Aggregate for SharedSection {
    type Id = (GroupId, SectionId);
    type Command = SharedSectionCommand;
    type Event = SharedSectionEvent;

    fn stream((group, section): &(GroupId, SectionId)) -> String {
        streams::shared(group, section)
    }

    fn find<'p>(
        projections: &'p Projections,
        (group, section): &(GroupId, SectionId),
    ) -> Option<&'p SharedSection> {
        projections.shared_section(group, section)
    }

    fn decide(
        ctx: &Context<'_>,
        state: Option<&SharedSection>,
        command: &SharedSectionCommand,
        actor: &PersonId,
        now: DateTime<Utc>,
    ) -> Result<Vec<SharedSectionEvent>, GovernanceError> {
        shared_section::decide(ctx, state, command, actor, now)
    }

    fn apply(state: Option<SharedSection>, event: &SharedSectionEvent) -> Option<SharedSection> {
        SharedSection::apply(state, event)
    }
}

/// The organisation is recorded by councilflow itself from its seed files: the command is the
/// organisation as the seeds describe it, and `decide` returns the changes that bring the
/// recorded one up to it (nothing when they agree). Nobody is refused.
impl Aggregate for Organisation {
    type Id = ();
    type Command = Organisation;
    type Event = OrgEvent;

    fn stream(_: &()) -> String {
        streams::ORG.to_owned()
    }

    fn find<'p>(projections: &'p Projections, _: &()) -> Option<&'p Organisation> {
        Some(projections.organisation())
    }

    fn decide(
        _: &Context<'_>,
        state: Option<&Organisation>,
        seed: &Organisation,
        _: &PersonId,
        _: DateTime<Utc>,
    ) -> Result<Vec<OrgEvent>, GovernanceError> {
        Ok(sync_events(state.unwrap_or(&Organisation::default()), seed))
    }

    fn apply(state: Option<Organisation>, event: &OrgEvent) -> Option<Organisation> {
        let mut organisation = state.unwrap_or_default();
        organisation.apply(event);
        Some(organisation)
    }
}
