//! Blockers: what prevents a plan's next stage from completing, in plain words, with a stable
//! code and structured data (which role at which council or group) so the reminders crate can
//! work out who to write to.

use serde::{Deserialize, Serialize};

use crate::context::Context;
use crate::definition::{StageKind, Workflow};
use crate::ids::{Role, StageId};
use crate::organisation::Scope;
use crate::plan::wording::describe_requirement;
use crate::plan::{Decision, Plan, StageView};

/// Why a stage cannot complete. `as_str` gives the stable code used by the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BlockerCode {
    /// A role at a council has not acted yet.
    WaitingOnRole,
    /// Nobody holds the role that must act.
    NoRoleHolder,
    /// An approval was given on text that has changed since.
    StaleApproval,
    /// A council's committee has not decided yet.
    CommitteeDecisionNeeded,
    /// A council's committee deferred its decision.
    CommitteeDeferred,
    /// A council's committee rejected the plan.
    CommitteeRejected,
    /// The group has not agreed the shared section (every member council must).
    SharedSectionNotAgreed,
    /// The group agreed the shared section; the plan has not adopted it.
    SharedSectionNotAdopted,
    /// The group agreed a newer revision than the plan adopted.
    SharedSectionOutdated,
}

impl BlockerCode {
    /// The stable code (`WAITING_ON_ROLE`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            BlockerCode::WaitingOnRole => "WAITING_ON_ROLE",
            BlockerCode::NoRoleHolder => "NO_ROLE_HOLDER",
            BlockerCode::StaleApproval => "STALE_APPROVAL",
            BlockerCode::CommitteeDecisionNeeded => "COMMITTEE_DECISION_NEEDED",
            BlockerCode::CommitteeDeferred => "COMMITTEE_DEFERRED",
            BlockerCode::CommitteeRejected => "COMMITTEE_REJECTED",
            BlockerCode::SharedSectionNotAgreed => "SHARED_SECTION_NOT_AGREED",
            BlockerCode::SharedSectionNotAdopted => "SHARED_SECTION_NOT_ADOPTED",
            BlockerCode::SharedSectionOutdated => "SHARED_SECTION_OUTDATED",
        }
    }
}

/// Someone a blocker waits on: whoever holds `role` at `scope` (deputies included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingOn {
    pub role: Role,
    /// Where.
    pub scope: Scope,
}

/// One reason the next stage cannot complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocker {
    /// The stage blocked.
    pub stage: Option<StageId>,
    /// Stable code.
    pub code: BlockerCode,
    /// Plain words naming roles and councils (or the group and the councils not yet agreed).
    pub message: String,
    /// Who can clear it.
    pub waiting_on: Vec<WaitingOn>,
}

