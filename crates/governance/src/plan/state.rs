//! A plan's state and how each event changes it ([`Plan::apply`], exhaustive over
//! [`PlanEvent`]). Stage statuses are not stored: `view.rs` computes them from these records.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::events::{DeadlineExtended, Decision, Delegation, PlanEvent, PlanStarted};
use crate::definition::{StageDefinition, Workflow};
use crate::ids::{
    CouncilId, GroupId, KeyDateId, PersonId, PlanId, Role, RouteId, SectionId, StageId, WorkflowId,
};

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
    /// Who last changed it and when, at which plan revision: what a refusal tells a person who
    /// read an earlier revision. `None` before the first change (and in a snapshot taken before
    /// this was kept, which is then replayed over).
    #[serde(default)]
    pub last_edit: Option<SectionEdit>,
}

/// The last change of a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionEdit {
    /// The plan's revision after it.
    pub plan_revision: u64,
    pub by: PersonId,
    pub at: DateTime<Utc>,
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
    pub stage: StageId,
    pub role: Role,
    /// Council signed for.
    pub council: CouncilId,
    /// Signer.
    pub by: PersonId,
    /// As deputy?
    pub deputy: bool,
    /// Revision read.
    pub plan_revision: u64,
    /// SHA-256 of the content signed (`Plan::content_hash` at that revision); `None` for a
    /// sign-off recorded before approvals carried it.
    #[serde(default)]
    pub content_hash: Option<String>,
    pub comment: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
    /// Withdrawal, if any.
    pub withdrawn: Option<Withdrawal>,
}

/// A committee decision as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub stage: StageId,
    pub council: CouncilId,
    /// Committee name.
    pub committee: String,
    pub meeting_date: NaiveDate,
    pub decision: Decision,
    pub minute_reference: Option<String>,
    /// Delegated officer.
    pub delegated_to: Option<PersonId>,
    /// Revision decided on (the one in the committee's papers).
    pub plan_revision: u64,
    /// SHA-256 of the content decided on; `None` for a decision recorded before decisions
    /// carried it.
    #[serde(default)]
    pub content_hash: Option<String>,
    /// Clerk.
    pub by: PersonId,
    /// When recorded.
    pub at: DateTime<Utc>,
}

/// A scheduled committee meeting (the latest per stage and council).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    pub stage: StageId,
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
    pub content_hash: String,
    /// Deadline judged against.
    pub deadline: Option<DateTime<Utc>>,
    /// Late?
    pub late: bool,
    pub reference: Option<String>,
    /// Who.
    pub by: PersonId,
    /// When.
    pub at: DateTime<Utc>,
}

/// The publication record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicationRecord {
    pub url: String,
    /// SHA-256 of the content published; `None` before publications carried it.
    #[serde(default)]
    pub content_hash: Option<String>,
    /// Who.
    pub by: PersonId,
    /// When.
    pub at: DateTime<Utc>,
}

