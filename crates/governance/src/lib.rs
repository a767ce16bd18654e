//! The governance engine of councilflow: workflow definitions, plans, sign-offs, committees,
//! shared sections, blockers, deadlines and projections, as pure functions.
//!
//! No I/O, no clock of its own, no GraphQL, no storage. The server reads files and passes their
//! text in, passes the time in, appends the events `decide` returns to the ledger, and feeds the
//! committed events back into [`Projections`].
//!
//! The write side, cqrs-es style:
//! - [`plan::decide`]`(context, plan, command, actor, now) -> Result<Vec<Event>, GovernanceError>`
//!   and [`Plan::apply`]`(state, &event)`;
//! - [`shared_section::decide`] and [`SharedSection::apply`] for a group's shared texts;
//! - [`sync_events`]`(current organisation, seeds)` for organisation changes.
//!
//! Every [`Event`] has a stable [`Event::kind`], a JSON [`Event::payload`] and a
//! [`Event::stream`] (`org`, `plan-<id>`, `shared-<group>.<section>`; see [`streams`]).
//!
//! The read side: [`Projections`] (plans, plans by council, shared sections by group, the
//! organisation) and [`PlanView`] (status, stage statuses, requirements, blockers, deadlines,
//! lateness) for the API.

pub mod blockers;
pub mod context;
pub mod deadlines;
pub mod definition;
pub mod error;
pub mod event;
pub mod ids;
pub mod organisation;
pub mod plan;
pub mod projection;
pub mod shared_section;

pub use blockers::{Blocker, BlockerCode, WaitingOn};
pub use context::{Context, SharedSections};
pub use deadlines::{
    end_of_day_london, london_date, london_time, papers_day, Deadline, DeadlineKind,
    DeadlineSource, DueRule,
};
pub use definition::{
    KeyDateDefinition, ReminderPolicy, RouteDefinition, SectionDefinition, StageDefinition,
    StageKind, Workflow, Workflows,
};
pub use error::{DefinitionError, GovernanceError};
pub use event::{streams, Event, EventDecodeError};
pub use ids::{
    CouncilId, EmailAddress, GroupId, IdError, KeyDateId, PersonId, PlanId, Role, RouteId,
    SectionId, StageId, WorkflowId,
};
pub use organisation::{
    load_seeds, sync_events, Council, Group, Organisation, Person, RoleAssignment, Scope,
    SuppliedSection,
};
pub use plan::{
    Decision, DecisionView, Plan, PlanCommand, PlanStatus, Requirement, SignOffView, StageStatus,
    StageView,
};
pub use projection::{EventMeta, PlanEntry, PlanView, Projections};
pub use shared_section::{SharedSection, SharedSectionCommand};