/// Blockers raised by the plan's shared sections: not agreed by the group, not adopted, or
/// outdated. Empty once the plan is frozen (its submitted text was checked when it was submitted).
pub fn shared_section_blockers(
    ctx: &Context<'_>,
    plan: &Plan,
    stage: Option<&StageId>,
) -> Vec<Blocker> {
    let mut out = Vec::new();
    if plan.is_frozen() {
        return out;
    }
    let org = ctx.organisation;
    let workflow = ctx.workflows.get(&plan.workflow);
    for section in &plan.sections {
        let Some(group) = &section.shared_from else {
            continue;
        };
        let title = workflow
            .and_then(|w| w.section(&section.id))
            .map(|s| s.title.clone())
            .unwrap_or_else(|| section.id.to_string());
        let gname = org.group_name(group);
        let drafters: Vec<WaitingOn> = plan
            .councils
            .iter()
            .map(|c| WaitingOn {
                role: Role::Drafter,
                scope: Scope::Council(c.clone()),
            })
            .collect();
        let shared = ctx.shared_section(group, &section.id);
        let agreed = shared.and_then(|s| s.agreed());
        match (shared, agreed) {
            (None, _) => out.push(Blocker {
                stage: stage.cloned(),
                code: BlockerCode::SharedSectionNotAgreed,
                message: format!("shared section '{title}' not agreed: {gname} has not proposed its text yet"),
                waiting_on: vec![WaitingOn { role: Role::GroupMember, scope: Scope::Group(group.clone()) }],
            }),
            (Some(s), None) => {
                let cur = s.current();
                let waiting = s.waiting_on();
                let names: Vec<String> = waiting.iter().map(|c| org.council_name(c)).collect();
                out.push(Blocker {
                    stage: stage.cloned(),
                    code: BlockerCode::SharedSectionNotAgreed,
                    message: format!(
                        "shared section '{title}' not agreed: {} of {} councils of {gname} have agreed revision {} (waiting on the Chief Executive of {})",
                        cur.members.len() - waiting.len(),
                        cur.members.len(),
                        cur.revision,
                        names.join(", ")
                    ),
                    waiting_on: waiting
                        .into_iter()
                        .map(|c| WaitingOn { role: Role::ChiefExecutive, scope: Scope::Council(c) })
                        .collect(),
                });
            }
            (Some(_), Some(agreed)) => match section.adopted_revision {
                None => out.push(Blocker {
                    stage: stage.cloned(),
                    code: BlockerCode::SharedSectionNotAdopted,
                    message: format!(
                        "shared section '{title}' not adopted: {gname} agreed revision {}, and a drafter of this plan has still to adopt it",
                        agreed.revision
                    ),
                    waiting_on: drafters,
                }),
                Some(adopted) if adopted < agreed.revision => out.push(Blocker {
                    stage: stage.cloned(),
                    code: BlockerCode::SharedSectionOutdated,
                    message: format!(
                        "shared section '{title}' outdated: {gname} agreed revision {}, this plan adopted revision {adopted}; adopt the new text",
                        agreed.revision
                    ),
                    waiting_on: drafters,
                }),
                Some(_) => {}
            },
        }
    }
    out
}

impl Plan {
    /// What prevents the plan's next stage (the first incomplete one) from completing. Empty when
    /// every stage is complete.
    pub fn blockers(&self, ctx: &Context<'_>) -> Vec<Blocker> {
        let Some(workflow) = ctx.workflows.get(&self.workflow) else {
            return Vec::new();
        };
        self.blockers_of(ctx, workflow, self.current_stage(workflow).as_ref())
    }