/// A plan's state, folded from its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub id: PlanId,
    pub workflow: WorkflowId,
    pub route: RouteId,
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
    pub key_dates: BTreeMap<KeyDateId, NaiveDate>,
    /// Extensions of the submission deadline, in the order recorded; the last one stands.
    #[serde(default)]
    pub extensions: Vec<DeadlineExtended>,
    /// Submission, once submitted.
    pub submission: Option<SubmissionRecord>,
    /// Publication, once published.
    pub publication: Option<PublicationRecord>,
    /// When the last event changed it.
    pub updated_at: DateTime<Utc>,
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
                    last_edit: None,
                })
                .collect(),
            delegated_edits: Vec::new(),
            sign_offs: Vec::new(),
            decisions: Vec::new(),
            meetings: Vec::new(),
            submission_deadline_set: None,
            stage_deadlines_set: BTreeMap::new(),
            key_dates: e.key_dates.clone(),
            extensions: Vec::new(),
            submission: None,
            publication: None,
            updated_at: e.at,
        }
    }

    /// The state after one of its events: `PlanStarted` creates it (a second one changes
    /// nothing; `decide` never makes one), and an event before it has nothing to change.
    pub fn apply(state: Option<Plan>, event: &PlanEvent) -> Option<Plan> {
        match (state, event) {
            (None, PlanEvent::PlanStarted(e)) => Some(Plan::start(e)),
            (None, _) => None,
            (Some(mut plan), event) => {
                plan.apply_mut(event);
                Some(plan)
            }
        }
    }

    /// Folds a plan's events, in order.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a PlanEvent>) -> Option<Plan> {
        events.into_iter().fold(None, Plan::apply)
    }

    fn apply_mut(&mut self, event: &PlanEvent) {
        match event {
            PlanEvent::PlanStarted(_) => {}
            PlanEvent::SectionEdited(e) => {
                if let Some(s) = self.sections.iter_mut().find(|s| s.id == e.section) {
                    s.text = e.text.clone();
                    s.revision = e.section_revision;
                    if e.delegated.is_none() {
                        s.undelegated_change = e.plan_revision;
                    }
                    s.last_edit = Some(SectionEdit {
                        plan_revision: e.plan_revision,
                        by: e.by.clone(),
                        at: e.at,
                    });
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
            PlanEvent::SharedSectionAdopted(e) => {
                if let Some(s) = self.sections.iter_mut().find(|s| s.id == e.section) {
                    s.text = e.text.clone();
                    s.revision = e.section_revision;
                    s.adopted_revision = Some(e.shared_revision);
                    s.undelegated_change = e.plan_revision;
                    s.last_edit = Some(SectionEdit {
                        plan_revision: e.plan_revision,
                        by: e.by.clone(),
                        at: e.at,
                    });
                }
                self.revision = e.plan_revision;
                self.updated_at = e.at;
            }
            PlanEvent::SignedOff(e) => {
                self.sign_offs.push(SignOffRecord {
                    stage: e.stage.clone(),
                    role: e.role,
                    council: e.council.clone(),
                    by: e.by.clone(),
                    deputy: e.deputy,
                    plan_revision: e.plan_revision,
                    content_hash: e.content_hash.clone(),
                    comment: e.comment.clone(),
                    at: e.at,
                    withdrawn: None,
                });
                self.updated_at = e.at;
            }
            PlanEvent::SignOffWithdrawn(e) => {
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
            PlanEvent::MeetingScheduled(e) => {
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
            PlanEvent::CommitteeDecisionRecorded(e) => {
                self.decisions.push(DecisionRecord {
                    stage: e.stage.clone(),
                    council: e.council.clone(),
                    committee: e.committee.clone(),
                    meeting_date: e.meeting_date,
                    decision: e.decision,
                    minute_reference: e.minute_reference.clone(),
                    delegated_to: e.delegated_to.clone(),
                    plan_revision: e.plan_revision,
                    content_hash: e.content_hash.clone(),
                    by: e.by.clone(),
                    at: e.at,
                });
                self.updated_at = e.at;
            }
            PlanEvent::DeadlineSet(e) => {
                match &e.stage {
                    None => self.submission_deadline_set = Some(e.due),
                    Some(stage) => {
                        self.stage_deadlines_set.insert(stage.clone(), e.due);
                    }
                }
                self.updated_at = e.at;
            }
            PlanEvent::KeyDateSet(e) => {
                self.key_dates.insert(e.date.clone(), e.on);
                self.updated_at = e.at;
            }
            PlanEvent::DeadlineExtended(e) => {
                self.extensions.push(e.clone());
                self.updated_at = e.at;
            }
            PlanEvent::PlanSubmitted(e) => {
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
            PlanEvent::PlanPublished(e) => {
                self.publication = Some(PublicationRecord {
                    url: e.url.clone(),
                    content_hash: e.content_hash.clone(),
                    by: e.by.clone(),
                    at: e.at,
                });
                self.updated_at = e.at;
            }
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
}

impl Plan {
    /// When it was submitted.
    pub fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.submission.as_ref().map(|s| s.at)
    }

    /// Whether it was submitted late (false until submitted).
    pub fn late(&self) -> bool {
        self.submission.as_ref().is_some_and(|s| s.late)
    }
}
