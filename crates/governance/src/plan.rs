//! Plans: one run of a workflow owned by one or more councils. `decide` turns a command into
//! events or a refusal; `Plan::apply` folds events into state. Stage statuses, requirements and
//! staleness are computed from the recorded acts on read, never stored, so they cannot drift.
//!
//! Staleness: every sign-off and committee decision binds to the plan's content revision. An edit
//! (including adopting a shared text) made after it, to a section its stage covers, makes it
//! stale. An edit by the officer a committee named when it approved "with delegated amendments"
//! is recorded as delegated and leaves that committee's approval, and every earlier stage, intact.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::blockers::shared_section_blockers;
use crate::context::Context;
use crate::deadlines::{is_late, london_date};
use crate::definition::{StageDefinition, StageKind, Workflow};
use crate::error::GovernanceError;
use crate::event::Event;
use crate::ids::{
    CouncilId, GroupId, KeyDateId, PersonId, PlanId, Role, RouteId, SectionId, StageId, WorkflowId,
};
use crate::organisation::{Organisation, Scope};
use crate::shared_section::MAX_TEXT_LEN;

// ---- events ----

/// `PlanStarted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanStarted {
    /// The new plan.
    pub plan: PlanId,
    /// Its workflow.
    pub workflow: WorkflowId,
    /// The route it follows.
    pub route: RouteId,
    /// Title.
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
    /// The plan.
    pub plan: PlanId,
    /// The section.
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
    /// The plan.
    pub plan: PlanId,
    /// The section.
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
    /// The plan.
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
    /// Optional comment.
    pub comment: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// `SignOffWithdrawn`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOffWithdrawn {
    /// The plan.
    pub plan: PlanId,
    /// The stage.
    pub stage: StageId,
    /// The role.
    pub role: Role,
    /// The council.
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
    /// The plan.
    pub plan: PlanId,
    /// The committee stage.
    pub stage: StageId,
    /// Whose committee.
    pub council: CouncilId,
    /// Committee name.
    pub committee: String,
    /// Meeting date.
    pub meeting_date: NaiveDate,
    /// Who scheduled it.
    pub by: PersonId,
    /// When.
    pub at: DateTime<Utc>,
}

/// `CommitteeDecisionRecorded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitteeDecisionRecorded {
    /// The plan.
    pub plan: PlanId,
    /// The committee stage.
    pub stage: StageId,
    /// Whose committee.
    pub council: CouncilId,
    /// Committee name.
    pub committee: String,
    /// Meeting date.
    pub meeting_date: NaiveDate,
    /// The decision.
    pub decision: Decision,
    /// Minute reference.
    pub minute_reference: Option<String>,
    /// For delegated amendments: who may amend.
    pub delegated_to: Option<PersonId>,
    /// The content revision decided on.
    pub plan_revision: u64,
    /// The clerk who recorded it.
    pub by: PersonId,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

/// `DeadlineSet`: a stage's or the submission's deadline moved on this plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineSet {
    /// The plan.
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

/// `KeyDateSet`: a key date of the plan set or moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDateSet {
    /// The plan.
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
    /// The plan.
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
    /// The plan.
    pub plan: PlanId,
    /// The publication stage.
    pub stage: StageId,
    /// Where it is published.
    pub url: String,
    /// Who published.
    pub by: PersonId,
    /// When.
    pub at: DateTime<Utc>,
}

// ---- state ----

/// A section's current text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionState {
    /// Section id.
    pub id: SectionId,
    /// Current text.
    pub text: String,
    /// Goes up on every change of this section.
    pub revision: u64,
    /// The group the text comes from, if shared.
    pub shared_from: Option<GroupId>,
    /// The group's agreed revision adopted, if any.
    pub adopted_revision: Option<u64>,
    /// The plan revision of this section's latest change made without delegated authority
    /// (0 before any): an approval read at an earlier revision of a stage covering this section
    /// is stale. Kept instead of every edit, so a plan's memory does not grow with its edits.
    pub undelegated_change: u64,
}

/// A change of content made under a committee's delegated amendments: what staleness needs of
/// it (who made it and when stay in the ledger's event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditRecord {
    /// Section changed.
    pub section: SectionId,
    /// Plan revision after the change.
    pub plan_revision: u64,
    /// Delegated authority, if any.
    pub delegated: Option<Delegation>,
}

/// A withdrawal of a sign-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawal {
    /// Why.
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A sign-off as recorded (withdrawn ones stay, marked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOffRecord {
    /// Stage.
    pub stage: StageId,
    /// Role.
    pub role: Role,
    /// Council signed for.
    pub council: CouncilId,
    /// Signer.
    pub by: PersonId,
    /// As deputy?
    pub deputy: bool,
    /// Revision read.
    pub plan_revision: u64,
    /// Comment.
    pub comment: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
    /// Withdrawal, if any.
    pub withdrawn: Option<Withdrawal>,
}

/// A committee decision as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// Stage.
    pub stage: StageId,
    /// Council.
    pub council: CouncilId,
    /// Committee name.
    pub committee: String,
    /// Meeting date.
    pub meeting_date: NaiveDate,
    /// Decision.
    pub decision: Decision,
    /// Minute reference.
    pub minute_reference: Option<String>,
    /// Delegated officer.
    pub delegated_to: Option<PersonId>,
    /// Revision decided on.
    pub plan_revision: u64,
    /// Clerk.
    pub by: PersonId,
    /// When recorded.
    pub at: DateTime<Utc>,
}

/// A scheduled committee meeting (the latest per stage and council).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    /// Stage.
    pub stage: StageId,
    /// Council.
    pub council: CouncilId,
    /// Committee name.
    pub committee: String,
    /// Date.
    pub meeting_date: NaiveDate,
}

/// The submission record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionRecord {
    /// Revision submitted.
    pub plan_revision: u64,
    /// Content hash.
    pub content_hash: String,
    /// Deadline judged against.
    pub deadline: Option<DateTime<Utc>>,
    /// Late?
    pub late: bool,
    /// Reference.
    pub reference: Option<String>,
    /// Who.
    pub by: PersonId,
    /// When.
    pub at: DateTime<Utc>,
}

