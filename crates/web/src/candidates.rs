//! Which acts a page offers. No rule is written here: the route suggests candidates (a sign-off
//! for each requirement not met, a decision per council at a committee stage, submit, publish,
//! ...), and a candidate is kept only when the engine, asked to decide it now without recording
//! anything, would accept it.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Europe::London;
use councilflow_governance::{
    Aggregate, CouncilId, Decision, PersonId, Plan, PlanCommand, PlanId, PlanView, Projections,
    Role, SectionId, StageId, StageKind, StageStatus, Workflow,
};
use serde_json::{json, Value};

use crate::pages::council_name;

/// An act the person may take on a plan now.
#[derive(Debug, Clone)]
pub(crate) enum Candidate {
    EditSection {
        section: SectionId,
    },
    Adopt {
        section: SectionId,
    },
    SignOff {
        stage: StageId,
        role: Role,
        council: CouncilId,
    },
    Withdraw {
        stage: StageId,
        role: Role,
        council: CouncilId,
    },
    Decision {
        stage: StageId,
        council: CouncilId,
    },
    Schedule {
        stage: StageId,
        council: CouncilId,
    },
    Submit,
    Publish,
    Extension,
}

fn stage_title(view: &PlanView, stage: &StageId) -> String {
    view.stages
        .iter()
        .find(|s| &s.id == stage)
        .map_or_else(|| stage.to_string(), |s| s.title.clone())
}

impl Candidate {
    /// The command to try: what the form would send, with placeholder values where the person
    /// types something (the engine's permission and state checks do not depend on them).
    fn trial(&self, plan: &Plan, now: DateTime<Utc>) -> PlanCommand {
        let today = now.with_timezone(&London).date_naive();
        match self {
            Candidate::EditSection { section } => PlanCommand::EditSection {
                section: section.clone(),
                text: format!("{} (trial)", plan_text(plan, section)),
                // An edit is checked against the section's own revision.
                expected_revision: plan
                    .sections
                    .iter()
                    .find(|s| &s.id == section)
                    .map(|s| s.revision),
            },
            Candidate::Adopt { section } => PlanCommand::AdoptSharedSection {
                section: section.clone(),
                expected_revision: plan.revision,
            },
            Candidate::SignOff {
                stage,
                role,
                council,
            } => PlanCommand::SignOff {
                stage: stage.clone(),
                role: *role,
                council: Some(council.clone()),
                comment: None,
                expected_revision: plan.revision,
            },
            Candidate::Withdraw {
                stage,
                role,
                council,
            } => PlanCommand::WithdrawSignOff {
                stage: stage.clone(),
                role: *role,
                council: Some(council.clone()),
                reason: "trial".into(),
            },
            Candidate::Decision { stage, council } => PlanCommand::RecordCommitteeDecision {
                stage: Some(stage.clone()),
                council: council.clone(),
                committee: "Committee".into(),
                meeting_date: today,
                decision: Decision::Approved,
                minute_reference: None,
                delegated_to: None,
                expected_revision: plan.revision,
            },
            Candidate::Schedule { stage, council } => PlanCommand::ScheduleMeeting {
                stage: Some(stage.clone()),
                council: council.clone(),
                committee: "Committee".into(),
                meeting_date: today + Duration::days(14),
            },
            Candidate::Submit => PlanCommand::Submit {
                reference: None,
                expected_revision: plan.revision,
            },
            Candidate::Publish => PlanCommand::Publish {
                url: "https://www.example.org/plan".into(),
                expected_revision: plan.revision,
            },
            Candidate::Extension => PlanCommand::RecordExtension {
                due: now + Duration::days(7),
                granted_by: "the department".into(),
                granted_on: today,
                reference: "trial".into(),
            },
        }
    }

    /// The deadline that bears on it.
    pub fn due(&self, view: &PlanView) -> Option<DateTime<Utc>> {
        let stage = match self {
            Candidate::SignOff { stage, .. } | Candidate::Decision { stage, .. } => Some(stage),
            _ => None,
        };
        stage
            .and_then(|s| view.stage_deadlines.get(s).copied())
            .or(view.submission_deadline)
    }

    /// In words, for "Waiting on you".
    pub fn label(&self, projections: &Projections, view: &PlanView) -> String {
        match self {
            Candidate::EditSection { section } => format!("Draft the section '{section}'"),
            Candidate::Adopt { section } => format!("Adopt the agreed '{section}' section"),
            Candidate::SignOff {
                stage,
                role,
                council,
            } => format!(
                "Sign off as {} of {} ({})",
                role.title(),
                council_name(projections, council),
                stage_title(view, stage)
            ),
            Candidate::Decision { stage, council } => format!(
                "Record the committee's decision for {} ({})",
                council_name(projections, council),
                stage_title(view, stage)
            ),
            Candidate::Submit => "Submit the plan".into(),
            Candidate::Publish => "Publish the plan".into(),
            Candidate::Withdraw { .. } => "Withdraw a sign-off".into(),
            Candidate::Schedule { .. } => "Schedule a committee meeting".into(),
            Candidate::Extension => "Record an extension".into(),
        }
    }

