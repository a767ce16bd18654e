//! A plan's stages: each stage's requirements, sign-offs and committee decisions, worked out
//! only when a query asks for them.

use std::sync::Arc;

use async_graphql::{Object, SimpleObject, ID};
use councilflow_governance::{self as gov, PlanView};

use super::super::scalars::Date;
use super::*;
use crate::graphql::scalars::Moment;

/// A stage of a plan's route: an index into the plan's view. Sign-offs and decisions are worked
/// out only when asked for.
pub struct Stage {
    pub(super) plan: Arc<PlanView>,
    pub(super) workflow: Arc<gov::Workflow>,
    /// Safe to index with: it comes from enumerating `plan.stages`, which never changes.
    pub(super) index: usize,
}

impl Stage {
    fn view(&self) -> &gov::StageView {
        &self.plan.stages[self.index]
    }
}

#[Object(serial)]
impl Stage {
    async fn id(&self) -> ID {
        ID(self.view().id.to_string())
    }
    async fn title(&self) -> &str {
        &self.view().title
    }
    async fn kind(&self) -> StageKindEnum {
        self.view().kind.into()
    }
    async fn status(&self) -> StageStatusEnum {
        self.view().status.into()
    }
    /// Who must act on this stage, per owning council, and whether they have.
    async fn requirements(&self) -> Vec<RequirementObject> {
        self.view()
            .requirements
            .iter()
            .map(|r| RequirementObject {
                role: r.role.as_str().to_owned(),
                council: CouncilObject::named(&r.council),
                satisfied: r.satisfied,
            })
            .collect()
    }
    async fn sign_offs(&self) -> Vec<SignOff> {
        self.plan
            .plan
            .sign_offs_for(&self.workflow, &self.view().id)
            .into_iter()
            .map(SignOff)
            .collect()
    }
    async fn decisions(&self) -> Vec<CommitteeDecision> {
        self.plan
            .plan
            .decisions_for(&self.workflow, &self.view().id)
            .into_iter()
            .map(CommitteeDecision)
            .collect()
    }
    async fn deadline(&self) -> Option<Moment> {
        self.plan
            .stage_deadlines
            .get(&self.view().id)
            .copied()
            .map(Moment)
    }
}

#[derive(SimpleObject)]
#[graphql(name = "Requirement", serial)]
pub struct RequirementObject {
    role: String,
    council: CouncilObject,
    satisfied: bool,
}

pub struct SignOff(gov::SignOffView);

#[Object(serial)]
impl SignOff {
    async fn role(&self) -> &str {
        self.0.record.role.as_str()
    }
    async fn council(&self) -> CouncilObject {
        CouncilObject::named(&self.0.record.council)
    }
    async fn person(&self) -> PersonObject {
        PersonObject::named(&self.0.record.by)
    }
    async fn at(&self) -> Moment {
        Moment(self.0.record.at)
    }
    async fn plan_revision(&self) -> i32 {
        int(self.0.record.plan_revision)
    }
    /// SHA-256 of the content signed (the plan's `contentHash` at `planRevision`); null for a
    /// sign-off recorded before sign-offs carried it.
    async fn content_hash(&self) -> Option<&str> {
        self.0.record.content_hash.as_deref()
    }
    async fn stale(&self) -> bool {
        self.0.stale
    }
    async fn comment(&self) -> Option<&str> {
        self.0.record.comment.as_deref()
    }
    /// True when a deputy signed for the role.
    async fn deputy(&self) -> bool {
        self.0.record.deputy
    }
}

pub struct CommitteeDecision(gov::DecisionView);

#[Object(serial)]
impl CommitteeDecision {
    async fn council(&self) -> CouncilObject {
        CouncilObject::named(&self.0.record.council)
    }
    async fn committee(&self) -> &str {
        &self.0.record.committee
    }
    async fn meeting_date(&self) -> Date {
        Date(self.0.record.meeting_date)
    }
    async fn decision(&self) -> DecisionEnum {
        self.0.record.decision.into()
    }
    async fn minute_reference(&self) -> Option<&str> {
        self.0.record.minute_reference.as_deref()
    }
    /// The revision in the committee's papers.
    async fn plan_revision(&self) -> i32 {
        int(self.0.record.plan_revision)
    }
    /// SHA-256 of the content decided on; null for a decision recorded before decisions
    /// carried it.
    async fn content_hash(&self) -> Option<&str> {
        self.0.record.content_hash.as_deref()
    }
    async fn stale(&self) -> bool {
        self.0.stale
    }
    /// For delegated amendments: who may amend afterwards.
    async fn delegated_to(&self) -> Option<PersonObject> {
        self.0.record.delegated_to.as_ref().map(PersonObject::named)
    }
}
