//! Scheduling a committee meeting and recording the committee's decision.

use chrono::NaiveDate;

use super::Decider;
use crate::deadlines::london_date;
use crate::definition::{StageDefinition, StageKind};
use crate::error::GovernanceError;
use crate::ids::{CouncilId, PersonId, StageId};
use crate::organisation::Scope;
use crate::plan::*;

impl Decider<'_> {
    /// The committee stage meant: the one given, or the first not complete for this council.
    pub(super) fn committee_stage(
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

    pub(super) fn schedule(
        &self,
        stage: Option<&StageId>,
        council: &CouncilId,
        committee: &str,
        date: NaiveDate,
    ) -> Result<Vec<PlanEvent>, GovernanceError> {
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
        Ok(vec![PlanEvent::MeetingScheduled(MeetingScheduled {
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
    pub(super) fn committee_decision(
        &self,
        stage: Option<&StageId>,
        council: &CouncilId,
        committee: &str,
        meeting_date: NaiveDate,
        decision: Decision,
        minute_reference: Option<&str>,
        delegated_to: Option<&PersonId>,
        read: u64,
    ) -> Result<Vec<PlanEvent>, GovernanceError> {
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
        self.unchanged_since(read, "record the committee's decision on it")?;
        let (plan, by, at) = self.plan_event_base();
        Ok(vec![PlanEvent::CommitteeDecisionRecorded(
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
                content_hash: Some(self.plan.content_hash()),
                by,
                at,
            },
        )])
    }
}