/// The publication record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicationRecord {
    /// URL.
    pub url: String,
    /// Who.
    pub by: PersonId,
    /// When.
    pub at: DateTime<Utc>,
}

/// A plan's state, folded from its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Id.
    pub id: PlanId,
    /// Workflow.
    pub workflow: WorkflowId,
    /// Route.
    pub route: RouteId,
    /// Title.
    pub title: String,
    /// Owning councils.
    pub councils: Vec<CouncilId>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Who started it.
    pub started_by: PersonId,
    /// Content revision: +1 on every section change.
    pub revision: u64,
    /// Sections in workflow order.
    pub sections: Vec<SectionState>,
    /// Content changes made under delegated amendments (rare: the others leave only
    /// [`SectionState::undelegated_change`] behind, which is all staleness needs).
    pub delegated_edits: Vec<EditRecord>,
    /// Every sign-off.
    pub sign_offs: Vec<SignOffRecord>,
    /// Every committee decision.
    pub decisions: Vec<DecisionRecord>,
    /// Scheduled meetings.
    pub meetings: Vec<Meeting>,
    /// Submission deadline set on the plan (overrides the workflow's).
    pub submission_deadline_set: Option<DateTime<Utc>>,
    /// Stage deadlines set on the plan (override the workflow's).
    pub stage_deadlines_set: BTreeMap<StageId, DateTime<Utc>>,
    /// Key dates.
    pub key_dates: BTreeMap<KeyDateId, NaiveDate>,
    /// Submission, once submitted.
    pub submission: Option<SubmissionRecord>,
    /// Publication, once published.
    pub publication: Option<PublicationRecord>,
    /// When the last event changed it.
    pub updated_at: DateTime<Utc>,
}

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
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: StageKind,
    /// Position in the route (0-based).
    pub index: usize,
    /// Status.
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
    fn start(e: &PlanStarted) -> Plan {
        Plan {
            id: e.plan.clone(),
            workflow: e.workflow.clone(),
            route: e.route.clone(),
            title: e.title.clone(),
            councils: e.councils.clone(),
            started_at: e.at,
            started_by: e.by.clone(),
            revision: 0,
            sections: e
                .sections
                .iter()
                .map(|s| SectionState {
                    id: s.clone(),
                    text: String::new(),
                    revision: 0,
                    shared_from: e.shared.get(s).cloned(),
                    adopted_revision: None,
                    undelegated_change: 0,
                })
                .collect(),
            delegated_edits: Vec::new(),
            sign_offs: Vec::new(),
            decisions: Vec::new(),
            meetings: Vec::new(),
            submission_deadline_set: None,
            stage_deadlines_set: BTreeMap::new(),
            key_dates: e.key_dates.clone(),
            submission: None,
            publication: None,
            updated_at: e.at,
        }
    }

    /// The state after one event: `PlanStarted` creates it; other plans' and streams' events are
    /// ignored.
    pub fn apply(state: Option<Plan>, event: &Event) -> Option<Plan> {
        if let Event::PlanStarted(e) = event {
            return Some(state.unwrap_or_else(|| Plan::start(e)));
        }
        let mut plan = state?;
        if event.plan_id() != Some(&plan.id) {
            return Some(plan);
        }
        plan.apply_mut(event);
        Some(plan)
    }

    /// Folds a plan's events, in order.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Option<Plan> {
        events.into_iter().fold(None, Plan::apply)
    }

    fn apply_mut(&mut self, event: &Event) {
        match event {
            Event::SectionEdited(e) => {
                if let Some(s) = self.sections.iter_mut().find(|s| s.id == e.section) {
                    s.text = e.text.clone();
                    s.revision = e.section_revision;
                    if e.delegated.is_none() {
                        s.undelegated_change = e.plan_revision;
                    }
                }
                self.revision = e.plan_revision;
                if e.delegated.is_some() {
                    self.delegated_edits.push(EditRecord {
                        section: e.section.clone(),
                        plan_revision: e.plan_revision,
                        delegated: e.delegated.clone(),
                    });
                }
                self.updated_at = e.at;
            }
            Event::SharedSectionAdopted(e) => {
                if let Some(s) = self.sections.iter_mut().find(|s| s.id == e.section) {
                    s.text = e.text.clone();
                    s.revision = e.section_revision;
                    s.adopted_revision = Some(e.shared_revision);
                    s.undelegated_change = e.plan_revision;
                }
                self.revision = e.plan_revision;
                self.updated_at = e.at;
            }
            Event::SignedOff(e) => {
                self.sign_offs.push(SignOffRecord {
                    stage: e.stage.clone(),
                    role: e.role,
                    council: e.council.clone(),
                    by: e.by.clone(),
                    deputy: e.deputy,
                    plan_revision: e.plan_revision,
                    comment: e.comment.clone(),
                    at: e.at,
                    withdrawn: None,
                });
                self.updated_at = e.at;
            }
            Event::SignOffWithdrawn(e) => {
                if let Some(r) = self.sign_offs.iter_mut().rev().find(|r| {
                    r.stage == e.stage
                        && r.role == e.role
                        && r.council == e.council
                        && r.withdrawn.is_none()
                }) {
                    r.withdrawn = Some(Withdrawal {
                        reason: e.reason.clone(),
                        at: e.at,
                    });
                }
                self.updated_at = e.at;
            }
            Event::MeetingScheduled(e) => {
                self.meetings
                    .retain(|m| !(m.stage == e.stage && m.council == e.council));
                self.meetings.push(Meeting {
                    stage: e.stage.clone(),
                    council: e.council.clone(),
                    committee: e.committee.clone(),
                    meeting_date: e.meeting_date,
                });
                self.updated_at = e.at;
            }
            Event::CommitteeDecisionRecorded(e) => {
                self.decisions.push(DecisionRecord {
                    stage: e.stage.clone(),
                    council: e.council.clone(),
                    committee: e.committee.clone(),
                    meeting_date: e.meeting_date,
                    decision: e.decision,
                    minute_reference: e.minute_reference.clone(),
                    delegated_to: e.delegated_to.clone(),
                    plan_revision: e.plan_revision,
                    by: e.by.clone(),
                    at: e.at,
                });
                self.updated_at = e.at;
            }
            Event::DeadlineSet(e) => {
                match &e.stage {
                    None => self.submission_deadline_set = Some(e.due),
                    Some(stage) => {
                        self.stage_deadlines_set.insert(stage.clone(), e.due);
                    }
                }
                self.updated_at = e.at;
            }
            Event::KeyDateSet(e) => {
                self.key_dates.insert(e.date.clone(), e.on);
                self.updated_at = e.at;
            }
            Event::PlanSubmitted(e) => {
                self.submission = Some(SubmissionRecord {
                    plan_revision: e.plan_revision,
                    content_hash: e.content_hash.clone(),
                    deadline: e.deadline,
                    late: e.late,
                    reference: e.reference.clone(),
                    by: e.by.clone(),
                    at: e.at,
                });
                self.updated_at = e.at;
            }
            Event::PlanPublished(e) => {
                self.publication = Some(PublicationRecord {
                    url: e.url.clone(),
                    by: e.by.clone(),
                    at: e.at,
                });
                self.updated_at = e.at;
            }
            _ => {}
        }
    }

    /// A section's state.
    pub fn section(&self, id: &SectionId) -> Option<&SectionState> {
        self.sections.iter().find(|s| &s.id == id)
    }

    /// Whether the text is frozen (submitted or published): edits are refused.
    pub fn is_frozen(&self) -> bool {
        self.submission.is_some() || self.publication.is_some()
    }

    /// SHA-256 (hex) of the content: every section's id, revision and text, in workflow order.
    pub fn content_hash(&self) -> String {
        let canonical: Vec<(&str, u64, &str)> = self
            .sections
            .iter()
            .map(|s| (s.id.as_str(), s.revision, s.text.as_str()))
            .collect();
        let bytes = serde_json::to_vec(&canonical).expect("plain tuples serialize");
        hex::encode(Sha256::digest(&bytes))
    }

    /// Whether an approval recorded at `revision` for `stage` (and `council`) is stale.
    pub fn is_stale(
        &self,
        workflow: &Workflow,
        stage: &StageDefinition,
        council: &CouncilId,
        revision: u64,
    ) -> bool {
        let route = workflow.route(&self.route);
        let index_of = |id: &StageId| route.and_then(|r| r.stages.iter().position(|s| s == id));
        let stage_index = index_of(&stage.id);
        // A change without delegated authority always makes an earlier approval stale.
        let changed = self
            .sections
            .iter()
            .any(|s| s.undelegated_change > revision && stage.covers(&s.id));
        changed
            || self.delegated_edits.iter().any(|e| {
                if e.plan_revision <= revision || !stage.covers(&e.section) {
                    return false;
                }
                let exempt = match (&e.delegated, stage_index) {
                    (Some(d), Some(si)) => match index_of(&d.stage) {
                        Some(di) => si < di || (si == di && d.councils.contains(council)),
                        None => false,
                    },
                    _ => false,
                };
                !exempt
            })
    }

    /// The sign-off that currently counts for (stage, role, council): the latest not withdrawn.
    pub fn current_sign_off(
        &self,
        stage: &StageId,
        role: Role,
        council: &CouncilId,
    ) -> Option<&SignOffRecord> {
        self.sign_offs
            .iter()
            .rev()
            .find(|r| &r.stage == stage && r.role == role && &r.council == council)
            .filter(|r| r.withdrawn.is_none())
    }

    /// The decision that currently counts for (stage, council): the latest recorded.
    pub fn current_decision(
        &self,
        stage: &StageId,
        council: &CouncilId,
    ) -> Option<&DecisionRecord> {
        self.decisions
            .iter()
            .rev()
            .find(|d| &d.stage == stage && &d.council == council)
    }

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

    /// When it was submitted.
    pub fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.submission.as_ref().map(|s| s.at)
    }

    /// Whether it was submitted late (false until submitted).
    pub fn late(&self) -> bool {
        self.submission.as_ref().is_some_and(|s| s.late)
    }
}

