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
//! Each aggregate implements the trait beside its `decide` (`plan/decide/mod.rs`,
//! `shared_section/decide.rs`, `organisation/seeds.rs`). The service runs every command through
//! one generic path: find the state in the projections,
//! `decide`, append the events to `stream(id)` at the version decided on, wait for the
//! projections. Everything here is pure: no I/O, and the time is an argument.

use chrono::{DateTime, Utc};

use crate::context::Context;
use crate::error::GovernanceError;
use crate::event::DomainEvent;
use crate::ids::PersonId;
use crate::projection::Projections;
#[cfg(doc)]
use crate::{
    GroupId, OrgEvent, Organisation, Plan, PlanCommand, PlanEvent, PlanId, SectionId,
    SharedSection, SharedSectionCommand, SharedSectionEvent,
};

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
