//! The mutations' input objects: what a client sends, before it is parsed into a command. The
//! field docs are the schema's; the checks on each value are in `mutation.rs` and the domain.

use async_graphql::{InputObject, ID};

use super::objects::DecisionEnum;
use super::scalars::{Date, Moment};

#[derive(InputObject)]
pub struct KeyDateInput {
    /// A key date the workflow declares (e.g. `challenge` for a peer challenge).
    pub id: ID,
    pub date: Date,
}

#[derive(InputObject)]
pub struct StartPlanInput {
    pub workflow: ID,
    pub councils: Vec<ID>,
    /// A route id of the workflow; the councils' default route when omitted.
    pub route: Option<ID>,
    pub title: Option<String>,
    /// The plan's id; one is made from the council and workflow when omitted.
    pub id: Option<ID>,
    /// Key dates the workflow declares (deadlines may be computed from them).
    pub key_dates: Option<Vec<KeyDateInput>>,
    pub idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct EditSectionInput {
    pub plan_id: ID,
    pub section_id: ID,
    pub text: String,
    /// The section revision this edit is based on; CONFLICT when another edit came first.
    pub expected_revision: Option<i32>,
    pub idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct SignOffInput {
    pub plan_id: ID,
    pub stage_id: ID,
    pub role: String,
    /// Required when the signer holds the role at more than one owning council.
    pub council: Option<ID>,
    pub comment: Option<String>,
    /// The plan's revision the person read (in the committee's papers, for a decision): the act
    /// is refused with CONFLICT, saying what changed, if the plan changed since.
    pub expected_revision: i32,
    pub idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct WithdrawSignOffInput {
    pub plan_id: ID,
    pub stage_id: ID,
    pub role: String,
    pub council: Option<ID>,
    pub reason: String,
    pub idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct RecordCommitteeDecisionInput {
    pub plan_id: ID,
    pub council: ID,
    pub committee: String,
    pub meeting_date: Date,
    pub decision: DecisionEnum,
    pub minute_reference: Option<String>,
    /// For APPROVED_WITH_DELEGATED_AMENDMENTS: who may amend afterwards.
    pub delegated_to: Option<ID>,
    /// The committee stage; the first one not complete when omitted.
    pub stage_id: Option<ID>,
    /// The plan's revision the person read (in the committee's papers, for a decision): the act
    /// is refused with CONFLICT, saying what changed, if the plan changed since.
    pub expected_revision: i32,
    pub idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct ScheduleMeetingInput {
    pub plan_id: ID,
    pub council: ID,
    pub committee: String,
    pub meeting_date: Date,
    /// The committee stage; the first one not complete when omitted.
    pub stage_id: Option<ID>,
    pub idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct SubmitPlanInput {
    pub plan_id: ID,
    pub reference: Option<String>,
    /// The plan's revision the person read (in the committee's papers, for a decision): the act
    /// is refused with CONFLICT, saying what changed, if the plan changed since.
    pub expected_revision: i32,
    pub idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct PublishPlanInput {
    pub plan_id: ID,
    pub url: String,
    /// The plan's revision the person read (in the committee's papers, for a decision): the act
    /// is refused with CONFLICT, saying what changed, if the plan changed since.
    pub expected_revision: i32,
    pub idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct SetDeadlineInput {
    pub plan_id: ID,
    /// A stage id; the submission deadline when omitted.
    pub stage_id: Option<ID>,
    pub due: Moment,
    pub idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct RecordExtensionInput {
    pub plan_id: ID,
    /// The new submission deadline.
    pub due: Moment,
    /// Who granted it, as they sign their letter.
    pub granted_by: String,
    pub granted_on: Date,
    /// The grant's reference: the letter or email that granted it.
    pub reference: String,
    pub idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct SetKeyDateInput {
    pub plan_id: ID,
    pub key_date: ID,
    pub date: Date,
    pub idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct ProposeSharedSectionInput {
    pub group_id: ID,
    pub section_id: ID,
    pub text: String,
    pub expected_revision: Option<i32>,
    pub idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct AgreeSharedSectionInput {
    pub group_id: ID,
    pub section_id: ID,
    pub revision: i32,
    pub council: ID,
    pub idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct AdoptSharedSectionInput {
    pub plan_id: ID,
    pub section_id: ID,
    /// The plan's revision the person read: refused with CONFLICT if it changed since.
    pub expected_revision: i32,
    pub idempotency_key: Option<String>,
}
