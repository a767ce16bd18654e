//! The GraphQL enums over the domain's: each mirrors its domain enum (async-graphql's `remote`
//! derives the conversions), under the same GraphQL name.

use async_graphql::Enum;
use councilflow_governance::{Decision, PlanStatus, StageKind, StageStatus};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "StageKind", remote = "StageKind")]
pub enum StageKindEnum {
    SignOff,
    Committee,
    Submission,
    Publication,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "PlanStatus", remote = "PlanStatus")]
pub enum PlanStatusEnum {
    Drafting,
    InApproval,
    Approved,
    Submitted,
    Published,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "StageStatus", remote = "StageStatus")]
pub enum StageStatusEnum {
    /// Earlier stages are not complete yet.
    Waiting,
    /// Acts on this stage are accepted now.
    Open,
    Complete,
    /// It was complete, and a later edit made its approvals stale.
    Stale,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "Decision", remote = "Decision")]
pub enum DecisionEnum {
    Approved,
    ApprovedWithDelegatedAmendments,
    Deferred,
    Rejected,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ReminderStatus {
    Scheduled,
    Sent,
    Failed,
    Cancelled,
}
