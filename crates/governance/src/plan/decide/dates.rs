//! Moving the plan's deadlines and key dates.

use chrono::{DateTime, NaiveDate, Utc};

use super::Decider;
use crate::error::GovernanceError;
use crate::ids::{KeyDateId, Role, StageId};
use crate::plan::*;

impl Decider<'_> {
    pub(super) fn may_set_dates(&self) -> Result<(), GovernanceError> {
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

    pub(super) fn set_deadline(
        &self,
        stage: Option<&StageId>,
        due: DateTime<Utc>,
    ) -> Result<Vec<PlanEvent>, GovernanceError> {
        if let Some(s) = stage {
            self.stage(s)?;
        }
        self.may_set_dates()?;
        let (plan, by, at) = self.plan_event_base();
        Ok(vec![PlanEvent::DeadlineSet(DeadlineSet {
            plan,
            stage: stage.cloned(),
            due,
            by,
            at,
        })])
    }

    pub(super) fn set_key_date(
        &self,
        date: &KeyDateId,
        on: NaiveDate,
    ) -> Result<Vec<PlanEvent>, GovernanceError> {
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
        Ok(vec![PlanEvent::KeyDateSet(KeyDateSet {
            plan,
            date: date.clone(),
            on,
            by,
            at,
        })])
    }
}
