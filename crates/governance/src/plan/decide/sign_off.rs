//! Signing a sign-off stage for a council, and withdrawing one's own sign-off.

use super::Decider;
use crate::definition::StageKind;
use crate::error::GovernanceError;
use crate::ids::{CouncilId, Role, StageId};
use crate::plan::wording::*;
use crate::plan::*;

impl Decider<'_> {
    /// The council the actor acts for in `role`: the one given, or the only owning council where
    /// they hold it. Returns the council and whether they act as deputy.
    pub(super) fn acting_council(
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

    pub(super) fn sign_off(
        &self,
        stage_id: &StageId,
        role: Role,
        council: Option<&CouncilId>,
        comment: Option<&str>,
        read: u64,
    ) -> Result<Vec<PlanEvent>, GovernanceError> {
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
        self.unchanged_since(read, "sign")?;
        let (plan, by, at) = self.plan_event_base();
        Ok(vec![PlanEvent::SignedOff(SignedOff {
            plan,
            stage: stage_id.clone(),
            role,
            council,
            by,
            deputy,
            plan_revision: self.plan.revision,
            content_hash: Some(self.plan.content_hash()),
            comment: comment
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
            at,
        })])
    }

    pub(super) fn withdraw(
        &self,
        stage_id: &StageId,
        role: Role,
        council: Option<&CouncilId>,
        reason: &str,
    ) -> Result<Vec<PlanEvent>, GovernanceError> {
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
        Ok(vec![PlanEvent::SignOffWithdrawn(SignOffWithdrawn {
            plan,
            stage: stage_id.clone(),
            role,
            council: record.council.clone(),
            by,
            reason: reason.trim().to_owned(),
            at,
        })])
    }
}