// ---- commands ----

/// A command on a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum PlanCommand {
    /// Start a plan.
    Start {
        /// The new plan's id (chosen by the caller).
        plan: PlanId,
        /// Workflow.
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
        /// Section.
        section: SectionId,
        /// New text.
        text: String,
        /// The section revision this edit is based on.
        expected_revision: Option<u64>,
    },
    /// Take the group's agreed text into a shared section.
    AdoptSharedSection {
        /// Section.
        section: SectionId,
    },
    /// Sign a sign-off stage in a role.
    SignOff {
        /// Stage.
        stage: StageId,
        /// Role.
        role: Role,
        /// Council, required when the signer holds the role at more than one owning council.
        council: Option<CouncilId>,
        /// Comment.
        comment: Option<String>,
    },
    /// Withdraw one's own sign-off.
    WithdrawSignOff {
        /// Stage.
        stage: StageId,
        /// Role.
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
        /// Meeting date.
        meeting_date: NaiveDate,
        /// Decision.
        decision: Decision,
        /// Minute reference.
        minute_reference: Option<String>,
        /// For delegated amendments: who may amend afterwards.
        delegated_to: Option<PersonId>,
    },
    /// Submit.
    Submit {
        /// Receiver's reference.
        reference: Option<String>,
    },
    /// Publish.
    Publish {
        /// Where.
        url: String,
    },
    /// Set a stage's deadline, or the submission deadline (`stage: None`).
    SetDeadline {
        /// Stage.
        stage: Option<StageId>,
        /// Due.
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

fn and_list(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

/// "the Monitoring Officer of Derbyshire Dales District Council".
pub(crate) fn describe_requirement(
    org: &Organisation,
    stage: StageKind,
    r: &Requirement,
) -> String {
    let council = org.council_name(&r.council);
    match stage {
        StageKind::SignOff => format!("the {} of {council}", r.role.title()),
        StageKind::Committee => format!("a decision of the committee of {council}"),
        StageKind::Submission => format!("submission by a submitter of {council}"),
        StageKind::Publication => format!("publication by a submitter of {council}"),
    }
}

/// What a stage still needs, in words: "the Monitoring Officer of X and the S151 Officer of X".
pub(crate) fn missing_words(org: &Organisation, stage: &StageView) -> String {
    let mut seen = Vec::new();
    for r in stage.requirements.iter().filter(|r| !r.satisfied) {
        let mut words = describe_requirement(org, stage.kind, r);
        if r.stale {
            words.push_str(" (to sign again: the plan changed since)");
        }
        if !seen.contains(&words) {
            seen.push(words);
        }
    }
    and_list(&seen)
}

/// Decides a plan command: the events that follow, or why not. Pure: the time is an argument.
pub fn decide(
    ctx: &Context<'_>,
    plan: Option<&Plan>,
    command: &PlanCommand,
    actor: &PersonId,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, GovernanceError> {
    let org = ctx.organisation;
    let person = org
        .person(actor)
        .ok_or_else(|| GovernanceError::Forbidden(format!("unknown person '{actor}'")))?;
    if let PlanCommand::Start {
        plan: id,
        workflow,
        councils,
        route,
        title,
        key_dates,
    } = command
    {
        if plan.is_some() {
            return Err(GovernanceError::Conflict(format!(
                "a plan with id '{id}' already exists"
            )));
        }
        return start(
            ctx,
            person.name.as_str(),
            actor,
            id,
            workflow,
            councils,
            route.as_ref(),
            title.as_deref(),
            key_dates,
            now,
        );
    }
    let plan = plan.ok_or_else(|| GovernanceError::NotFound("no such plan".into()))?;
    let workflow = ctx.workflows.get(&plan.workflow).ok_or_else(|| {
        GovernanceError::NotFound(format!(
            "the workflow '{}' of this plan is not loaded",
            plan.workflow
        ))
    })?;
    let d = Decider {
        ctx,
        org,
        plan,
        workflow,
        actor,
        name: &person.name,
        now,
    };
    match command {
        PlanCommand::Start { .. } => unreachable!("handled above"),
        PlanCommand::EditSection {
            section,
            text,
            expected_revision,
        } => d.edit(section, text, *expected_revision),
        PlanCommand::AdoptSharedSection { section } => d.adopt(section),
        PlanCommand::SignOff {
            stage,
            role,
            council,
            comment,
        } => d.sign_off(stage, *role, council.as_ref(), comment.as_deref()),
        PlanCommand::WithdrawSignOff {
            stage,
            role,
            council,
            reason,
        } => d.withdraw(stage, *role, council.as_ref(), reason),
        PlanCommand::ScheduleMeeting {
            stage,
            council,
            committee,
            meeting_date,
        } => d.schedule(stage.as_ref(), council, committee, *meeting_date),
        PlanCommand::RecordCommitteeDecision {
            stage,
            council,
            committee,
            meeting_date,
            decision,
            minute_reference,
            delegated_to,
        } => d.committee_decision(
            stage.as_ref(),
            council,
            committee,
            *meeting_date,
            *decision,
            minute_reference.as_deref(),
            delegated_to.as_ref(),
        ),
        PlanCommand::Submit { reference } => d.submit(reference.as_deref()),
        PlanCommand::Publish { url } => d.publish(url),
        PlanCommand::SetDeadline { stage, due } => d.set_deadline(stage.as_ref(), *due),
        PlanCommand::SetKeyDate { date, on } => d.set_key_date(date, *on),
    }
}

#[allow(clippy::too_many_arguments)]
fn start(
    ctx: &Context<'_>,
    name: &str,
    actor: &PersonId,
    id: &PlanId,
    workflow_id: &WorkflowId,
    councils: &[CouncilId],
    route: Option<&RouteId>,
    title: Option<&str>,
    key_dates: &BTreeMap<KeyDateId, NaiveDate>,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, GovernanceError> {
    let org = ctx.organisation;
    let workflow = ctx
        .workflows
        .get(workflow_id)
        .ok_or_else(|| GovernanceError::NotFound(format!("no workflow '{workflow_id}'")))?;
    if councils.is_empty() {
        return Err(GovernanceError::BadInput(
            "a plan needs at least one owning council".into(),
        ));
    }
    for (i, c) in councils.iter().enumerate() {
        if councils[..i].contains(c) {
            return Err(GovernanceError::BadInput(format!(
                "council '{c}' is listed twice"
            )));
        }
        if org.council(c).is_none() {
            return Err(GovernanceError::NotFound(format!("no council '{c}'")));
        }
    }
    if !councils.iter().any(|c| {
        org.capacity(actor, Role::Drafter, &Scope::Council(c.clone()))
            .is_some()
    }) {
        let names: Vec<String> = councils.iter().map(|c| org.council_name(c)).collect();
        return Err(GovernanceError::Forbidden(format!(
            "{name} is not a drafter of {}: only a drafter of an owning council starts a plan",
            and_list(&names)
        )));
    }
    let route = match route {
        Some(r) => {
            if workflow.route(r).is_none() {
                let known: Vec<String> = workflow.routes.iter().map(|r| r.id.to_string()).collect();
                return Err(GovernanceError::NotFound(format!(
                    "{} has no route '{r}': choose one of {}",
                    workflow.title,
                    known.join(", ")
                )));
            }
            r.clone()
        }
        None => {
            let mut chosen: Vec<RouteId> = councils
                .iter()
                .map(|c| {
                    org.council(c)
                        .and_then(|c| c.route.clone())
                        .filter(|r| workflow.route(r).is_some())
                        .unwrap_or_else(|| workflow.default_route.clone())
                })
                .collect();
            chosen.dedup();
            if chosen.len() > 1 {
                return Err(GovernanceError::BadInput(format!(
                    "the owning councils follow different routes ({}): say which route this joint plan follows",
                    chosen.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")
                )));
            }
            chosen.remove(0)
        }
    };
    for k in key_dates.keys() {
        if !workflow.key_dates.iter().any(|d| &d.id == k) {
            return Err(GovernanceError::BadInput(format!(
                "{} has no key date '{k}'",
                workflow.title
            )));
        }
    }
    let title = match title.map(str::trim) {
        Some("") => return Err(GovernanceError::BadInput("the title is empty".into())),
        Some(t) => t.to_owned(),
        None => {
            let names: Vec<String> = councils.iter().map(|c| org.council_name(c)).collect();
            format!("{}: {}", workflow.title, and_list(&names))
        }
    };
    let shared = workflow
        .sections
        .iter()
        .filter(|s| s.shared)
        .filter_map(|s| {
            org.supplier_of(&workflow.id, &s.id, councils)
                .map(|g| (s.id.clone(), g.id.clone()))
        })
        .collect();
    Ok(vec![Event::PlanStarted(PlanStarted {
        plan: id.clone(),
        workflow: workflow.id.clone(),
        route,
        title,
        councils: councils.to_vec(),
        sections: workflow.sections.iter().map(|s| s.id.clone()).collect(),
        shared,
        key_dates: key_dates.clone(),
        by: actor.clone(),
        at: now,
    })])
}

struct Decider<'a> {
    ctx: &'a Context<'a>,
    org: &'a Organisation,
    plan: &'a Plan,
    workflow: &'a Workflow,
    actor: &'a PersonId,
    name: &'a str,
    now: DateTime<Utc>,
}

impl Decider<'_> {
    fn holds(&self, role: Role, council: &CouncilId) -> Option<bool> {
        self.org
            .capacity(self.actor, role, &Scope::Council(council.clone()))
    }

    fn holds_any(&self, roles: &[Role]) -> bool {
        self.plan
            .councils
            .iter()
            .any(|c| roles.iter().any(|r| self.holds(*r, c).is_some()))
    }

    fn council_names(&self) -> String {
        let names: Vec<String> = self
            .plan
            .councils
            .iter()
            .map(|c| self.org.council_name(c))
            .collect();
        and_list(&names)
    }

    fn not_frozen(&self) -> Result<(), GovernanceError> {
        if let Some(s) = &self.plan.submission {
            return Err(GovernanceError::GovernanceViolation(format!(
                "'{}' was submitted on {} (revision {}): its text is frozen",
                self.plan.title,
                london_date(s.at).format("%-d %B %Y"),
                s.plan_revision
            )));
        }
        if let Some(p) = &self.plan.publication {
            return Err(GovernanceError::GovernanceViolation(format!(
                "'{}' was published on {}: its text is frozen",
                self.plan.title,
                london_date(p.at).format("%-d %B %Y")
            )));
        }
        Ok(())
    }

    fn stage(&self, id: &StageId) -> Result<(usize, &StageDefinition), GovernanceError> {
        self.workflow
            .route_stages(&self.plan.route)
            .into_iter()
            .enumerate()
            .find(|(_, s)| &s.id == id)
            .ok_or_else(|| {
                GovernanceError::NotFound(format!(
                    "'{id}' is not a stage of the route this plan follows ({})",
                    self.plan.route
                ))
            })
    }

    fn owning(&self, council: &CouncilId) -> Result<(), GovernanceError> {
        if self.plan.councils.contains(council) {
            Ok(())
        } else {
            Err(GovernanceError::BadInput(format!(
                "{} does not own '{}' (owned by {})",
                self.org.council_name(council),
                self.plan.title,
                self.council_names()
            )))
        }
    }

    /// Refuses an act on the stage at `index` while an earlier stage is not complete.
    fn open(&self, index: usize, stage: &StageDefinition) -> Result<(), GovernanceError> {
        let stages = self.plan.stages(self.workflow);
        if let Some(blocking) = stages[..index].iter().find(|s| !s.is_complete()) {
            return Err(GovernanceError::GovernanceViolation(format!(
                "{} is not open yet: {} still needs {}",
                stage.sentence_title(),
                self.workflow
                    .stage(&blocking.id)
                    .map(|s| s.inline_title())
                    .unwrap_or_default(),
                missing_words(self.org, blocking)
            )));
        }
        Ok(())
    }

    /// Refuses approvals while a shared section is unagreed, unadopted or outdated.
    fn shared_ready(&self, stage: &StageDefinition) -> Result<(), GovernanceError> {
        if self.plan.is_frozen() {
            return Ok(());
        }
        let blockers = shared_section_blockers(self.ctx, self.plan, Some(&stage.id));
        if let Some(first) = blockers.first() {
            return Err(GovernanceError::GovernanceViolation(format!(
                "{} cannot be recorded yet: {}",
                stage.sentence_title(),
                first.message
            )));
        }
        Ok(())
    }

    fn plan_event_base(&self) -> (PlanId, PersonId, DateTime<Utc>) {
        (self.plan.id.clone(), self.actor.clone(), self.now)
    }

    fn edit(
        &self,
        section: &SectionId,
        text: &str,
        expected: Option<u64>,
    ) -> Result<Vec<Event>, GovernanceError> {
        self.not_frozen()?;
        let s = self.plan.section(section).ok_or_else(|| {
            GovernanceError::NotFound(format!("'{}' has no section '{section}'", self.plan.title))
        })?;
        let title = self
            .workflow
            .section(section)
            .map(|d| d.title.clone())
            .unwrap_or_else(|| section.to_string());
        if let Some(group) = &s.shared_from {
            return Err(GovernanceError::GovernanceViolation(format!(
                "the section '{title}' comes from {}: propose the change there, and adopt the agreed text once every member council has agreed it",
                self.org.group_name(group)
            )));
        }
        // A committee that approved with delegated amendments named an officer; their edits are
        // recorded as delegated and do not reopen that committee's approval.
        let route_stages = self.workflow.route_stages(&self.plan.route);
        let mut delegation: Option<Delegation> = None;
        for stage in route_stages
            .iter()
            .filter(|s| s.kind == StageKind::Committee)
        {
            let councils: Vec<CouncilId> = self
                .plan
                .councils
                .iter()
                .filter(|c| {
                    self.plan.current_decision(&stage.id, c).is_some_and(|d| {
                        d.decision == Decision::ApprovedWithDelegatedAmendments
                            && d.delegated_to.as_ref() == Some(self.actor)
                            && !self.plan.is_stale(self.workflow, stage, c, d.plan_revision)
                    })
                })
                .cloned()
                .collect();
            if !councils.is_empty() {
                delegation = Some(Delegation {
                    stage: stage.id.clone(),
                    councils,
                });
            }
        }
        if delegation.is_none() && !self.holds_any(&[Role::Drafter]) {
            return Err(GovernanceError::Forbidden(format!(
                "{} is not a drafter of {}: only a drafter of an owning council (or an officer a committee delegated amendments to) edits this plan",
                self.name,
                self.council_names()
            )));
        }
        if let Some(expected) = expected {
            if expected != s.revision {
                return Err(GovernanceError::Conflict(format!(
                    "the section '{title}' is at revision {}, not {expected}: someone edited it since you loaded it; reload and edit again",
                    s.revision
                )));
            }
        }
        if text.len() > MAX_TEXT_LEN {
            return Err(GovernanceError::BadInput(format!(
                "the text is longer than {MAX_TEXT_LEN} bytes"
            )));
        }
        if s.text == text {
            return Ok(Vec::new());
        }
        let (plan, by, at) = self.plan_event_base();
        Ok(vec![Event::SectionEdited(SectionEdited {
            plan,
            section: section.clone(),
            text: text.to_owned(),
            section_revision: s.revision + 1,
            plan_revision: self.plan.revision + 1,
            delegated: delegation,
            by,
            at,
        })])
    }

    fn adopt(&self, section: &SectionId) -> Result<Vec<Event>, GovernanceError> {
        self.not_frozen()?;
        let s = self.plan.section(section).ok_or_else(|| {
            GovernanceError::NotFound(format!("'{}' has no section '{section}'", self.plan.title))
        })?;
        let Some(group) = &s.shared_from else {
            return Err(GovernanceError::BadInput(format!(
                "the section '{section}' of '{}' is not written by a group: edit it directly",
                self.plan.title
            )));
        };
        if !self.holds_any(&[Role::Drafter]) {
            return Err(GovernanceError::Forbidden(format!(
                "{} is not a drafter of {}: only a drafter of an owning council adopts a shared text",
                self.name,
                self.council_names()
            )));
        }
        let shared = self.ctx.shared_section(group, section);
        let Some(agreed) = shared.and_then(|s| s.agreed()) else {
            let blockers = shared_section_blockers(self.ctx, self.plan, None);
            let message = blockers
                .iter()
                .find(|b| b.code == crate::blockers::BlockerCode::SharedSectionNotAgreed)
                .map(|b| b.message.clone())
                .unwrap_or_else(|| format!("shared section '{section}' is not agreed"));
            return Err(GovernanceError::GovernanceViolation(format!(
                "nothing to adopt yet: {message}"
            )));
        };
        if s.adopted_revision == Some(agreed.revision) {
            return Err(GovernanceError::Conflict(format!(
                "'{}' already adopted revision {} of the shared section '{section}'",
                self.plan.title, agreed.revision
            )));
        }
        let (plan, by, at) = self.plan_event_base();
        Ok(vec![Event::SharedSectionAdopted(SharedSectionAdopted {
            plan,
            section: section.clone(),
            group: group.clone(),
            shared_revision: agreed.revision,
            text: agreed.text.clone(),
            section_revision: s.revision + 1,
            plan_revision: self.plan.revision + 1,
            by,
            at,
        })])
    }

    /// The council the actor acts for in `role`: the one given, or the only owning council where
    /// they hold it. Returns the council and whether they act as deputy.
    fn acting_council(
        &self,
        role: Role,
        council: Option<&CouncilId>,
        verb: &str,
    ) -> Result<(CouncilId, bool), GovernanceError> {
        match council {
            Some(c) => {
                self.owning(c)?;
                match self.holds(role, c) {
                    Some(deputy) => Ok((c.clone(), deputy)),
                    None => Err(GovernanceError::Forbidden(format!(
                        "{} is not the {} of {} (nor their deputy), so cannot {verb} for it",
                        self.name,
                        role.title(),
                        self.org.council_name(c)
                    ))),
                }
            }
            None => {
                let held: Vec<(CouncilId, bool)> = self
                    .plan
                    .councils
                    .iter()
                    .filter_map(|c| self.holds(role, c).map(|d| (c.clone(), d)))
                    .collect();
                match held.len() {
                    0 => Err(GovernanceError::Forbidden(format!(
                        "{} is not the {} of {} (nor their deputy), so cannot {verb}",
                        self.name,
                        role.title(),
                        self.council_names()
                    ))),
                    1 => Ok(held[0].clone()),
                    _ => {
                        let names: Vec<String> =
                            held.iter().map(|(c, _)| self.org.council_name(c)).collect();
                        Err(GovernanceError::BadInput(format!(
                            "{} is the {} of {}: say which council you {verb} for (each council is signed for separately)",
                            self.name,
                            role.title(),
                            and_list(&names)
                        )))
                    }
                }
            }
        }
    }

    fn sign_off(
        &self,
        stage_id: &StageId,
        role: Role,
        council: Option<&CouncilId>,
        comment: Option<&str>,
    ) -> Result<Vec<Event>, GovernanceError> {
        let (index, stage) = self.stage(stage_id)?;
        if stage.kind != StageKind::SignOff {
            return Err(GovernanceError::BadInput(format!(
                "{} is a {} stage, not a sign-off",
                stage.sentence_title(),
                match stage.kind {
                    StageKind::Committee => "committee",
                    StageKind::Submission => "submission",
                    _ => "publication",
                }
            )));
        }
        if !stage.roles.contains(&role) {
            let roles: Vec<String> = stage
                .roles
                .iter()
                .map(|r| format!("the {}", r.title()))
                .collect();
            return Err(GovernanceError::BadInput(format!(
                "{} is signed by {}, not the {}",
                stage.sentence_title(),
                and_list(&roles),
                role.title()
            )));
        }
        let (council, deputy) = self.acting_council(role, council, "sign")?;
        self.open(index, stage)?;
        self.shared_ready(stage)?;
        if let Some(current) = self.plan.current_sign_off(stage_id, role, &council) {
            if !self
                .plan
                .is_stale(self.workflow, stage, &council, current.plan_revision)
            {
                return Err(GovernanceError::Conflict(format!(
                    "{} is already signed for the {} of {} by {} (revision {})",
                    stage.sentence_title(),
                    role.title(),
                    self.org.council_name(&council),
                    self.org.person_name(&current.by),
                    current.plan_revision
                )));
            }
        }
        let (plan, by, at) = self.plan_event_base();
        Ok(vec![Event::SignedOff(SignedOff {
            plan,
            stage: stage_id.clone(),
            role,
            council,
            by,
            deputy,
            plan_revision: self.plan.revision,
            comment: comment
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
            at,
        })])
    }

    fn withdraw(
        &self,
        stage_id: &StageId,
        role: Role,
        council: Option<&CouncilId>,
        reason: &str,
    ) -> Result<Vec<Event>, GovernanceError> {
        let (index, stage) = self.stage(stage_id)?;
        if reason.trim().is_empty() {
            return Err(GovernanceError::BadInput(
                "say why the sign-off is withdrawn".into(),
            ));
        }
        let mine: Vec<&SignOffRecord> = self
            .plan
            .councils
            .iter()
            .filter(|c| council.is_none_or(|given| given == *c))
            .filter_map(|c| self.plan.current_sign_off(stage_id, role, c))
            .filter(|r| &r.by == self.actor)
            .collect();
        let record = match mine.len() {
            0 => {
                if let Some(c) = council {
                    if let Some(other) = self.plan.current_sign_off(stage_id, role, c) {
                        return Err(GovernanceError::Forbidden(format!(
                            "only {} who signed can withdraw that sign-off",
                            self.org.person_name(&other.by)
                        )));
                    }
                }
                return Err(GovernanceError::NotFound(format!(
                    "{} has no sign-off as {} on {} to withdraw",
                    self.name,
                    role.title(),
                    stage.inline_title()
                )));
            }
            1 => mine[0],
            _ => {
                return Err(GovernanceError::BadInput(format!(
                "{} signed {} for more than one council: say which council's sign-off to withdraw",
                self.name,
                stage.inline_title()
            )))
            }
        };
        if self.plan.submission.is_some() {
            let submission_index = self
                .workflow
                .route_stages(&self.plan.route)
                .iter()
                .position(|s| s.kind == StageKind::Submission);
            if submission_index.is_some_and(|si| index < si) {
                return Err(GovernanceError::GovernanceViolation(format!(
                    "'{}' has been submitted: sign-offs it was submitted with cannot be withdrawn",
                    self.plan.title
                )));
            }
        }
        let (plan, by, at) = self.plan_event_base();
        Ok(vec![Event::SignOffWithdrawn(SignOffWithdrawn {
            plan,
            stage: stage_id.clone(),
            role,
            council: record.council.clone(),
            by,
            reason: reason.trim().to_owned(),
            at,
        })])
    }

    /// The committee stage meant: the one given, or the first not complete for this council.
    fn committee_stage(
        &self,
        stage: Option<&StageId>,
        council: &CouncilId,
    ) -> Result<(usize, &StageDefinition), GovernanceError> {
        match stage {
            Some(id) => {
                let (i, s) = self.stage(id)?;
                if s.kind != StageKind::Committee {
                    return Err(GovernanceError::BadInput(format!(
                        "{} is not a committee stage",
                        s.sentence_title()
                    )));
                }
                Ok((i, s))
            }
            None => {
                let views = self.plan.stages(self.workflow);
                views
                    .iter()
                    .filter(|v| v.kind == StageKind::Committee)
                    .find(|v| {
                        v.requirements
                            .iter()
                            .any(|r| &r.council == council && !r.satisfied)
                    })
                    .or_else(|| views.iter().find(|v| v.kind == StageKind::Committee))
                    .and_then(|v| self.stage(&v.id).ok())
                    .ok_or_else(|| {
                        GovernanceError::BadInput(format!(
                            "the route '{}' has no committee stage",
                            self.plan.route
                        ))
                    })
            }
        }
    }

    fn schedule(
        &self,
        stage: Option<&StageId>,
        council: &CouncilId,
        committee: &str,
        date: NaiveDate,
    ) -> Result<Vec<Event>, GovernanceError> {
        self.owning(council)?;
        let (_, stage) = self.committee_stage(stage, council)?;
        if self.holds(stage.roles[0], council).is_none() {
            return Err(GovernanceError::Forbidden(format!(
                "{} is not a {} of {}: only they schedule its committee meetings",
                self.name,
                stage.roles[0].title(),
                self.org.council_name(council)
            )));
        }
        if committee.trim().is_empty() {
            return Err(GovernanceError::BadInput(
                "name the committee that meets".into(),
            ));
        }
        let (plan, by, at) = self.plan_event_base();
        Ok(vec![Event::MeetingScheduled(MeetingScheduled {
            plan,
            stage: stage.id.clone(),
            council: council.clone(),
            committee: committee.trim().to_owned(),
            meeting_date: date,
            by,
            at,
        })])
    }

    #[allow(clippy::too_many_arguments)]
    fn committee_decision(
        &self,
        stage: Option<&StageId>,
        council: &CouncilId,
        committee: &str,
        meeting_date: NaiveDate,
        decision: Decision,
        minute_reference: Option<&str>,
        delegated_to: Option<&PersonId>,
    ) -> Result<Vec<Event>, GovernanceError> {
        self.owning(council)?;
        let (index, stage) = self.committee_stage(stage, council)?;
        let clerk = stage.roles[0];
        if self.holds(clerk, council).is_none() {
            return Err(GovernanceError::Forbidden(format!(
                "{} is not a {} of {}: only its {} records its committee's decisions",
                self.name,
                clerk.title(),
                self.org.council_name(council),
                clerk.title()
            )));
        }
        if committee.trim().is_empty() {
            return Err(GovernanceError::BadInput(
                "name the committee that decided".into(),
            ));
        }
        if meeting_date > london_date(self.now) {
            return Err(GovernanceError::BadInput(format!(
                "the meeting on {} has not happened yet: record its decision after the meeting",
                meeting_date.format("%-d %B %Y")
            )));
        }
        match (decision, delegated_to) {
            (Decision::ApprovedWithDelegatedAmendments, None) => {
                return Err(GovernanceError::BadInput(
                    "approval with delegated amendments names the officer the amendments are delegated to".into(),
                ))
            }
            (Decision::ApprovedWithDelegatedAmendments, Some(p)) => {
                let delegate = self.org.person(p).ok_or_else(|| GovernanceError::NotFound(format!("no person '{p}'")))?;
                if !delegate.roles.iter().any(|a| a.scope == Scope::Council(council.clone())) {
                    return Err(GovernanceError::BadInput(format!(
                        "{} holds no role at {}: delegate amendments to one of its officers",
                        delegate.name,
                        self.org.council_name(council)
                    )));
                }
            }
            (_, Some(_)) => {
                return Err(GovernanceError::BadInput(
                    "only an approval with delegated amendments names a delegated officer".into(),
                ))
            }
            (_, None) => {}
        }
        self.open(index, stage)?;
        self.shared_ready(stage)?;
        if let Some(current) = self.plan.current_decision(&stage.id, council) {
            if current.decision.approves()
                && !self
                    .plan
                    .is_stale(self.workflow, stage, council, current.plan_revision)
            {
                return Err(GovernanceError::Conflict(format!(
                    "the committee of {} already approved revision {} on {}",
                    self.org.council_name(council),
                    current.plan_revision,
                    current.meeting_date.format("%-d %B %Y")
                )));
            }
        }
        let (plan, by, at) = self.plan_event_base();
        Ok(vec![Event::CommitteeDecisionRecorded(
            CommitteeDecisionRecorded {
                plan,
                stage: stage.id.clone(),
                council: council.clone(),
                committee: committee.trim().to_owned(),
                meeting_date,
                decision,
                minute_reference: minute_reference
                    .map(str::trim)
                    .filter(|m| !m.is_empty())
                    .map(str::to_owned),
                delegated_to: delegated_to.cloned(),
                plan_revision: self.plan.revision,
                by,
                at,
            },
        )])
    }

    fn kind_stage(&self, kind: StageKind) -> Result<(usize, &StageDefinition), GovernanceError> {
        self.workflow
            .route_stages(&self.plan.route)
            .into_iter()
            .enumerate()
            .find(|(_, s)| s.kind == kind)
            .ok_or_else(|| {
                GovernanceError::BadInput(format!(
                    "the route '{}' of '{}' has no {} stage",
                    self.plan.route,
                    self.plan.title,
                    if kind == StageKind::Submission {
                        "submission"
                    } else {
                        "publication"
                    }
                ))
            })
    }

    fn require_submitter(&self, verb: &str) -> Result<(), GovernanceError> {
        if self.holds_any(&[Role::Submitter]) {
            Ok(())
        } else {
            Err(GovernanceError::Forbidden(format!(
                "{} is not a submitter of {}: only a submitter of an owning council can {verb} this plan",
                self.name,
                self.council_names()
            )))
        }
    }

    fn submit(&self, reference: Option<&str>) -> Result<Vec<Event>, GovernanceError> {
        let (index, stage) = self.kind_stage(StageKind::Submission)?;
        if let Some(s) = &self.plan.submission {
            return Err(GovernanceError::Conflict(format!(
                "'{}' was already submitted on {}",
                self.plan.title,
                london_date(s.at).format("%-d %B %Y")
            )));
        }
        self.require_submitter("submit")?;
        self.open(index, stage)?;
        self.shared_ready(stage)?;
        let deadline = self.plan.submission_deadline(self.workflow);
        let (plan, by, at) = self.plan_event_base();
        Ok(vec![Event::PlanSubmitted(PlanSubmitted {
            plan,
            stage: stage.id.clone(),
            plan_revision: self.plan.revision,
            content_hash: self.plan.content_hash(),
            deadline,
            late: deadline.is_some_and(|d| is_late(self.now, d)),
            reference: reference
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned),
            by,
            at,
        })])
    }

    fn publish(&self, url: &str) -> Result<Vec<Event>, GovernanceError> {
        let (index, stage) = self.kind_stage(StageKind::Publication)?;
        if let Some(p) = &self.plan.publication {
            return Err(GovernanceError::Conflict(format!(
                "'{}' is already published at {}",
                self.plan.title, p.url
            )));
        }
        self.require_submitter("publish")?;
        let url = url.trim();
        let valid = (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() > "https://".len()
            && url.len() <= 2000
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        if !valid {
            return Err(GovernanceError::BadInput(format!(
                "'{url}' is not a web address (https://...)"
            )));
        }
        self.open(index, stage)?;
        let (plan, by, at) = self.plan_event_base();
        Ok(vec![Event::PlanPublished(PlanPublished {
            plan,
            stage: stage.id.clone(),
            url: url.to_owned(),
            by,
            at,
        })])
    }

    fn may_set_dates(&self) -> Result<(), GovernanceError> {
        if self.holds_any(&[Role::Drafter, Role::Submitter, Role::ChiefExecutive]) {
            Ok(())
        } else {
            Err(GovernanceError::Forbidden(format!(
                "{} cannot move this plan's dates: a drafter, submitter or the Chief Executive of {} can",
                self.name,
                self.council_names()
            )))
        }
    }

    fn set_deadline(
        &self,
        stage: Option<&StageId>,
        due: DateTime<Utc>,
    ) -> Result<Vec<Event>, GovernanceError> {
        if let Some(s) = stage {
            self.stage(s)?;
        }
        self.may_set_dates()?;
        let (plan, by, at) = self.plan_event_base();
        Ok(vec![Event::DeadlineSet(DeadlineSet {
            plan,
            stage: stage.cloned(),
            due,
            by,
            at,
        })])
    }

    fn set_key_date(&self, date: &KeyDateId, on: NaiveDate) -> Result<Vec<Event>, GovernanceError> {
        if !self.workflow.key_dates.iter().any(|d| &d.id == date) {
            return Err(GovernanceError::NotFound(format!(
                "{} has no key date '{date}'",
                self.workflow.title
            )));
        }
        self.may_set_dates()?;
        if self.plan.key_dates.get(date) == Some(&on) {
            return Ok(Vec::new());
        }
        let (plan, by, at) = self.plan_event_base();
        Ok(vec![Event::KeyDateSet(KeyDateSet {
            plan,
            date: date.clone(),
            on,
            by,
            at,
        })])
    }
}

/// A sign-off with whether it still counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOffView {
    /// The record.
    pub record: SignOffRecord,
    /// An edit since made it stale.
    pub stale: bool,
}

/// A committee decision with whether it still counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionView {
    /// The record.
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
