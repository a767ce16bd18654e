//! Editing a section, and adopting a group's agreed text into a shared one.

use super::Decider;
use crate::blockers::shared_section_blockers;
use crate::definition::StageKind;
use crate::error::GovernanceError;
use crate::ids::{CouncilId, Role, SectionId};
use crate::plan::*;
use crate::shared_section::MAX_TEXT_LEN;

impl Decider<'_> {
    pub(super) fn edit(
        &self,
        section: &SectionId,
        text: &str,
        expected: Option<u64>,
    ) -> Result<Vec<PlanEvent>, GovernanceError> {
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
        Ok(vec![PlanEvent::SectionEdited(SectionEdited {
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

    pub(super) fn adopt(
        &self,
        section: &SectionId,
        read: u64,
    ) -> Result<Vec<PlanEvent>, GovernanceError> {
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
        self.unchanged_since(read, "adopt the shared text")?;
        let (plan, by, at) = self.plan_event_base();
        Ok(vec![PlanEvent::SharedSectionAdopted(
            SharedSectionAdopted {
                plan,
                section: section.clone(),
                group: group.clone(),
                shared_revision: agreed.revision,
                text: agreed.text.clone(),
                section_revision: s.revision + 1,
                plan_revision: self.plan.revision + 1,
                by,
                at,
            },
        )])
    }
}