    /// What the plan page needs to draw its form.
    pub fn form(&self, projections: &Projections, view: &PlanView) -> Value {
        let plan = &view.plan;
        let base = json!({ "revision": plan.revision, "content_hash": plan.content_hash() });
        let mut form = match self {
            Candidate::EditSection { section } => {
                json!({ "kind": "edit-section", "section": section })
            }
            Candidate::Adopt { section } => json!({
                "kind": "adopt", "id": format!("adopt-{section}"), "section": section,
                "legend": format!("Adopt the agreed '{section}' section"),
            }),
            Candidate::SignOff {
                stage,
                role,
                council,
            } => json!({
                "kind": "sign-off", "id": format!("sign-off-{stage}-{role}-{council}"),
                "stage": stage, "role": role.to_string(), "council": council,
                "legend": format!("Sign off as {} of {}", role.title(), council_name(projections, council)),
                "stage_title": stage_title(view, stage),
            }),
            Candidate::Withdraw {
                stage,
                role,
                council,
            } => json!({
                "kind": "withdraw", "id": format!("withdraw-{stage}-{role}-{council}"),
                "stage": stage, "role": role.to_string(), "council": council,
                "legend": format!("Withdraw your sign-off as {} ({})", role.title(), stage_title(view, stage)),
            }),
            Candidate::Decision { stage, council } => json!({
                "kind": "decision", "id": format!("decision-{stage}-{council}"),
                "stage": stage, "council": council,
                "legend": format!("Record the committee's decision for {} ({})", council_name(projections, council), stage_title(view, stage)),
                "delegates": projections.organisation().people.values()
                    .filter(|p| p.roles.iter().any(|r| r.scope == councilflow_governance::Scope::Council(council.clone())))
                    .map(|p| json!({ "id": p.id, "name": p.name })).collect::<Vec<_>>(),
            }),
            Candidate::Schedule { stage, council } => json!({
                "kind": "schedule", "id": format!("schedule-{stage}-{council}"),
                "stage": stage, "council": council,
                "legend": format!("Schedule the committee meeting for {} ({})", council_name(projections, council), stage_title(view, stage)),
            }),
            Candidate::Submit => {
                json!({ "kind": "submit", "id": "submit", "legend": "Submit the plan" })
            }
            Candidate::Publish => {
                json!({ "kind": "publish", "id": "publish", "legend": "Publish the plan" })
            }
            Candidate::Extension => {
                json!({ "kind": "extension", "id": "extension", "legend": "Record an extension to the deadline" })
            }
        };
        if let (Some(form), Some(base)) = (form.as_object_mut(), base.as_object()) {
            form.extend(base.clone());
        }
        form
    }
}

fn plan_text(plan: &Plan, section: &SectionId) -> String {
    plan.sections
        .iter()
        .find(|s| &s.id == section)
        .map(|s| s.text.clone())
        .unwrap_or_default()
}

/// The candidates the engine would accept from `person` now (decided, not recorded).
fn accepted(
    projections: &Projections,
    plan: &Plan,
    person: &PersonId,
    now: DateTime<Utc>,
    candidates: Vec<Candidate>,
) -> Vec<Candidate> {
    let ctx = projections.context();
    candidates
        .into_iter()
        .filter(|c| Plan::decide(&ctx, Some(plan), &c.trial(plan, now), person, now).is_ok())
        .collect()
}

/// Every act `person` may take on the plan now: each candidate the route suggests, kept when the
/// engine would accept it.
pub(crate) fn available(
    projections: &Projections,
    view: &PlanView,
    person: &PersonId,
    now: DateTime<Utc>,
) -> Vec<Candidate> {
    let plan = &view.plan;
    let workflow = projections.workflows().get(&plan.workflow);
    let mut candidates = Vec::new();
    for section in &plan.sections {
        candidates.push(if section.shared_from.is_some() {
            Candidate::Adopt {
                section: section.id.clone(),
            }
        } else {
            Candidate::EditSection {
                section: section.id.clone(),
            }
        });
    }
    for stage in &view.stages {
        let kind = workflow
            .and_then(|w| w.stages.iter().find(|s| s.id == stage.id))
            .map(|s| s.kind);
        for r in &stage.requirements {
            if kind == Some(StageKind::Committee) {
                continue;
            }
            if !r.satisfied {
                candidates.push(Candidate::SignOff {
                    stage: stage.id.clone(),
                    role: r.role,
                    council: r.council.clone(),
                });
            }
        }
        if kind == Some(StageKind::Committee) && stage.status != StageStatus::Waiting {
            for council in &plan.councils {
                candidates.push(Candidate::Decision {
                    stage: stage.id.clone(),
                    council: council.clone(),
                });
                candidates.push(Candidate::Schedule {
                    stage: stage.id.clone(),
                    council: council.clone(),
                });
            }
        }
    }
    for s in plan.sign_offs.iter().filter(|s| &s.by == person) {
        candidates.push(Candidate::Withdraw {
            stage: s.stage.clone(),
            role: s.role,
            council: s.council.clone(),
        });
    }
    candidates.extend([Candidate::Submit, Candidate::Publish, Candidate::Extension]);
    accepted(projections, plan, person, now, candidates)
}

