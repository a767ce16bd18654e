//! What a plan's records mean for its route: each stage's status and requirements, the
//! plan's status, and the sign-offs and decisions with whether they still count. Computed on
//! read, never stored, so they cannot drift from the records.

use serde::{Deserialize, Serialize};

use crate::definition::{StageDefinition, StageKind, Workflow};
use crate::ids::{CouncilId, Role, StageId};
use crate::plan::*;

/// Overall status (the contract's `PlanStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlanStatus {
    /// No current approval yet.
    Drafting,
    /// Some approval recorded, approval stages not all complete.
    InApproval,
    /// Every stage before submission (or publication) complete.
    Approved,
    /// Submitted.
    Submitted,
    /// Published.
    Published,
}

/// A stage's status (the contract's `StageStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StageStatus {
    /// Earlier stages are not complete yet.
    Waiting,
    /// Acts on this stage are accepted now.
    Open,
    /// Complete.
    Complete,
    /// Was complete (or partly), a later edit made approvals stale.
    Stale,
}

/// Who must act on a stage for one council, and whether they have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    /// The role that acts.
    pub role: Role,
    /// For which council.
    pub council: CouncilId,
    /// Done and not stale.
    pub satisfied: bool,
    /// Done, but an edit since made it stale.
    pub stale: bool,
}

/// A stage of the plan's route, evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageView {
    /// Stage id.
    pub id: StageId,
    pub title: String,
    pub kind: StageKind,
    /// Position in the route (0-based).
    pub index: usize,
    pub status: StageStatus,
    /// Requirements per owning council.
    pub requirements: Vec<Requirement>,
}

impl StageView {
    /// Whether every requirement is satisfied.
    pub fn is_complete(&self) -> bool {
        self.status == StageStatus::Complete
    }
}

impl Plan {
    /// Every stage of the plan's route with its status and requirements.
    pub fn stages(&self, workflow: &Workflow) -> Vec<StageView> {
        let mut out: Vec<StageView> = Vec::new();
        let mut earlier_complete = true;
        for (index, stage) in workflow.route_stages(&self.route).into_iter().enumerate() {
            let requirements = self.requirements(workflow, stage);
            let complete = !requirements.is_empty() && requirements.iter().all(|r| r.satisfied);
            let stale = requirements.iter().any(|r| r.stale);
            let status = if complete {
                StageStatus::Complete
            } else if stale {
                StageStatus::Stale
            } else if earlier_complete {
                StageStatus::Open
            } else {
                StageStatus::Waiting
            };
            earlier_complete &= complete;
            out.push(StageView {
                id: stage.id.clone(),
                title: stage.title.clone(),
                kind: stage.kind,
                index,
                status,
                requirements,
            });
        }
        out
    }

    fn requirements(&self, workflow: &Workflow, stage: &StageDefinition) -> Vec<Requirement> {
        let mut out = Vec::new();
        match stage.kind {
            StageKind::SignOff => {
                for council in &self.councils {
                    for role in &stage.roles {
                        let current = self.current_sign_off(&stage.id, *role, council);
                        let stale = current.is_some_and(|r| {
                            self.is_stale(workflow, stage, council, r.plan_revision)
                        });
                        out.push(Requirement {
                            role: *role,
                            council: council.clone(),
                            satisfied: current.is_some() && !stale,
                            stale,
                        });
                    }
                }
            }
            StageKind::Committee => {
                for council in &self.councils {
                    let current = self
                        .current_decision(&stage.id, council)
                        .filter(|d| d.decision.approves());
                    let stale = current
                        .is_some_and(|d| self.is_stale(workflow, stage, council, d.plan_revision));
                    out.push(Requirement {
                        role: stage.roles[0],
                        council: council.clone(),
                        satisfied: current.is_some() && !stale,
                        stale,
                    });
                }
            }
            StageKind::Submission | StageKind::Publication => {
                let done = if stage.kind == StageKind::Submission {
                    self.submission.is_some()
                } else {
                    self.publication.is_some()
                };
                for council in &self.councils {
                    out.push(Requirement {
                        role: stage.roles[0],
                        council: council.clone(),
                        satisfied: done,
                        stale: false,
                    });
                }
            }
        }
        out
    }

    /// The first stage that is not complete (the contract's `currentStage`).
    pub fn current_stage(&self, workflow: &Workflow) -> Option<StageView> {
        self.stages(workflow).into_iter().find(|s| !s.is_complete())
    }

    /// Overall status.
    pub fn status(&self, workflow: &Workflow) -> PlanStatus {
        self.status_of(&self.stages(workflow))
    }

    /// [`Plan::status`] from the plan's stages already worked out ([`Plan::stages`]).
    pub fn status_of(&self, stages: &[StageView]) -> PlanStatus {
        if self.publication.is_some() {
            return PlanStatus::Published;
        }
        if self.submission.is_some() {
            return PlanStatus::Submitted;
        }
        let approval: Vec<&StageView> = stages
            .iter()
            .take_while(|s| !matches!(s.kind, StageKind::Submission | StageKind::Publication))
            .collect();
        if approval.iter().all(|s| s.is_complete()) {
            return PlanStatus::Approved;
        }
        let any_approval = self.sign_offs.iter().any(|r| r.withdrawn.is_none())
            || self.decisions.iter().any(|d| d.decision.approves());
        if any_approval {
            PlanStatus::InApproval
        } else {
            PlanStatus::Drafting
        }
    }
}

/// A sign-off with whether it still counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOffView {
    pub record: SignOffRecord,
    /// An edit since made it stale.
    pub stale: bool,
}

/// A committee decision with whether it still counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionView {
    pub record: DecisionRecord,
    /// An edit since made it stale.
    pub stale: bool,
}

impl Plan {
    /// The stage's sign-offs that were not withdrawn, oldest first, with stale flags.
    pub fn sign_offs_for(&self, workflow: &Workflow, stage: &StageId) -> Vec<SignOffView> {
        let Some(def) = workflow.stage(stage) else {
            return Vec::new();
        };
        self.sign_offs
            .iter()
            .filter(|r| &r.stage == stage && r.withdrawn.is_none())
            .map(|r| SignOffView {
                record: r.clone(),
                stale: self.is_stale(workflow, def, &r.council, r.plan_revision),
            })
            .collect()
    }

    /// The stage's committee decisions, oldest first, with stale flags.
    pub fn decisions_for(&self, workflow: &Workflow, stage: &StageId) -> Vec<DecisionView> {
        let Some(def) = workflow.stage(stage) else {
            return Vec::new();
        };
        self.decisions
            .iter()
            .filter(|d| &d.stage == stage)
            .map(|d| DecisionView {
                record: d.clone(),
                stale: self.is_stale(workflow, def, &d.council, d.plan_revision),
            })
            .collect()
    }
}
