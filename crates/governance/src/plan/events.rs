//! What a plan records: one payload struct per event kind, and [`PlanEvent`], the plan
//! aggregate's event enum. Payloads are stored as JSON; a field is never renamed or removed, and a
//! new one is optional, so every stored event keeps reading back.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::event::event_enum;
use crate::ids::{
    CouncilId, GroupId, KeyDateId, PersonId, PlanId, Role, RouteId, SectionId, StageId, WorkflowId,
};

event_enum! {
    /// What a plan records, in its own stream (`plan-<id>`).
    PlanEvent {
        PlanStarted(PlanStarted),
        SectionEdited(SectionEdited),
        /// The plan took a group's agreed text into a shared section.
        SharedSectionAdopted(SharedSectionAdopted),
        SignedOff(SignedOff),
        SignOffWithdrawn(SignOffWithdrawn),
        /// A committee meeting was scheduled or moved.
        MeetingScheduled(MeetingScheduled),
        CommitteeDecisionRecorded(CommitteeDecisionRecorded),
        /// A stage's or the submission's deadline was set or moved.
        DeadlineSet(DeadlineSet),
        KeyDateSet(KeyDateSet),
        /// The body that sets the submission deadline granted an extension.
        DeadlineExtended(DeadlineExtended),
        PlanSubmitted(PlanSubmitted),
        PlanPublished(PlanPublished),
    }
}

impl PlanEvent {
    /// The plan it belongs to.
    pub fn plan_id(&self) -> &PlanId {
        match self {
            PlanEvent::PlanStarted(e) => &e.plan,
            PlanEvent::SectionEdited(e) => &e.plan,
            PlanEvent::SharedSectionAdopted(e) => &e.plan,
            PlanEvent::SignedOff(e) => &e.plan,
            PlanEvent::SignOffWithdrawn(e) => &e.plan,
            PlanEvent::MeetingScheduled(e) => &e.plan,
            PlanEvent::CommitteeDecisionRecorded(e) => &e.plan,
            PlanEvent::DeadlineSet(e) => &e.plan,
            PlanEvent::KeyDateSet(e) => &e.plan,
            PlanEvent::DeadlineExtended(e) => &e.plan,
            PlanEvent::PlanSubmitted(e) => &e.plan,
            PlanEvent::PlanPublished(e) => &e.plan,
        }
    }
}

/// `PlanStarted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanStarted {
    /// The new plan.
    pub plan: PlanId,
    pub workflow: WorkflowId,
    /// The route it follows.
    pub route: RouteId,
    pub title: String,
    /// Owning councils, in the order given.
    pub councils: Vec<CouncilId>,
    /// The workflow's sections, in order.
    pub sections: Vec<SectionId>,
    /// Sections whose text comes from a group.
    pub shared: BTreeMap<SectionId, GroupId>,
    /// Key dates supplied at the start.
    pub key_dates: BTreeMap<KeyDateId, NaiveDate>,
    /// Who started it.
    pub by: PersonId,
    /// When.
    pub at: DateTime<Utc>,
}

/// Authority for an edit made under a committee's delegated amendments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegation {
    /// The committee stage that delegated.
    pub stage: StageId,
    /// The councils whose committees named the editor.
    pub councils: Vec<CouncilId>,
}

/// `SectionEdited`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionEdited {
    pub plan: PlanId,
    pub section: SectionId,
    /// The new text.
    pub text: String,
    /// The section's new revision.
    pub section_revision: u64,
    /// The plan's new content revision.
    pub plan_revision: u64,
    /// Set when the editor acted under delegated amendments.
    pub delegated: Option<Delegation>,
    /// Who edited.
    pub by: PersonId,
    /// When.
    pub at: DateTime<Utc>,
}

/// `SharedSectionAdopted`: the plan took a group's agreed text (an edit like any other).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedSectionAdopted {
    pub plan: PlanId,
    pub section: SectionId,
    /// The group it came from.
    pub group: GroupId,
    /// The group's agreed revision adopted.
    pub shared_revision: u64,
    /// The adopted text.
    pub text: String,
    /// The section's new revision.
    pub section_revision: u64,
    /// The plan's new content revision.
    pub plan_revision: u64,
    /// Who adopted it.
    pub by: PersonId,
    /// When.
    pub at: DateTime<Utc>,
}

