//! What a person asks of a plan.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{
    CouncilId, KeyDateId, PersonId, PlanId, Role, RouteId, SectionId, StageId, WorkflowId,
};
use crate::plan::*;

/// A command on a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum PlanCommand {
    /// Start a plan.
    Start {
        /// The new plan's id (chosen by the caller).
        plan: PlanId,
        workflow: WorkflowId,
        /// Owning councils.
        councils: Vec<CouncilId>,
        /// Route; the councils' own route (or the workflow's default) when omitted.
        route: Option<RouteId>,
        /// Title; a default from the workflow and councils when omitted.
        title: Option<String>,
        /// Key dates the workflow declares.
        key_dates: BTreeMap<KeyDateId, NaiveDate>,
    },
    /// Replace a section's text.
    EditSection {
        section: SectionId,
        /// New text.
        text: String,
        /// The section revision this edit is based on.
        expected_revision: Option<u64>,
    },
    /// Take the group's agreed text into a shared section.
    AdoptSharedSection {
        section: SectionId,
        /// The plan's revision the person read: refused with CONFLICT if it changed since.
        expected_revision: u64,
    },
    /// Sign a sign-off stage in a role.
    SignOff {
        stage: StageId,
        role: Role,
        /// Council, required when the signer holds the role at more than one owning council.
        council: Option<CouncilId>,
        comment: Option<String>,
        /// The plan's revision the person read: refused with CONFLICT if it changed since.
        expected_revision: u64,
    },
    /// Withdraw one's own sign-off.
    WithdrawSignOff {
        stage: StageId,
        role: Role,
        /// Council, when ambiguous.
        council: Option<CouncilId>,
        /// Why.
        reason: String,
    },
    /// Schedule (or move) a committee meeting.
    ScheduleMeeting {
        /// Committee stage; the first incomplete one when omitted.
        stage: Option<StageId>,
        /// Whose committee.
        council: CouncilId,
        /// Committee name.
        committee: String,
        /// Date.
        meeting_date: NaiveDate,
    },
    /// Record a committee's decision.
    RecordCommitteeDecision {
        /// Committee stage; the first incomplete one when omitted.
        stage: Option<StageId>,
        /// Whose committee.
        council: CouncilId,
        /// Committee name.
        committee: String,
        meeting_date: NaiveDate,
        decision: Decision,
        minute_reference: Option<String>,
        /// For delegated amendments: who may amend afterwards.
        delegated_to: Option<PersonId>,
        /// The plan's revision in the committee's papers: refused with CONFLICT if the plan
        /// changed since.
        expected_revision: u64,
    },
    /// Submit.
    Submit {
        /// Receiver's reference.
        reference: Option<String>,
        /// The plan's revision the person read: refused with CONFLICT if it changed since.
        expected_revision: u64,
    },
    /// Publish.
    Publish {
        /// Where.
        url: String,
        /// The plan's revision the person read: refused with CONFLICT if it changed since.
        expected_revision: u64,
    },
    /// Record an extension of the submission deadline that the body setting it granted.
    RecordExtension {
        /// The new deadline.
        due: DateTime<Utc>,
        granted_by: String,
        granted_on: NaiveDate,
        /// The grant's reference (the letter, the email).
        reference: String,
    },
    /// Set a stage's deadline, or the submission deadline (`stage: None`) where the council
    /// sets it.
    SetDeadline {
        stage: Option<StageId>,
        due: DateTime<Utc>,
    },
    /// Set or move a key date.
    SetKeyDate {
        /// Key date.
        date: KeyDateId,
        /// Value.
        on: NaiveDate,
    },
}