/// The acts on the plan that wait on `person` now, for "Waiting on you": the same question as
/// [`available`], asked only of the candidates that wait on someone (a section not written yet,
/// a sign-off, a decision, adoption, submission, publication) and, for those tied to a role,
/// only where the person holds that role at that council. Across a thousand plans this asks the
/// engine a handful of questions per plan instead of every candidate's.
pub(crate) fn waiting_on(
    projections: &Projections,
    view: &PlanView,
    person: &PersonId,
    held: &Held<'_>,
    now: DateTime<Utc>,
) -> Vec<Candidate> {
    let plan = &view.plan;
    let holds = |role: Role, council: &CouncilId| held.holds(role, council);
    if !plan.councils.iter().any(|c| held.at(c)) {
        return Vec::new();
    }
    let holds_anywhere = |role: Role| plan.councils.iter().any(|c| holds(role, c));
    let workflow = projections.workflows().get(&plan.workflow);
    let mut candidates = Vec::new();
    if holds_anywhere(Role::Drafter) {
        for section in &plan.sections {
            if section.shared_from.is_some() {
                candidates.push(Candidate::Adopt {
                    section: section.id.clone(),
                });
            } else if section.text.is_empty() {
                candidates.push(Candidate::EditSection {
                    section: section.id.clone(),
                });
            }
        }
    }
    for stage in view
        .stages
        .iter()
        .filter(|s| s.status != StageStatus::Complete)
    {
        let committee = workflow
            .and_then(|w| w.stages.iter().find(|s| s.id == stage.id))
            .is_some_and(|s| s.kind == StageKind::Committee);
        if committee {
            for council in plan
                .councils
                .iter()
                .filter(|c| holds(Role::CommitteeClerk, c))
            {
                candidates.push(Candidate::Decision {
                    stage: stage.id.clone(),
                    council: council.clone(),
                });
            }
        } else {
            for r in stage
                .requirements
                .iter()
                .filter(|r| !r.satisfied && holds(r.role, &r.council))
            {
                candidates.push(Candidate::SignOff {
                    stage: stage.id.clone(),
                    role: r.role,
                    council: r.council.clone(),
                });
            }
        }
    }
    if holds_anywhere(Role::Submitter) {
        candidates.extend([Candidate::Submit, Candidate::Publish]);
    }
    accepted(projections, plan, person, now, candidates)
}

/// The roles a person holds at councils, looked up once for a page that asks about many plans.
pub(crate) struct Held<'a>(Vec<(Role, &'a CouncilId)>);

impl<'a> Held<'a> {
    pub(crate) fn of(projections: &'a Projections, person: &PersonId) -> Held<'a> {
        let roles = projections
            .organisation()
            .person(person)
            .map(|p| {
                p.roles
                    .iter()
                    .filter_map(|a| match &a.scope {
                        councilflow_governance::Scope::Council(c) => Some((a.role, c)),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Held(roles)
    }

    fn holds(&self, role: Role, council: &CouncilId) -> bool {
        self.0.iter().any(|(r, c)| *r == role && *c == council)
    }

    fn at(&self, council: &CouncilId) -> bool {
        self.0.iter().any(|(_, c)| *c == council)
    }
}

/// Whether `person` may start a plan of `workflow` for `council` (asked of the engine).
pub(crate) fn may_start(
    projections: &Projections,
    workflow: &Workflow,
    council: &CouncilId,
    person: &PersonId,
    now: DateTime<Utc>,
) -> bool {
    let Ok(id) = PlanId::parse("trial-plan") else {
        return false;
    };
    let command = PlanCommand::Start {
        plan: id,
        workflow: workflow.id.clone(),
        councils: vec![council.clone()],
        route: None,
        title: None,
        key_dates: BTreeMap::new(),
    };
    Plan::decide(&projections.context(), None, &command, person, now).is_ok()
}
