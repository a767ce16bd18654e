//! The governance engine of councilflow: workflow definitions, plans, sign-offs, committees,
//! shared sections, blockers, deadlines and projections, as pure functions.
//!
//! No I/O, no clock of its own, no GraphQL, no storage. The server reads files and passes their
//! text in, passes the time in, appends the events `decide` returns to the ledger, and feeds the
//! committed events back into [`Projections`].
//!
//! The write side, cqrs-es style: three [`Aggregate`]s, each with its command, its own event
//! enum, `decide(context, state, command, actor, now) -> Result<Vec<Event>, GovernanceError>`
//! and an exhaustive `apply(state, &event)`: [`Plan`] ([`PlanCommand`], [`PlanEvent`]),
//! [`SharedSection`] ([`SharedSectionCommand`], [`SharedSectionEvent`]) and the
//! [`Organisation`] (its seeds, [`OrgEvent`]).
//!
//! Every [`DomainEvent`] (an aggregate's event, wrapped) has a stable [`DomainEvent::kind`], a
//! JSON [`DomainEvent::payload`] and a [`DomainEvent::stream`] (`org`, `plan-<id>`,
//! `shared-<group>.<section>`; see [`streams`]).
//!
//! The read side: [`Projections`] (plans, plans by council, shared sections by group, the
//! organisation) and [`PlanView`] (status, stage statuses, requirements, blockers, deadlines,
//! lateness) for the API.
//!
//! ```
//! use councilflow_governance::*;
//!
//! let workflows = Workflows::load([("note.toml", r#"
//!     id = "note"
//!     title = "Note"
//!     default_route = "main"
//!     [reminders]
//!     days_before = [7]
//!     hour = 9
//!     overdue_every_days = 1
//!     escalate_after_days_overdue = 3
//!     escalate_to = "chief-executive"
//!     [[sections]]
//!     id = "body"
//!     title = "Body"
//!     [[stages]]
//!     id = "approval"
//!     title = "Approval"
//!     kind = "sign-off"
//!     roles = ["chief-executive"]
//!     [[routes]]
//!     id = "main"
//!     title = "Main"
//!     stages = ["approval"]
//! "#)]).unwrap();
//! let seed = load_seeds([("org.toml", r#"
//!     [[councils]]
//!     id = "ashfield"
//!     name = "Ashfield District Council"
//!     [[people]]
//!     id = "amy"
//!     name = "Amy"
//!     email = "amy@example.org"
//!     roles = [{ role = "drafter", council = "ashfield" }]
//! "#)]).unwrap();
//!
//! let mut projections = Projections::new(workflows);
//! let now = chrono::Utc::now(); // the server's clock; tests pass a fixed time
//! let mut position = 0;
//! let mut commit = |p: &mut Projections, events: Vec<DomainEvent>| {
//!     for event in events {
//!         // The server appends (event.stream(), event.kind(), event.payload()) to the ledger,
//!         // then feeds the committed event back:
//!         position += 1;
//!         p.apply(&EventMeta { position, recorded_at: now }, &event);
//!     }
//! };
//! let org_events = sync_events(projections.organisation(), &seed);
//! commit(&mut projections, org_events.into_iter().map(DomainEvent::from).collect());
//!
//! let id = PlanId::parse("note-1").unwrap();
//! let start = PlanCommand::Start {
//!     plan: id.clone(),
//!     workflow: "note".parse().unwrap(),
//!     councils: vec!["ashfield".parse().unwrap()],
//!     route: None,
//!     title: None,
//!     key_dates: Default::default(),
//! };
//! let amy = PersonId::parse("amy").unwrap();
//! let events = Plan::decide(&projections.context(), None, &start, &amy, now).unwrap();
//! commit(&mut projections, events.into_iter().map(DomainEvent::from).collect());
//!
//! let view = projections.plan_view(&id).unwrap();
//! assert_eq!(view.status, PlanStatus::Drafting);
//! // Nobody holds the chief-executive role at Ashfield in this tiny seed:
//! assert_eq!(view.blockers[0].code.as_str(), "NO_ROLE_HOLDER");
//! ```

pub mod aggregate;
pub mod blockers;
mod changes;
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
mod view_cache;
pub mod visibility;

pub use aggregate::Aggregate;
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
pub use event::{streams, DomainEvent, EventDecodeError};
pub use ids::{
    CouncilId, EmailAddress, GroupId, IdError, KeyDateId, PersonId, PlanId, Role, RouteId,
    SectionId, StageId, WorkflowId,
};
pub use organisation::{
    load_seeds, sync_events, Council, Group, OrgEvent, Organisation, Person, RoleAssignment, Scope,
    SuppliedSection,
};
pub use plan::{
    Decision, DecisionView, Plan, PlanCommand, PlanEvent, PlanStatus, Requirement, SignOffView,
    StageStatus, StageView,
};
pub use projection::{EventMeta, PlanView, Projections, ProjectionsSnapshot};
pub use shared_section::{SharedSection, SharedSectionCommand, SharedSectionEvent};
pub use visibility::{PlanAccess, ReadScope};