    /// [`Plan::blockers`] from the plan's workflow and its current stage already worked out
    /// ([`Plan::current_stage`]).
    pub fn blockers_of(
        &self,
        ctx: &Context<'_>,
        workflow: &Workflow,
        current: Option<&StageView>,
    ) -> Vec<Blocker> {
        let org = ctx.organisation;
        let Some(current) = current else {
            return Vec::new();
        };
        let Some(stage) = workflow.stage(&current.id) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if stage.kind != StageKind::Publication {
            out.extend(shared_section_blockers(ctx, self, Some(&current.id)));
        }
        let unsatisfied: Vec<_> = current
            .requirements
            .iter()
            .filter(|r| !r.satisfied)
            .collect();
        let nobody = |role: Role, scope: &Scope| !org.anyone_holds(role, scope);
        match stage.kind {
            StageKind::SignOff => {
                for r in unsatisfied {
                    let scope = Scope::Council(r.council.clone());
                    let who = describe_requirement(org, stage.kind, r);
                    let waiting_on = vec![WaitingOn {
                        role: r.role,
                        scope: scope.clone(),
                    }];
                    let (code, message) = if r.stale {
                        let signed = self
                            .current_sign_off(&stage.id, r.role, &r.council)
                            .map(|s| s.plan_revision)
                            .unwrap_or(0);
                        (
                            BlockerCode::StaleApproval,
                            format!(
                                "{}: {who} signed revision {signed}, and the plan has changed since (revision {}); it needs signing again",
                                stage.sentence_title(),
                                self.revision
                            ),
                        )
                    } else if nobody(r.role, &scope) {
                        (
                            BlockerCode::NoRoleHolder,
                            format!(
                                "{}: nobody holds the role of {} at {}; ask an administrator to assign it",
                                stage.sentence_title(),
                                r.role.title(),
                                org.council_name(&r.council)
                            ),
                        )
                    } else {
                        (
                            BlockerCode::WaitingOnRole,
                            format!("{}: waiting on {who}", stage.sentence_title()),
                        )
                    };
                    out.push(Blocker {
                        stage: Some(stage.id.clone()),
                        code,
                        message,
                        waiting_on,
                    });
                }
            }
            StageKind::Committee => {
                for r in unsatisfied {
                    let council = org.council_name(&r.council);
                    let scope = Scope::Council(r.council.clone());
                    let waiting_on = vec![WaitingOn {
                        role: r.role,
                        scope: scope.clone(),
                    }];
                    let decision = self.current_decision(&stage.id, &r.council);
                    let (code, message) = match decision {
                        Some(d) if d.decision.approves() => (
                            BlockerCode::StaleApproval,
                            format!(
                                "{}: the committee of {council} approved revision {} on {}, and the plan has changed since (revision {}); it needs a new decision",
                                stage.sentence_title(),
                                d.plan_revision,
                                d.meeting_date.format("%-d %B %Y"),
                                self.revision
                            ),
                        ),
                        Some(d) if d.decision == Decision::Deferred => (
                            BlockerCode::CommitteeDeferred,
                            format!(
                                "{}: the committee of {council} deferred its decision on {}; it needs a decision at a later meeting",
                                stage.sentence_title(),
                                d.meeting_date.format("%-d %B %Y")
                            ),
                        ),
                        Some(d) => (
                            BlockerCode::CommitteeRejected,
                            format!(
                                "{}: the committee of {council} rejected the plan on {}; revise it and take it back to committee",
                                stage.sentence_title(),
                                d.meeting_date.format("%-d %B %Y")
                            ),
                        ),
                        None if nobody(r.role, &scope) => (
                            BlockerCode::NoRoleHolder,
                            format!(
                                "{}: nobody at {council} is a {} to record its committee's decision; ask an administrator to assign one",
                                stage.sentence_title(),
                                r.role.title()
                            ),
                        ),
                        None => {
                            let meeting = self
                                .meetings
                                .iter()
                                .find(|m| m.stage == stage.id && m.council == r.council)
                                .map(|m| format!(" (meeting of the {} on {})", m.committee, m.meeting_date.format("%-d %B %Y")))
                                .unwrap_or_default();
                            (
                                BlockerCode::CommitteeDecisionNeeded,
                                format!(
                                    "{}: needs a decision of the committee of {council}{meeting}, recorded by its {}",
                                    stage.sentence_title(),
                                    r.role.title()
                                ),
                            )
                        }
                    };
                    out.push(Blocker {
                        stage: Some(stage.id.clone()),
                        code,
                        message,
                        waiting_on,
                    });
                }
            }
            StageKind::Submission | StageKind::Publication => {
                let role = stage.roles[0];
                let names: Vec<String> =
                    self.councils.iter().map(|c| org.council_name(c)).collect();
                let waiting_on: Vec<WaitingOn> = self
                    .councils
                    .iter()
                    .map(|c| WaitingOn {
                        role,
                        scope: Scope::Council(c.clone()),
                    })
                    .collect();
                let any_holder = waiting_on.iter().any(|w| !nobody(w.role, &w.scope));
                let (code, message) = if any_holder {
                    (
                        BlockerCode::WaitingOnRole,
                        format!(
                            "{}: waiting on a {} of {}",
                            stage.sentence_title(),
                            role.title(),
                            names.join(" or ")
                        ),
                    )
                } else {
                    (
                        BlockerCode::NoRoleHolder,
                        format!("{}: nobody holds the role of {} at {}; ask an administrator to assign it", stage.sentence_title(), role.title(), names.join(" or ")),
                    )
                };
                out.push(Blocker {
                    stage: Some(stage.id.clone()),
                    code,
                    message,
                    waiting_on,
                });
            }
        }
        out
    }
}
