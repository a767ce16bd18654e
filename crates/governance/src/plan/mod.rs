//! Plans: one run of a workflow owned by one or more councils, as an aggregate (see
//! [`Aggregate`](crate::Aggregate)): its `decide` (in `decide/`) turns a [`PlanCommand`] into
//! [`PlanEvent`]s or a refusal, and [`Plan::apply`] folds events into state. Stage statuses,
//! requirements and staleness are computed from the recorded acts on read (`view.rs`), never
//! stored, so they cannot drift.
//!
//! Staleness: every sign-off and committee decision binds to the plan's content revision. An edit
//! (including adopting a shared text) made after it, to a section its stage covers, makes it
//! stale. An edit by the officer a committee named when it approved "with delegated amendments"
//! is recorded as delegated and leaves that committee's approval, and every earlier stage, intact.
//!
//! | file | what |
//! | --- | --- |
//! | `events.rs` | the payloads and [`PlanEvent`] |
//! | `state.rs` | [`Plan`] and its records, [`Plan::apply`] |
//! | `view.rs` | stage statuses, requirements, [`PlanStatus`], the sign-off and decision views |
//! | `commands.rs` | [`PlanCommand`] |
//! | `decide/` | `decide`, one file per kind of act: `start`, `sections`, `sign_off`, `committee`, `submission`, `dates` |
//! | `wording.rs` | how refusals and blockers name people and what they must do |

mod commands;
mod decide;
mod events;
mod state;
mod view;
pub(crate) mod wording;

pub use commands::PlanCommand;
pub use events::{
    CommitteeDecisionRecorded, DeadlineExtended, DeadlineSet, Decision, Delegation, KeyDateSet,
    MeetingScheduled, PlanEvent, PlanPublished, PlanStarted, PlanSubmitted, SectionEdited,
    SharedSectionAdopted, SignOffWithdrawn, SignedOff,
};
pub use state::{
    DecisionRecord, EditRecord, Meeting, Plan, PublicationRecord, SectionEdit, SectionState,
    SignOffRecord, SubmissionRecord, Withdrawal,
};
pub use view::{DecisionView, PlanStatus, Requirement, SignOffView, StageStatus, StageView};