/// `SignedOff`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedOff {
    pub plan: PlanId,
    /// The sign-off stage.
    pub stage: StageId,
    /// The role signed in.
    pub role: Role,
    /// The council signed for.
    pub council: CouncilId,
    /// Who signed.
    pub by: PersonId,
    /// Whether they signed as deputy for the role.
    pub deputy: bool,
    /// The content revision they read.
    pub plan_revision: u64,
    /// SHA-256 of the content approved (`Plan::content_hash`: every section's id, revision and
    /// text, in order), so anyone can check that what was submitted or published is what was
    /// approved. Absent from events recorded before approvals carried it (their stored bytes
    /// stay as they were).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    /// Optional comment.
    pub comment: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// `SignOffWithdrawn`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOffWithdrawn {
    pub plan: PlanId,
    pub stage: StageId,
    pub role: Role,
    pub council: CouncilId,
    /// Who withdrew (the signer).
    pub by: PersonId,
    /// Why.
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A committee's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Decision {
    /// Approved as it stands.
    Approved,
    /// Approved; a named officer may make later amendments.
    ApprovedWithDelegatedAmendments,
    /// Put off to a later meeting.
    Deferred,
    /// Refused.
    Rejected,
}

impl Decision {
    /// Whether the decision completes the council's part of the stage.
    pub fn approves(self) -> bool {
        matches!(
            self,
            Decision::Approved | Decision::ApprovedWithDelegatedAmendments
        )
    }
}

/// `MeetingScheduled`: a committee meeting date for one council (drives the papers deadline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingScheduled {
    pub plan: PlanId,
    /// The committee stage.
    pub stage: StageId,
    /// Whose committee.
    pub council: CouncilId,
    /// Committee name.
    pub committee: String,
    pub meeting_date: NaiveDate,
    /// Who scheduled it.
    pub by: PersonId,
    /// When.
    pub at: DateTime<Utc>,
}

/// `CommitteeDecisionRecorded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitteeDecisionRecorded {
    pub plan: PlanId,
    /// The committee stage.
    pub stage: StageId,
    /// Whose committee.
    pub council: CouncilId,
    /// Committee name.
    pub committee: String,
    pub meeting_date: NaiveDate,
    pub decision: Decision,
    pub minute_reference: Option<String>,
    /// For delegated amendments: who may amend.
    pub delegated_to: Option<PersonId>,
    /// The content revision decided on: the one in the committee's papers.
    pub plan_revision: u64,
    /// SHA-256 of the content approved (`Plan::content_hash`: every section's id, revision and
    /// text, in order), so anyone can check that what was submitted or published is what was
    /// approved. Absent from events recorded before approvals carried it (their stored bytes
    /// stay as they were).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    /// The clerk who recorded it.
    pub by: PersonId,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

/// `DeadlineSet`: a stage's or the submission's deadline moved on this plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineSet {
    pub plan: PlanId,
    /// The stage, or `None` for the submission deadline.
    pub stage: Option<StageId>,
    /// The new deadline.
    pub due: DateTime<Utc>,
    /// Who set it.
    pub by: PersonId,
    /// When.
    pub at: DateTime<Utc>,
}

/// `DeadlineExtended`: the outside body that sets the submission deadline (the workflow's
/// `submission_due_set_by`) granted this plan an extension, recorded with its reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineExtended {
    pub plan: PlanId,
    /// The new submission deadline.
    pub due: DateTime<Utc>,
    /// Who granted it, in their own words ("the Department for Levelling Up, Housing and
    /// Communities").
    pub granted_by: String,
    pub granted_on: NaiveDate,
    /// The grant's reference (the letter, the email).
    pub reference: String,
    /// Who recorded it.
    pub by: PersonId,
    pub at: DateTime<Utc>,
}

/// `KeyDateSet`: a key date of the plan set or moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDateSet {
    pub plan: PlanId,
    /// The key date.
    pub date: KeyDateId,
    /// Its value.
    pub on: NaiveDate,
    /// Who set it.
    pub by: PersonId,
    /// When.
    pub at: DateTime<Utc>,
}

/// `PlanSubmitted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSubmitted {
    pub plan: PlanId,
    /// The submission stage.
    pub stage: StageId,
    /// Content revision submitted.
    pub plan_revision: u64,
    /// SHA-256 (hex) of the submitted content.
    pub content_hash: String,
    /// The deadline it was judged against.
    pub deadline: Option<DateTime<Utc>>,
    /// Whether it was late.
    pub late: bool,
    /// Reference given by the receiver, if any.
    pub reference: Option<String>,
    /// Who submitted.
    pub by: PersonId,
    /// When.
    pub at: DateTime<Utc>,
}

/// `PlanPublished`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanPublished {
    pub plan: PlanId,
    /// The publication stage.
    pub stage: StageId,
    /// Where it is published.
    pub url: String,
    /// SHA-256 of the content published (`Plan::content_hash`: every section's id, revision and
    /// text, in order), so anyone can check that what was submitted or published is what was
    /// approved. Absent from events recorded before approvals carried it (their stored bytes
    /// stay as they were).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    /// Who published.
    pub by: PersonId,
    /// When.
    pub at: DateTime<Utc>,
}
